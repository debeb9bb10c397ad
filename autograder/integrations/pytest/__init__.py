"""Grade one submitted notebook with pytest: `pytest --pyargs autograder.integrations.pytest --notebook NB`.

The notebook runs once, under the batch grader's time and memory limits, with each grade cell of the
source notebook evaluated where nbgrader evaluates it; then one test per grade cell reports its
outcome, carrying the cell's points in a `points` marker. See `plugin` for the options."""
