"""The pytest path: `pytest --pyargs autograder.integrations.pytest --notebook NB` grades one notebook.

`graded_runs()` runs the entry point once per submission (solution, untouched release and two
variants, two at a time) and keeps the results for this module and the Gradescope, Classroom and
one-truth tests, so that each notebook runs once per test session."""
from __future__ import annotations

import atexit
import copy
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import assignment_helpers as helpers
import pytest

from autograder import checks
from autograder.course import plan as plans
from autograder.course import vocabulary as authoring
from autograder.integrations.pytest import run as runs

SETTINGS = helpers.SETTINGS
PLAN = plans.from_settings(SETTINGS)
AUTOGRADED = PLAN.points_by_activity()

# name -> how to build it from (solved release, untouched release)
SUBMISSIONS = {
    "solution": lambda solved, release: solved,
    "release": lambda solved, release: release,
    "not_frozen": lambda solved, release: helpers.variant_not_frozen(solved),
    "sequential_regularized": lambda solved, release: helpers.variant_sequential_regularized(solved),
    "low_accuracy": lambda solved, release: helpers.variant_low_accuracy(solved),
}


@dataclass
class Run:
    """One submission graded by the pytest entry point."""

    name: str
    folder: Path          # the student's assignment folder (notebook + released files)
    notebook: Path
    cache: Path           # --grading-cache written by the run
    report: dict          # --grading-json
    returncode: int
    output: str

    def points_by_activity(self) -> dict[int, float]:
        totals: dict[int, float] = {}
        for test in self.report["tests"]:
            totals[test["activity"]] = totals.get(test["activity"], 0.0) + test["points"]
        return totals

    def test(self, grade_id: str) -> dict:
        return next(t for t in self.report["tests"] if t["grade_id"] == grade_id)


@functools.cache
def workspace() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="labkit-test-pytest-path-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def assignment_folder(target: Path, notebook) -> Path:
    """A student's folder: the files released next to the notebook, and the notebook."""
    source = SETTINGS.source_dir
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / SETTINGS.train_dir, target / SETTINGS.train_dir)
    for name in (SETTINGS.base_model_file, "lab_settings.json"):
        shutil.copyfile(source / name, target / name)
    authoring.write(notebook, target / SETTINGS.notebook_name)
    return target


def pytest_command(notebook: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "autograder.integrations.pytest",
            "--notebook", str(notebook), "-q", "--color=no", *extra]


def run_entry_point(name: str, notebook: Path) -> Run:
    folder = notebook.parent
    cache, report = folder.parent / f"{name}.cache.json", folder.parent / f"{name}.report.json"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(pytest_command(notebook, "--grading-cache", str(cache), "--grading-json", str(report)),
                          cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    data = json.loads(report.read_text()) if report.is_file() else {"tests": []}
    return Run(name, folder, notebook, cache, data, done.returncode, done.stdout + done.stderr)


@functools.cache
def graded_runs() -> dict[str, Run]:
    """Every submission of SUBMISSIONS graded once by the entry point, two at a time."""
    release = helpers.read(helpers.RELEASE_NOTEBOOK)
    solved = helpers.solved_release(release)
    notebooks = {}
    for name, build in SUBMISSIONS.items():
        folder = assignment_folder(workspace() / name / SETTINGS.assignment,
                                   build(copy.deepcopy(solved), copy.deepcopy(release)))
        notebooks[name] = folder / SETTINGS.notebook_name
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_entry_point, name, path) for name, path in notebooks.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def graded(prepared):
    return graded_runs()


# --- the plan: one truth for the points ---------------------------------------------------------

def test_plan_has_one_test_per_autograded_grade_cell_worth_its_points():
    source = authoring.read(SETTINGS.source_dir / SETTINGS.notebook_name)
    cells = [c for c in source.cells if authoring.is_test_cell(c)]
    assert [p.grade_id for p in PLAN.properties] == [authoring.grade_id(c) for c in cells]
    assert [p.points for p in PLAN.properties] == [float(authoring.nbgrader_meta(c)["points"]) for c in cells]
    manual = {a for a in SETTINGS.points if a not in AUTOGRADED}
    assert manual == {13}
    assert AUTOGRADED == {a: p for a, p in SETTINGS.points.items() if a not in manual}
    for prop in PLAN.properties:
        assert prop.checks and all(name in checks.__all__ for name in prop.checks), prop.grade_id
    assert [p.grade_id for p in PLAN.properties if p.outside_kernel] == ["a10_hidden_accuracy_hidden"]


def test_plan_round_trips_through_json(tmp_path):
    path = PLAN.write(tmp_path / "plan.json")
    again = plans.Plan.read(path)
    assert again == PLAN and again.sha256() == PLAN.sha256()
    path.write_text("{}")
    with pytest.raises(plans.PlanError):
        plans.Plan.read(path)


