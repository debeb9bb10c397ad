"""Deadlines, late penalties and extensions: the settings' checks and what they make of a time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_config import SHIPPED, shipped_values

from autograder.course import config
from autograder.course.deadlines import Deadline, LatePolicy, parse_time

ROME = "Europe/Rome"
DUE = "2026-12-10 23:59 Europe/Rome"


def at(text: str) -> datetime:
    return parse_time(text)


def test_times_need_their_time_zone():
    assert at(DUE).utcoffset() == timedelta(hours=1)                    # CET in December
    assert at("2026-07-10 23:59 Europe/Rome").utcoffset() == timedelta(hours=2)   # and CEST in July
    assert at("2026-12-10T23:59+01:00") == at(DUE)


DEADLINE = Deadline(due=at(DUE), grace=timedelta(minutes=10), policy=LatePolicy(10, "day", 50),
                    zero_after=at("2026-12-17 23:59 Europe/Rome"),
                    extensions={"ext_hours": 48.0, "ext_date": at("2026-12-13 12:00 Europe/Rome")})


@pytest.mark.parametrize("student, submitted, late, percent, zero", [
    ("anna", "2026-12-10 23:00 Europe/Rome", False, 0, False),            # on time
    ("anna", "2026-12-11 00:08 Europe/Rome", False, 0, False),            # within the grace period
    ("anna", "2026-12-11 03:09 Europe/Rome", True, 10, False),            # 3 h 10 min: one started day
    ("anna", "2026-12-12 00:00 Europe/Rome", True, 20, False),            # one day and a minute: two
    ("anna", "2026-12-16 23:00 Europe/Rome", True, 50, False),            # capped
    ("anna", "2026-12-18 00:00 Europe/Rome", True, 100, True),            # past the zero date
    ("ext_hours", "2026-12-12 20:00 Europe/Rome", False, 0, False),       # 48 h more
    ("ext_hours", "2026-12-13 01:00 Europe/Rome", True, 10, False),
    ("ext_hours", "2026-12-19 12:00 Europe/Rome", True, 50, False),       # the zero date moved 48 h too
    ("ext_date", "2026-12-13 11:00 Europe/Rome", False, 0, False),
    ("anna", "2026-12-10T23:30:00+00:00", True, 10, False),               # UTC: 00:30 in Rome
])
def test_lateness(student, submitted, late, percent, zero):
    found = DEADLINE.lateness(student, at(submitted))
    assert (found.late, found.penalty_percent, found.zero) == (late, percent, zero)
    assert found.factor() == (0.0 if zero else 1 - percent / 100)


def test_the_penalty_in_plain_words():
    words = DEADLINE.lateness("anna", at("2026-12-11 03:09 Europe/Rome")).words()
    assert words == "submitted 3 h 10 min late, 10 % off"
    late = DEADLINE.lateness("ext_hours", at("2026-12-13 01:00 Europe/Rome")).words()
    assert late.startswith("submitted 1 h 1 min late (with the extension to 2026-12-12T23:59+01:00)")
    assert "no points" in DEADLINE.lateness("anna", at("2026-12-18 00:00 Europe/Rome")).words()
    assert DEADLINE.lateness("anna", datetime(2026, 12, 1, tzinfo=timezone.utc)).words() == ""


def values(**changes):
    return {**shipped_values(), "DUE_DATE": DUE, **changes}


def test_the_shipped_file_has_no_deadline_and_a_course_without_these_settings_loads():
    assert config.from_values(shipped_values(), SHIPPED).deadline is None
    old = {k: v for k, v in shipped_values().items() if k not in ("DUE_DATE", "GRACE_MINUTES", "LATE_PENALTY",
                                                                   "ZERO_AFTER", "EXTENSIONS", "ROSTER")}
    assert config.from_values(old, SHIPPED).deadline is None


def test_a_full_deadline_loads(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS Login ID\nAnna Rossi,1,anna\nBo Li,2,ext_hours\n")
    settings = config.from_values(values(EXTENSIONS={"ext_hours": 48}, ROSTER=str(roster),
                                         ZERO_AFTER="2026-12-17 23:59 Europe/Rome",
                                         LATE_PENALTY={"percent": 5, "per": "hour", "max_percent": 40}), SHIPPED)
    assert settings.deadline.policy == LatePolicy(5, "hour", 40) and settings.roster == roster
    assert settings.deadline.extensions == {"ext_hours": 48.0}


BAD = [
    ({"DUE_DATE": "2026-12-10 23:59"}, r"DUE_DATE must be a time zone"),
    ({"DUE_DATE": "2026-12-10 23:59 Mars/Olympus"}, r"DUE_DATE must be a known time zone name"),
    ({"DUE_DATE": "next friday"}, r"DUE_DATE must be 'YYYY-MM-DD HH:MM <time zone>'"),
    ({"GRACE_MINUTES": -5}, r"GRACE_MINUTES must be a number of minutes >= 0, got -5"),
    ({"LATE_PENALTY": {"percent": -10}}, r"LATE_PENALTY\['percent'\] must be a number from 0 to 100"),
    ({"LATE_PENALTY": {"percent": 10, "per": "week"}}, r"LATE_PENALTY\['per'\] must be one of \['hour', 'day'\]"),
    ({"LATE_PENALTY": {"per": "day"}}, r"LATE_PENALTY must be a dict like"),
    ({"ZERO_AFTER": "2026-12-01 00:00 Europe/Rome"}, r"ZERO_AFTER must be a date after DUE_DATE"),
    ({"EXTENSIONS": {"anna": -3}}, r"EXTENSIONS\['anna'\] must be a new due date .* or a number of extra hours > 0"),
    ({"EXTENSIONS": {"anna": "2026-12-01 00:00 Europe/Rome"}}, r"EXTENSIONS\['anna'\] must be a date after DUE_DATE"),
    ({"EXTENSIONS": {"anna": "2026-12-12 12:00"}}, r"EXTENSIONS\['anna'\] must be a time zone"),
    ({"DUE_DATE": None, "EXTENSIONS": {"anna": 24}}, r"EXTENSIONS must be used with a DUE_DATE"),
    ({"ROSTER": "no_such_roster.csv"}, r"ROSTER must be an existing CSV file"),
]


@pytest.mark.parametrize("changes, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_each_bad_deadline_value_names_its_setting(changes, message):
    with pytest.raises(config.ConfigError, match=message):
        config.from_values(values(**changes), SHIPPED)


def test_an_extension_for_a_student_the_roster_does_not_have(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS Login ID,Email\nAnna Rossi,1,anna,anna@uni.example\n")
    with pytest.raises(config.ConfigError, match=r"EXTENSIONS\['bob'\] must be a student of the roster"):
        config.from_values(values(EXTENSIONS={"bob": 24}, ROSTER=str(roster)), SHIPPED)
    by_mail = config.from_values(values(EXTENSIONS={"anna@uni.example": 24}, ROSTER=str(roster)), SHIPPED)
    assert by_mail.deadline.extensions == {"anna@uni.example": 24.0}
