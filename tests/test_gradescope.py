"""Gradescope: the autograder zip, unpacked into an /autograder-shaped folder, grades the solution and
the untouched release through its own run_autograder; results.json follows Gradescope's format."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
from test_pytest_path import AUTOGRADED, PLAN, SETTINGS, graded_runs

from autograder.integrations import gradescope

# Gradescope's autograder output format (gradescope-autograders.readthedocs.io, "Autograder
# Specifications"): every field is optional except a score, on the top level or on every test.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
TEST_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": FORMAT,
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY,
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
}
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
    },
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def bundle(prepared, tmp_path_factory):
    return gradescope.build_bundle(SETTINGS, tmp_path_factory.mktemp("bundle") / "autograder.zip",
                                   say=lambda message: None)


def unpacked(bundle: Path, root: Path, notebook: Path | None) -> Path:
    """An /autograder-shaped folder: source/ (the zip), submission/ (the student's upload)."""
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    if notebook:
        shutil.copyfile(notebook, root / "submission" / notebook.name)
    return root


def run_autograder(root: Path) -> dict:
    env = {**os.environ, gradescope.ROOT_VARIABLE: str(root), "LABKIT_PYTHON": sys.executable}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=1800)
    (root / "run.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


@pytest.fixture(scope="module")
def results(bundle, tmp_path_factory):
    """results.json of the solution and of the untouched release, graded side by side."""
    runs = graded_runs()
    roots = {name: unpacked(bundle, tmp_path_factory.mktemp(f"autograder-{name}"), runs[name].notebook)
             for name in ("solution", "release")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_autograder, root) for name, root in roots.items()}
        return {name: future.result() for name, future in futures.items()}


def test_bundle_holds_the_scripts_the_kit_the_course_and_the_hidden_split(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        manifest = json.loads(archive.read("manifest.json"))
        config_text = archive.read("course/course_config.py").decode()
    for required in ("setup.sh", "run_autograder", "kit/pyproject.toml", "kit/autograder/integrations/pytest/plugin.py",
                     "course/course_config.py", "course/grading_plan.json", "course/assignment/lab_settings.json",
                     f"course/assignment/{SETTINGS.base_model_file}",
                     f"course/cache/{SETTINGS.profile}/reference_base.keras",
                     f"course/cache/{SETTINGS.profile}/manifest.json"):
        assert required in names, required
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    hidden = [n for n in names if n.startswith(f"course/cache/{SETTINGS.profile}/hidden_test/")]
    assert len(hidden) == len(list(SETTINGS.hidden_test_dir.rglob("*.png"))) > 0
    assert not [n for n in names if n.endswith(".ipynb")]          # no notebook, so no solution
    assert manifest["autograded_points"] == PLAN.total and manifest["manual_activities"] == [13]
    assert manifest["plan_sha256"] == PLAN.sha256()
    assert f'"{SETTINGS.course_secret}"' not in config_text         # the course secret stays home


def test_setup_script_is_valid_bash(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        (tmp_path / "setup.sh").write_bytes(archive.read("setup.sh"))
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")]).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["solution", "release"])
def test_results_json_follows_gradescopes_format(results, name):
    jsonschema.validate(results[name], RESULTS_SCHEMA)
    tests = results[name]["tests"]
    assert [t["name"] for t in tests] == [p.title for p in PLAN.properties]
    for test, prop in zip(tests, PLAN.properties):
        assert test["max_score"] == prop.points
        assert test["visibility"] == ("after_published" if prop.hidden else "visible")
    assert results[name]["score"] == pytest.approx(sum(t["score"] for t in tests))


@pytest.mark.slow
def test_solution_gets_every_autograded_point(results):
    solution = results["solution"]
    assert solution["score"] == PLAN.total == sum(AUTOGRADED.values())
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in solution["tests"])
    assert "graded by hand" in solution["output"]


@pytest.mark.slow
def test_untouched_release_gets_nothing_and_is_told_why(results):
    release = results["release"]
    assert release["score"] == 0
    for test in release["tests"]:
        assert test["status"] == "failed" and test["score"] == 0
        assert "expected" in test["output"] and "Try:" in test["output"]


def test_a_submission_without_a_notebook_scores_zero_with_a_message(bundle, tmp_path):
    root = unpacked(bundle, tmp_path / "autograder", None)
    (root / "submission" / "notes.txt").write_text("forgot the notebook")
    data = gradescope.run(root)
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert data["score"] == 0 and "No notebook (.ipynb)" in data["output"]
    assert json.loads((root / "results" / "results.json").read_text()) == data
