"""Parts of the batch grader that need no kernel: inputs, checks, verification, feedback."""
from __future__ import annotations

import json
import zipfile

import grading_helpers as helpers
import nbformat
import pytest

from autograder.course import config
from autograder.course.records import (
    BAD_NOTEBOOK,
    MISSING_NOTEBOOK,
    OK,
    WRONG_ASSIGNMENT,
    CellGrade,
    GradeResult,
)
from autograder.course.vocabulary import activity_of
from autograder.grading import scores, vetting
from autograder.grading import submissions as inputs
from autograder.judging import model_verdict as verification
from autograder.reporting import feedback


@pytest.fixture
def settings(tmp_path, monkeypatch):
    config_file = helpers.make_course(tmp_path / "course")
    monkeypatch.setenv("LABKIT_CONFIG", str(config_file))
    return config.load(config_file)


def test_activity_comes_from_the_grade_id_prefix():
    assert activity_of("a05_model_test") == 5 and activity_of("a13_comment") == 13
    assert activity_of("model_test") is None and activity_of(None) is None


def test_nbgrader_layout_loose_folder_and_zip(tmp_path):
    notebook = helpers.source_notebook()
    nbgrader_root = tmp_path / "collected" / "submitted"
    helpers.write_submission(nbgrader_root, "ann", notebook)
    (nbgrader_root / "ben" / helpers.ASSIGNMENT).mkdir(parents=True)
    (nbgrader_root / "cid" / "old_lab").mkdir(parents=True)
    found = {s.student: s for s in inputs.discover(tmp_path / "collected", helpers.ASSIGNMENT,
                                                   f"{helpers.ASSIGNMENT}.ipynb", tmp_path / "scratch")}
    assert found["ann"].problem is None and found["ann"].notebook.endswith(f"{helpers.ASSIGNMENT}.ipynb")
    assert found["ben"].problem == MISSING_NOTEBOOK and found["cid"].problem == WRONG_ASSIGNMENT

    loose = tmp_path / "loose"
    for student in ("s1", "s2"):
        helpers.write_submission(loose, student, notebook, layout="loose")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in loose.iterdir():
            bundle.write(path, f"loose/{path.name}")
    for source in (loose, archive):
        found = inputs.discover(source, helpers.ASSIGNMENT, "x.ipynb", tmp_path / "scratch")
        assert [(s.student, s.problem) for s in found] == [("s1", None), ("s2", None)]


def test_bad_submissions_path_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    for bad in (tmp_path / "missing", tmp_path / "notes.txt", tmp_path):
        with pytest.raises(inputs.InputError, match="must"):
            inputs.discover(bad, "lab", "lab.ipynb", tmp_path / "scratch")


def test_zip_paths_must_stay_inside(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../escape.ipynb", "{}")
    with pytest.raises(inputs.InputError, match="relative paths"):
        inputs.discover(archive, "lab", "lab.ipynb", tmp_path / "scratch")


def test_file_checks_name_expected_and_found(tmp_path, monkeypatch):
    empty = tmp_path / "empty.ipynb"
    empty.write_bytes(b"")
    with pytest.raises(vetting.SubmissionProblem, match="expected a notebook, found an empty file"):
        vetting.check_size(empty)
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * (2 * 2**20))
    monkeypatch.setattr(vetting, "MAX_NOTEBOOK_MB", 1)
    with pytest.raises(vetting.SubmissionProblem, match="at most 1 MB, found 2 MB") as caught:
        vetting.check_size(big)
    assert caught.value.status == BAD_NOTEBOOK
    with pytest.raises(vetting.SubmissionProblem, match="valid Jupyter notebook"):
        vetting.read_notebook(big)
    notebook = helpers.source_notebook()
    ids = set(vetting.grade_ids(notebook))
    vetting.check_assignment(notebook, ids, "lab")
    with pytest.raises(vetting.SubmissionProblem) as caught:
        vetting.check_assignment(notebook, {"z01_other"}, "lab")
    assert caught.value.status == WRONG_ASSIGNMENT
    with pytest.raises(vetting.SubmissionProblem) as caught:
        vetting.check_assignment(nbformat.v4.new_notebook(), ids, "lab")
    assert caught.value.status == BAD_NOTEBOOK


