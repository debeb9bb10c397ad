"""The nbgrader settings that follow from course_config.py, shared by nbgrader_config.py and the
kit's own grader so that both grade alike."""
from __future__ import annotations

# stderr output that TensorFlow, absl and Keras write on their own; nbgrader would score a test
# cell 0 for it, so IgnorePattern drops it before scoring.
NOISE_PATTERN = (
    r"(?i)(tensorflow|keras|absl|oneDNN|cuda|xla|tf\.data|"
    r"[IWEF]\d{4} \d\d:\d\d:\d\d|All log messages before absl|UserWarning|DeprecationWarning)"
)


def apply(c, settings) -> None:
    """Fill an nbgrader traitlets config `c` from the course settings."""
    c.CourseDirectory.course_id = settings.course_id
    c.CourseDirectory.root = str(settings.root)
    c.CourseDirectory.db_assignments = [{"name": settings.assignment}]
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                                ".*.partial-*", settings.saved_model_file]
    c.Execute.timeout = settings.cell_timeout
    c.Execute.interrupt_on_timeout = True
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = NOISE_PATTERN
    c.LimitOutput.max_lines = 200
    c.LimitOutput.max_traceback = 60
    from autograder.release import configure  # stubs that raise NotImplementedError with a hint

    configure(c)
