"""Nothing one student's result holds stops or changes the others': every step after the kernel runs
for each student on its own (autograder.course.fences). A class of three, built in code with no
notebook run: one student's comment facts, verification or cells are missing, partial or absurd, or
one step raises for that student alone, and the other two get grades.csv rows, gradebook comments,
feedback pages and class-table rows byte for byte as if that student were not there."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import shutil
from pathlib import Path

import grading_helpers as helpers
import nbformat
import pytest
from comment_samples import ANA, BEN, good_comment, student_facts
from nbformat.v4 import new_markdown_cell

from autograder.comments import assess as assessing
from autograder.comments import publish
from autograder.course import config
from autograder.course.fences import StageFailed, per_student
from autograder.course.records import (
    GRADING_ERROR,
    OK,
    CellGrade,
    GradeResult,
    Submission,
)
from autograder.grading import autograde, gradebook, hand_grades, worker
from autograder.grading.runner import tools_on_path
from autograder.grading.scores import score
from autograder.grading.task import Task
from autograder.reporting import class_outputs, class_results, feedback

COMMENT_ID = "a13_comment_answer"
BENS_WORDS = ("My first network got {t1:.2f} on training and {v1:.2f} on validation, so there is clear "
              "overfitting, the gap was {g1:.2f}. Regularization with dropout made the loss curves smoother "
              "and validation ended at {v2:.2f}. Digit {easy} was easiest and digit {hard} the hardest in the "
              "report, because its strokes look like other digits. Pretrained features help a lot with few "
              "images; next I would try fine-tuning.")
ZEDS_WORDS = ("Honestly the network memorised its little training folder within three epochs while held-out "
              "scores lagged well behind. Adding noise layers calmed those wobbly lines somewhat. Sevens got "
              "confused with ones constantly. Borrowing filters learned elsewhere saves enormous labelling "
              "effort, and unfreezing deeper blocks later seems worth exploring.")
ZED = student_facts(first=(0.99, 0.6), regularized=(0.8, 0.7), last=(0.79, 0.69), best=(0.8, 0.72),
                    f1={"5": 0.5, "6": 0.6, "7": 0.7, "8": 0.8, "9": 0.9}, hidden=0.66)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The mini course with an activity-13 answer cell, its template gradebook and its release."""
    tools_on_path()   # nbgrader runs `alembic` when it makes a gradebook
    root = tmp_path_factory.mktemp("fenced")
    config_file = helpers.make_course(root / "course")
    notebook = helpers.source_notebook()
    answer = new_markdown_cell("**Example answer.** The first model overfits: training accuracy is far above "
                               "validation accuracy.")
    answer.metadata["nbgrader"] = {"grade_id": COMMENT_ID, "grade": True, "solution": True, "locked": False,
                                   "points": 10, "schema_version": 3, "task": False}
    notebook.cells.insert(-1, answer)
    nbformat.write(notebook, root / "course" / "source" / helpers.ASSIGNMENT / f"{helpers.ASSIGNMENT}.ipynb")
    settings = config.load(config_file)
    template = gradebook.make_template(settings, root / "scratch")
    return {"root": root, "config": config_file, "settings": settings, "template": template}


def graded(student: str, text: str, facts, settings) -> GradeResult:
    """A result as a worker leaves it: two checks passed, one failed, the comment waiting for a person."""
    result = GradeResult(student, OK, sandboxed=True, comment={"grade_id": COMMENT_ID, "text": text, "facts": facts})
    result.cells = [CellGrade("a01_add_test", 1, 2.0, 2.0, True).to_dict(),
                    CellGrade("a02_squares_test", 2, 3.0, 3.0, True).to_dict(),
                    CellGrade("a03_more_test", 3, 0.0, 1.0, False, error="AssertionError: add(2, 2)").to_dict(),
                    CellGrade(COMMENT_ID, 13, 0.0, 10.0, False, needs_manual_grade=True).to_dict()]
    result.verify = {"status": "verified", "ok": True, "accuracy": 0.91, "threshold": 0.8,
                     "base_matches_reference": True, "error": None}
    score(result, settings)
    return result


