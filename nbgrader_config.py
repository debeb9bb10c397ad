"""nbgrader reads this from the repository root; every value comes from course_config.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from autograder.course import config
from autograder.preprocessors import nbgrader_setup  # noqa: E402

c = get_config()  # noqa: F821  (provided by nbgrader)
nbgrader_setup.apply(c, config.load())