def _result(settings, points_a10=8.0):
    result = GradeResult(student="s", status=OK)
    result.cells = [CellGrade("a10_accuracy_test", 10, points_a10, 8.0, points_a10 == 8.0).to_dict(),
                    CellGrade("a01_import_test", 1, 1.0, 1.0, True).to_dict(),
                    CellGrade("a05_model_visible", 5, 2.0, 2.0, True).to_dict(),
                    CellGrade("a05_frozen_hidden", 5, 4.0, 4.0, True).to_dict()]
    scores.score(result, settings)
    return result


def test_verified_result_wins_over_the_notebook(settings):
    result = _result(settings)
    assert result.activity_points(10) == 8
    result.verify = {"status": "failed", "ok": False, "accuracy": 0.41, "threshold": 0.8,
                     "base_matches_reference": False, "error": None}
    assert verification.apply(result, settings) is True
    scores.score(result, settings)
    assert result.activity_points(10) == 0 and result.activity_points(1) == 1
    assert result.activity_points(5) == 2  # only the grader-run (hidden) check of the base is overruled
    text = " ".join(result.notes)
    assert "Activity 10: expected" in text and "at least 0.80" in text and "found 0.410" in text
    assert "Activity 5: expected" in text and "frozen base" in text and "hint" in text
    assert "a05_frozen_hidden passed, but the saved model decides" in text


def test_a_missed_threshold_overrules_only_the_accuracy_check(settings):
    result = GradeResult(student="s", status=OK)
    result.cells = [CellGrade("a10_fit_visible", 10, 3.0, 3.0, True).to_dict(),
                    CellGrade("a10_saved_model_hidden", 10, 2.0, 2.0, True).to_dict(),
                    CellGrade("a10_hidden_accuracy_hidden", 10, 3.0, 3.0, True).to_dict(),
                    CellGrade("a05_frozen_hidden", 5, 4.0, 4.0, True).to_dict()]
    scores.score(result, settings)
    result.verify = {"status": "failed", "ok": False, "accuracy": 0.41, "threshold": 0.8,
                     "base_matches_reference": True, "error": None}
    assert verification.apply(result, settings) is True
    scores.score(result, settings)
    points = {c["grade_id"]: c["points"] for c in result.cells}
    assert points == {"a10_fit_visible": 3.0, "a10_saved_model_hidden": 2.0,
                      "a10_hidden_accuracy_hidden": 0.0, "a05_frozen_hidden": 4.0}


def test_a_moved_base_overrules_only_activity_5s_check(settings):
    # one mistake, one activity: the hidden-split accuracy is judged on accuracy alone
    result = GradeResult(student="s", status=OK)
    result.cells = [CellGrade("a10_hidden_accuracy_hidden", 10, 3.0, 3.0, True).to_dict(),
                    CellGrade("a05_frozen_hidden", 5, 4.0, 4.0, True).to_dict()]
    scores.score(result, settings)
    result.verify = {"status": "failed", "ok": False, "accuracy": 0.9, "threshold": 0.8,
                     "base_matches_reference": False, "error": None}
    assert verification.apply(result, settings) is True
    points = {c["grade_id"]: c["points"] for c in result.cells}
    assert points == {"a10_hidden_accuracy_hidden": 3.0, "a05_frozen_hidden": 0.0}


def test_a_deferred_check_keeps_its_points_only_when_verified(settings, tmp_path):
    verified = _result(settings)
    verified.verify = {"status": "verified", "ok": True, "accuracy": 0.9, "threshold": 0.8,
                       "base_matches_reference": True, "error": None}
    assert verification.apply(verified, settings, deferred=True) is False
    unverified = _result(settings)
    unverified.verify = verification.run(tmp_path / "graded.ipynb", settings)  # no hidden split here
    assert verification.apply(unverified, settings, deferred=True) is True
    scores.score(unverified, settings)
    assert unverified.activity_points(10) == 0 and unverified.activity_points(5) == 6
    assert "could not be verified" in " ".join(unverified.notes)


def test_grader_side_verification_problems_cost_nothing(settings, tmp_path):
    result = _result(settings)
    result.verify = verification.run(tmp_path / "graded.ipynb", settings)  # no hidden split prepared
    assert result.verify["status"] == "unavailable"
    assert verification.apply(result, settings) is False and result.activity_points(10) == 8


