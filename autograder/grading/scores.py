"""A submission's cell grades: read from the gradebook with their errors, bounded, summed, or zeroed."""
from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.course.records import CellGrade, GradeResult
from autograder.course.vocabulary import activity_of


def read_grades(db_url: str, settings, student: str) -> list[CellGrade]:
    """Every grade cell's score from the private gradebook, in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(settings.assignment, settings.assignment, student)
        order = {cell.name: i for i, cell in enumerate(notebook.notebook.source_cells)}
        grades = sorted(notebook.grades, key=lambda g: order.get(g.name, 0))
        return [CellGrade(grade_id=g.name, activity=activity_of(g.name), points=float(g.score or 0.0),
                          max_points=float(g.max_score), passed=float(g.score or 0.0) >= float(g.max_score),
                          needs_manual_grade=bool(g.needs_manual_grade)) for g in grades]


def template_cells(db_path: str, settings) -> tuple[dict[str, str], dict[str, float]]:
    """The assignment's source cells (grade_id -> cell type) and its grade cells (grade_id -> the
    points the assignment gives it)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db_path}") as gradebook:
        notebook = gradebook.find_notebook(settings.assignment, settings.assignment)
        return ({c.name: c.cell_type for c in notebook.source_cells},
                {c.name: float(c.max_score) for c in notebook.grade_cells})


def out_of_bounds(result: GradeResult, maxima: dict[str, float]) -> str:
    """Why the result's points cannot be a grade (a cell above its points, a cell the assignment does
    not have, a total above the maximum), else ''."""
    for cell in map(CellGrade.from_dict, result.cells):
        allowed = maxima.get(cell.grade_id)
        if allowed is None:
            return f"points recorded for '{cell.grade_id}', which is not a grade cell of the assignment"
        if not (0.0 <= cell.points <= allowed + 1e-9) or abs(cell.max_points - allowed) > 1e-9:
            return f"'{cell.grade_id}' has {cell.points:g} of {cell.max_points:g} points; the assignment gives {allowed:g}"
    if result.total > sum(maxima.values()) + 1e-9:
        return f"a total of {result.total:g} above the maximum {sum(maxima.values()):g}"
    return ""


def first_line(text: str) -> str:
    import re
    text = re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()
    return text.splitlines()[-1][:300] if text else ""


def cell_error(cell) -> str:
    """The first error (or stderr) line of a code cell's outputs, else ''."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return first_line(f"{output.ename}: {output.evalue}")
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + first_line(output.text)
    return ""


def attach_errors(cells: list[CellGrade], autograded: Path) -> None:
    """Copy each failed grade cell's error line from the autograded notebook; when a check failed
    only because the activity's answer cell failed first, show the answer cell's error (its hint)."""
    notebook = nbformat.read(autograded, as_version=4)
    by_id, answer_errors = {}, {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        by_id[meta.get("grade_id")] = cell
        if meta.get("solution") and cell.cell_type == "code" and cell_error(cell):
            answer_errors.setdefault(activity_of(meta.get("grade_id")), cell_error(cell))
    for grade in cells:
        cell = by_id.get(grade.grade_id)
        if cell is None or grade.passed or cell.cell_type != "code":
            continue
        grade.error = cell_error(cell)
        if grade.error.startswith("NameError") and grade.activity in answer_errors:
            grade.error = f"the answer cell failed first: {answer_errors[grade.activity]}"


def score(result: GradeResult, settings) -> None:
    """Points per activity, total, percent and letter from the cell grades."""
    points = {str(a): 0.0 for a in settings.points}
    maxima = {str(a): 0.0 for a in settings.points}
    for cell in map(CellGrade.from_dict, result.cells):
        key = str(cell.activity) if cell.activity else "other"
        points[key] = points.get(key, 0.0) + cell.points
        maxima[key] = maxima.get(key, 0.0) + cell.max_points
    result.points, result.max_points = points, maxima
    result.total = round(sum(points.values()), 4)
    late = result.late
    if late:   # the deadline's penalty, on the total (course.deadlines)
        late["points_before"] = result.total
        result.total = 0.0 if late.get("zero") else round(result.total * (1 - late["penalty_percent"] / 100), 4)
        late["penalty_points"] = round(late["points_before"] - result.total, 4)
    result.max_total = round(sum(maxima.values()), 4) or float(settings.total_points)
    result.percent = round(100.0 * result.total / result.max_total, 2)
    result.letter = settings.letter_for(result.percent)


def zero_cells(result: GradeResult, template_db: str, settings) -> None:
    """For a submission that was not run: every grade cell at 0 of its points."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{template_db}") as gradebook:
        notebook = gradebook.find_notebook(settings.assignment, settings.assignment)
        result.cells = [CellGrade(c.name, activity_of(c.name), 0.0, float(c.max_score), False,
                                  error="not graded").to_dict() for c in notebook.grade_cells]
