"""The gradebooks: a template made from the source notebook, and storing one student's grades.

Workers each grade on a private copy of the template; only the runner (one process) writes the
merged gradebook, one student at a time, so SQLite never sees two writers.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from autograder.course.files import file_sha256
from autograder.course.records import CellGrade, GradeResult
from autograder.grading import submission_times


class TemplateError(RuntimeError):
    """The source notebook could not be turned into a gradebook."""


def source_notebook(settings) -> Path:
    return settings.source_dir / settings.notebook_name


def source_sha256(settings) -> str:
    return file_sha256(source_notebook(settings))


def make_template(settings, scratch: Path) -> Path:
    """A gradebook holding the assignment's notebook and grade cells (nbgrader generate_assignment)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from autograder.preprocessors import nbgrader_setup

    notebook = source_notebook(settings)
    if not notebook.is_file():
        raise TemplateError(f"the source notebook must exist, got no file at {notebook}; "
                            "write it or point LABKIT_CONFIG at the right course")
    root = scratch / "template"
    shutil.rmtree(root, ignore_errors=True)
    (root / "source" / settings.assignment).mkdir(parents=True)
    shutil.copyfile(notebook, root / "source" / settings.assignment / settings.notebook_name)
    c = Config()
    nbgrader_setup.apply(c, settings)
    _same_stubs_as_the_release(c)
    c.CourseDirectory.root = str(root)
    outcome = NbGraderAPI(config=c).generate_assignment(settings.assignment, force=True, create=True)
    if not outcome["success"]:
        raise TemplateError("nbgrader generate_assignment failed on the source notebook:\n"
                            + outcome.get("log", "") + outcome.get("error", ""))
    return root / "gradebook.db"


def _same_stubs_as_the_release(c) -> None:
    """Generate with the preprocessors `labkit release` uses, so the solution stubs' checksums agree."""
    try:
        from autograder.preprocessors.hinted_stubs import configure
    except ImportError:
        return
    configure(c)


TIMESTAMP = submission_times.TIMESTAMP
EXCHANGE_RECORDS = (TIMESTAMP, "submission_secret.txt")   # what nbgrader's exchange keeps with one


def submitted_timestamp(submission):
    """The time in the submission folder's timestamp.txt (what `nbgrader collect` leaves), naive UTC
    as nbgrader keeps it, or None. formgrader counts a submission as graded only when the gradebook
    holds this same time."""
    stamped = submission_times.from_exchange(submission.folder)
    return stamped.replace(tzinfo=None) if stamped else None


def store(db_url: str, settings, result: GradeResult, timestamp=None) -> list[str]:
    """Write one student's cell grades into a gradebook (create or overwrite; never duplicates);
    returns the grade cells the gradebook does not know."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from nbgrader's own queries
        gradebook.update_or_create_student(result.student)
        submission = gradebook.update_or_create_submission(settings.assignment, result.student,
                                                           **({"timestamp": timestamp} if timestamp else {}))
        if settings.deadline is not None:
            _late(gradebook, submission, settings, result)
        for cell in map(CellGrade.from_dict, result.cells):
            try:
                grade = gradebook.find_grade(cell.grade_id, settings.assignment, settings.assignment,
                                             result.student)
            except MissingEntry:  # a gradebook made from another version of the notebook
                missing.append(cell.grade_id)
                continue
            if cell.needs_manual_grade:
                if grade.manual_score is None:  # still waiting for a person, as nbgrader marks it
                    grade.auto_score, grade.needs_manual_grade = None, True
                continue
            grade.auto_score = cell.points
            grade.needs_manual_grade = False
        gradebook.db.commit()
    return missing


def _late(gradebook, submission, settings, result: GradeResult) -> None:
    """The deadline as nbgrader keeps it (due date, the student's extension, the notebook's late
    penalty in points), so that formgrader and `nbgrader export` show the kit's penalty."""
    from datetime import timezone

    deadline = settings.deadline
    submission.assignment.duedate = deadline.due.astimezone(timezone.utc).replace(tzinfo=None)
    due, _ = deadline.due_for(result.student)
    submission.extension = (due - deadline.due) or None
    for notebook in submission.notebooks:
        notebook.late_submission_penalty = float((result.late or {}).get("penalty_points", 0.0))


def store_late(db_url: str, settings, results: list[GradeResult]) -> None:
    """The late penalty of results rescored after they were stored (hand grades given since), so that
    nbgrader's feedback and export subtract the penalty of the new total."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    if settings.deadline is None or not results:
        return
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore")
        for result in results:
            try:
                submission = gradebook.find_submission(settings.assignment, result.student)
            except MissingEntry:
                continue
            _late(gradebook, submission, settings, result)
        gradebook.db.commit()


def stored_totals(db_url: str, settings) -> dict[str, float]:
    """student -> total score in a gradebook (for checks and tests)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return {s.student.id: float(s.score) for s in
                gradebook.find_assignment(settings.assignment).submissions}
