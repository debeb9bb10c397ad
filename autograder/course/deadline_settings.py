"""Check the deadline settings of course_config.py and build the course's `Deadline` (or None when
DUE_DATE is None). Every wrong value stops with a message naming the setting, like the others."""
from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from autograder.course import roster as rosters
from autograder.course.deadlines import UNITS, Deadline, DeadlineError, LatePolicy, parse_time

NAMES = ("DUE_DATE", "GRACE_MINUTES", "LATE_PENALTY", "ZERO_AFTER", "EXTENSIONS", "ROSTER")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _time(name: str, value, fail):
    try:
        return parse_time(value)
    except DeadlineError as error:
        raise fail(name, str(error), value) from None


def _policy(value, fail) -> LatePolicy:
    if not isinstance(value, dict) or not set(value) <= {"percent", "per", "max_percent"} or "percent" not in value:
        raise fail("LATE_PENALTY", "a dict like {'percent': 10, 'per': 'day', 'max_percent': 50}", value)
    percent, per, cap = value["percent"], value.get("per", "day"), value.get("max_percent", 100)
    if not _number(percent) or not 0 <= percent <= 100:
        raise fail("LATE_PENALTY['percent']", "a number from 0 to 100 (percent of the points)", percent)
    if per not in UNITS:
        raise fail("LATE_PENALTY['per']", f"one of {list(UNITS)} (each started one costs the percent)", per)
    if not _number(cap) or not 0 <= cap <= 100:
        raise fail("LATE_PENALTY['max_percent']", "a number from 0 to 100", cap)
    return LatePolicy(float(percent), per, float(cap))


def roster_students(path: Path, fail) -> set[str]:
    """Every login and e-mail of the LMS roster export, lower-cased."""
    try:
        return set().union(*rosters.read(path).keys)
    except rosters.RosterError as error:
        raise fail("ROSTER", "a roster CSV exported from the LMS", f"{path}: {error}") from None


def _extensions(value, due, roster: set[str] | None, fail) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise fail("EXTENSIONS", "a dict of student id -> new due date or extra hours", value)
    checked = {}
    for student, extension in value.items():
        name = f"EXTENSIONS[{student!r}]"
        if roster is not None and student.lower() not in roster:
            raise fail(name, "a student of the roster (ROSTER)", student)
        if isinstance(extension, str):
            moment = _time(name, extension, fail)
            if moment <= due:
                raise fail(name, "a date after DUE_DATE", extension)
            checked[student] = moment
        elif _number(extension) and extension > 0:
            checked[student] = float(extension)
        else:
            raise fail(name, "a new due date (a string with its time zone) or a number of extra hours > 0",
                       extension)
    return checked


def deadline(values: dict, path: Path, fail) -> tuple[Deadline | None, Path | None]:
    """(the Deadline or None, the roster file or None); `fail(name, expected, got)` makes the error."""
    roster_value = values.get("ROSTER")
    roster = None
    if roster_value is not None:
        if not isinstance(roster_value, str) or not roster_value:
            raise fail("ROSTER", "the path of a roster CSV exported from the LMS, or None", roster_value)
        roster = Path(roster_value).expanduser()
        roster = roster if roster.is_absolute() else path.parent / roster
        if not roster.is_file():
            raise fail("ROSTER", "an existing CSV file (the LMS's roster export)", roster_value)
    due_value = values.get("DUE_DATE")
    if due_value is None:
        for name in ("ZERO_AFTER", "EXTENSIONS"):
            if values.get(name):
                raise fail(name, "used with a DUE_DATE (DUE_DATE is None)", values[name])
        return None, roster
    due = _time("DUE_DATE", due_value, fail)
    grace = values.get("GRACE_MINUTES", 0)
    if not _number(grace) or grace < 0:
        raise fail("GRACE_MINUTES", "a number of minutes >= 0", grace)
    policy = _policy(values.get("LATE_PENALTY", {"percent": 0}), fail)
    zero_after = values.get("ZERO_AFTER")
    if zero_after is not None:
        zero_after = _time("ZERO_AFTER", zero_after, fail)
        if zero_after <= due:
            raise fail("ZERO_AFTER", "a date after DUE_DATE", values["ZERO_AFTER"])
    students = roster_students(roster, fail) if roster is not None else None
    extensions = _extensions(values.get("EXTENSIONS", {}), due, students, fail)
    return Deadline(due, timedelta(minutes=grace), policy, zero_after, extensions), roster
