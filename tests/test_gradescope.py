"""Gradescope: the autograder zip, unpacked into an /autograder-shaped folder, grades the solution and
the untouched release through its own run_autograder; results.json follows Gradescope's format. The
solution is graded in a cgroup of Gradescope's default container memory (768 MB), where the machine
lets the tests make one, and gets every point there."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
from machine_needs import unavailable
from test_pytest_path import AUTOGRADED, PLAN, SETTINGS, graded_runs

from autograder.integrations import gradescope

CONTAINER_MB = 768   # Gradescope's default autograder container
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


def memory_group():
    """A cgroup holding at most Gradescope's default container memory, or None where the machine
    lets the tests make none (not root, no memory controller)."""
    from autograder.sandbox import cgroups

    group = cgroups.create(0, CONTAINER_MB)
    if group is not None and "memory" not in group.limited:
        group.remove(wait=0)
        return None
    return group


def peak_mb(group) -> float:
    """The most memory the group held (cgroup v1 memory.max_usage_in_bytes, v2 memory.peak)."""
    for folder in group.folders:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            if (folder / name).is_file():
                return int((folder / name).read_text()) / 2**20
    return 0.0


def uncache_tensorflow() -> None:
    """Drop TensorFlow's libraries from the page cache (where no process maps them), so that a run
    in a cgroup pays for the library pages it reads, as in a new container."""
    import importlib.util

    folder = Path(importlib.util.find_spec("tensorflow").origin).parent
    for path in folder.rglob("*.so*"):
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(handle)


def run_autograder(root: Path, group=None) -> dict:
    """run_autograder on the unpacked bundle; with a cgroup, everything it starts (the kernel, the
    judge, the verifier) runs in that group, as in a container of that size."""
    env = {**os.environ, gradescope.ROOT_VARIABLE: str(root), "LABKIT_PYTHON": sys.executable}
    command = [str(root / "source" / "run_autograder")]
    if group is not None:
        uncache_tensorflow()
        joins = " && ".join(f"echo $$ > {shlex.quote(path)}" for path in group.procs_files)
        command = ["/bin/sh", "-c", joins + ' && exec "$@"', "in-cgroup", *command]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    (root / "run.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


@pytest.fixture(scope="module")
def graded(bundle, tmp_path_factory):
    """results.json of the solution and of the untouched release, graded side by side, the solution
    in a cgroup of Gradescope's default container size where one can be made; and that group's
    figures (None without one)."""
    runs = graded_runs()
    roots = {name: unpacked(bundle, tmp_path_factory.mktemp(f"autograder-{name}"), runs[name].notebook)
             for name in ("solution", "release")}
    group = memory_group()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(run_autograder, root, group if name == "solution" else None)
                       for name, root in roots.items()}
            results = {name: future.result() for name, future in futures.items()}
        memory = None if group is None else {"peak_mb": peak_mb(group), "oom_kills": group.oom_kills()}
    finally:
        if group is not None:
            group.remove()
    return results, memory


@pytest.fixture(scope="module")
def results(graded):
    return graded[0]


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
    # the memory it needs, as measured, in the manifest and the bundled settings
    assert manifest["memory_mb"]["container"] == CONTAINER_MB and manifest["memory_mb"]["measured_peaks"]["kernel"]
    assert "# Memory, measured" in config_text


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
def test_solution_gets_every_point_in_gradescopes_default_container_memory(graded):
    results, memory = graded
    if memory is None:
        unavailable(f"no cgroup with a memory limit can be made here to hold the run to {CONTAINER_MB} MB")
    solution = results["solution"]
    assert memory["oom_kills"] == 0, memory
    assert solution["extra_data"]["execution"]["status"] == "ok", solution["output"]
    assert solution["score"] == PLAN.total, solution["output"]
    assert 0 < memory["peak_mb"] <= CONTAINER_MB, memory
    print(f"the solution's whole Gradescope run held at most {memory['peak_mb']:.0f} MB (limit {CONTAINER_MB} MB)")


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
