"""Where the grader looks: the class's pre-assessments as the values of grades.csv's activity-13
columns (the reporting room writes the file, once, with every other column) and as the comment on
each student's activity-13 grade in the gradebook (formgrader shows it next to the answer; the
feedback page shows it once the grader has graded the cell and generated feedback)."""
from __future__ import annotations

import re

from autograder.comments import assess as assessing
from autograder.comments import copies, rubric, text
from autograder.comments.facts import usable
from autograder.course.fences import Stage, per_student

COLUMNS = ("a13_suggested", "a13_review", "a13_checklist")
HEADER = "Activity 13, checked against your own results (a suggestion for the grader, who sets the points)"
REVIEW = Stage("the suggestion for the written comment", text.ACTIVITY,
               "the comment has no suggestion, and the grader reads it before grading it")
COPIES = Stage("the search for near-copies among the class's comments", text.ACTIVITY,
               "the comments were not compared with each other")
GRADEBOOK_COMMENT = Stage("the suggestion as the comment on the answer in the gradebook", text.ACTIVITY,
                          "formgrader shows no suggestion next to the answer")


def reference_texts(settings) -> dict[str, str]:
    """The posted solution's example answer and the activity's own text, from the source notebook."""
    import nbformat

    from autograder.course.vocabulary import (
        RUBRIC_HEADING,
        SOLUTION_BEGIN,
        SOLUTION_END,
        activity_of,
    )

    path = settings.source_dir / settings.notebook_name
    if not path.is_file():
        return {}
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if activity_of(meta.get("grade_id")) != text.ACTIVITY or cell.cell_type != "markdown":
            continue
        if meta.get("solution"):
            answer = cell.source.split(RUBRIC_HEADING)[0].replace(SOLUTION_BEGIN, "").replace(SOLUTION_END, "")
            found[assessing.SOLUTION] = text.clean(re.sub(r"\*\*Example answer\.\*\*", "", answer))
        else:
            found[assessing.PROMPT] = text.clean(cell.source)
    return found


def cell_points(result, settings) -> float:
    """The activity-13 answer cell's points (the suggestion is on the same scale)."""
    grade_id = (result.comment or {}).get("grade_id")
    for cell in result.cells:
        if cell.get("grade_id") == grade_id:
            return float(cell.get("max_points") or 0) or float(settings.points.get(text.ACTIVITY, 10))
    return float(settings.points.get(text.ACTIVITY, rubric.RUBRIC_POINTS))


def comment_of(result) -> tuple[str, dict]:
    """(text, usable facts) of a result's comment; raises for a comment that is not text."""
    comment = result.comment.get("text", "")
    if not isinstance(comment, str):
        raise TypeError(f"the comment must be text, got {type(comment).__name__}")
    return comment, usable(result.comment.get("facts"))


def not_assessed(student: str, note: str) -> assessing.Assessment:
    """What stands for the pre-assessment of a student whose comment could not be assessed."""
    return assessing.Assessment(student, checklist=[note], doubts=["not assessed: read the comment"])


def assess_one(result, settings, comments: dict, facts: dict, near: dict) -> assessing.Assessment:
    student = result.student
    return assessing.assess(student, comments[student], facts[student], cell_points(result, settings), facts,
                            near.get(student))


def review_class(results, settings) -> dict[str, assessing.Assessment]:
    """student -> pre-assessment, for every result that carries a comment (see gather). Each student
    is assessed on their own (course.fences): a comment the grader cannot handle gives that student a
    note and a comment to read, and the others their suggestions as if it were not there."""
    noted = {r.student: r for r in results if isinstance(r.comment, dict) and r.comment.get("grade_id")}
    read = {s: per_student(REVIEW, r, comment_of, r, fallback=str) for s, r in noted.items()}
    comments = {s: found[0] for s, found in read.items() if isinstance(found, tuple)}
    facts = {s: found[1] for s, found in read.items() if isinstance(found, tuple)}
    references = per_student(COPIES, None, reference_texts, settings, fallback={})
    near = per_student(COPIES, None, copies.similarities, comments, references, fallback=str)
    assessments = {}
    for student in sorted(noted, key=str):
        if student not in comments:
            assessments[student] = not_assessed(student, read[student])
            continue
        assessments[student] = per_student(REVIEW, noted[student], assess_one, noted[student], settings, comments,
                                           facts, near if isinstance(near, dict) else {},
                                           fallback=lambda note, s=student: not_assessed(s, note))
        if isinstance(near, str):
            assessments[student].doubts.append(f"not compared with the class's comments: {near}")
    return assessments


def short_checklist(assessment: assessing.Assessment) -> str:
    return " | ".join([*assessment.checklist, *(f"read: {d}" for d in assessment.doubts)])


def csv_values(assessment: assessing.Assessment | None) -> dict[str, str]:
    """A student's values of the COLUMNS of grades.csv; empty without a comment to assess."""
    if assessment is None:
        return dict.fromkeys(COLUMNS, "")
    return {"a13_suggested": "" if assessment.suggested is None else f"{assessment.suggested:g}",
            "a13_review": "clear" if assessment.clear else "read",
            "a13_checklist": short_checklist(assessment)}


def gradebook_comment(assessment: assessing.Assessment, facts: dict, classmates=()) -> str:
    """The text formgrader shows beside the answer: suggestion, checklist, the student's results.
    The student sees it in the feedback too, so classmates are not named (grades.csv and `labkit
    comments` name them for the grader)."""
    lines = [f"{HEADER}: suggested {assessment.shown_score()}"
             + ("" if assessment.clear else " (to read before confirming)"), ""]
    lines += [f"- {line}" for line in assessment.checklist]
    lines += [f"- to read: {doubt}" for doubt in assessment.doubts]
    lines += ["", f"Your results: {assessing.facts_line(facts)}."]
    text_ = "\n".join(lines)
    for other in sorted(map(str, classmates), key=len, reverse=True):
        if other != assessment.student:
            text_ = re.sub(rf"\b{re.escape(other)}\b", "a classmate", text_)
    return text_


def comment_one(gradebook, settings, result, assessment: assessing.Assessment, classmates) -> str:
    """One student's suggestion as the comment on their answer, committed; a problem, else ''."""
    from nbgrader.api import MissingEntry

    shown = gradebook_comment(assessment, result.comment.get("facts"), classmates)
    try:
        comment = gradebook.find_comment(result.comment["grade_id"], settings.assignment, settings.assignment,
                                         result.student)
    except MissingEntry:
        return f"{result.student}: no activity-13 answer in the gradebook"
    comment.auto_comment = shown
    gradebook.db.commit()
    return ""


def write_gradebook(db_url: str, settings, results, assessments: dict) -> list[str]:
    """Each assessment as the automatic comment on the student's activity-13 answer (nbgrader's
    auto_comment: a grader's own comment, kept in manual_comment, is never touched), one student at
    a time (course.fences). Returns problems."""
    import warnings

    from nbgrader.api import Gradebook

    problems = []
    by_student = {r.student: r for r in results}
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore")
        for student, assessment in assessments.items():
            result = by_student[student]
            problem = per_student(GRADEBOOK_COMMENT, result, comment_one, gradebook, settings, result, assessment,
                                  by_student, fallback=None, problems=problems)
            if problem is None:   # failed: nothing of it stays in the gradebook
                gradebook.db.rollback()
            elif problem:
                problems.append(problem)
    return problems
