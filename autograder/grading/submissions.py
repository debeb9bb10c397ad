"""Find each student's submission in one of the accepted layouts.

- nbgrader's layout: ``<root>/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect``
  makes under ``submitted/``; ``<root>`` may also be the course folder holding ``submitted/``);
- a folder of loose notebooks, one per student, named ``<student>.ipynb``;
- a zip file of either.
Nothing here opens a notebook: reading and checking them is the worker's job, so a huge or corrupt
file can only ever affect its own student.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from datetime import timezone
from pathlib import Path

from autograder.course.records import MISSING_NOTEBOOK, WRONG_ASSIGNMENT, Submission
from autograder.grading import submission_times

_SKIP = re.compile(r"^(\.|__MACOSX$|.*\.ipynb_checkpoints$)")


class InputError(ValueError):
    """The submissions path is not one of the accepted layouts."""


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not _SKIP.match(p.name))


def unpack_zip(archive: Path, into: Path) -> Path:
    """Extract `archive` into `into` (refusing paths that leave it) and return the folder to read."""
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = (into / member.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise InputError(f"{archive} must hold relative paths only, got {member.filename!r} instead.")
        bundle.extractall(into)
    entries = _visible(into)
    # a zip of one folder (e.g. "submitted/") is read as that folder
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def _is_nbgrader_layout(root: Path) -> bool:
    """Student folders and no loose notebooks: nbgrader's layout (even if some folders are empty)."""
    entries = _visible(root)
    has_notebooks = any(p.is_file() and p.suffix == ".ipynb" for p in entries)
    return not has_notebooks and any(p.is_dir() for p in entries)


def _from_nbgrader_layout(root: Path, assignment: str, notebook_name: str) -> list[Submission]:
    submissions = []
    for student_dir in _visible(root):
        if not student_dir.is_dir():
            continue
        student = student_dir.name
        folder = student_dir / assignment
        if not folder.is_dir():
            others = [p.name for p in _visible(student_dir) if p.is_dir()]
            if others:
                submissions.append(Submission(student, problem=WRONG_ASSIGNMENT, message=(
                    f"expected a folder named '{assignment}', found {', '.join(others)} instead; "
                    f"submit the notebook of the assignment '{assignment}'")))
            else:
                submissions.append(Submission(student, problem=MISSING_NOTEBOOK, message=(
                    f"expected a folder '{assignment}' with {notebook_name}, found nothing")))
            continue
        notebook = folder / notebook_name
        if not notebook.is_file():
            found = [p.name for p in folder.glob("*.ipynb")]
            submissions.append(Submission(student, folder=str(folder), problem=MISSING_NOTEBOOK, message=(
                f"expected {notebook_name} in the submission, found "
                f"{', '.join(found) if found else 'no notebook'} instead; keep the released file name")))
            continue
        submissions.append(Submission(student, notebook=str(notebook), folder=str(folder)))
    return submissions


def _from_loose_notebooks(root: Path) -> list[Submission]:
    return [Submission(path.stem, notebook=str(path)) for path in _visible(root)
            if path.is_file() and path.suffix == ".ipynb"]


def discover(path: str | Path, assignment: str, notebook_name: str, scratch: Path,
             zone=timezone.utc) -> list[Submission]:
    """Every student's submission under `path` (a folder or a zip), sorted by student id, with the
    time it was handed in (`zone`: the one a zip's times are read in)."""
    path = Path(path)
    recorded = {}
    if not path.exists():
        raise InputError(f"SUBMISSIONS must be an existing folder or zip file, got {str(path)!r} instead.")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise InputError(f"SUBMISSIONS must be a folder or a .zip file, got the file {str(path)!r} instead.")
        unpacked = scratch / "unzipped"
        shutil.rmtree(unpacked, ignore_errors=True)
        archive, path = path, unpack_zip(path, unpacked)
        recorded = submission_times.zip_times(archive, unpacked, zone)
    if (path / "submitted").is_dir():
        path = path / "submitted"
    if _is_nbgrader_layout(path):
        submissions = _from_nbgrader_layout(path, assignment, notebook_name)
    else:
        submissions = _from_loose_notebooks(path)
    if not submissions:
        raise InputError(
            f"SUBMISSIONS must hold <student>/{assignment}/{notebook_name} folders or <student>.ipynb "
            f"files, found neither in {str(path)!r}.")
    for submission in submissions:
        moment, submission.time_source = submission_times.when(submission, recorded)
        submission.submitted_at = moment.isoformat() if moment else ""
    return sorted(submissions, key=lambda s: s.student)
