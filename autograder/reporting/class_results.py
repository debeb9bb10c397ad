"""The class's results: grades.csv, a summary table printed with rich, and a histogram PNG."""
from __future__ import annotations

import csv
import statistics
from collections import Counter
from pathlib import Path

from autograder.comments import publish as comments
from autograder.course.files import atomic_path
from autograder.course.records import ALTERED, CellGrade, GradeResult


def activity_columns(settings) -> list[str]:
    return [f"a{activity:02d}" for activity in sorted(settings.points)]


def points_lost(result: GradeResult) -> list[tuple[int | None, float, str, str]]:
    """(activity, points lost, grade cell, why) for every autograded cell below its points: each
    lost point is named once, with the one check that took it."""
    lost = []
    for cell in (CellGrade.from_dict(c) for c in result.cells):
        if cell.needs_manual_grade or cell.points >= cell.max_points:
            continue
        lost.append((cell.activity, cell.max_points - cell.points, cell.grade_id,
                     cell.error or "the check did not pass"))
    return lost


def lost_text(result: GradeResult) -> str:
    """grades.csv's `lost` column: "a05 -8 a05_transfer_model_visible: why | ..."."""
    return " | ".join(f"a{activity or 0:02d} -{points:g} {grade_id}: {why}"
                      for activity, points, grade_id, why in points_lost(result))


def row(result: GradeResult, settings, assessment=None) -> dict:
    """One grades.csv row; `assessment`: the student's activity-13 pre-assessment, if any."""
    verify = result.verify or {}
    values = {"student": result.student}
    for activity, column in zip(sorted(settings.points), activity_columns(settings)):
        values[column] = f"{result.activity_points(activity):g}"
    accuracy = verify.get("accuracy")
    values.update({
        "total": f"{result.total:g}", "percent": f"{result.percent:.1f}", "letter": result.letter,
        "status": result.status, "verified": verify.get("status", "not run"),
        "accuracy": "" if accuracy is None else f"{accuracy:.4f}",
        "lost": lost_text(result),
        "message": " | ".join(m for m in [result.message, *result.notes] if m),
        "sandbox": "sandboxed" if result.sandboxed else "not sandboxed",
    })
    values.update(comments.csv_values(assessment))
    return values


def write_csv(results: list[GradeResult], settings, path: Path, assessments: dict) -> Path:
    """grades.csv: one whole row per student, activity 13's suggestions (`assessments`, student ->
    pre-assessment, never points) in its last columns; written once, atomically."""
    columns = ["student", *activity_columns(settings), "total", "percent", "letter", "status",
               "verified", "accuracy", "sandbox", "lost", "message", *comments.COLUMNS]
    with atomic_path(path) as partial, open(partial, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for result in sorted(results, key=lambda r: r.student):
            writer.writerow(row(result, settings, assessments.get(result.student)))
    return path


def class_tables(results: list[GradeResult], settings, page: Path | None = None):
    """Two rich tables: one row per student, and the class's mean per activity; `page`: the class
    page, linked from the first table's caption."""
    from rich.table import Table

    unsandboxed = sum(1 for r in results if not r.sandboxed)
    warning = f" - {unsandboxed} NOT SANDBOXED (see SANDBOX in course_config.py)" if unsandboxed else ""
    students = Table(title=f"{settings.assignment}: {len(results)} submissions{warning}")
    for name, justify in [("student", "left"), ("points", "right"), ("%", "right"), ("letter", "center"),
                          ("status", "left"), ("verified", "left"), ("sandbox", "left")]:
        students.add_column(name, justify=justify)
    for result in sorted(results, key=lambda r: r.student):
        style = "red" if result.failed else ("yellow" if result.status == ALTERED else None)
        students.add_row(result.student, f"{result.total:g} / {result.max_total:g}", f"{result.percent:.1f}",
                         result.letter, result.status, (result.verify or {}).get("status", "not run"),
                         "yes" if result.sandboxed else "[bold red]not sandboxed[/]", style=style)
    percents = [r.percent for r in results] or [0.0]
    letters = Counter(r.letter for r in results)
    order = [*settings.letter_grades, settings.fail_grade]
    students.caption = (f"mean {statistics.mean(percents):.1f} %, median {statistics.median(percents):.1f} %; "
                        + ", ".join(f"{letter} {letters[letter]}" for letter in order if letters[letter]))
    if page is not None:
        students.caption += f"\nclass page: [link={Path(page).resolve().as_uri()}]{page}[/link]"
    activities = Table(title="points per activity (class mean)")
    for name in ("activity", "mean", "max", "full marks"):
        activities.add_column(name, justify="right")
    for activity in sorted(settings.points):
        key = str(activity)
        maxima = [r.max_points.get(key, 0.0) for r in results]
        maximum = max(maxima, default=0.0)
        if not maximum:
            continue
        scores = [r.activity_points(activity) for r in results]
        full = sum(1 for s in scores if s >= maximum)
        activities.add_row(f"a{activity:02d}", f"{statistics.mean(scores):.2f}", f"{maximum:g}",
                           f"{full}/{len(scores)}")
    return students, activities


def plot(results: list[GradeResult], settings, path: Path) -> Path:
    """grade_distribution.png: histogram of percentages with the letter cut-offs, and letter counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist([r.percent for r in results], bins=list(range(0, 105, 5)), color="#4a6fa5", edgecolor="white")
    for letter, cutoff in settings.letter_grades.items():
        left.axvline(cutoff, color="grey", linestyle=":", linewidth=1)
        left.text(cutoff + 0.5, left.get_ylim()[1] * 0.95, letter, fontsize=8, color="grey")
    left.set_xlabel("percent of points")
    left.set_ylabel("students")
    left.set_title("Totals")
    order = [*settings.letter_grades, settings.fail_grade]
    counts = Counter(r.letter for r in results)
    right.bar(order, [counts[letter] for letter in order], color="#6a9f58")
    right.set_xlabel("letter grade")
    right.set_title("Letter grades")
    for axis in (left, right):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    figure.suptitle(f"{settings.assignment}: {len(results)} submissions")
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=100, format=path.suffix.lstrip(".") or "png")
    plt.close(figure)
    return path
