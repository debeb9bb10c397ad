"""Real `nbgrader autograde` on the solution, the untouched release and variants built in code.

One session-scoped fixture grades every submission in ONE autograde run (nbgrader grades each
student folder in turn), in a throw-away copy of the course with a real gradebook; the tests then
read the scores from the gradebook through nbgrader's API."""
from __future__ import annotations

import assignment_helpers as helpers
import pytest

from autograder.course import vocabulary as authoring

pytestmark = pytest.mark.slow

POINTS = helpers.SETTINGS.points
AUTOGRADED = {activity: points for activity, points in POINTS.items() if activity != 13}
HIDDEN_ACCURACY = "a10_hidden_accuracy_hidden"

# Points lost per variant, per activity, with the reason; everything else keeps full marks.
VARIANTS = {
    # Freezing is activity 5's alone (visible and hidden); the regularized model and the hidden-split
    # accuracy do not grade it again (docs/rubric.md).
    "not_frozen": (helpers.variant_not_frozen, {5: 12}),
    # A correct Sequential model around the frozen base, with augmentation, L2 and dropout.
    "sequential_regularized": (helpers.variant_sequential_regularized, {}),
    "no_regularization": (helpers.variant_no_regularization, {9: 12}),
    # one epoch: the history check (3) and the hidden-split accuracy (3) fail; the model still saves.
    "low_accuracy": (helpers.variant_low_accuracy, {10: 6}),
    "report_missing": (helpers.variant_report_missing, {12: 8}),
    "figure_missing": (helpers.variant_figure_missing, {11: 8}),
    "typed_accuracies": (helpers.variant_typed_accuracies, {8: 6}),
}


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory, prepared):
    """A copied course with the solution, the release and every variant autograded at once."""
    course = helpers.copy_course(tmp_path_factory.mktemp("course"))
    helpers.nbgrader(course, "generate_assignment", helpers.SETTINGS.assignment, "--force")
    release = helpers.read(course / "release" / helpers.SETTINGS.assignment / helpers.SETTINGS.notebook_name)
    solved = helpers.solved_release(release)
    helpers.submit(course, "solution", solved)
    helpers.submit(course, "release", release)
    for student, (build, _) in VARIANTS.items():
        helpers.submit(course, student, build(solved))
    completed = helpers.nbgrader(course, "autograde", helpers.SETTINGS.assignment, "--force")
    return course, completed


def autograded_notebook(course, student):
    folder = course / "autograded" / student / helpers.SETTINGS.assignment
    return helpers.read(folder / helpers.SETTINGS.notebook_name)


def test_solution_gets_full_marks_on_every_autograded_cell(graded_course):
    course, _ = graded_course
    scores = helpers.scores_by_activity(course, "solution")
    assert {a: scores.get(a, 0) for a in AUTOGRADED} == AUTOGRADED
    auto_score, max_score, needs_manual = helpers.grades(course, "solution")["a13_comment_answer"]
    assert (max_score, needs_manual) == (POINTS[13], True)  # the written answer waits for a grader


def test_untouched_release_scores_zero_and_the_run_completes(graded_course):
    course, completed = graded_course
    scores = helpers.scores_by_activity(course, "release")
    assert set(scores) == set(POINTS)
    assert all(points == 0 for points in scores.values()), scores
    assert helpers.grades(course, "release")["a13_comment_answer"][2] is False  # unchanged: 0, no grader
    assert (course / "autograded" / "release").is_dir()


@pytest.mark.parametrize("student", sorted(VARIANTS))
def test_variant_loses_exactly_the_expected_points(graded_course, student):
    course, _ = graded_course
    _, lost = VARIANTS[student]
    expected = {activity: points - lost.get(activity, 0) for activity, points in AUTOGRADED.items()}
    scores = helpers.scores_by_activity(course, student)
    assert {a: scores.get(a, 0) for a in AUTOGRADED} == expected


def test_hidden_checks_ran_at_grading(graded_course):
    course, _ = graded_course
    notebook = autograded_notebook(course, "solution")
    hidden = helpers.cell(notebook, HIDDEN_ACCURACY)
    assert "checks.hidden_accuracy()" in hidden.source
    text = "".join(output.get("text", "") for output in hidden.outputs)
    assert "hidden test accuracy" in text
    low = helpers.grades(course, "low_accuracy")[HIDDEN_ACCURACY]
    assert low[0] == 0


@pytest.mark.parametrize("student", ["solution", *sorted(VARIANTS)])
def test_no_test_cell_lost_points_to_stderr(graded_course, student):
    """TensorFlow's warnings cost nothing: a test cell scores 0 only with an error to show for it."""
    course, _ = graded_course
    notebook = autograded_notebook(course, student)
    scores = helpers.grades(course, student)
    for candidate in notebook.cells:
        if not authoring.is_test_cell(candidate):
            continue
        name = authoring.grade_id(candidate)
        stderr = [o for o in candidate.outputs if o.output_type == "stream" and o.name == "stderr"]
        errors = [o for o in candidate.outputs if o.output_type == "error"]
        assert not stderr, f"{student}: {name} kept stderr output {stderr[0].text[:300]!r}"
        if scores[name][0] == 0:
            assert errors, f"{student}: {name} scored 0 without an error"
