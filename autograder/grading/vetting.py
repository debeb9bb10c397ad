"""Vet a submitted file before it runs: its size, a readable notebook, the right assignment."""
from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.course.records import BAD_NOTEBOOK, WRONG_ASSIGNMENT

MAX_NOTEBOOK_MB = 64   # a notebook file larger than this is refused before it is parsed


class SubmissionProblem(Exception):
    """The submission cannot be graded; `status` says why."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def check_size(path: Path) -> None:
    """The file must be non-empty and at most MAX_NOTEBOOK_MB."""
    size = path.stat().st_size
    if size == 0:
        raise SubmissionProblem(BAD_NOTEBOOK, "expected a notebook, found an empty file; "
                                "save the notebook in Jupyter (File > Save) and submit again")
    if size > MAX_NOTEBOOK_MB * 2**20:
        raise SubmissionProblem(BAD_NOTEBOOK, (
            f"expected a notebook of at most {MAX_NOTEBOOK_MB} MB, found {size / 2**20:.0f} MB; "
            "clear the outputs (Kernel > Restart Kernel and Clear All Outputs), save and submit again"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The file must be a valid Jupyter notebook."""
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # json, encoding and schema errors all mean the same to a student
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SubmissionProblem(BAD_NOTEBOOK, (
            f"expected a valid Jupyter notebook, found a file that cannot be read ({first[:200]}); "
            "open it in Jupyter, save it and submit again, or start from the released notebook")) from None
    return notebook


def grade_ids(notebook) -> list[str]:
    marks = [cell.metadata.get("nbgrader") for cell in notebook.cells]
    return [meta["grade_id"] for meta in marks if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str)
            and meta["grade_id"]]


def check_assignment(notebook, expected_ids: set[str], assignment: str) -> None:
    """The notebook must carry at least one of the assignment's graded cells."""
    found = set(grade_ids(notebook))
    if found & expected_ids:
        return
    if found:
        raise SubmissionProblem(WRONG_ASSIGNMENT, (
            f"expected the notebook of the assignment '{assignment}', found a notebook whose graded "
            f"cells ({', '.join(sorted(found)[:3])}...) belong to another assignment; submit the right file"))
    raise SubmissionProblem(BAD_NOTEBOOK, (
        f"expected the released notebook of '{assignment}' with its graded cells, found a notebook "
        "without any; work in the released notebook (fetch it again) rather than a copy"))
