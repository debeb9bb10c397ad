"""Old path of `autograder.course.config`, kept for nbgrader_config.py files and scripts that
import `autograder.config`."""
from autograder.course.config import *  # noqa: F401,F403
