"""HTML feedback per student: nbgrader's own feedback page with a short summary on top."""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from autograder.course.files import write_text_atomic
from autograder.course.records import (
    ALTERED,
    KERNEL_DIED,
    DISK_LIMIT,
    MEMORY_LIMIT,
    OK,
    REGRADE,
    TIMED_OUT,
    CellGrade,
    GradeResult,
)
from autograder.course.vocabulary import activity_of
from autograder.reporting import accessible, reproduced


def activity_at(notebook_path: str, index: int | None) -> int | None:
    """The activity a cell belongs to: its own grade_id's, else the nearest one before it."""
    if index is None or not notebook_path or not Path(notebook_path).is_file():
        return None
    cells = nbformat.read(notebook_path, as_version=4).cells
    for cell in reversed(cells[: index + 1]):
        activity = activity_of(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if activity:
            return activity
    return None


def status_sentence(result: GradeResult, settings) -> str:
    """What stopped the run, as expected / found / hint; empty when it ran normally."""
    execution = result.execution or {}
    activity = activity_at(result.autograded_notebook, execution.get("stopped_at_cell"))
    where = f"in activity {activity}" if activity else "at cell {}".format(execution.get("stopped_at_cell"))
    if result.status == TIMED_OUT:
        return (f"Expected every cell to finish within {settings.cell_timeout} s and the whole notebook "
                f"within {settings.notebook_timeout} s; found a cell that ran longer ({result.message}). "
                "Hint: look for a loop that never ends, and keep the epochs and image size as given.")
    if result.status == MEMORY_LIMIT:
        return (f"Expected the notebook to stay under {settings.memory_limit_mb} MB of memory; found it went "
                f"over {where}, so it was stopped there and the cells after it did not run. Hint: load "
                "images in batches with the dataset pipeline and do not keep extra copies of large arrays.")
    if result.status == DISK_LIMIT:
        when = where if execution.get("stopped_at_cell") is not None else "by its last cell"
        return (f"Expected the notebook to write at most {settings.disk_limit_mb} MB of files into its folder; "
                f"found it wrote more {when}, so it was stopped and the largest files it wrote were removed"
                f"{'' if execution.get('stopped_at_cell') is None else ' (the cells after it did not run)'}. "
                "Hint: save only the model the lab asks for, and do not write files in a loop.")
    if result.status == KERNEL_DIED:
        return (f"Expected the notebook to run to the end; found that Python stopped {where}, so the cells "
                "after it did not run. Hint: remove exit(), quit(), os._exit() or anything that ends Python.")
    if result.status == ALTERED:
        return ("Expected the graded cells as they were released; found some added, deleted, duplicated or "
                "changed (see the notes below), so those were graded as released, ignored or scored 0. Hint: start "
                "from the released notebook, copy your answers in, and leave the check cells as they are.")
    if result.status in REGRADE:
        return "This submission could not be graded automatically; your instructor will grade it by hand."
    if result.status != OK:
        return result.message[:1].upper() + result.message[1:] + "."
    return ""


def summary_html(result: GradeResult, settings) -> str:
    """A short summary: points per activity, what failed, hints."""
    rows = []
    cells = [CellGrade.from_dict(c) for c in result.cells]
    for activity in sorted(settings.points):
        key = str(activity)
        maximum = result.max_points.get(key, 0.0)
        if not maximum:
            continue
        failed = [c for c in cells if c.activity == activity and not c.passed]
        manual = [c for c in failed if c.needs_manual_grade]
        # each lost point is named once, with the check that took it
        what = "; ".join(f"-{c.max_points - c.points:g} {c.grade_id}: {c.error or 'the check did not pass'}"
                         for c in failed if not c.needs_manual_grade)
        if manual:
            what = (what + "; " if what else "") + "graded by hand later"
        rows.append(f"<tr><td>Activity {activity}</td><td>{result.points.get(key, 0):g} / {maximum:g}</td>"
                    f"<td>{html.escape(what) or 'all checks passed'}</td></tr>")
    notes = [status_sentence(result, settings), *result.notes]
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes if n)
    return (
        '<div id="grading-summary" role="region" aria-label="Grading summary" style="font-family:sans-serif;'
        'border:2px solid #447;padding:12px;margin:12px;background:#f6f7fb">'
        f"<h2>{html.escape(settings.assignment)}: {result.total:g} / {result.max_total:g} points "
        f"({result.percent:.1f} %), grade {html.escape(result.letter)}</h2>"
        f"<p>Status: <b>{html.escape(result.status)}</b>"
        + ("" if result.sandboxed else " (not sandboxed: graded without the kit's sandbox)") + "</p>"
        + late_html(result)
        + (f"<ul>{notes_html}</ul>" if notes_html else "")
        + '<table style="border-collapse:collapse" border="1" cellpadding="4">'
        '<tr><th scope="col">Activity</th><th scope="col">Points</th><th scope="col">Points lost, the check '
        "that took them, and why (expected / found / hint)</th></tr>"
        + "".join(rows) + "</table></div>"
    )


