"""Old path of `autograder.integrations.classroom`, kept because template repositories' workflows
call `python -m autograder.classroom grader-data`."""
from autograder.integrations.classroom import *  # noqa: F401,F403
from autograder.integrations.classroom import main

if __name__ == "__main__":
    raise SystemExit(main())
