"""A roster exported from the LMS, and which of its rows is which student.

Canvas's gradebook export (Student, ID, SIS User ID, SIS Login ID, Section, ...) and Moodle's
(First name, Last name, ID number, Email address, Username, ...) both work. A student id of the
kit (the nbgrader student id) matches a row when it equals, ignoring case, one of the row's logins
or e-mail addresses; nothing fuzzier, so no student is ever given another's grade."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

# the columns that identify a person, as the LMSs name them (lower case)
IDENTIFIERS = ("sis login id", "login id", "username", "email address", "email", "e-mail", "login", "sis user id",
               "id number", "idnumber", "student id")


class RosterError(ValueError):
    """The roster cannot be read as an LMS export; the message says why."""


@dataclass
class Roster:
    columns: list[str]
    rows: list[dict]
    keys: list[set] = field(default_factory=list)   # per row: its identifiers, lower-cased

    def match(self, students: list[str]) -> tuple[dict[int, str], list[str], list[int]]:
        """(row index -> student, students without a row, rows without a student). A student
        matching two rows, or a row matched by two students, is an error: nothing is guessed."""
        matched, unmatched = {}, []
        for student in students:
            found = [i for i, keys in enumerate(self.keys) if student.lower() in keys]
            if len(found) > 1:
                raise RosterError(f"the student id {student!r} matches {len(found)} roster rows; "
                                  "make the roster's logins or e-mails unique")
            if not found:
                unmatched.append(student)
                continue
            if found[0] in matched:
                raise RosterError(f"the roster row of {matched[found[0]]!r} also matches {student!r}")
            matched[found[0]] = student
        return matched, unmatched, [i for i in range(len(self.rows)) if i not in matched]


def read(path: Path) -> Roster:
    """The roster file (CSV, as exported; a byte-order mark is fine)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns, rows = list(reader.fieldnames or []), list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"the roster {path} must be a CSV file exported from the LMS ({error})") from None
    wanted = [c for c in columns if c and c.strip().lower() in IDENTIFIERS]
    if not wanted:
        raise RosterError(f"the roster {path} must have a login or e-mail column (one of "
                          f"{', '.join(IDENTIFIERS)}), found the columns {columns}")
    # Canvas's "Points Possible" row (first or second) is no student
    rows = [row for i, row in enumerate(rows)
            if i > 1 or (row.get(columns[0]) or "").strip().lower() != "points possible"]
    keys = [{(row.get(c) or "").strip().lower() for c in wanted} - {""} for row in rows]
    return Roster(columns, rows, keys)
