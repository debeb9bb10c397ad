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
    sandboxed_autograde(c, settings)
    from autograder.preprocessors.hinted_stubs import (
        configure,  # stubs that raise NotImplementedError with a hint
    )

    configure(c)


def sandboxed_autograde(c, settings) -> None:
    """`nbgrader autograde` runs the student's notebook in the sandbox (autograder.sandbox), with
    the course's memory limit as a hard limit where the machine allows; other commands keep the
    plain kernel (`nbgrader validate` runs in students' servers, which may have no bubblewrap)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from autograder.preprocessors.sandboxed_execute import SandboxedExecute

    c.Autograde.autograde_preprocessors = [SandboxedExecute if pp is Execute else pp
                                           for pp in Autograde.class_traits()["autograde_preprocessors"].default()]
    c.SandboxedExecute.sandbox = settings.sandbox          # LimitedExecute, its subclass, follows it
    c.SandboxedExecute.sandbox_memory_mb = settings.memory_limit_mb
