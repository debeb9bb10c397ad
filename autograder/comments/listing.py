"""`labkit comments`: the class's activity-13 comments sorted by the suggestion, each with the
student's facts beside the text, the clear cases first (confirm them quickly), then the ones to
read. Read from a grading run's state files; the suggestion is never a grade."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.comments import assess as assessing
from autograder.comments import publish

PREVIEW_WORDS = 60   # words of the comment shown unless --full


def results_in(out: Path) -> list:
    from autograder.course.records import GradeResult

    found = []
    for path in sorted((Path(out) / "state").glob("*.json")):
        try:
            found.append(GradeResult.from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


def order(assessments: dict) -> list:
    """Clear cases first, then those to read; each by suggestion, highest first (no suggestion last)."""
    return sorted(assessments.values(), key=lambda a: (not a.clear, a.suggested is None,
                                                       -(a.suggested or 0), a.student))


def preview(comment: str, full: bool) -> str:
    words = comment.split()
    if not words:
        return "(empty)"
    return comment if full or len(words) <= PREVIEW_WORDS else " ".join(words[:PREVIEW_WORDS]) + " ..."


def table(results, settings, full: bool = False, only: str = "all"):
    """What `labkit comments` prints (a rich Group): a summary table of the class, sorted, then one
    panel per student with the facts, the comment and the checklist (only: 'all', 'clear', 'read')."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table

    assessments = publish.review_class(results, settings)
    by_student = {r.student: r for r in results}
    rows = [a for a in order(assessments) if only == "all" or (a.clear == (only == "clear"))]
    clear = sum(a.clear for a in assessments.values())
    summary = Table(title=f"Activity 13: {clear} clear (confirm quickly), {len(assessments) - clear} to read; "
                          "suggestions only, each comment still needs a manual grade")
    for name in ("student", "suggested", "review", "words", "why read it"):
        summary.add_column(name, overflow="fold", no_wrap=name in ("student", "suggested", "review"))
    panels = []
    for found in rows:
        result = by_student[found.student]
        review = "[green]clear[/]" if found.clear else "[yellow]read[/]"
        summary.add_row(found.student, found.shown_score(), review, str(found.words),
                        "; ".join(found.doubts) or "-")
        details = Table.grid(padding=(0, 1))
        details.add_column(style="bold", no_wrap=True)
        details.add_column(overflow="fold")
        details.add_row("results", assessing.facts_line(result.comment.get("facts") or {}))
        details.add_row("comment", preview(result.comment.get("text", ""), full))
        details.add_row("checklist", "\n".join(f"- {line}" for line in found.checklist))
        if found.doubts:
            details.add_row("read", "\n".join(f"[yellow]! {doubt}[/]" for doubt in found.doubts))
        panels.append(Panel(details, title=f"{found.student}: suggested {found.shown_score()} ({review})",
                            title_align="left"))
    return Group(summary, *panels)


def show(settings, out: Path | None = None, full: bool = False, only: str = "all") -> bool:
    """Print the class's comments from the grading run in `out` (default: the course's grading
    folder); False when it holds no graded comments."""
    from rich.console import Console

    out = Path(out) if out else settings.grading_dir
    results = results_in(out)
    if not any(r.comment for r in results):
        print(f"labkit comments: no graded comments in {out}; run `labkit grade` first (or pass --out)")
        return False
    Console().print(table(results, settings, full=full, only=only))
    return True
