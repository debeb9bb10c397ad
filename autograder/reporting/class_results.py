"""The class's results: grades.csv, a summary table printed with rich, and a histogram PNG.

Each student's part of them is made on its own (course.fences): a result the grader cannot report
gives that student a row that says so, and the others their rows as if it were not there."""
from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from pathlib import Path

from autograder.comments import publish as comments
from autograder.course.fences import Stage, failed_steps, per_student
from autograder.course.files import atomic_path
from autograder.course.records import ALTERED, GRADING_ERROR, CellGrade, GradeResult

CSV_ROW = Stage("the student's row of grades.csv", instead="the row holds only the student and this message")
TABLE_ROW = Stage("the student's row of the class table", instead="the table names the student and the problem")
PLOTTED = Stage("the student's place in grade_distribution.png", instead="the picture leaves the student out")


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
        "message": " | ".join(str(m) for m in [result.message, *result.notes] if m),
        "sandbox": "sandboxed" if result.sandboxed else "not sandboxed",
    })
    values.update(comments.csv_values(assessment))
    if settings.deadline is not None:
        values.update(late_values(result))
    return values


LATE_COLUMNS = ("points_before_penalty", "late_hours", "late_penalty_percent", "extension", "submitted_at",
                "time_source")


def late_values(result: GradeResult) -> dict[str, str]:
    """The deadline's columns of grades.csv: the points before the penalty, how late, what it cost."""
    late = result.late or {}
    return {"points_before_penalty": f"{late.get('points_before', result.total):g}",
            "late_hours": f"{late.get('late_hours', 0.0):g}",
            "late_penalty_percent": f"{late.get('penalty_percent', 0.0):g}",
            "extension": late.get("extension", ""), "submitted_at": late.get("submitted_at", ""),
            "time_source": late.get("source", "")}


def write_csv(results: list[GradeResult], settings, path: Path, assessments: dict) -> Path:
    """grades.csv: one whole row per student, activity 13's suggestions (`assessments`, student ->
    pre-assessment, never points) in its last columns; written once, atomically."""
    columns = ["student", *activity_columns(settings), "total", "percent", "letter", "status",
               "verified", "accuracy", "sandbox", "lost", "message", *comments.COLUMNS,
               *(LATE_COLUMNS if settings.deadline is not None else ())]
    with atomic_path(path) as partial, open(partial, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for result in sorted(results, key=lambda r: str(r.student)):
            writer.writerow(per_student(CSV_ROW, result, row, result, settings, assessments.get(result.student),
                                        fallback=lambda note, r=result: stand_in_row(r, note)))
    return path


def stand_in_row(result: GradeResult, note: str) -> dict:
    """The row of a student whose row could not be made: no grade, and why."""
    return {"student": result.student, "status": GRADING_ERROR, "message": note}


def table_row(result: GradeResult) -> tuple[list[str], str | None]:
    """One student's cells of the class table and their style; a step of the grader that failed for
    the student is named after the status."""
    style = "red" if result.failed else ("yellow" if result.status == ALTERED else None)
    failed = failed_steps(result.notes)
    status = result.status + (f"; failed: {', '.join(failed)}" if failed else "")
    penalty = (result.late or {}).get("penalty_percent")
    late = f" (late, -{penalty:g} %)" if penalty else ""
    return ([str(result.student), f"{result.total:g} / {result.max_total:g}{late}", f"{result.percent:.1f}",
             str(result.letter), status, str((result.verify or {}).get("status", "not run")),
             "yes" if result.sandboxed else "[bold red]not sandboxed[/]"], "red" if failed else style)


def summary_numbers(result: GradeResult, settings) -> tuple[float, str, dict[int, tuple[float, float]]]:
    """(percent, letter, activity -> (points, max points)) of one student, for the class's summaries."""
    percent, letter = plotted(result)
    return percent, letter, {a: (_finite(result.activity_points(a)),
                                 _finite(float(result.max_points.get(str(a), 0.0)))) for a in sorted(settings.points)}


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"points must be a finite number, got {value}")
    return value


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
    counted = []   # the students whose numbers the summaries use
    for result in sorted(results, key=lambda r: str(r.student)):
        numbers = per_student(TABLE_ROW, result, summary_numbers, result, settings)
        cells, style = per_student(TABLE_ROW, result, table_row, result, fallback=lambda note, r=result: (
            [str(r.student), "", "", "", f"{GRADING_ERROR}: {note}", "", ""], "red"))
        students.add_row(*cells, style=style)
        if numbers is not None:
            counted.append(numbers)
    percents = [percent for percent, _, _ in counted] or [0.0]
    letters = Counter(letter for _, letter, _ in counted)
    order = [*settings.letter_grades, settings.fail_grade]
    students.caption = (f"mean {statistics.mean(percents):.1f} %, median {statistics.median(percents):.1f} %; "
                        + ", ".join(f"{letter} {letters[letter]}" for letter in order if letters[letter])
                        + (f"; {len(results) - len(counted)} left out (see their status)"
                           if len(counted) < len(results) else ""))
    if page is not None:
        students.caption += f"\nclass page: [link={Path(page).resolve().as_uri()}]{page}[/link]"
    activities = Table(title="points per activity (class mean)")
    for name in ("activity", "mean", "max", "full marks"):
        activities.add_column(name, justify="right")
    for activity in sorted(settings.points):
        maximum = max((s[activity][1] for _, _, s in counted), default=0.0)
        if not maximum:
            continue
        points = [s[activity][0] for _, _, s in counted]
        full = sum(1 for p in points if p >= maximum)
        activities.add_row(f"a{activity:02d}", f"{statistics.mean(points):.2f}", f"{maximum:g}",
                           f"{full}/{len(points)}")
    return students, activities


def plotted(result: GradeResult) -> tuple[float, str]:
    """(percent, letter) of one student for the picture."""
    if isinstance(result.percent, bool) or not isinstance(result.percent, (int, float)) or not math.isfinite(
            result.percent):
        raise ValueError(f"the percent must be a finite number, got {result.percent!r}")
    return float(result.percent), str(result.letter)


def plot(results: list[GradeResult], settings, path: Path) -> Path:
    """grade_distribution.png: histogram of percentages with the letter cut-offs, and letter counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    shown = [p for p in (per_student(PLOTTED, r, plotted, r) for r in results) if p is not None]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist([percent for percent, _ in shown], bins=list(range(0, 105, 5)), color="#4a6fa5", edgecolor="white")
    for letter, cutoff in settings.letter_grades.items():
        left.axvline(cutoff, color="grey", linestyle=":", linewidth=1)
        left.text(cutoff + 0.5, left.get_ylim()[1] * 0.95, letter, fontsize=8, color="grey")
    left.set_xlabel("percent of points")
    left.set_ylabel("students")
    left.set_title("Totals")
    order = [*settings.letter_grades, settings.fail_grade]
    counts = Counter(letter for _, letter in shown)
    right.bar(order, [counts[letter] for letter in order], color="#6a9f58")
    right.set_xlabel("letter grade")
    right.set_title("Letter grades")
    for axis in (left, right):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    left_out = f" ({len(results) - len(shown)} left out, see grades.csv)" if len(shown) < len(results) else ""
    figure.suptitle(f"{settings.assignment}: {len(results)} submissions{left_out}")
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=100, format=path.suffix.lstrip(".") or "png")
    plt.close(figure)
    return path
