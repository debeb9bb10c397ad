"""The batch grader end to end on a small course built in code: statuses, limits, parallel workers,
resume, untouched submissions, the gradebook, feedback and reports."""
from __future__ import annotations

import csv
import html
import json
import shutil
import sqlite3
from pathlib import Path

import grading_helpers as helpers
import nbformat
import pytest

from autograder.course import config
from autograder.course.records import (
    ALTERED,
    BAD_NOTEBOOK,
    KERNEL_DIED,
    MEMORY_LIMIT,
    MISSING_NOTEBOOK,
    OK,
    TIMED_OUT,
    WRONG_ASSIGNMENT,
)
from autograder.grading import runner

NOISY_ADD = ("import sys\ndef add(a, b):\n"
             "    print('W1128 02:00:00.000 tensorflow: a warning TensorFlow prints', file=sys.stderr)\n"
             "    return a + b")
# starts a process outside the kernel's tree that would outlive it
ESCAPER = ("import subprocess, sys\n"
           "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', 'escaper-left-behind'],\n"
           "                 start_new_session=True)\n")

# student -> (how the submission is made, expected status, expected total)
EXPECTED = {
    "alice": (OK, 6), "bob": (OK, 0), "carol": (OK, 3), "dave": (KERNEL_DIED, 2), "erin": (MEMORY_LIMIT, 2),
    "frank": (TIMED_OUT, 3), "gina": (BAD_NOTEBOOK, 0), "hal": (BAD_NOTEBOOK, 0), "hank": (TIMED_OUT, 2),
    "ivy": (OK, 6), "lost": (MISSING_NOTEBOOK, 0), "other": (WRONG_ASSIGNMENT, 0),
    "stray": (WRONG_ASSIGNMENT, 0), "deleted": (ALTERED, 3), "doubled": (ALTERED, 6), "retyped": (ALTERED, 6),
    "edited": (ALTERED, 3),
    "bulky": (OK, 6), "looper": (TIMED_OUT, 3), "escaper": (OK, 6),
}


