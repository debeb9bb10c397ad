"""Compare a submission's given cells with the source: edited, retyped, repeated or deleted ones."""
from __future__ import annotations

from autograder.course.vocabulary import activity_of


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
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not grade_id:
            continue
        where = f"activity {activity_of(grade_id)}" if activity_of(grade_id) else "the notebook"
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
        where = f"activity {activity_of(grade_id)}" if activity_of(grade_id) else "the notebook"
        notes.append(f"{where}: graded cell '{grade_id}' was deleted, so it scores 0; "
                     "do not delete the cells you were given")
    return notes
