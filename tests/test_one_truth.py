"""One truth: for the same submission, nbgrader, the batch grader and the pytest path give the same
points per activity, and a failing check shows the same message on the pytest path as in nbgrader.

The batch grader (`labkit grade`) runs nbgrader's autograde on each submission; nbgrader's own
score of a grade cell is `nbgrader.utils.determine_grade` on the notebook nbgrader autograded (what
`SaveAutoGrades` writes to the gradebook), before the batch grader applies its verification of the
saved model. The real `nbgrader autograde` command grades the same variants in
tests/test_assignment_grading.py; its table of lost points is checked here against the pytest path."""
from __future__ import annotations

import pytest

import assignment_helpers as helpers
import test_assignment_grading as assignment_grading
from autograder import authoring
from autograder.grading.runner import grade_class
from test_pytest_path import AUTOGRADED, PLAN, SETTINGS, graded_runs

pytestmark = pytest.mark.slow

# Submissions graded by all three (two variants, so that CI stays short); full marks for the solution
# and none for the untouched release are checked on each path by its own tests.
STUDENTS = ("not_frozen", "low_accuracy")


@pytest.fixture(scope="module")
def batch(prepared, tmp_path_factory):
    """The batch grader on the same notebooks the pytest path graded, two jobs at a time."""
    runs = graded_runs()
    submitted = tmp_path_factory.mktemp("submitted")
    for student in STUDENTS:
        target = submitted / student / SETTINGS.assignment / SETTINGS.notebook_name
        target.parent.mkdir(parents=True)
        target.write_bytes(runs[student].notebook.read_bytes())
    report = grade_class(SETTINGS, submitted, out=tmp_path_factory.mktemp("graded"), jobs=2, force=True,
                         verify=True, progress=False)
    return {result.student: result for result in report.results}


def nbgrader_scores(result) -> dict[str, float]:
    """grade_id -> nbgrader's score of each autograded cell in the notebook nbgrader autograded."""
    from nbgrader.utils import determine_grade

    notebook = helpers.read(result.autograded_notebook)
    return {authoring.grade_id(cell): determine_grade(cell)[0] for cell in notebook.cells
            if authoring.is_test_cell(cell)}


def by_activity(scores: dict[str, float]) -> dict[int, float]:
    totals = {activity: 0.0 for activity in AUTOGRADED}
    for grade_id, points in scores.items():
        totals[authoring.activity_of(grade_id)] += float(points or 0.0)
    return totals


@pytest.mark.parametrize("student", STUDENTS)
def test_the_pytest_path_gives_nbgraders_points_per_activity(batch, student):
    result = batch[student]
    assert result.status == "ok", result.message
    nbgrader = by_activity(nbgrader_scores(result))
    assert graded_runs()[student].points_by_activity() == nbgrader


@pytest.mark.parametrize("student", STUDENTS)
def test_the_batch_grader_gives_nbgraders_points_per_activity(batch, student):
    result = batch[student]
    nbgrader = by_activity(nbgrader_scores(result))
    assert {a: result.activity_points(a) for a in AUTOGRADED} == nbgrader


@pytest.mark.parametrize("student", STUDENTS)
def test_the_pytest_path_matches_the_points_real_nbgrader_autograde_gives(student):
    _, lost = assignment_grading.VARIANTS[student]
    expected = {activity: points - lost.get(activity, 0) for activity, points in AUTOGRADED.items()}
    assert graded_runs()[student].points_by_activity() == expected


@pytest.mark.parametrize("student", STUDENTS)
def test_a_failing_check_shows_the_same_message_on_both_paths(batch, student):
    notebook = helpers.read(batch[student].autograded_notebook)
    run = graded_runs()[student]
    compared = 0
    for prop in PLAN.properties:
        if prop.outside_kernel:
            continue
        cell = helpers.cell(notebook, prop.grade_id)
        errors = [o for o in cell.outputs if o.output_type == "error" and o.ename == "CheckFailed"]
        if errors:
            assert run.test(prop.grade_id)["output"] == errors[0].evalue
            compared += 1
    assert compared, f"{student}: no failing check to compare"