def honest(settings) -> list[GradeResult]:
    bens = BENS_WORDS.format(t1=BEN["first_train"], v1=BEN["first_val"], g1=BEN["first_gap"],
                             v2=BEN["regularized_val"], easy=BEN["easiest"][0], hard=BEN["hardest"][0])
    return [graded("ana", good_comment(ANA), ANA, settings), graded("ben", bens, BEN, settings)]


def bad_zed(kind: str, settings) -> GradeResult:
    """The third student, with results that are missing, partial or absurd."""
    if kind == "missing":
        result = graded("zed", ZEDS_WORDS, None, settings)
        result.verify, result.message, result.execution = None, None, None
    elif kind == "partial":   # the first model could not be rebuilt, its history could
        facts = {k: v for k, v in ZED.items() if k not in ("first_train", "first_val", "gap_narrowed")}
        result = graded("zed", ZEDS_WORDS, {**facts, "missing": {"accuracies": "ValueError: cannot rebuild"}},
                        settings)
        result.verify = {"status": "verified"}
    else:
        absurd = {"first_train": 1e308, "first_val": math.nan, "first_gap": "wide", "first_last_train": -0.4,
                  "regularized_train": math.inf, "regularized_gap": [1], "classes": {"5": {"f1-score": 2}},
                  "easiest": "5", "hardest": None, "val_images": -3, "gap_narrowed": "yes", "missing": "x"}
        result = graded("zed", ZEDS_WORDS, absurd, settings)
        result.verify = {"status": "verified", "accuracy": "high"}
        result.cells[2]["points"] = "lots"
        result.total, result.percent, result.letter = 1e308, math.nan, None
    return result


def give_hand_grades(db_url: str, settings, students) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as book:
        for student in students:
            with contextlib.suppress(MissingEntry):
                book.find_grade(COMMENT_ID, settings.assignment, settings.assignment, student).manual_score = 7
        book.db.commit()


def run_class(course, results: list[GradeResult], out: Path) -> dict:
    """Every class-level step, as `labkit grade` takes them after the last student, and what each left."""
    from nbgrader.api import Gradebook, MissingEntry
    from rich.console import Console

    settings = course["settings"]
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(course["template"], out / "gradebook.db")
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    for result in results:
        with contextlib.suppress(Exception):   # the runner reports a result the gradebook refuses
            gradebook.store(db_url, settings, result)
    give_hand_grades(db_url, settings, [r.student for r in results])
    hand_graded = per_student(hand_grades.HAND_GRADES, None, hand_grades.apply, results, db_url, settings, score,
                              fallback=[])   # as the runner does
    outputs = class_outputs.write(results, settings, out, db_url, hand_graded, scratch=out / ".work", submitted={})
    console = Console(record=True, width=3000, file=io.StringIO())
    for table in class_results.class_tables(results, settings):
        console.print(table)
    lines = outputs.csv.read_text().splitlines()
    rows = {row[0]: line for line, row in zip(lines, csv.reader(lines))}
    comments = {}
    with Gradebook(db_url) as book:
        for result in results:
            with contextlib.suppress(MissingEntry):
                comments[result.student] = book.find_comment(COMMENT_ID, settings.assignment, settings.assignment,
                                                             result.student).auto_comment
    pages = {r.student: page.read_bytes() for r in results
             if (page := out / "feedback" / r.student / settings.assignment / f"{settings.assignment}.html").is_file()}
    table = {cells[0]: cells for cells in ([c.strip() for c in line.split("│")[1:-1]]
                                           for line in console.export_text().splitlines() if line.startswith("│"))
             if cells and cells[0]}
    return {"rows": rows, "comments": comments, "pages": pages, "table": table, "outputs": outputs,
            "csv": {row["student"]: row for row in csv.DictReader(lines)}, "results": results}


