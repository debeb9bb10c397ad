"""Old path of `autograder.integrations.pytest`, kept because course workflows run
`pytest --pyargs autograder.grading_tests --notebook NB`."""
