"""Shared fixtures: the repository's own course settings, prepared once per test session."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from autograder.course import config  # noqa: E402


@pytest.fixture(scope="session")
def settings():
    """The course settings in force (course_config.py or $LABKIT_CONFIG)."""
    return config.load()


@pytest.fixture(scope="session")
def prepared(settings):
    """Settings after `prepare` has laid out the data and the base (idempotent, ~20 s once)."""
    from autograder.authoring.prepare import prepare

    manifest = prepare(settings, say=lambda message: None)
    return settings, manifest


@pytest.fixture(scope="session")
def demo(prepared, tmp_path_factory):
    """`labkit demo` run once per session in a copy of the course (~3 min): its run, its grading
    folder and grades.csv's rows. Tests that change the folder (a hand grade) keep grades.csv and
    the class page in step, as `labkit grade` does."""
    import csv
    import subprocess
    import sys

    import assignment_helpers as helpers

    course = helpers.copy_course(tmp_path_factory.mktemp("demo-course"))
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "demo"], cwd=course,
                         env=helpers.course_env(course), capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    grading = course / "demo_output" / "grading"
    with open(grading / "grades.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"run": run, "grading": grading, "rows": rows}


@pytest.fixture(scope="session")
def browser():
    """The npm prefix of the browser tools (tests/browser_tools.py): installed if need be, skipped
    when they cannot be had, but never in CI."""
    import browser_tools

    return browser_tools.tools()
