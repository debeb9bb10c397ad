"""Hand grades (activity 13, given in formgrader) into the kit's results: grades.csv and the
feedback pages show them once a person has graded, on the next `labkit grade` run."""
from __future__ import annotations

from autograder.course.fences import Stage, per_student
from autograder.course.records import CellGrade, GradeResult
from autograder.grading import gradebook

HAND_GRADES = Stage("the grades given by hand in formgrader", 13,
                    "grades.csv and the feedback show the grade from before them")
LATE_PENALTY = Stage("the late penalty of the hand-graded totals into nbgrader's gradebook", 13,
                     "nbgrader's own feedback and export subtract the penalty of the total before the hand grades")


def hand_grades(db_url: str, settings, students: list[str]) -> dict[str, dict[str, float]]:
    """student -> {grade cell: manual score} for every grade a person has given in the gradebook."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    found: dict[str, dict[str, float]] = {}
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from nbgrader's own queries
        for student in students:
            try:
                notebook = gradebook.find_submission_notebook(settings.assignment, settings.assignment, student)
            except MissingEntry:
                continue
            scores = {grade.name: float(grade.manual_score) for grade in notebook.grades
                      if grade.manual_score is not None}
            if scores:
                found[student] = scores
    return found


def apply_one(result: GradeResult, scores: dict[str, float], settings, score) -> bool:
    """The hand grades `scores` (grade cell -> points) into one result, rescored; True if it changed.
    Worked out on a copy, so that a failure leaves the result as it was."""
    cells = [CellGrade.from_dict(c) for c in result.cells]
    touched = False
    for cell in cells:
        if cell.needs_manual_grade and cell.grade_id in scores:
            cell.points = min(scores[cell.grade_id], cell.max_points)
            cell.needs_manual_grade, cell.passed = False, cell.points >= cell.max_points
            cell.error = "" if cell.passed else "graded by hand"
            touched = True
    if not touched:
        return False
    updated = GradeResult.from_dict({**result.to_dict(), "cells": [c.to_dict() for c in cells]})
    score(updated, settings)
    vars(result).update(vars(updated))
    return True


def apply(results: list[GradeResult], db_url: str, settings, score) -> list[GradeResult]:
    """Give each cell waiting for a hand grade the score a person gave it; rescore with `score`
    (scores.score). Returns the results that changed."""
    given = hand_grades(db_url, settings, [r.student for r in results])
    changed = [r for r in results if r.student in given
               and per_student(HAND_GRADES, r, apply_one, r, given[r.student], settings, score, fallback=False)]
    # the penalty of the new totals, for nbgrader's own feedback and export; failing leaves the old one there
    for result in changed:
        per_student(LATE_PENALTY, result, gradebook.store_late, db_url, settings, [result])
    return changed

