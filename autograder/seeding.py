"""Old path of `autograder.course.seeding`, kept because released notebooks import it."""
from autograder.course.seeding import *  # noqa: F401,F403
