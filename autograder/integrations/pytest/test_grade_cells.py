"""One test per graded cell of the assignment; run with `pytest --pyargs autograder.integrations.pytest
--notebook NOTEBOOK` (the options are in autograder/integrations/pytest/plugin.py)."""
import pytest


def test_grade_cell(request, graded_property, graded_submission):
    """The grade cell's checks passed where nbgrader would run them; else their message, verbatim."""
    outcome = graded_submission.outcome(graded_property.grade_id)
    request.node.grading_output = outcome.output.strip()
    if not outcome.passed:
        pytest.fail(outcome.message, pytrace=False)
