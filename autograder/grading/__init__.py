"""`labkit grade`: the batch grader on top of nbgrader: submissions, workers, gradebooks, hand
grades, the runner, its bookkeeping, the local workers and the cluster path."""
