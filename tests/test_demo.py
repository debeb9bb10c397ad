"""`labkit demo`, the README's main-job command, end to end in a copy of the course: it grades its
simulated class in parallel and leaves grades, feedback pages and the grade plot where it says.
The demo runs once per test session (conftest.py's `demo`), shared with the class page's tests."""
from __future__ import annotations

import csv

import assignment_helpers as helpers
import pytest

pytestmark = pytest.mark.slow


def test_demo_grades_its_class_as_the_notebook_and_the_saved_models_deserve(demo):
    rows, manual = demo["rows"], helpers.SETTINGS.points[13]
    assert sorted(rows) == ["s01_solution", "s02_untouched", "s03_no_plots", "s04_unfrozen_base",
                            "s05_stopped_at_6", "s06_own_words"]
    assert float(rows["s01_solution"]["total"]) == helpers.SETTINGS.total_points - manual
    assert (rows["s01_solution"]["status"], rows["s01_solution"]["verified"]) == ("ok", "verified")
    assert float(rows["s02_untouched"]["total"]) == 0
    assert rows["s04_unfrozen_base"]["verified"] == "failed"          # its saved base has changed
    assert float(rows["s04_unfrozen_base"]["a05"]) < helpers.SETTINGS.points[5]
    for partial in ("s03_no_plots", "s04_unfrozen_base", "s05_stopped_at_6"):
        assert 0 < float(rows[partial]["total"]) < float(rows["s01_solution"]["total"])


def test_demo_says_where_grades_feedback_and_plot_are(demo):
    said, grading = demo["run"].stdout, demo["grading"]
    for line in ("grades:", "feedback:", "plot:"):
        assert line in said
    assert str(grading / "grades.csv") in said and (grading / "grade_distribution.png").stat().st_size > 0
    pages = sorted(grading.glob(f"feedback/*/{helpers.SETTINGS.assignment}/*.html"))
    assert len(pages) == 6 and all("grading-summary" in page.read_text() for page in pages)


def test_demo_shows_activity_13s_suggestions_for_its_class(demo):
    """s01 pastes the posted example, s02 leaves the cell empty, s03 writes a few words, s05 copies
    s06's comment; s04 and s06 quote numbers, whose agreement depends on how the rerun trained."""
    rows, said = demo["rows"], demo["run"].stdout
    assert "Activity 13:" in said and "suggestions only" in said
    assert (rows["s02_untouched"]["a13_suggested"], rows["s02_untouched"]["a13_review"]) == ("0", "clear")
    assert rows["s01_solution"]["a13_suggested"] == "0" and "posted solution" in rows["s01_solution"]["a13_checklist"]
    assert (rows["s03_no_plots"]["a13_suggested"], rows["s03_no_plots"]["a13_review"]) == ("2", "clear")
    assert "near-copy of the comment of s06_own_words" in rows["s05_stopped_at_6"]["a13_checklist"]
    assert float(rows["s06_own_words"]["a13_suggested"]) >= 7
    assert float(rows["s06_own_words"]["total"]) == float(rows["s01_solution"]["total"])  # never counted


def test_a_hand_grade_given_in_the_gradebook_reaches_grades_csv_and_the_feedback(demo):
    """The grader grades activity 13 in formgrader; the next `labkit grade` run (nothing to
    regrade) puts that grade into grades.csv and the student's feedback summary."""
    from nbgrader.api import Gradebook

    from autograder.course import config
    from autograder.grading.runner import grade_class

    grading, student, cell = demo["grading"], "s06_own_words", "a13_comment_answer"
    settings = config.load(grading.parent.parent / "course_config.py")
    with Gradebook(f"sqlite:///{grading / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(cell, settings.assignment, settings.assignment, student)
        grade.manual_score = 7.0
        gradebook.db.commit()
    rerun = grade_class(settings, grading.parent / "submitted", out=grading, jobs=1, progress=False)
    assert rerun.graded == []   # nothing was run again
    with open(grading / "grades.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    before = demo["rows"]
    assert float(rows[student]["a13"]) == 7.0
    assert float(rows[student]["total"]) == float(before[student]["total"]) + 7.0
    assert f"a13 -{settings.points[13] - 7:g} {cell}: graded by hand" in rows[student]["lost"]
    assert rows["s01_solution"]["total"] == before["s01_solution"]["total"]   # no hand grade yet
    page = (grading / "feedback" / student / settings.assignment / f"{settings.assignment}.html").read_text()
    summary = page[page.index('id="grading-summary"'):]
    assert f"Activity 13</td><td>7 / {settings.points[13]:g}" in summary
    assert "graded by hand later" not in summary[:summary.index("</div>")]
    assert f"(Score: {float(rows[student]['total']):.1f} / " in page   # nbgrader's part, made again
