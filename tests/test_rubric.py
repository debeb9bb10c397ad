"""The fair rubric, end to end: correct work in other styles earns full automatic points, and one
mistake loses the points of its own activity and no other (docs/rubric.md).

Every submission of tests/rubric_variants.py is graded once, in one `labkit grade` batch."""
from __future__ import annotations

import csv

import assignment_helpers as helpers
import pytest
import rubric_variants as variants

from autograder.grading.runner import grade_class

pytestmark = pytest.mark.slow

SETTINGS = helpers.SETTINGS
AUTOGRADED = {activity: points for activity, points in SETTINGS.points.items() if activity != 13}


@pytest.fixture(scope="module")
def batch(prepared, tmp_path_factory):
    solved = helpers.solved_release(helpers.read(helpers.RELEASE_NOTEBOOK))
    builds = {name: build for name, (_, build) in variants.ACCEPTED.items()}
    builds.update({name: build for name, (_, build, _) in variants.WRONG.items()})
    submitted = tmp_path_factory.mktemp("submitted")
    for name, build in builds.items():
        target = submitted / name / SETTINGS.assignment / SETTINGS.notebook_name
        target.parent.mkdir(parents=True)
        helpers.authoring.write(build(solved), target)
    report = grade_class(SETTINGS, submitted, out=tmp_path_factory.mktemp("graded"), jobs=2, force=True,
                         verify=True, progress=False)
    return report


def results(batch) -> dict:
    return {result.student: result for result in batch.results}


def points(result) -> dict[int, float]:
    return {activity: result.activity_points(activity) for activity in AUTOGRADED}


def explain(result) -> str:
    lost = [f"{c['grade_id']}: {c['error']}" for c in result.cells
            if c["points"] < c["max_points"] and not c.get("needs_manual_grade")]
    return "\n".join([result.message, *lost, *result.notes])


@pytest.mark.parametrize("name", sorted(variants.ACCEPTED))
def test_an_accepted_style_earns_full_automatic_points(batch, name):
    result = results(batch)[name]
    assert result.status == "ok", result.message
    assert points(result) == AUTOGRADED, f"{variants.ACCEPTED[name][0]}:\n{explain(result)}"


@pytest.mark.parametrize("name", sorted(variants.WRONG))
def test_a_mistake_loses_the_points_of_its_own_activity_only(batch, name):
    mistake, _, lost = variants.WRONG[name]
    result = results(batch)[name]
    assert result.status == "ok", result.message
    expected = {activity: full - lost.get(activity, 0) for activity, full in AUTOGRADED.items()}
    assert points(result) == expected, f"{mistake}:\n{explain(result)}"


def test_grades_csv_names_the_activity_and_the_check_for_every_lost_point(batch):
    with open(batch.csv) as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    for name, (_, _, lost) in variants.WRONG.items():
        entries = [entry for entry in rows[name]["lost"].split(" | ") if entry]
        named = {}
        for entry in entries:
            activity, minus, grade_id = entry.split(":")[0].split(" ")
            assert grade_id.startswith(activity) and minus.startswith("-"), entry
            named[int(activity[1:])] = named.get(int(activity[1:]), 0) + float(minus[1:])
        assert named == lost, (name, rows[name]["lost"])
    assert all(rows[name]["lost"] == "" for name in variants.ACCEPTED)


def test_the_feedback_says_where_the_points_for_a_mistake_went(batch):
    by_name = results(batch)
    unfrozen = helpers.read(by_name["not_frozen"].autograded_notebook)
    verdict = "".join(o.get("text", "") for o in helpers.cell(unfrozen, "a09_regularized_visible").outputs)
    assert "counts in activity 5" in verdict
    page = open(by_name["not_frozen"].feedback_html).read()
    assert "a05_transfer_model_visible" in page and "counts in activity 5" in page
    no_validation = helpers.read(by_name["regularized_without_validation"].autograded_notebook)
    curves = "".join(o.get("text", "") for o in helpers.cell(no_validation, "a11_curves_visible").outputs)
    assert "activity 10" in curves


def test_early_stopping_really_stopped_early(batch):
    # otherwise the accepted style would not test a shorter history
    notebook = helpers.read(results(batch)["early_stopping"].autograded_notebook)
    verdict = "".join(o.get("text", "") for o in helpers.cell(notebook, "a07_fit_visible").outputs)
    assert "stopped early by a callback" in verdict
