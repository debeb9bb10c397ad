"""Old path of `autograder.preprocessors.nbgrader_setup`, kept for nbgrader_config.py files that
import `autograder.nbgrader_setup`."""
from autograder.preprocessors.nbgrader_setup import *  # noqa: F401,F403
