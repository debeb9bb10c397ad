"""Deadlines and late work: the due date, its grace period, the late policy, the date after which
late work gets zero, and per-student extensions (course_config.py), and what they make of one
submission time.

A submission within the grace period is on time; past it, lateness counts from the (extended) due
date, in started hours or days, each costing `percent` of the points up to `max_percent`. An
extension moves the student's due date, and the zero date with it by as much."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNITS = {"hour": 1.0, "day": 24.0}
FORMAT = "'YYYY-MM-DD HH:MM <time zone>' (e.g. '2026-12-10 23:59 Europe/Rome') or ISO 8601 with an offset"


class DeadlineError(ValueError):
    """A deadline value that cannot be read; the message says which and what it must be."""


def parse_time(text: str) -> datetime:
    """A time zone-aware datetime from "2026-12-10 23:59 Europe/Rome" or "2026-12-10T23:59+01:00";
    DeadlineError for anything without a time zone."""
    if not isinstance(text, str) or not text.strip():
        raise DeadlineError(f"a date and time with its time zone, {FORMAT}")
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        return moment
    if moment is not None:
        raise DeadlineError(f"a time zone: {text!r} has none; write it as {FORMAT}")
    stamp, _, zone = text.rpartition(" ")
    try:
        moment = datetime.fromisoformat(stamp.strip())
    except ValueError:
        raise DeadlineError(f"{FORMAT}, not {text!r}") from None
    if moment.tzinfo is not None:
        raise DeadlineError(f"one time zone, not an offset and {zone!r} in {text!r}")
    try:
        return moment.replace(tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise DeadlineError(f"a known time zone name (such as Europe/Rome or UTC), not {zone!r}") from None


@dataclass(frozen=True)
class LatePolicy:
    """What lateness costs: `percent` per started `per` ("hour" or "day"), at most `max_percent`."""

    percent: float = 0.0
    per: str = "day"
    max_percent: float = 100.0


@dataclass(frozen=True)
class Lateness:
    """What the deadline makes of one submission."""

    late_seconds: float = 0.0       # after the student's own due date (0: on time or within grace)
    penalty_percent: float = 0.0    # of the points
    zero: bool = False              # past the student's zero date
    extension: str = ""             # the extension used, in words ("" for none)
    due: str = ""                   # the student's due date, ISO 8601

    @property
    def late(self) -> bool:
        return self.late_seconds > 0

    def factor(self) -> float:
        """What remains of the points."""
        return 0.0 if self.zero else max(0.0, 1.0 - self.penalty_percent / 100.0)

    def words(self) -> str:
        """'submitted 3 h 10 min late, 10 % off' in plain words; '' when on time."""
        if not self.late:
            return ""
        minutes = int(math.ceil(self.late_seconds / 60))
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        span = " ".join(f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "0 min"
        cost = "after the last date late work is accepted: no points" if self.zero else (
            f"{self.penalty_percent:g} % off" if self.penalty_percent else "no penalty")
        with_extension = f" (with the extension to {self.due})" if self.extension else ""
        return f"submitted {span} late{with_extension}, {cost}"


@dataclass(frozen=True)
class Deadline:
    """The course's deadline, as validated from course_config.py."""

    due: datetime
    grace: timedelta = timedelta(0)
    policy: LatePolicy = LatePolicy()
    zero_after: datetime | None = None
    extensions: dict = field(default_factory=dict)   # student -> datetime (new due) or float (extra hours)

    def due_for(self, student: str) -> tuple[datetime, str]:
        """The student's due date and the extension that set it, in words."""
        extension = self.extensions.get(student)
        if extension is None:
            return self.due, ""
        if isinstance(extension, datetime):
            return extension, f"extension to {extension.isoformat(timespec='minutes')}"
        return self.due + timedelta(hours=extension), f"extension of {extension:g} h"

    def lateness(self, student: str, submitted: datetime) -> Lateness:
        """What `submitted` (time zone-aware) is worth for `student`."""
        due, extension = self.due_for(student)
        shown = due.isoformat(timespec="minutes")
        late = (submitted - due).total_seconds()
        if late <= self.grace.total_seconds():
            return Lateness(0.0, 0.0, False, extension, shown)
        zero = self.zero_after is not None and submitted > self.zero_after + (due - self.due)
        units = math.ceil(late / 3600 / UNITS[self.policy.per])
        percent = min(self.policy.max_percent, units * self.policy.percent)
        return Lateness(late, 100.0 if zero else percent, zero, extension, shown)


def record(deadline: Deadline | None, student: str, submitted_at: str, source: str) -> dict:
    """GradeResult.late: {} without a deadline; else when it was handed in, from which record, and
    what that costs (autograder.grading.scores applies it to the total)."""
    if deadline is None:
        return {}
    if not submitted_at:
        return {"submitted_at": "", "source": source, "penalty_percent": 0.0, "zero": False,
                "words": "no record of when it was handed in: counted as on time"}
    found = deadline.lateness(student, datetime.fromisoformat(submitted_at))
    return {"submitted_at": submitted_at, "source": source, "due": found.due, "extension": found.extension,
            "late_hours": round(found.late_seconds / 3600, 2), "penalty_percent": found.penalty_percent,
            "zero": found.zero, "words": found.words()}
