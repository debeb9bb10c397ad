"""`labkit grade`: the batch grader on top of nbgrader: submissions, workers, gradebooks, hand
grades, the runner and the cluster path."""
