"""`labkit export --to canvas|moodle|csv`: grades.csv (points after late penalties) as the file the
LMS imports, row by row against the roster exported from it.

- canvas: Canvas's gradebook import CSV: the roster's Student, ID, SIS User ID, SIS Login ID and
  Section columns, the "Points Possible" row, and one column for the assignment (the roster's own
  column for it when it has one, so Canvas updates that assignment rather than making a new one).
  Roster rows without a submission stay in the file with an empty grade, which Canvas leaves as is.
- moodle: Moodle's "Import grades from CSV" file: the roster's e-mail (or username, or ID number)
  column, the grade, and a short feedback text; map them in Moodle's import screen.
- csv: one plain row per student: the kit's id, the roster's login, points, percent, letter.
A student is exported only when the grade is final: status not a grading error or a lost worker,
graded in the sandbox, and no answer still waiting for a hand grade in the gradebook; `--all`
exports them anyway. Every student left out, and every roster row without a submission, is listed."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import roster as rosters
from autograder.course.files import atomic_path
from autograder.course.records import REGRADE

FORMATS = ("canvas", "moodle", "csv")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_KEYS = ("Email address", "Username", "ID number")


class ExportError(ValueError):
    """The export cannot be made from what is here; the message says what to fix."""


@dataclass
class ExportReport:
    path: Path
    exported: list = field(default_factory=list)       # students in the file with a grade
    held: dict = field(default_factory=dict)           # student -> why the grade was not exported
    no_roster_row: list = field(default_factory=list)  # graded students the roster does not have
    no_submission: list = field(default_factory=list)  # roster rows (their first identifier) without a grade


def read_grades(path: Path) -> dict[str, dict]:
    if not path.is_file():
        raise ExportError(f"expected grades.csv at {path}; run `labkit grade` first (or pass --grades)")
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def waiting_for_hand_grades(gradebook: Path, assignment: str) -> set[str]:
    """Students whose submission still has an answer to grade by hand, from nbgrader's gradebook."""
    if not gradebook.is_file():
        return set()
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{gradebook}") as book:
        try:
            return {s.student.id for s in book.find_assignment(assignment).submissions if s.needs_manual_grade}
        except MissingEntry:
            return set()


def hold_reason(row: dict, waiting: set[str]) -> str:
    if row["status"] in REGRADE:
        return f"status '{row['status']}': regrade first"
    if row.get("sandbox") == "not sandboxed":
        return "graded without the sandbox"
    if row["student"] in waiting:
        return "an answer is still to be graded by hand (formgrader)"
    return ""


def assignment_column(roster: rosters.Roster, assignment: str) -> str:
    """The roster's column for this assignment ("name (id)" in Canvas), else the assignment's name."""
    return next((c for c in roster.columns if c == assignment or c.startswith(f"{assignment} (")), assignment)


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with atomic_path(path) as partial, open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def export(settings, to: str, out: Path, grades: Path, roster_path: Path | None, gradebook: Path,
           everyone: bool = False) -> ExportReport:
    """Write the `to` file at `out`; what went in and what did not."""
    if to not in FORMATS:
        raise ExportError(f"--to must be one of {', '.join(FORMATS)}, got {to!r}")
    if roster_path is None:
        raise ExportError("expected the roster exported from the LMS (--roster, or ROSTER in course_config.py)")
    rows = read_grades(grades)
    try:
        roster = rosters.read(roster_path)
        matched, unmatched, empty = roster.match(sorted(rows))
    except rosters.RosterError as error:
        raise ExportError(str(error)) from None
    waiting = waiting_for_hand_grades(gradebook, settings.assignment)
    report = ExportReport(out, no_roster_row=unmatched)
    report.no_submission = [sorted(roster.keys[i])[0] if roster.keys[i] else f"row {i + 2}" for i in empty]
    for student in sorted(rows):
        why = "" if everyone else hold_reason(rows[student], waiting)
        if why:
            report.held[student] = why
    grade = {s: rows[s]["total"] for s in matched.values() if s not in report.held}
    report.exported = sorted(grade)
    column = assignment_column(roster, settings.assignment)
    if to == "canvas":
        missing = [c for c in CANVAS_IDENTITY if c not in roster.columns]
        if missing:
            raise ExportError(f"--to canvas needs Canvas's gradebook export as the roster; it has no "
                              f"{', '.join(missing)} column(s)")
        lines = [{**{c: row.get(c, "") for c in CANVAS_IDENTITY}, column: grade.get(matched.get(i), "")}
                 for i, row in enumerate(roster.rows)]
        points = {c: "" for c in CANVAS_IDENTITY} | {"Student": "Points Possible", column: f"{settings.total_points:g}"}
        _write(out, [*CANVAS_IDENTITY, column], [points, *lines])
    elif to == "moodle":
        key = next((c for k in MOODLE_KEYS for c in roster.columns if c.strip().lower() == k.lower()), None)
        if key is None:
            raise ExportError(f"--to moodle needs a roster with one of the columns {', '.join(MOODLE_KEYS)}")
        lines = [{key: roster.rows[i][key], column: grade[s], "Feedback": feedback_text(rows[s])}
                 for i, s in sorted(matched.items()) if s in grade]
        _write(out, [key, column, "Feedback"], lines)
    else:
        login = {s: sorted(roster.keys[i])[0] for i, s in matched.items()}
        lines = [{"student": s, "login": login.get(s, ""), "points": grade[s],
                  "max_points": f"{settings.total_points:g}", "percent": rows[s]["percent"],
                  "letter": rows[s]["letter"]} for s in sorted(grade)]
        _write(out, ["student", "login", "points", "max_points", "percent", "letter"], lines)
    return report


def run(settings, args) -> bool:
    """`labkit export` (args: to, roster, grades, out, all): the file, and what went in; False when a graded
    student has no roster row."""
    grades_csv = Path(args.grades) if args.grades else settings.grading_dir / "grades.csv"
    target = Path(args.out) if args.out else grades_csv.parent / f"{settings.assignment}_{args.to}.csv"
    report = export(settings, args.to, target, grades_csv, Path(args.roster) if args.roster else settings.roster,
                    grades_csv.parent / "gradebook.db", everyone=args.all)
    show(report)
    return not report.no_roster_row


def show(report: ExportReport) -> None:
    """What went into the file and what did not, every student named."""
    from rich.console import Console

    console = Console()
    console.print(f"Wrote {report.path}: {len(report.exported)} grade(s).")
    for student, why in sorted(report.held.items()):
        console.print(f"[yellow]not exported[/] {student}: {why} (use --all to export it anyway)")
    if report.no_roster_row:
        console.print(f"[red]graded, but not in the roster ({len(report.no_roster_row)}):[/] "
                      + ", ".join(report.no_roster_row) + " - add them to the LMS course, or fix their id")
    if report.no_submission:
        console.print(f"in the roster without a grade ({len(report.no_submission)}): "
                      + ", ".join(report.no_submission))


def feedback_text(row: dict) -> str:
    """A short comment for the LMS: the points, the letter, and a late penalty if any."""
    text = f"{row['total']} points ({row['percent']} %), {row['letter']}"
    if row.get("late_penalty_percent") not in (None, "", "0"):
        text += f"; late: -{row['late_penalty_percent']} % (before: {row['points_before_penalty']})"
    return text
