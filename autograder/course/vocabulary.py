"""Pure-python helpers over the source notebook: find the cells of an activity, and keep the grade
cells' points in step with POINTS in course_config.py (`labkit sync-points`).

Every nbgrader cell of the notebook has a grade_id that starts with "aNN_", NN being the activity
(00 for the set-up cells, 14 for the hand-in cell); the batch grader relies on that prefix to give
points per activity."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import nbformat

# A grade id names its activity in its first four characters ("a05_..."); the source notebook's own
# ids also keep to lower-case words after it (`naming_problems`).
ACTIVITY_PREFIX = re.compile(r"^a(\d\d)_")
GRADE_ID = re.compile(r"^a(\d\d)_[a-z0-9_]+$")
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
HINT_PREFIX = "# Hint:"
RUBRIC_HEADING = "**Rubric for the grader"


def read(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def write(notebook: nbformat.NotebookNode, path: str | Path) -> None:
    """Write a notebook the way nbformat does (stable, so that diffs stay small)."""
    nbformat.write(notebook, str(path))


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata ({} if it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def activity_of(cell_or_grade_id) -> int | None:
    """Activity number from a grade_id "aNN_..." (or a cell); None if it does not start so."""
    name = cell_or_grade_id if isinstance(cell_or_grade_id, str) or cell_or_grade_id is None \
        else grade_id(cell_or_grade_id)
    match = ACTIVITY_PREFIX.match(name or "")
    return int(match.group(1)) if match else None


ACTIVITY_TITLES = {
    1: "import TensorFlow and Keras",
    2: "load the dataset",
    3: "show random images of every class",
    4: "select the pretrained base",
    5: "build the transfer model",
    6: "summary and architecture diagram",
    7: "compile and fit",
    8: "training and validation accuracy",
    9: "regularized model",
    10: "fit the regularized model",
    11: "plot loss and accuracy",
    12: "classification report",
    13: "comment on the output",
    14: "hand-in",
}
HAND_IN = 14  # the saved model is not one of the 13 activities; it is reported as "hand-in"


def activity_label(activity: int) -> str:
    title = ACTIVITY_TITLES.get(activity, "check")
    return f"Hand-in ({title})" if activity == HAND_IN else f"Activity {activity} ({title})"



def is_grade_cell(cell) -> bool:
    """A cell that nbgrader scores: a test cell or a manually graded answer."""
    return bool(nbgrader_meta(cell).get("grade"))


def is_test_cell(cell) -> bool:
    """An autograder test cell (graded code, not an answer)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def is_hidden_test(cell) -> bool:
    return is_test_cell(cell) and HIDDEN_BEGIN in cell.source


def cells_of_activity(notebook, activity: int) -> list:
    """All nbgrader cells of one activity, in notebook order."""
    return [cell for cell in notebook.cells if activity_of(cell) == activity]


def grade_cells(notebook) -> list:
    return [cell for cell in notebook.cells if is_grade_cell(cell)]


def points_by_activity(notebook) -> dict[int, float]:
    """Sum of the grade cells' points per activity."""
    totals: dict[int, float] = {}
    for cell in grade_cells(notebook):
        activity = activity_of(cell)
        totals[activity] = totals.get(activity, 0.0) + float(nbgrader_meta(cell)["points"])
    return totals


def naming_problems(notebook) -> list[str]:
    """Every way the notebook breaks the "aNN_" grade_id convention (empty list: none)."""
    problems, seen = [], set()
    for index, cell in enumerate(notebook.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            problems.append(f"cell {index} has no nbgrader metadata")
            continue
        name = meta.get("grade_id")
        if not GRADE_ID.match(name or ""):
            problems.append(f"cell {index}: grade_id {name!r} must look like 'aNN_words'")
        elif name in seen:
            problems.append(f"cell {index}: grade_id {name!r} is used twice")
        elif is_grade_cell(cell) and not 1 <= activity_of(name) <= 13:
            problems.append(f"cell {index}: grade cell {name!r} must belong to an activity 01..13")
        seen.add(name)
    return problems


def _share(total: float, weights: list[float]) -> list[float]:
    """Split `total` in proportion to `weights` (equal parts if they are all 0), summing exactly."""
    weights = [Fraction(w).limit_denominator(1000) for w in weights]
    if sum(weights) == 0:
        weights = [Fraction(1)] * len(weights)
    total = Fraction(total).limit_denominator(1000)
    exact = [total * w / sum(weights) for w in weights]
    shares = [round(float(x), 2) for x in exact[:-1]]
    shares.append(round(float(total) - sum(shares), 2))
    return [int(s) if float(s).is_integer() else s for s in shares]


def sync_points(notebook, points: dict[int, float]) -> list[str]:
    """Rewrite the grade cells' points so that each activity's cells add up to points[activity];
    cells of one activity keep their proportions. Returns a line per changed cell."""
    changes = []
    for activity, total in sorted(points.items()):
        cells = [cell for cell in cells_of_activity(notebook, activity) if is_grade_cell(cell)]
        if not cells:
            if total:
                raise ValueError(f"activity {activity} has {total} points in course_config.py but no "
                                 f"grade cell (grade_id 'a{activity:02d}_...') in the notebook")
            continue
        old = [float(nbgrader_meta(cell).get("points", 0)) for cell in cells]
        for cell, before, after in zip(cells, old, _share(total, old)):
            if before != after:
                changes.append(f"{grade_id(cell)}: {before:g} -> {after:g}")
            nbgrader_meta(cell)["points"] = after
    return changes


def sync_points_file(path: str | Path, points: dict[int, float], write_back: bool = True) -> list[str]:
    """`sync_points` on a notebook file; the file is rewritten only if something changed."""
    notebook = read(path)
    changes = sync_points(notebook, points)
    if changes and write_back:
        write(notebook, path)
    return changes


def sync_points_and_say(settings, check: bool) -> bool:
    """`labkit sync-points [--check]`: the source notebook's points from POINTS, each change printed;
    with `check`, only say whether they agree (True when they do)."""
    path = settings.source_dir / settings.notebook_name
    changes = sync_points_file(path, settings.points, write_back=not check)
    for line in changes:
        print(f"sync-points: {line}")
    if check:
        print("sync-points: notebook and course_config.py " + ("differ" if changes else "agree"))
        return not changes
    print(f"sync-points: {len(changes)} grade cell(s) updated in {path.name}")
    return True
