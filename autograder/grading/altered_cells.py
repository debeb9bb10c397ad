"""Compare a submission's given cells with the source: edited, retyped, repeated or deleted ones; and
take the grading marks off cells the assignment never gave (planted, or marks damaged past use), in
the grader's private copy, so that they cost nothing but themselves."""
from __future__ import annotations

import copy

from autograder.course.vocabulary import activity_of

MARKS = ("grade", "solution", "locked", "task")   # nbgrader's flags: a cell with one of them is graded


def _where(grade_id) -> str:
    activity = activity_of(grade_id) if isinstance(grade_id, str) else None
    return f"activity {activity}" if activity else "the notebook"


def edited(cell) -> bool:
    """A check or locked cell (not an answer cell) whose content no longer matches the checksum
    nbgrader wrote into it at release; nbgrader restores such cells before grading."""
    from nbgrader.utils import compute_checksum

    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution") or not meta.get("checksum") or not (meta.get("grade") or meta.get("locked")):
        return False
    try:
        return compute_checksum(cell) != meta["checksum"]
    except (KeyError, TypeError, ValueError):  # points or ids made unreadable count as edited
        return True


def cell_notes(notebook, source_cells: dict[str, str], grade_cell_ids: set[str]) -> list[str]:
    """Changes to given cells that nbgrader repairs or scores 0, named for the student."""
    notes, seen = [], set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(grade_id, str) or grade_id not in source_cells:
            continue   # not a cell of the assignment: see given_marks
        where = _where(grade_id)
        if grade_id in seen:
            notes.append(f"{where}: cell '{grade_id}' appears more than once; only one copy was graded")
        seen.add(grade_id)
        expected_type = source_cells.get(grade_id)
        if expected_type and cell.cell_type != expected_type:
            notes.append(f"{where}: cell '{grade_id}' should be a {expected_type} cell, found a "
                         f"{cell.cell_type} cell; it was graded as {expected_type}")
        elif edited(cell):
            notes.append(f"{where}: the given cell '{grade_id}' was edited; it was graded as released "
                         "and the edit was ignored")
    for grade_id in sorted(grade_cell_ids - seen):
        notes.append(f"{_where(grade_id)}: graded cell '{grade_id}' was deleted, so it scores 0; "
                     "do not delete the cells you were given")
    return notes


def released_marks(template_db: str, settings) -> dict[str, dict]:
    """grade_id -> the nbgrader metadata the assignment gave that cell, from the template gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{template_db}") as gradebook:
        notebook = gradebook.find_notebook(settings.assignment, settings.assignment)
        points = {c.name: float(c.max_score) for c in notebook.grade_cells}
        solutions, tasks = {c.name for c in notebook.solution_cells}, {c.name for c in notebook.task_cells}
        marks = {}
        for cell in notebook.source_cells:
            marks[cell.name] = {"grade": cell.name in points, "solution": cell.name in solutions,
                                "locked": bool(cell.locked), "task": cell.name in tasks,
                                "grade_id": cell.name, "schema_version": 3, "checksum": cell.checksum,
                                "cell_type": cell.cell_type}
            if cell.name in points:
                marks[cell.name]["points"] = points[cell.name]
        return marks


def _flags(meta: dict) -> tuple:
    points = meta.get("points") if meta.get("grade") else None
    try:
        points = None if points is None else float(points)
    except (TypeError, ValueError):
        points = "unreadable"
    return tuple(bool(meta.get(flag)) for flag in MARKS) + (points,)


def _as_given(cell, given: dict) -> bool:
    """The cell carries the marks the assignment gave it, in a form nbgrader reads."""
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError
    from nbgrader.nbgraderformat.common import SchemaMismatchError

    meta = cell.metadata["nbgrader"]
    if meta.get("schema_version") != 3 or _flags(meta) != _flags(given):
        return False
    try:
        MetadataValidator().validate_cell(copy.deepcopy(cell))   # what nbgrader's CheckCellMetadata asks
    except (ValidationError, SchemaMismatchError, KeyError, TypeError):
        return False
    return True


def _planted_note(cell, number: int) -> str:
    meta = cell.metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    name = (f"cell '{grade_id}'" if isinstance(grade_id, str) and grade_id else
            f"cell {number} (marked with no grade id)" if isinstance(meta, dict) else
            f"cell {number} (with grading marks the grader cannot read)")
    return (f"{_where(grade_id)}: {name} is not part of the assignment: ignored, it scores nothing; "
            "add no cells marked for grading")


def given_marks(notebook, marks: dict[str, dict]) -> tuple[list[str], bool]:
    """Take the grading marks off every cell the assignment never gave (unknown or missing grade id,
    marks nbgrader cannot read), keep one copy of a repeated cell (the one still as released), and
    give a kept cell whose marks were changed the released ones. Changes `notebook` (the grader's
    copy); returns (notes for the student, whether anything changed). Repeated and edited cells
    are noted by `cell_notes`."""
    notes, copies, changed = [], {}, False
    for number, cell in enumerate(notebook.cells, 1):
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id in marks:
            copies.setdefault(grade_id, []).append(cell)
            continue
        notes.append(_planted_note(cell, number))
        del cell.metadata["nbgrader"]
        changed = True
    for grade_id, cells in copies.items():
        given = marks[grade_id]
        kept = next((c for c in cells if _as_given(c, given) and not edited(c)), None) or next(
            (c for c in cells if _as_given(c, given)), cells[0])
        for cell in cells:
            if cell is not kept:
                del cell.metadata["nbgrader"]
                changed = True
        if not _as_given(kept, given):
            if not edited(kept):
                notes.append(f"{_where(grade_id)}: the grading marks of cell '{grade_id}' were changed; "
                             "it was graded as released")
            kept.metadata["nbgrader"] = copy.deepcopy(given)
            changed = True
    return notes, changed
