"""GitHub Classroom: the committed workflow is current, parses, adds up to the autograded points, and
each activity's command passes on the solution and fails on the untouched release.

The commands run as written in the workflow, in a copy of a student's repository, with the grading
cache of that submission's earlier run (so the notebook is not run again for each command); only the
interpreter and the cache file's place are swapped for this machine's, and nbval (installed here
with the test extras, not on the runner) is kept out of their start-up."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from test_pytest_path import AUTOGRADED, PLAN, SETTINGS, graded_runs

from autograder.course import config
from autograder.course import plan as plans
from autograder.data import layout
from autograder.integrations import classroom

COMMITTED = SETTINGS.root / "classroom"


def workflow_steps(folder: Path = COMMITTED) -> list[dict]:
    data = yaml.safe_load((folder / classroom.WORKFLOW).read_text())
    return data["jobs"]["run-autograding-tests"]["steps"]


def grader_steps(folder: Path = COMMITTED) -> list[dict]:
    return [s for s in workflow_steps(folder) if s.get("uses") == classroom.COMMAND_GRADER]


def activity_of(command: str) -> int:
    words = shlex.split(command)
    return int(words[words.index("--activity") + 1])


def test_committed_templates_are_what_labkit_classroom_writes(prepared, tmp_path):
    written = classroom.write(SETTINGS, tmp_path, say=lambda message: None)
    for path in written:
        relative = path.relative_to(tmp_path)
        assert (COMMITTED / relative).read_text() == path.read_text(), (
            f"classroom/{relative} is out of date: run `labkit classroom`")


def test_workflow_parses_and_its_points_add_up_to_the_autograded_total():
    data = yaml.safe_load((COMMITTED / classroom.WORKFLOW).read_text())
    assert set(data["on"]) >= {"push"} and data["permissions"]["checks"] == "write"
    steps = grader_steps()
    assert [activity_of(s["with"]["command"]) for s in steps] == sorted(AUTOGRADED)
    for step in steps:
        activity = activity_of(step["with"]["command"])
        assert step["id"] == classroom.step_id(activity)
        assert step["with"]["max-score"] == SETTINGS.points[activity] == AUTOGRADED[activity]
        assert step["with"]["timeout"] * 60 >= SETTINGS.notebook_timeout
    assert sum(s["with"]["max-score"] for s in steps) == PLAN.total == SETTINGS.total_points - SETTINGS.points[13]
    reporter = workflow_steps()[-1]
    assert reporter["uses"] == classroom.REPORTER
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in steps]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in steps}
    assert plans.Plan.read(COMMITTED / classroom.PLAN_FILE) == PLAN
    facts = json.loads((COMMITTED / classroom.GRADER_FILE).read_text())
    assert facts["class_names"] and len(facts["hidden_listing_sha256"]) == 64
    settings = config.load(COMMITTED / classroom.COURSE_CONFIG)
    assert settings.points == SETTINGS.points and settings.course_secret == classroom.SECRET_PLACEHOLDER


def student_repository(run, root: Path) -> tuple[Path, Path]:
    """A copy of the student's repository (notebook, released files, the Classroom files) and of the
    grading cache that the first step of the workflow would have left."""
    shutil.copytree(run.folder, root)
    shutil.copytree(COMMITTED / ".github", root / ".github")
    cache = root.parent / f"{root.name}-cache.json"
    shutil.copyfile(run.cache, cache)
    return root, cache


def run_step(command: str, repository: Path, cache: Path) -> int:
    words = shlex.split(command)
    assert words[0] == "python"
    words[0] = sys.executable
    words[words.index("--grading-cache") + 1] = str(cache)
    # nbval (a test extra, absent on the runner) would add seconds of start-up to every command
    env = {**os.environ, "LABKIT_CONFIG": str(SETTINGS.config_file), "MPLBACKEND": "Agg",
           "PYTEST_ADDOPTS": "-p no:nbval"}
    return subprocess.run(words, cwd=repository, env=env, capture_output=True, text=True, timeout=1800).returncode


@pytest.mark.slow
def test_each_command_passes_on_the_solution_and_fails_on_the_release(prepared, tmp_path):
    runs = graded_runs()
    commands = [s["with"]["command"] for s in grader_steps()]
    jobs = []
    for name in ("solution", "release"):
        repository, cache = student_repository(runs[name], tmp_path / name)
        jobs.extend((name, command, repository, cache) for command in commands)
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda job: run_step(*job[1:]), jobs))
    outcome = {(name, activity_of(command)): code for (name, command, _, _), code in zip(jobs, codes)}
    assert {a: outcome["solution", a] for a in AUTOGRADED} == {a: 0 for a in AUTOGRADED}
    assert all(outcome["release", a] != 0 for a in AUTOGRADED), outcome


def test_the_runner_rebuilds_the_hidden_split_only_with_the_course_secret(prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LABKIT_SECRET", SETTINGS.course_secret)
    settings = config.load(COMMITTED / classroom.COURSE_CONFIG)
    manifest = classroom.grader_data(settings, SETTINGS.source_dir, COMMITTED / classroom.GRADER_FILE)
    assert layout.listing(settings.hidden_test_dir) == layout.listing(SETTINGS.hidden_test_dir)
    assert manifest["class_names"] == json.loads((COMMITTED / classroom.GRADER_FILE).read_text())["class_names"]
    assert settings.reference_base.is_file()
    monkeypatch.setenv("LABKIT_SECRET", "not-the-course-secret")
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "other"))
    with pytest.raises(classroom.ClassroomError, match="LABKIT_SECRET"):
        classroom.grader_data(config.load(COMMITTED / classroom.COURSE_CONFIG), SETTINGS.source_dir,
                              COMMITTED / classroom.GRADER_FILE)
