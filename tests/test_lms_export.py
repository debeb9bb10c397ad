"""`labkit export`: grades.csv as Canvas's and Moodle's import files, matched to their rosters, every
student accounted for. The files are read back the way those systems describe their import."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_config import SHIPPED, shipped_values

from autograder import cli
from autograder.course import config
from autograder.course.records import GRADING_ERROR, OK, GradeResult
from autograder.integrations.lms import export as lms
from autograder.reporting import class_results

SETTINGS = config.from_values({**shipped_values(), "DUE_DATE": "2026-12-10 23:59 Europe/Rome"}, SHIPPED)
ASSIGNMENT = SETTINGS.assignment
CANVAS_ROSTER = f"""Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (101),{ASSIGNMENT} (4321),Current Score
    Points Possible,,,,,10,100,(read only)
"Rossi, Anna",11,S011,anna,Lab A,9,,90
"Li, Bo",12,S012,bo,Lab A,7,,70
"Costa, Carla",13,S013,carla,Lab B,8,,80
"Absent, Dan",14,S014,dan,Lab B,5,,50
"""
MOODLE_ROSTER = """First name,Last name,ID number,Institution,Department,Email address,Username
Anna,Rossi,S011,Uni,CS,anna@uni.example,anna
Bo,Li,S012,Uni,CS,bo@uni.example,bo
Carla,Costa,S013,Uni,CS,carla@uni.example,carla
Dan,Absent,S014,Uni,CS,dan@uni.example,dan
"""


def result(student: str, total: float, status: str = OK, late_percent: float = 0.0) -> GradeResult:
    late = {"penalty_percent": late_percent, "points_before": total / (1 - late_percent / 100),
            "penalty_points": total / (1 - late_percent / 100) - total, "late_hours": 5.0 if late_percent else 0.0,
            "submitted_at": "2026-12-11T03:00:00+00:00", "source": "the exchange's timestamp", "extension": ""}
    return GradeResult(student=student, status=status, total=total, max_total=100.0, percent=total,
                       letter=SETTINGS.letter_for(total), sandboxed=True, late=late)


@pytest.fixture
def graded(tmp_path) -> Path:
    """grades.csv as `labkit grade` writes it: anna late, bo a grading error, carla, and eve whom
    the roster does not have."""
    results = [result("anna", 81.0, late_percent=10), result("bo", 0.0, GRADING_ERROR), result("carla", 95.0),
               result("eve", 60.0)]
    return class_results.write_csv(results, SETTINGS, tmp_path / "grades.csv", {})


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n", encoding="utf-8-sig")
    return path


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_canvas_gets_its_own_columns_the_points_row_and_the_assignments_column(graded, tmp_path):
    out = tmp_path / "canvas.csv"
    report = lms.export(SETTINGS, "canvas", out, graded, roster(tmp_path, CANVAS_ROSTER), tmp_path / "none.db")
    rows = read(out)
    column = f"{ASSIGNMENT} (4321)"      # the roster's column: Canvas updates that assignment
    assert list(rows[0]) == [*lms.CANVAS_IDENTITY, column]
    assert rows[0]["Student"] == "Points Possible" and rows[0][column] == "100"
    grades = {row["SIS Login ID"]: row[column] for row in rows[1:]}
    assert grades == {"anna": "81", "bo": "", "carla": "95", "dan": ""}   # blanks: Canvas leaves them as they are
    assert {row["SIS Login ID"]: row["Section"] for row in rows[1:]}["carla"] == "Lab B"
    assert report.exported == ["anna", "carla"]
    assert report.held == {"bo": f"status '{GRADING_ERROR}': regrade first"}
    assert report.no_roster_row == ["eve"] and report.no_submission == ["dan"]


def test_moodle_gets_the_email_the_grade_and_a_feedback_text(graded, tmp_path):
    out = tmp_path / "moodle.csv"
    report = lms.export(SETTINGS, "moodle", out, graded, roster(tmp_path, MOODLE_ROSTER), tmp_path / "none.db",
                        everyone=True)
    rows = read(out)
    assert list(rows[0]) == ["Email address", ASSIGNMENT, "Feedback"]
    by_mail = {row["Email address"]: row for row in rows}
    assert set(by_mail) == {"anna@uni.example", "bo@uni.example", "carla@uni.example"}   # --all: bo too
    assert by_mail["anna@uni.example"][ASSIGNMENT] == "81"
    assert "late: -10 %" in by_mail["anna@uni.example"]["Feedback"]
    assert report.no_roster_row == ["eve"] and report.no_submission == ["dan"]


def test_students_whose_id_is_their_email_match_too(tmp_path):
    results = [result("anna@uni.example", 70.0), result("BO@UNI.EXAMPLE", 50.0)]
    grades = class_results.write_csv(results, SETTINGS, tmp_path / "grades.csv", {})
    report = lms.export(SETTINGS, "csv", tmp_path / "plain.csv", grades, roster(tmp_path, MOODLE_ROSTER),
                        tmp_path / "none.db")
    assert report.no_roster_row == [] and len(report.exported) == 2
    assert {row["student"]: row["login"] for row in read(tmp_path / "plain.csv")} == {
        "BO@UNI.EXAMPLE": "bo", "anna@uni.example": "anna"}


def test_nothing_is_guessed_when_a_student_matches_two_rows(graded, tmp_path):
    twice = MOODLE_ROSTER + "Anna,Other,S099,Uni,CS,anna@other.example,anna\n"
    with pytest.raises(lms.ExportError, match="'anna' matches 2 roster rows"):
        lms.export(SETTINGS, "moodle", tmp_path / "m.csv", graded, roster(tmp_path, twice), tmp_path / "none.db")


def test_the_command_names_every_student_left_out_and_says_so_in_its_status(graded, tmp_path, capsys):
    args = ["export", "--to", "canvas", "--grades", str(graded), "--roster", str(roster(tmp_path, CANVAS_ROSTER))]
    assert cli.main(args) == cli.FELL_SHORT     # eve has a grade and no roster row
    said = capsys.readouterr().out
    assert "eve" in said and "not in the roster" in said and "dan" in said and "bo" in said
    assert (graded.parent / f"{ASSIGNMENT}_canvas.csv").is_file()
    assert cli.main(["export", "--to", "canvas", "--grades", str(tmp_path / "nothing.csv"),
                     "--roster", str(tmp_path / "roster.csv")]) == cli.FELL_SHORT
    assert "run `labkit grade` first" in capsys.readouterr().err
    assert cli.main(["export", "--to", "canvas", "--grades", str(graded), "--roster",
                     str(roster(tmp_path, MOODLE_ROSTER))]) == cli.FELL_SHORT
    assert "needs Canvas's gradebook export" in capsys.readouterr().err