def late_sentence(result: GradeResult) -> str:
    """When it was handed in, by which record, and what the deadline made of it; '' without one."""
    late = result.late or {}
    if not late:
        return ""
    if not late.get("submitted_at"):
        return late.get("words", "")
    when = f"Handed in {late['submitted_at'][:16].replace('T', ' ')} (from {late['source']}); due {late['due']}"
    if not late.get("words"):
        return f"{when}: on time."
    return (f"{when}: {late['words']}, so {late.get('points_before', 0):g} points became "
            f"{late.get('points_before', 0) - late.get('penalty_points', 0):g}.")


def late_html(result: GradeResult) -> str:
    sentence = late_sentence(result)
    return f'<p id="late-work">{html.escape(sentence)}</p>' if sentence else ""


def insert_summary(page: str, summary: str) -> str:
    """Put `summary` right after the page's <body> tag (or at the start if there is none)."""
    match = re.search(r"<body[^>]*>", page)
    if not match:
        return summary + page
    return page[: match.end()] + summary + page[match.end():]


def standalone_page(result: GradeResult, settings, summary: str) -> str:
    title = html.escape(f"{settings.assignment}: feedback for {result.student}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
            "<body></body></html>")


def nbgrader_feedback(settings, work_dir: Path, student: str, folder: Path | None = None) -> str | None:
    """nbgrader's feedback page for the student's autograded notebook in the private course;
    `folder`: where nbgrader writes it (default: the course's feedback folder)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from autograder.preprocessors import nbgrader_setup

    if not (work_dir / "autograded" / student / settings.assignment / settings.notebook_name).is_file():
        return None
    c = Config()
    nbgrader_setup.apply(c, settings)
    c.CourseDirectory.root = str(work_dir)
    # nbgrader would copy every file of the graded folder beside the page: what the kernel wrote
    # (the saved model, anything up to DISK_LIMIT_MB) is not shown there, so none of it is copied
    c.CourseDirectory.ignore = ["*"]
    if folder is not None:
        c.CourseDirectory.feedback_directory = str(folder)
    outcome = NbGraderAPI(config=c).generate_feedback(settings.assignment, student, force=True)
    page = work_dir / (folder or "feedback") / student / settings.assignment / f"{settings.assignment}.html"
    return page.read_text(encoding="utf-8") if outcome["success"] and page.is_file() else None


def write(result: GradeResult, settings, out: Path, page: str | None = None,
          submitted: str | None = None) -> Path:
    """Write the student's feedback page (nbgrader's `page`, if any, with the summary on top) into
    `out`/feedback/<student>/<assignment>/; `submitted`: the submitted notebook, whose accuracies
    are shown next to the regraded ones (and kept in `result.reproduced` for the class page)."""
    comparisons = reproduced.compare(submitted, result.autograded_notebook)
    result.reproduced = [comparison.to_dict() for comparison in comparisons]
    summary = summary_html(result, settings) + reproduced.section_html(result, submitted, comparisons)
    page = accessible.feedback_page(insert_summary(page or standalone_page(result, settings, summary), summary))
    target = out / "feedback" / result.student / settings.assignment / f"{settings.assignment}.html"
    write_text_atomic(target, page)
    result.feedback_html = str(target)
    return target