def test_grade_cells_and_locked_cells_come_from_the_source_whatever_the_student_wrote():
    notebook = helpers.read(helpers.RELEASE_NOTEBOOK)
    helpers.cell(notebook, "a02_dataset_visible").source = "print('all good')"
    helpers.cell(notebook, "a00_settings").source = "settings = {}"
    notebook.cells.remove(helpers.cell(notebook, "a12_report_visible"))
    graded_notebook, present = runs.grading_notebook(notebook, PLAN)
    by_id = {authoring.grade_id(c): c for c in graded_notebook.cells if c.cell_type == "code"}
    assert "checks.dataset_loaded(train_ds, val_ds, class_names)" in by_id["a02_dataset_visible"].source
    assert "require_names(2, ('train_ds', 'val_ds', 'class_names'), globals())" in by_id["a02_dataset_visible"].source
    assert by_id["a00_settings"].source == PLAN.locked["a00_settings"]
    assert "a12_report_visible" not in present and "a10_hidden_accuracy_hidden" not in by_id
    message = runs.missing(PLAN.by_id()["a12_report_visible"]).message
    assert message.startswith("Activity 12 (classification report): expected the graded cell 'a12_report_visible'")


def test_missing_name_fails_naming_the_activity_and_the_name():
    from autograder.checks.presence import require_names

    with pytest.raises(checks.CheckFailed) as failure:
        require_names(5, ("model", "base_model"), {"model": object()})
    assert str(failure.value).startswith("Activity 5 (build the transfer model): expected the notebook to "
                                         "define `base_model`, found no variable named `base_model`")
    assert "activity 4" in str(failure.value)


# --- the entry point on real submissions --------------------------------------------------------

@pytest.mark.slow
def test_solution_passes_every_test_for_full_points(graded):
    run = graded["solution"]
    assert run.returncode == 0, run.output[-3000:]
    assert [t["grade_id"] for t in run.report["tests"]] == [p.grade_id for p in PLAN.properties]
    assert run.points_by_activity() == AUTOGRADED
    assert run.report["score"] == run.report["max_score"] == PLAN.total
    assert run.report["execution"]["status"] == "ok"
    assert "hidden test accuracy" in run.test("a10_hidden_accuracy_hidden")["output"]


@pytest.mark.slow
def test_untouched_release_fails_every_test_with_a_message_naming_the_activity(graded):
    run = graded["release"]
    assert run.returncode == 1
    assert run.report["score"] == 0 and len(run.report["tests"]) == len(PLAN.properties)
    for test in run.report["tests"]:
        assert not test["passed"]
        assert test["output"].startswith(f"Activity {test['activity']} (") or test["output"].startswith("Hand-in")
    assert run.test("a02_dataset_visible")["output"].startswith(
        "Activity 2 (load the dataset): expected the notebook to define `train_ds`, found no variable named "
        "`train_ds` after running the notebook. Try: complete activity 2")
    # the failure text in pytest's own report is the check's message, verbatim
    assert run.test("a02_dataset_visible")["output"] in run.output


@pytest.mark.slow
def test_activity_option_and_cache_grade_one_activity_without_running_the_notebook_again(graded):
    run = graded["solution"]
    before = run.cache.read_bytes()
    report = run.folder.parent / "activity10.json"
    done = subprocess.run(pytest_command(run.notebook, "--activity", "10", "--grading-cache", str(run.cache),
                                         "--grading-json", str(report)),
                          cwd=run.folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
    data = json.loads(report.read_text())
    assert {t["grade_id"] for t in data["tests"]} == {
        "a10_regularized_fit_visible", "a10_saved_model_hidden", "a10_hidden_accuracy_hidden"}
    assert data["max_score"] == SETTINGS.points[10]
    assert run.cache.read_bytes() == before      # read, not rewritten: the notebook did not run again


def test_an_empty_notebook_file_fails_every_test_with_the_batch_graders_message(tmp_path):
    notebook = tmp_path / SETTINGS.notebook_name
    notebook.write_bytes(b"")
    report = tmp_path / "report.json"
    done = subprocess.run(pytest_command(notebook, "--grading-json", str(report)), cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    data = json.loads(report.read_text())
    assert data["score"] == 0 and len(data["tests"]) == len(PLAN.properties)
    assert all(t["output"].startswith("expected a notebook, found an empty file") for t in data["tests"])


def test_without_a_notebook_the_entry_point_says_how_to_call_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs",
                           "autograder.integrations.pytest", "-q"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "--notebook path/to/notebook.ipynb" in done.stdout + done.stderr