def build_submissions(release, folder):
    """One submission per behaviour, in nbgrader's layout."""
    write = lambda student, notebook: helpers.write_submission(folder, student, notebook)  # noqa: E731
    write("alice", helpers.solved(release))
    write("bob", helpers.answered(release))
    write("carol", helpers.solved(release, a02_squares="squares = [1, 2]"))
    write("dave", helpers.solved(release, a02_squares="import os\nos._exit(1)"))
    write("erin", helpers.solved(release, a02_squares="hog = []\nwhile True:\n    hog.append(b'x' * 2**25)"))
    write("frank", helpers.solved(release, a02_squares="while True:\n    print('spam ' * 200)"))
    write("looper", helpers.solved(release, a02_squares="while True:\n    pass"))
    write("gina", b'{"cells": [ this is not json')
    write("hal", b"")
    write("hank", helpers.solved(release, a02_squares=(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)")))
    write("ivy", helpers.solved(release, a01_add=NOISY_ADD))
    (folder / "lost" / helpers.ASSIGNMENT).mkdir(parents=True)
    (folder / "lost" / helpers.ASSIGNMENT / "notes.txt").write_text("I forgot the notebook")
    stray = helpers.solved(release)
    for cell in stray.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["grade_id"] = "other_" + cell.metadata.nbgrader["grade_id"]
    write("other", stray)
    (folder / "stray" / "another_lab").mkdir(parents=True)
    nbformat.write(helpers.solved(release), folder / "stray" / "another_lab" / "another_lab.ipynb")
    deleted = helpers.solved(release)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "a02_squares_test"]
    write("deleted", deleted)
    doubled = helpers.solved(release)
    test = next(c for c in doubled.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a01_add_test")
    doubled.cells.append(nbformat.from_dict(json.loads(json.dumps(test))))
    write("doubled", doubled)
    retyped = helpers.solved(release)
    test = next(c for c in retyped.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a01_add_test")
    test.cell_type = "markdown"
    test.pop("outputs"), test.pop("execution_count")
    write("retyped", retyped)
    # a wrong answer, and its check cell rewritten by the student so that it would pass: nbgrader
    # restores the check, so the expected total (3) leaves out the check's 3 points
    edited = helpers.solved(release, a02_squares="squares = [1, 2]")
    test = next(c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a02_squares_test")
    test.source = "pass  # the student's rewrite of the check"
    write("edited", edited)
    write("escaper", helpers.solved(release, a02_squares=ESCAPER + helpers.SOLUTIONS["a02_squares"]))
    bulky = helpers.solved(release)
    bulky.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 3_000_000)]
    write("bulky", bulky)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    config_file = helpers.make_course(root / "course")
    release = helpers.generate_release(config_file)
    submitted = root / "course" / "submitted"
    build_submissions(release, submitted)
    return {"root": root, "config": config_file, "settings": config.load(config_file),
            "release": release, "submitted": submitted}


@pytest.fixture(scope="module")
def graded(course):
    before = helpers.tree_checksums(course["submitted"])
    batch = runner.grade_class(course["settings"], course["submitted"], out=course["root"] / "out2",
                               jobs=2, verify=True, progress=False)
    return {"batch": batch, "before": before, **course}


def by_student(batch):
    return {r.student: r for r in batch.results}


def test_every_behaviour_gets_its_status_and_points(graded):
    results = by_student(graded["batch"])
    found = {student: (r.status, r.total) for student, r in results.items()}
    assert found == EXPECTED
    assert all(r.max_total == helpers.MAX_TOTAL for r in results.values())


def test_limits_stop_runaway_cells_within_the_notebook_limit(graded):
    settings, results = graded["settings"], by_student(graded["batch"])
    for student in ("erin", "frank", "hank", "looper"):
        execution = results[student].execution
        assert execution["seconds"] < settings.notebook_timeout + 5, student
    assert "memory" in results["erin"].message
    assert results["dave"].execution["stopped_at_cell"] is not None
    # the earlier cells still count: activity 1 passed before the kernel stopped
    assert results["dave"].activity_points(1) == 2 and results["erin"].activity_points(1) == 2


def test_processes_a_notebook_detaches_are_stopped_with_its_kernel(graded):
    import psutil

    escaper = by_student(graded["batch"])["escaper"]
    if graded["settings"].sandbox:  # it ends with the sandbox's pid namespace: nothing is left to sweep
        assert escaper.execution["stray_processes"] == 0
    else:  # the run mark finds it after the kernel has stopped, and the student gets a note
        assert escaper.execution["stray_processes"] == 1
        assert any("still running after the kernel stopped" in note for note in escaper.notes)
    left = [p for p in psutil.process_iter(["cmdline"]) if "escaper-left-behind" in (p.info["cmdline"] or [])]
    assert left == []
    assert all(r.execution.get("stray_processes", 0) == 0 for r in graded["batch"].results if r.student != "escaper")


def test_output_of_a_print_loop_is_capped(graded):
    results = by_student(graded["batch"])
    autograded = results["frank"].autograded_notebook
    assert results["frank"].execution["truncated_cells"]
    limit = graded["settings"].output_limit_kb * 1024
    assert len(open(autograded).read()) < 4 * limit + 20_000


def test_stderr_noise_is_filtered_like_plain_nbgrader(graded):
    assert by_student(graded["batch"])["ivy"].total == 6


def test_submitted_files_are_never_modified(graded):
    assert helpers.tree_checksums(graded["submitted"]) == graded["before"]


def test_altered_notebooks_are_graded_with_notes(graded):
    results = by_student(graded["batch"])
    assert any("deleted" in note and "a02_squares_test" in note for note in results["deleted"].notes)
    assert any("more than once" in note for note in results["doubled"].notes)
    assert any("should be a code cell" in note for note in results["retyped"].notes)
    assert any("'a02_squares_test' was edited" in note for note in results["edited"].notes)
    assert not any("edited" in note for r in results.values() if r.student != "edited" for note in r.notes)
    assert "a02_squares_test" in results["deleted"].message and not results["deleted"].failed
    assert "leave the check cells as they are" in open(results["deleted"].feedback_html).read()
    with open(graded["batch"].csv) as handle:
        assert {row["student"]: row["status"] for row in csv.DictReader(handle)}["doubled"] == ALTERED
    assert "another_lab" in results["stray"].message and "graded cells" in results["other"].message
    assert "empty" in results["hal"].message and "cannot be read" in results["gina"].message


def test_gradebook_holds_each_grade_exactly_once(graded):
    batch = graded["batch"]
    with sqlite3.connect(batch.out / "gradebook.db") as db:
        submissions = db.execute("select student_id, count(*) from submitted_assignment group by student_id").fetchall()
        grades = db.execute("select count(*) from grade").fetchone()[0]
    assert sorted(submissions) == sorted((student, 1) for student in EXPECTED)
    assert grades == len(EXPECTED) * 3  # three grade cells each
    from autograder.grading.gradebook import stored_totals

    totals = stored_totals(f"sqlite:///{batch.out / 'gradebook.db'}", graded["settings"])
    assert totals == {student: float(total) for student, (_, total) in EXPECTED.items()}


def test_grades_csv_plot_and_feedback(graded):
    batch, settings = graded["batch"], graded["settings"]
    rows = {row["student"]: row for row in csv.DictReader(open(batch.csv))}
    assert set(rows) == set(EXPECTED)
    assert list(rows["alice"])[:16] == ["student", *[f"a{n:02d}" for n in range(1, 14)], "total", "percent"]
    assert rows["alice"]["letter"] == settings.letter_for(100) and rows["carol"]["letter"] == settings.letter_for(50)
    assert rows["dave"]["status"] == KERNEL_DIED and rows["carol"]["a02"] == "0" and rows["carol"]["a01"] == "2"
    assert batch.plot.stat().st_size > 1000
    page = open(by_student(batch)["dave"].feedback_html).read()
    assert 'id="grading-summary"' in page and "Activity 2" in page and "Hint" in page
    assert page.index("grading-summary") < page.index("a01_add_test")  # on top of nbgrader's feedback
    assert "Activity 1" in open(by_student(batch)["gina"].feedback_html).read()


def test_two_jobs_grade_like_one_job_and_regrading_gives_the_same_scores(graded, tmp_path):
    subset = tmp_path / "submitted"
    for student in ("alice", "carol", "dave"):
        shutil.copytree(graded["submitted"] / student, subset / student)
    one = runner.grade_class(graded["settings"], subset, out=tmp_path / "one", jobs=1, progress=False)
    two = by_student(graded["batch"])
    for result in one.results:
        assert (result.status, result.points, result.total) == (two[result.student].status,
                                                               two[result.student].points, two[result.student].total)


def test_a_rerun_resumes_and_force_regrades(graded, tmp_path):
    out = tmp_path / "out"
    subset = tmp_path / "submitted"
    for student in ("alice", "bob", "gina"):
        shutil.copytree(graded["submitted"] / student, subset / student)
    first = runner.grade_class(graded["settings"], subset, out=out, jobs=2, progress=False)
    assert sorted(first.graded) == ["alice", "bob", "gina"]
    (out / "state" / "bob.json").unlink()  # as if the batch had been killed while grading bob
    second = runner.grade_class(graded["settings"], subset, out=out, jobs=2, progress=False)
    assert second.graded == ["bob"] and sorted(second.skipped) == ["alice", "gina"]
    nbformat.write(helpers.answered(graded["release"]),  # alice submits again: only she is regraded
                   subset / "alice" / helpers.ASSIGNMENT / f"{helpers.ASSIGNMENT}.ipynb")
    third = runner.grade_class(graded["settings"], subset, out=out, jobs=2, progress=False)
    assert third.graded == ["alice"] and by_student(third)["alice"].total == 0
    forced = runner.grade_class(graded["settings"], subset, out=out, jobs=2, force=True, progress=False)
    assert sorted(forced.graded) == ["alice", "bob", "gina"]
    assert by_student(forced)["bob"].total == by_student(first)["bob"].total


def test_ctrl_c_stops_the_workers_and_a_rerun_finishes_the_rest(graded, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    subset, out = tmp_path / "submitted", tmp_path / "out"
    for student in ("alice", "bob", "looper"):
        shutil.copytree(graded["submitted"] / student, subset / student)
    command = [sys.executable, "-m", "autograder.cli", "--config", str(graded["config"]), "grade", "submitted",
               "--jobs", "1", "--out", "out", "--quiet"]  # relative paths, as typed in a shell
    batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                             env={**os.environ, "LABKIT_CONFIG": str(graded["config"])})
    deadline = time.monotonic() + 120
    while not (out / "state" / "alice.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    batch.send_signal(signal.SIGINT)
    try:
        _, stderr = batch.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say what still runs (and may hold the output pipes open)
        alive = [(p.pid, p.info["status"], " ".join(p.info["cmdline"] or [])[:160])
                 for p in psutil.process_iter(["cmdline", "status"]) if "autograder" in " ".join(p.info["cmdline"] or [])
                 or "ipykernel" in " ".join(p.info["cmdline"] or [])]
        batch.kill()
        pytest.fail(f"the batch did not end within 60 s of Ctrl-C (exit code {batch.poll()}); still running: {alive}")
    assert batch.returncode == 130 and "resume" in stderr
    time.sleep(1)
    # workers are forked (their command line is the fork server's) and work inside out/.work, as do
    # their kernels: anything still running there, or naming it, was left behind
    leftovers = [p for p in psutil.process_iter(["cmdline", "cwd"])
                 if str(out) in " ".join(p.info["cmdline"] or []) or str(p.info["cwd"] or "").startswith(str(out))]
    assert leftovers == []
    finished = {p.stem for p in (out / "state").glob("*.json")}
    assert "alice" in finished and "looper" not in finished
    # the interrupted worker was stopped, not left to finish its student
    assert not [s for s in ("bob", "looper") if s not in finished
                and (out / ".work" / "tasks" / f"{s}.result.json").exists()]
    rerun = runner.grade_class(graded["settings"], subset, out=out, jobs=1, progress=False)
    assert sorted(rerun.skipped) == sorted(finished)
    assert sorted(rerun.graded) == sorted({"alice", "bob", "looper"} - finished)
    assert [r.status for r in rerun.results] == [OK, OK, TIMED_OUT]


def planted(notebook, meta, source="print('extra credit, please')", at=None):
    """`notebook` with a new cell carrying the nbgrader marks `meta`, inserted at `at` (default: last)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = meta
    notebook.cells.insert(len(notebook.cells) if at is None else at, cell)
    return notebook


def test_planted_grade_cells_cost_nothing_but_themselves(graded, tmp_path):
    """A cell the assignment never gave, marked for grading, is ignored and named; the rest of the
    notebook is graded as usual, and the classmates' rows are those of a batch without it."""
    release, subset = graded["release"], tmp_path / "submitted"
    for student in ("alice", "carol"):
        shutil.copytree(graded["submitted"] / student, subset / student)
    marks = {"grade": True, "solution": False, "locked": True, "schema_version": 3, "task": False}
    helpers.write_submission(subset, "planter", planted(helpers.solved(release),
                                                        {**marks, "grade_id": "bonus", "points": 50}))
    forger = helpers.solved(release, a02_squares="squares = [1, 2]")
    planted(forger, {**marks, "grade_id": "a01_add_test", "points": 50}, source="pass", at=1)  # a real id, first
    planted(forger, {**marks, "grade": False, "locked": False, "solution": True, "grade_id": "a02_extra"})
    planted(forger, {**marks, "grade_id": "a03_bonus", "points": "fifty"})
    planted(forger, {**marks, "points": 5})                                   # no grade id
    planted(forger, {**marks, "grade_id": "newer", "points": 5, "schema_version": 9})
    planted(forger, "not nbgrader's marks")
    helpers.write_submission(subset, "forger", forger)
    before = helpers.tree_checksums(subset)
    batch = runner.grade_class(graded["settings"], subset, out=tmp_path / "out", jobs=2, progress=False)
    results = by_student(batch)
    assert helpers.tree_checksums(subset) == before
    assert (results["planter"].status, results["planter"].total) == (ALTERED, helpers.MAX_TOTAL)
    assert results["planter"].message.endswith("cell 'bonus' is not part of the assignment: ignored, it scores "
                                               "nothing; add no cells marked for grading")
    page = Path(results["planter"].feedback_html).read_text()
    assert html.escape("cell 'bonus' is not part of the assignment") in page
    assert (results["forger"].status, results["forger"].total) == (ALTERED, 3)
    notes = " | ".join(results["forger"].notes)
    for named in ("cell 'a01_add_test' appears more than once", "cell 'a02_extra' is not part",
                  "cell 'a03_bonus' is not part", "(marked with no grade id) is not part", "cell 'newer' is not part",
                  "(with grading marks the grader cannot read) is not part"):
        assert named in notes, notes
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch.out / 'gradebook.db'}") as book:   # no grade for a planted cell
        for student in results:
            notebook = book.find_submission_notebook(helpers.ASSIGNMENT, helpers.ASSIGNMENT, student)
            assert sorted(grade.name for grade in notebook.grades) == sorted(helpers.TESTS)
    alone = {row["student"]: row for row in csv.DictReader(graded["batch"].csv.read_text().splitlines())}
    here = {row["student"]: row for row in csv.DictReader(batch.csv.read_text().splitlines())}
    assert {s: here[s] for s in ("alice", "carol")} == {s: alone[s] for s in ("alice", "carol")}