@pytest.fixture(scope="module")
def without_zed(course, tmp_path_factory):
    return run_class(course, honest(course["settings"]), tmp_path_factory.mktemp("two"))


def assert_others_untouched(found: dict, without: dict) -> None:
    for student in ("ana", "ben"):
        assert found["rows"][student] == without["rows"][student], student
        assert found["comments"][student] == without["comments"][student], student
        assert found["pages"][student] == without["pages"][student], student
        assert found["table"][student] == without["table"][student], student
    assert without["comments"]["ana"].startswith(publish.HEADER) and b"grading-summary" in without["pages"]["ben"]
    assert found["outputs"].plot.stat().st_size > 1000 and found["outputs"].csv.is_file()
    assert {"ana", "ben", "zed"} <= set(found["csv"])


EXPECTED = {   # what zed's row says of the problem
    "missing": "no results of activity 8 to check its numbers against",
    "partial": ("missing: training accuracy of the first model (activity 8), validation accuracy of the first "
                "model (activity 8) (not checked)"),
    "absurd": "the student's row of grades.csv",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_missing_partial_or_absurd_results_of_one_student_leave_the_others_as_they_were(
        kind, course, without_zed, tmp_path):
    found = run_class(course, [*honest(course["settings"]), bad_zed(kind, course["settings"])], tmp_path / "three")
    assert_others_untouched(found, without_zed)
    row = found["rows"]["zed"]
    assert EXPECTED[kind] in row and "KeyError" not in row
    if kind == "absurd":   # no grade reported for zed: a grading error that says which step and why
        assert found["csv"]["zed"]["status"] == GRADING_ERROR and "ValueError" in row
        status = found["table"]["zed"][4]
        assert status.startswith("ok; failed: ") and "the student's row of grades.csv" in status
        assert "place in grade_distribution.png" in status   # left out of the picture
    else:
        assert found["csv"]["zed"]["status"] == OK and found["csv"]["zed"]["a13_review"] == "read"


def test_the_known_partial_facts_no_longer_raise_anywhere_activity_13_reads_them():
    """The first model could not be rebuilt while its history could: 'first_train' is missing."""
    partial = {k: v for k, v in ANA.items() if k not in ("first_train",)}
    unquoted = assessing.assess("zed", ZEDS_WORDS, {**partial, "first_val": None}, 10)   # words, no numbers
    assert "expected the first model's accuracies (train missing, validation missing)" in unquoted.checklist[0]
    assert not unquoted.clear
    found = assessing.assess("zed", good_comment(ANA), partial, 10, {"ana": ANA, "zed": partial})
    assert found.suggested is not None
    assert any("missing: training accuracy of the first model (activity 8) (not checked)" in line
               for line in found.checklist), found.checklist
    assert "first model: train missing, validation" in assessing.facts_line(partial)
    for facts in (None, "garbage", [1], {"first_train": "0.9"}, {"first_gap": 1e308, "classes": None},
                  {"easiest": ["7"], "hardest": ["8"], "classes": {}}, {"first_val": -0.2, "gap_narrowed": True}):
        assessing.assess("zed", good_comment(ANA), facts, 10, {"zed": facts})
        assert assessing.facts_line(facts)


def only_for_zed(original):
    def patched(*args, **kwargs):
        if any(getattr(value, "student", value) == "zed" for value in [*args, *kwargs.values()]):
            raise RuntimeError("boom for zed")
        return original(*args, **kwargs)
    return patched


STAGES = {   # a class-level step -> (module, its per-student function, the words zed's note uses)
    "review": (assessing, "assess", publish.REVIEW.what),
    "pages": (feedback, "write", class_outputs.PAGE.what),
    "gradebook comment": (publish, "gradebook_comment", publish.GRADEBOOK_COMMENT.what),
    "plot": (class_results, "plotted", class_results.PLOTTED.what),
    "grades.csv row": (class_results, "row", class_results.CSV_ROW.what),
    "table row": (class_results, "table_row", class_results.TABLE_ROW.what),
    "hand grades": (hand_grades, "apply_one", hand_grades.HAND_GRADES.what),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_step_that_raises_for_one_student_is_that_students_note_and_goes_on_for_the_others(
        stage, course, without_zed, tmp_path, monkeypatch):
    module, name, what = STAGES[stage]
    monkeypatch.setattr(module, name, only_for_zed(getattr(module, name)))
    zed = graded("zed", ZEDS_WORDS, ZED, course["settings"])
    found = run_class(course, [*honest(course["settings"]), zed], tmp_path / "three")
    assert_others_untouched(found, without_zed)
    said = " ".join(found["table"]["zed"]) if stage == "table row" else found["rows"]["zed"]
    assert what in said and "RuntimeError: boom for zed" in said and "labkit grade" in said
    assert any(what in note for note in zed.notes)
    if stage == "grades.csv row":
        assert found["csv"]["zed"]["status"] == GRADING_ERROR
    if stage == "gradebook comment":
        assert any(problem.startswith("zed: ") for problem in found["outputs"].gradebook_problems)
        assert "zed" not in found["comments"] or not found["comments"]["zed"]


def test_a_step_that_raises_for_the_whole_class_never_escapes(course, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no gradebook")

    monkeypatch.setattr(hand_grades, "hand_grades", broken)
    monkeypatch.setattr(publish, "reference_texts", broken)
    found = run_class(course, honest(course["settings"]), tmp_path / "two")
    assert found["outputs"].csv.is_file() and found["outputs"].plot.is_file()
    assert found["csv"]["ana"]["a13_suggested"]


# The worker: a step after the kernel that fails is the student's grading error or note, and the
# result file is always written.

def task_for(course, tmp_path: Path, notebook) -> Task:
    path = helpers.write_submission(tmp_path / "submitted", "zed", notebook)
    submission = Submission("zed", notebook=str(path))
    return Task(submission=submission.to_dict(), config_file=str(course["config"]), out_dir=str(tmp_path / "out"),
                work_dir=str(tmp_path / "work"), template_db=str(course["template"]), source_sha256="x",
                verify=False, result_path=str(tmp_path / "zed.result.json"))


def source(course):
    return nbformat.read(course["settings"].source_dir / course["settings"].notebook_name, as_version=4)


def test_a_required_step_that_fails_is_a_grading_error_with_the_step_named(course, tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise StageFailed(autograde.JUDGING, RuntimeError("the judge crashed"))

    monkeypatch.setattr(worker, "autograde", failing)
    result = worker.grade(task_for(course, tmp_path, source(course)))
    assert result.status == GRADING_ERROR and result.total == 0
    assert "judging the checks outside the notebook" in result.message and "the judge crashed" in result.message
    assert Path(result.feedback_html).is_file()


def test_an_unexpected_error_in_the_worker_is_a_grading_error_too(course, tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "autograde", lambda *args, **kwargs: {}["missing"])
    result = worker.grade(task_for(course, tmp_path, source(course)))
    assert result.status == GRADING_ERROR and "KeyError" in result.message


def test_a_failed_feedback_page_is_a_note_and_the_summary_is_written(course, tmp_path, monkeypatch):
    writer = feedback.write

    def write(result, settings, out, page=None, submitted=None):
        if page is not None:
            raise RuntimeError("nbgrader's page is broken")
        return writer(result, settings, out, page, submitted)

    monkeypatch.setattr(worker, "autograde", lambda *args, **kwargs: "<html><body>nbgrader page</body></html>")
    monkeypatch.setattr(feedback, "write", write)
    result = worker.grade(task_for(course, tmp_path, source(course)))
    assert result.status == OK
    assert any("the feedback page" in note and "nbgrader's page is broken" in note for note in result.notes)
    page = Path(result.feedback_html).read_text()
    assert "grading-summary" in page and "nbgrader page" not in page


def test_the_result_file_is_written_whatever_the_worker_meets(course, tmp_path, monkeypatch):
    task = task_for(course, tmp_path, source(course))
    (tmp_path / "task.json").write_text(json.dumps(task.to_dict()))
    monkeypatch.setattr(worker, "grade", lambda *args, **kwargs: 1 / 0)
    assert worker.main([str(tmp_path / "task.json")]) == 0
    written = GradeResult.from_dict(json.loads(Path(task.result_path).read_text()))
    assert written.status == GRADING_ERROR and "ZeroDivisionError" in written.message
    assert written.student == "zed" and written.cells and written.total == 0


def test_steps_after_a_real_kernel_run_are_fenced(course, tmp_path, monkeypatch):
    """A real (pure-Python) notebook run: the activity-13 facts and the error lines fail on the
    grader's side, and the student is graded as usual with a note for each."""
    def broken(*args, **kwargs):
        raise RuntimeError("grader-side failure")

    monkeypatch.setattr(autograde, "gather_comment", broken)
    monkeypatch.setattr(autograde, "attach_errors", broken)
    release = helpers.generate_release(course["config"])
    result = worker.grade(task_for(course, tmp_path, helpers.solved(release, a02_squares="squares = [1]")))
    assert result.status == OK and result.total == 2 + 1, (result.status, result.message, result.notes)
    assert result.comment == {}
    notes = " ".join(result.notes)
    assert autograde.FACTS.what in notes and autograde.ERROR_LINES.what in notes
    assert Path(result.autograded_notebook).is_file() and Path(result.feedback_html).is_file()


def test_nbgraders_page_is_drawn_once_from_the_final_totals_and_each_step_is_timed(course, tmp_path, monkeypatch):
    """The page is drawn after the judgment, once; drawing it before as well cost a second or two of
    every submission. Each step's seconds are kept for benchmarks/grading_speed.py."""
    drawn = []
    draw = feedback.nbgrader_feedback

    def counted(settings, root, student):
        drawn.append(student)
        return draw(settings, root, student)

    monkeypatch.setattr(feedback, "nbgrader_feedback", counted)
    release = helpers.generate_release(course["config"])
    result = worker.grade(task_for(course, tmp_path, helpers.solved(release, a02_squares="squares = [1]")))
    assert result.status == OK and result.total == 2 + 1, (result.status, result.message, result.notes)
    assert drawn == ["zed"]
    for step in ("nbgrader autograde (kernel included)", "hand-over", "judge", "nbgrader's feedback page"):
        assert result.stages.get(step, -1) >= 0, (step, result.stages)
    assert result.stages["nbgrader autograde (kernel included)"] >= result.execution["seconds"]


def test_a_hand_grade_moves_the_late_penalty_nbgraders_gradebook_subtracts(course, tmp_path):
    """A late student graded by hand after grading: nbgrader's gradebook (its feedback, formgrader,
    `nbgrader export`) subtracts the penalty of the new total, as grades.csv does."""
    import dataclasses
    from datetime import datetime, timezone

    from nbgrader.api import Gradebook

    from autograder.course import deadlines

    due = datetime(2026, 12, 10, 22, 59, tzinfo=timezone.utc)
    settings = dataclasses.replace(course["settings"], deadline=deadlines.Deadline(
        due, policy=deadlines.LatePolicy(percent=10, per="day", max_percent=50)))
    shutil.copyfile(course["template"], tmp_path / "gradebook.db")
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    result = honest(settings)[0]
    result.late = deadlines.record(settings.deadline, result.student, "2026-12-11T02:09:00+00:00", "the exchange")
    score(result, settings)
    gradebook.store(db_url, settings, result)
    give_hand_grades(db_url, settings, [result.student])
    assert hand_grades.apply([result], db_url, settings, score) == [result]
    assert result.late["points_before"] == 12.0 and result.total == pytest.approx(10.8)   # (2 + 3 + 7) - 10 %
    with Gradebook(db_url) as book:
        submission = book.find_submission(settings.assignment, result.student)
        assert submission.score - submission.late_submission_penalty == pytest.approx(result.total)
