"""What a batch leaves once every student is graded, each file written once with its final content:
the feedback pages of students graded by hand since their page was made, grades.csv (activity 13's
suggestions in its last columns), activity 13's comments in the gradebook, the grade picture and
the class page (class_page.py)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.comments import publish as comments
from autograder.course.fences import Stage, per_student
from autograder.course.records import GradeResult
from autograder.reporting import class_page, class_results, feedback

PAGE = Stage("the feedback page with the grades given by hand",
             instead="the feedback page from before those grades is kept")


@dataclass
class ClassOutputs:
    csv: Path
    plot: Path
    page: Path | None = None
    gradebook_problems: list[str] = field(default_factory=list)
    page_problem: str = ""      # why the class page could not be written (never a failed batch)


def pages_with_hand_grades(results: list[GradeResult], settings, out: Path, scratch: Path,
                           submitted: dict[str, str]) -> None:
    """Each student's page made again with the grades a person gave in formgrader: nbgrader's part
    comes from the gradebook that now holds them, generated in `scratch` so that the page the
    student gets is written once, summary on top; `submitted`: student -> submitted notebook."""
    pages = scratch / "nbgrader-feedback"
    for result in results:
        per_student(PAGE, result, page_with_hand_grades, result, settings, out, pages, submitted.get(result.student))
    shutil.rmtree(pages, ignore_errors=True)


def page_with_hand_grades(result: GradeResult, settings, out: Path, pages: Path, submitted: str | None) -> None:
    page = feedback.nbgrader_feedback(settings, out, result.student, folder=pages)
    feedback.write(result, settings, out, page, submitted=submitted)


def gradebook_comments(db_url: str, settings, results: list[GradeResult], assessments: dict) -> list[str]:
    """Activity 13's suggestions as the gradebook's comments; problems, never a failed batch."""
    try:
        return comments.write_gradebook(db_url, settings, results, assessments)
    except Exception as error:  # e.g. a course gradebook nbgrader cannot open
        return [f"{type(error).__name__}: {error}"]


def write(results: list[GradeResult], settings, out: Path, db_url: str, hand_graded: list[GradeResult],
          scratch: Path, submitted: dict[str, str]) -> ClassOutputs:
    """The class's outputs in `out`. All that a student's row holds is known before grades.csv is
    written: the hand grades (already in `results`; `hand_graded`: the results they changed) and
    activity 13's pre-assessments."""
    assessments = comments.review_class(results, settings)
    # pages first: their nbgrader part shows the gradebook's comments as the last run left them
    pages_with_hand_grades(hand_graded, settings, out, scratch, submitted)
    problems = gradebook_comments(db_url, settings, results, assessments)
    plot = class_results.plot(results, settings, out / "grade_distribution.png")
    # then: a step that failed for a student is named in the student's row (course.fences)
    csv = class_results.write_csv(results, settings, out / "grades.csv", assessments)
    outputs = ClassOutputs(csv=csv, plot=plot, gradebook_problems=problems)
    try:
        outputs.page = class_page.write(results, settings, out, assessments)
    except Exception as error:  # the grades are written: a page that fails says so and stops nothing
        outputs.page_problem = f"{type(error).__name__}: {error}"
    return outputs
