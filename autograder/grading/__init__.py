"""The kit's batch grader, built on nbgrader: inputs, limits, worker, verification, gradebook,
feedback, report and runner, one job per module."""
