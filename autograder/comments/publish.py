"""Where the grader looks: the class's pre-assessments as the values of grades.csv's activity-13
columns (the reporting room writes the file, once, with every other column) and as the comment on
each student's activity-13 grade in the gradebook (formgrader shows it next to the answer; the
feedback page shows it once the grader has graded the cell and generated feedback)."""
from __future__ import annotations

import re

from autograder.comments import assess as assessing
from autograder.comments import copies, rubric, text

COLUMNS = ("a13_suggested", "a13_review", "a13_checklist")
HEADER = "Activity 13, checked against your own results (a suggestion for the grader, who sets the points)"


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


def review_class(results, settings) -> dict[str, assessing.Assessment]:
    """student -> pre-assessment, for every result that carries a comment (see gather)."""
    noted = {r.student: r for r in results if r.comment and r.comment.get("grade_id")}
    comments = {s: r.comment.get("text", "") for s, r in noted.items()}
    facts = {s: r.comment.get("facts") or {} for s, r in noted.items()}
    near = copies.similarities(comments, reference_texts(settings))
    return {s: assessing.assess(s, comments[s], facts[s], cell_points(r, settings), facts, near.get(s))
            for s, r in sorted(noted.items())}


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
    for other in sorted(classmates, key=len, reverse=True):
        if other != assessment.student:
            text_ = re.sub(rf"\b{re.escape(other)}\b", "a classmate", text_)
    return text_


def write_gradebook(db_url: str, settings, results, assessments: dict) -> list[str]:
    """Each assessment as the automatic comment on the student's activity-13 answer (nbgrader's
    auto_comment: a grader's own comment, kept in manual_comment, is never touched). Returns problems."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    problems = []
    by_student = {r.student: r for r in results}
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore")
        for student, assessment in assessments.items():
            result = by_student[student]
            try:
                comment = gradebook.find_comment(result.comment["grade_id"], settings.assignment,
                                                 settings.assignment, student)
            except MissingEntry:
                problems.append(f"{student}: no activity-13 answer in the gradebook")
                continue
            comment.auto_comment = gradebook_comment(assessment, result.comment.get("facts") or {}, by_student)
        gradebook.db.commit()
    return problems
