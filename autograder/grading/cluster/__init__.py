"""Grading on a Dask cluster: one task per submission, results written by the grader alone."""
