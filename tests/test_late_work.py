"""A class graded against a deadline: on time, late, with an extension, past the zero date; the
time taken from the exchange's record (or a zip's), the penalty in grades.csv, the feedback and
nbgrader's gradebook (so `nbgrader export` agrees with the kit)."""
from __future__ import annotations

import csv
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

import grading_helpers as helpers
from autograder.course import config
from autograder.grading import runner, submission_times

DUE = "2026-12-10 23:59 Europe/Rome"      # 22:59 UTC
# student -> nbgrader collect's timestamp.txt (UTC, as nbgrader writes it)
HANDED_IN = {"ontime": "2026-12-10 22:00:00.000000 UTC",
             "late": "2026-12-11 02:09:00.000000 UTC",        # 3 h 10 min late: one started day, 10 %
             "extended": "2026-12-12 10:00:00.000000 UTC",    # late without the extension of 48 h
             "tooLate": "2026-12-20 10:00:00.000000 UTC"}     # past the zero date
FULL = float(helpers.MAX_TOTAL)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("term")
    config_file = helpers.make_course(root / "course", DUE_DATE=repr(DUE), EXTENSIONS=repr({"extended": 48}),
                                      ZERO_AFTER=repr("2026-12-17 23:59 Europe/Rome"),
                                      LATE_PENALTY=repr({"percent": 10, "per": "day", "max_percent": 50}))
    settings = config.load(config_file)
    release = helpers.generate_release(config_file)
    submitted = root / "submitted"
    for student, stamp in HANDED_IN.items():
        notebook = helpers.write_submission(submitted, student, helpers.solved(release))
        (notebook.parent / "timestamp.txt").write_text(stamp)
        os.utime(notebook, (0, 0))   # the file's own time says 1970: never used when the exchange's is there
    batch = runner.grade_class(settings, submitted, out=root / "out", jobs=2, progress=False, verify=False)
    with open(batch.csv, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"root": root, "settings": settings, "release": release, "batch": batch, "rows": rows}


def test_the_penalty_follows_the_exchanges_time_and_the_students_extension(term):
    rows = term["rows"]
    expected = {"ontime": (FULL, "0", ""), "late": (FULL * 0.9, "10", ""),
                "extended": (FULL, "0", "extension of 48 h"), "tooLate": (0.0, "100", "")}
    for student, (total, percent, extension) in expected.items():
        row = rows[student]
        assert float(row["total"]) == pytest.approx(total), (student, row)
        assert (row["late_penalty_percent"], row["extension"]) == (percent, extension), student
        assert float(row["points_before_penalty"]) == FULL and row["time_source"] == submission_times.EXCHANGE
    assert rows["late"]["late_hours"] == "3.17" and rows["ontime"]["late_hours"] == "0"
    assert rows["late"]["submitted_at"].startswith("2026-12-11T02:09:00")


def test_the_feedback_says_it_in_plain_words(term):
    by_student = {r.student: r for r in term["batch"].results}
    page = Path(by_student["late"].feedback_html).read_text()
    assert "submitted 3 h 10 min late, 10 % off, so 6 points became 5.4" in page
    assert "from the exchange&#x27;s timestamp" in page
    assert "on time" in Path(by_student["extended"].feedback_html).read_text()
    assert "no points" in Path(by_student["tooLate"].feedback_html).read_text()


def test_nbgrader_export_gives_the_same_scores_as_grades_csv(term):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{term['batch'].out / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(term["settings"].assignment)
        assert assignment.duedate == datetime(2026, 12, 10, 22, 59)
        for submission in assignment.submissions:
            exported = max(0.0, submission.score - submission.late_submission_penalty)   # nbgrader export's score
            assert exported == pytest.approx(float(term["rows"][submission.student.id]["total"]))
            hours = 48 if submission.student.id == "extended" else 0
            assert (submission.extension.total_seconds() / 3600 if submission.extension else 0) == hours


def test_a_zips_recorded_time_is_read_in_the_deadlines_time_zone(term, tmp_path):
    archive = tmp_path / "class.zip"
    notebook = helpers.solved(term["release"])
    import nbformat

    with zipfile.ZipFile(archive, "w") as bundle:
        info = zipfile.ZipInfo("zipped.ipynb", date_time=(2026, 12, 11, 1, 30, 0))   # 1:30 in Rome: late
        bundle.writestr(info, nbformat.writes(notebook))
    from autograder.grading.submissions import discover

    [found] = discover(archive, helpers.ASSIGNMENT, f"{helpers.ASSIGNMENT}.ipynb", tmp_path / "scratch",
                       zone=term["settings"].deadline.due.tzinfo)
    assert found.time_source == submission_times.ZIP
    assert datetime.fromisoformat(found.submitted_at) == datetime(2026, 12, 11, 0, 30, tzinfo=timezone.utc)
    late = term["settings"].deadline.lateness("zipped", datetime.fromisoformat(found.submitted_at))
    assert late.penalty_percent == 10
