"""One truth: for the same submission, nbgrader, the batch grader and the pytest path give the same
points per activity, and a failing check shows the same message on the pytest path as in nbgrader.

The real `nbgrader autograde` command grades the same variants in tests/test_assignment_grading.py
against a real gradebook; its table of lost points is the reference here. The batch grader
(`labkit grade`) runs nbgrader's autograde too, but decides the hidden-split check from its own
fresh-process verification, so its final points are compared, not nbgrader's raw cell scores."""
from __future__ import annotations

import assignment_helpers as helpers
import pytest
import test_assignment_grading as assignment_grading
from test_pytest_path import AUTOGRADED, PLAN, SETTINGS, graded_runs

from autograder.grading.runner import grade_class

pytestmark = pytest.mark.slow

# Submissions graded by all three (few variants, so that CI stays short); full marks for the solution
# and none for the untouched release are checked on each path by its own tests. The first two are
# the fair rubric's cases: one mistake charged once, and correct work in another style.
STUDENTS = ("not_frozen", "sequential_regularized", "low_accuracy")


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


def nbgrader_points(student: str) -> dict[int, float]:
    """Points per activity that real `nbgrader autograde` gives the variant (its table of lost points
    in tests/test_assignment_grading.py, checked there against a real gradebook)."""
    _, lost = assignment_grading.VARIANTS[student]
    return {activity: points - lost.get(activity, 0) for activity, points in AUTOGRADED.items()}


@pytest.mark.parametrize("student", STUDENTS)
def test_the_batch_grader_gives_nbgraders_points_per_activity(batch, student):
    result = batch[student]
    assert result.status == "ok", result.message
    assert {a: result.activity_points(a) for a in AUTOGRADED} == nbgrader_points(student)


@pytest.mark.parametrize("student", STUDENTS)
def test_the_pytest_path_gives_the_batch_graders_points_per_activity(batch, student):
    result = batch[student]
    assert graded_runs()[student].points_by_activity() == {a: result.activity_points(a) for a in AUTOGRADED}


@pytest.mark.parametrize("student", STUDENTS)
def test_the_pytest_path_matches_the_points_real_nbgrader_autograde_gives(student):
    assert graded_runs()[student].points_by_activity() == nbgrader_points(student)


@pytest.mark.parametrize("student", [s for s in STUDENTS if nbgrader_points(s) != AUTOGRADED])
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
