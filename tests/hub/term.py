"""The term the live hub check runs (docs/lms.md): a due date a week back with the shipped late policy,
a zero date three days after it, one student with an extension, and when each student handed in as the
exchange records it: one late, one late but within the extension, one past the zero date."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ZONE = "Europe/Rome"
# nbgrader's Exchange.timestamp_format, with its default time zone (UTC): what `nbgrader submit` writes
# into the submission's folder name and its timestamp.txt
EXCHANGE_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"

# student -> (when they handed in, after the due date; what the row of grades.csv must say)
HANDED_IN = {
    "student1": (timedelta(hours=3, minutes=10), {"late_hours": 3.17, "late_penalty_percent": 10.0,
                                                  "extension": "", "zero": False}),
    "student2": (timedelta(hours=30), {"late_hours": 0.0, "late_penalty_percent": 0.0,
                                       "extension": "extension of 48 h", "zero": False}),
    "student3": (timedelta(days=4), {"late_penalty_percent": 100.0, "extension": "", "zero": True}),
}
EXTENSIONS = {"student2": 48}   # extra hours
# student -> what their feedback page says of it
WORDS = {"student1": "submitted 3 h 10 min late, 10 % off", "student2": ": on time.",
         "student3": "submitted 4 d late, after the last date late work is accepted: no points"}


class Term:
    def __init__(self, now: datetime | None = None):
        now = now or datetime.now(timezone.utc)
        self.due = (now - timedelta(days=7)).astimezone(ZoneInfo(ZONE)).replace(second=0, microsecond=0)
        self.zero_after = self.due + timedelta(days=3)

    def settings(self) -> str:
        """The lines an instructor adds to course_config.py for this term."""
        def shown(moment: datetime) -> str:
            return f"{moment:%Y-%m-%d %H:%M} {ZONE}"
        return (f"\n# ---- the hub check's term (docs/lms.md) ----\nDUE_DATE = {shown(self.due)!r}\n"
                f"ZERO_AFTER = {shown(self.zero_after)!r}\nEXTENSIONS = {EXTENSIONS!r}\n")

    def handed_in(self, student: str) -> datetime:
        return self.due + HANDED_IN[student][0]

    def exchange_stamp(self, student: str) -> str:
        """The submission time as the exchange writes it (in UTC)."""
        return self.handed_in(student).astimezone(timezone.utc).strftime(EXCHANGE_FORMAT)

    @staticmethod
    def words(student: str) -> str:
        return WORDS[student]

    @staticmethod
    def check_row(student: str, row: dict) -> str:
        """'' when grades.csv's row shows the lateness the term gives `student`, else what differs."""
        wanted = HANDED_IN[student][1]
        before, total = float(row["points_before_penalty"]), float(row["total"])
        found = {"late_penalty_percent": float(row["late_penalty_percent"]), "extension": row["extension"],
                 "zero": total == 0.0 and before > 0}
        if "late_hours" in wanted:
            found["late_hours"] = float(row["late_hours"])
        expected_total = 0.0 if wanted["zero"] else round(before * (1 - wanted["late_penalty_percent"] / 100), 4)
        problems = [f"{key} {found[key]!r} (expected {value!r})" for key, value in wanted.items()
                    if found[key] != value]
        if abs(total - expected_total) > 1e-6:
            problems.append(f"total {total:g} (expected {expected_total:g} from {before:g} before the penalty)")
        if "timestamp.txt" not in row["time_source"]:
            problems.append(f"time_source {row['time_source']!r} (expected the exchange's timestamp.txt)")
        return "; ".join(problems)
