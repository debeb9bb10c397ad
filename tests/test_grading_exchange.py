"""nbgrader's real exchange workflow on a temporary exchange folder, with the kit's configuration:
release, fetch as a student, submit, collect, autograde, feedback, release and fetch feedback; then
the kit grades what `collect` made and agrees."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grading_helpers as helpers
import nbformat

from autograder import cli
from autograder.course import config
from autograder.grading import gradebook, runner

NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def nbgrader(*args, cwd, env):
    done = subprocess.run([NBGRADER, *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done


def test_exchange_round_trip_ends_with_feedback_for_the_student(tmp_path, monkeypatch):
    config_file = helpers.make_course(tmp_path / "course")
    course = config_file.parent
    settings = config.load(config_file)
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    student_home = tmp_path / "student"
    student_home.mkdir()
    env = {**os.environ, "LABKIT_CONFIG": str(config_file),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    monkeypatch.setenv("LABKIT_CONFIG", str(config_file))
    shared = [f"--Exchange.root={exchange}", f"--CourseDirectory.course_id={settings.course_id}"]
    assignment = helpers.ASSIGNMENT

    nbgrader("generate_assignment", assignment, "--force", cwd=course, env=env)
    nbgrader("release_assignment", assignment, "--force", *shared, cwd=course, env=env)
    nbgrader("fetch_assignment", assignment, *shared, cwd=student_home, env=env)
    fetched = student_home / assignment / f"{assignment}.ipynb"
    notebook = helpers.solved(fetched, a02_squares="squares = [0, 1, 4]")  # activity 2 wrong
    nbformat.write(notebook, fetched)
    nbgrader("submit", assignment, *shared, cwd=student_home, env=env)
    nbgrader("collect", assignment, *shared, cwd=course, env=env)
    student = next((course / "submitted").iterdir()).name
    nbgrader("autograde", assignment, *shared, cwd=course, env=env)
    nbgrader("generate_feedback", assignment, *shared, cwd=course, env=env)
    nbgrader("release_feedback", assignment, *shared, cwd=course, env=env)
    nbgrader("fetch_feedback", assignment, *shared, cwd=student_home, env=env)

    pages = list((student_home / assignment / "feedback").rglob(f"{assignment}.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    expected = helpers.MAX_TOTAL - helpers.TESTS["a02_squares_test"][1]
    assert f"Score: {expected:.1f} / {helpers.MAX_TOTAL:.1f}" in page

    batch = runner.grade_class(settings, course / "submitted", out=tmp_path / "kit", jobs=1, progress=False)
    assert [(r.student, r.status, r.total) for r in batch.results] == [(student, "ok", expected)]

    # the kit writing into the course itself: nbgrader's release_feedback then sends its pages
    assert cli.main(["grade", str(course / "submitted"), "--out", str(course), "--force", "--quiet"]) == 0
    nbgrader("release_feedback", assignment, *shared, cwd=course, env=env)
    nbgrader("fetch_feedback", assignment, *shared, cwd=student_home, env=env)
    pages = list((student_home / assignment / "feedback").rglob(f"{assignment}.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    assert 'id="grading-summary"' in page and "Activity 2" in page
    assert f"Score: {expected:.1f} / {helpers.MAX_TOTAL:.1f}" in page
    assert gradebook.stored_totals(f"sqlite:///{course / 'gradebook.db'}", settings) == {student: expected}
