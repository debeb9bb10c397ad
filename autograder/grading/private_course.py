"""nbgrader's course for one submission: a private folder, and the configuration that grades in it."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from autograder.course.records import Submission
from autograder.grading.task import Task
from autograder.preprocessors import nbgrader_setup


def lay_out_course(task: Task, settings, submission: Submission, notebook=None) -> Path:
    """A course folder of our own: source (linked), gradebook (copied), the one submission (copied;
    `notebook`: the grader's own version of it, written instead)."""
    root = Path(task.work_dir)
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    os.symlink(settings.source_dir, root / "source" / settings.assignment)
    shutil.copyfile(task.template_db, root / "gradebook.db")
    target = root / "submitted" / submission.student / settings.assignment
    if submission.folder:
        shutil.copytree(submission.folder, target, symlinks=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    target.mkdir(parents=True, exist_ok=True)
    if notebook is None:
        shutil.copyfile(submission.notebook, target / settings.notebook_name)
    else:
        import nbformat

        nbformat.write(notebook, target / settings.notebook_name)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o600 | (0o100 if path.is_dir() else 0))
    return root


def nbgrader_config(settings, root: Path, report_path: Path, defer_verification: bool = False,
                    capture: dict | None = None, capture_store: Path | None = None):
    """nbgrader's configuration for the private course: the course's own, plus the limits."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds, Execute
    from traitlets.config import Config

    from autograder.preprocessors.limited_execute import LimitedExecute
    from autograder.preprocessors.sanitize import DropDuplicateIds

    c = Config()
    nbgrader_setup.apply(c, settings)
    c.CourseDirectory.root = str(root)
    c.NbGraderAPI.log_level = "INFO"
    traits = Autograde.class_traits()
    c.Autograde.sanitize_preprocessors = [DropDuplicateIds if pp is DeduplicateIds else pp
                                          for pp in traits["sanitize_preprocessors"].default()]
    c.Autograde.autograde_preprocessors = [LimitedExecute if pp is Execute else pp
                                           for pp in traits["autograde_preprocessors"].default()]
    c.LimitedExecute.notebook_timeout = settings.notebook_timeout
    c.LimitedExecute.memory_limit_mb = settings.memory_limit_mb
    c.LimitedExecute.disk_limit_mb = settings.disk_limit_mb
    c.LimitedExecute.output_limit_kb = settings.output_limit_kb
    c.LimitedExecute.report_path = str(report_path)
    # when the kit verifies saved models itself, that verification decides the hidden-split cells
    # (model_verdict.apply), so neither the kernel nor the grader runs their check again
    c.LimitedExecute.defer_hidden_split = defer_verification
    c.LimitedExecute.capture = capture or {}
    c.LimitedExecute.capture_store = str(capture_store or "")
    c.LimitedExecute.judge_outside = bool(capture)   # the judge decides those cells: not run twice
    return c