def test_summary_sits_on_top_and_names_activity_and_hint(settings):
    result = _result(settings, points_a10=0.0)
    result.cells[0]["error"] = "AssertionError: expected accuracy >= 0.80, found 0.41; hint: train longer"
    scores.score(result, settings)
    summary = feedback.summary_html(result, settings)
    assert "Activity 10" in summary and "found 0.41" in summary and "0 / 8" in summary
    page = feedback.insert_summary("<html><body class='x'><p>nbgrader</p></body></html>", summary)
    assert page.index("grading-summary") < page.index("nbgrader")


def test_memory_watcher_kills_a_growing_process_tree():
    import subprocess
    import sys

    from autograder.sandbox.watcher import MemoryWatcher

    grower = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; x = b\"x\" * 2**27; time.sleep(60)'])\n"
              "time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", grower])
    try:
        with MemoryWatcher(process.pid, limit_mb=100, interval=0.02) as watcher:
            process.wait(timeout=30)
        assert watcher.exceeded and watcher.peak_mb > 100
    finally:
        process.kill()


def test_memory_watcher_counts_and_kills_marked_processes_outside_the_tree():
    import os
    import subprocess
    import sys

    from autograder.sandbox.environment import RUN_MARK
    from autograder.sandbox.watcher import MemoryWatcher, marked_processes

    env = {**os.environ, RUN_MARK: "unit-test-run"}
    root = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    detached = subprocess.Popen([sys.executable, "-c", "import time; x = b'x' * 2**27; time.sleep(60)"],
                                env=env, start_new_session=True)  # not a child of root
    try:
        assert {p.pid for p in marked_processes("unit-test-run")} == {root.pid, detached.pid}
        with MemoryWatcher(root.pid, limit_mb=100, interval=0.02, mark="unit-test-run") as watcher:
            detached.wait(timeout=30)
            root.wait(timeout=30)
        assert watcher.exceeded and watcher.peak_mb > 100
    finally:
        root.kill(), detached.kill()


def test_ctrl_c_while_grading_sets_a_flag_and_never_interrupts_a_step():
    import os
    import signal

    from autograder.grading.runner import ctrl_c_as_flag

    recorded = []
    before = signal.getsignal(signal.SIGINT)   # SIG_IGN when pytest was started in the background
    with ctrl_c_as_flag() as pressed:
        os.kill(os.getpid(), signal.SIGINT)
        recorded.append("worker")  # a step under way (starting a worker) is finished, not cut off
        assert pressed.wait(5)
    assert recorded == ["worker"]
    assert signal.getsignal(signal.SIGINT) is before


