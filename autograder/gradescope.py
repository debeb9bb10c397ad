"""Old path of `autograder.integrations.gradescope`, kept because uploaded autograder zips call
`python -m autograder.gradescope run`."""
from autograder.integrations.gradescope import *  # noqa: F401,F403
from autograder.integrations.gradescope import main

if __name__ == "__main__":
    raise SystemExit(main())
