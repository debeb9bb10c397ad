"""A repair to one of nbgrader's sanitizing preprocessors, used in its place."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, but a repeated graded cell loses its nbgrader metadata entirely.

    nbgrader 0.9 leaves an empty ``nbgrader`` dict on the repeat, which its own CheckCellMetadata
    then rejects as an outdated schema, failing the whole submission."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times!", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources
