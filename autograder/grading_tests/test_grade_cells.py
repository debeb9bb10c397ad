"""`pytest --pyargs autograder.grading_tests`: the same tests as `autograder.integrations.pytest`."""
from autograder.integrations.pytest.test_grade_cells import test_grade_cell  # noqa: F401