def test_the_end_of_a_batch_writes_grades_csv_once_with_every_column(settings, tmp_path, monkeypatch):
    """A student's whole row, activity 13's suggestion included, is known before grades.csv is
    written; its one writer writes it, and nothing rewrites it afterwards."""
    import csv

    from comment_samples import ANA, good_comment

    from autograder.grading.runner import tools_on_path
    from autograder.reporting import class_outputs, class_results

    tools_on_path()   # nbgrader runs `alembic` when it makes a gradebook
    writer, written = class_results.write_csv, []

    def write_csv(*args, **kwargs):
        path = writer(*args, **kwargs)
        written.append((path.stat().st_ino, path.read_bytes()))   # a rewrite would be a new file
        return path

    monkeypatch.setattr(class_results, "write_csv", write_csv)
    comment = {"grade_id": "a13_comment_answer", "text": good_comment(ANA), "facts": ANA}
    results = [GradeResult("ana", OK, comment=comment), GradeResult("ben", OK)]
    outputs = class_outputs.write(results, settings, tmp_path, f"sqlite:///{tmp_path / 'gradebook.db'}",
                                  hand_graded=[], scratch=tmp_path / ".work", submitted={})
    assert len(written) == 1
    assert (outputs.csv.stat().st_ino, outputs.csv.read_bytes()) == written[0]
    with open(outputs.csv, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["ana"]["a13_suggested"] and rows["ana"]["a13_review"] in ("clear", "read")
    assert rows["ben"]["a13_suggested"] == rows["ben"]["a13_review"] == ""
    assert outputs.page == tmp_path / "class_report" / f"{settings.assignment}.html" and not outputs.page_problem
    page = outputs.page.read_text()   # the class page, from the same rows
    assert "ana" in page and "ben" in page


def released(notebook):
    """The source notebook as a release carries it: every marked cell with its checksum; and the marks
    the assignment gives (altered_cells.released_marks reads them from the template gradebook)."""
    from nbgrader.utils import compute_checksum

    marks = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            meta["checksum"], meta["cell_type"] = compute_checksum(cell), cell.cell_type
            marks[meta["grade_id"]] = json.loads(json.dumps(meta))
    return notebook, marks


def with_cell(notebook, meta, source="print('bonus')", at=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = meta
    notebook.cells.insert(len(notebook.cells) if at is None else at, cell)
    return notebook


CHANGED = "were changed; it was graded as released"
PLANTED = {"grade": True, "solution": False, "locked": True, "schema_version": 3, "task": False}


@pytest.mark.parametrize("meta, named", [
    ({**PLANTED, "grade_id": "bonus", "points": 50}, "the notebook: cell 'bonus' is not part of the assignment"),
    ({**PLANTED, "grade": False, "solution": True, "locked": False, "grade_id": "a02_more"},
     "activity 2: cell 'a02_more' is not part of the assignment"),
    ({**PLANTED, "grade_id": "a03_bonus", "points": "fifty"}, "activity 3: cell 'a03_bonus' is not part"),
    ({**PLANTED, "points": 5}, "cell 8 (marked with no grade id) is not part"),
    ({**PLANTED, "grade_id": "", "points": 5}, "cell 8 (marked with no grade id) is not part"),
    ({**PLANTED, "grade_id": "new", "points": 5, "schema_version": 9}, "cell 'new' is not part"),
    ("garbage", "cell 8 (with grading marks the grader cannot read) is not part"),
])
def test_a_planted_cell_loses_its_marks_and_is_named(meta, named):
    from autograder.grading.altered_cells import cell_notes, given_marks

    notebook, marks = released(helpers.source_notebook())
    notebook = with_cell(notebook, meta)
    assert len(notebook.cells) == 8
    notes, changed = given_marks(notebook, marks)
    assert changed and len(notes) == 1 and named in notes[0]
    assert notes[0].endswith(": ignored, it scores nothing; add no cells marked for grading")
    assert "nbgrader" not in notebook.cells[-1].metadata and notebook.cells[-1].source == "print('bonus')"
    assert cell_notes(notebook, {k: "code" for k in marks}, set(helpers.TESTS)) == []
    from nbgrader.nbgraderformat import MetadataValidator

    MetadataValidator().validate_nb(notebook)   # what nbgrader's CheckCellMetadata asks


def test_an_honest_notebook_is_left_as_it_is():
    from autograder.grading.altered_cells import given_marks

    notebook, marks = released(helpers.source_notebook())
    before = nbformat.writes(notebook)
    assert given_marks(notebook, marks) == ([], False) and nbformat.writes(notebook) == before


def test_of_a_repeated_cell_the_copy_as_released_keeps_its_marks():
    from autograder.grading.altered_cells import cell_notes, given_marks

    notebook, marks = released(helpers.source_notebook())
    original = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a01_add_test")
    with_cell(notebook, {**PLANTED, "grade_id": "a01_add_test", "points": 50}, source="pass", at=1)
    assert any("appears more than once" in note for note in cell_notes(notebook, {k: "code" for k in marks},
                                                                      set(helpers.TESTS)))
    assert given_marks(notebook, marks) == ([], True)
    assert "nbgrader" not in notebook.cells[1].metadata and original.metadata.nbgrader == marks["a01_add_test"]


def test_a_given_cell_with_changed_marks_gets_the_released_ones_back():
    from autograder.grading.altered_cells import given_marks

    notebook, marks = released(helpers.source_notebook())
    answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "a01_add")
    answer.metadata.nbgrader.update(grade=True, points=50)   # an answer cell turned into a 50-point check
    notes, changed = given_marks(notebook, marks)
    assert changed and notes == [f"activity 1: the grading marks of cell 'a01_add' {CHANGED}"]
    assert answer.metadata.nbgrader == marks["a01_add"]
