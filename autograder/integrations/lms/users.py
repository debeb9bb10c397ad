"""Who each student is in the LMS. An AGS score names its student by the LMS user id (the `sub` of the
LTI launch), the kit by the nbgrader student id (the hub user name). This CSV links the two:
student, lms_user_id, and, when the hub wrote the row, email, issuer, client_id, the launch's line item
and when it happened.

- The hub writes it: in jupyterhub_config.py, `c.Authenticator.post_auth_hook = record_launches(PATH)`
  appends one row at each LTI 1.3 launch (jupyterhub-ltiauthenticator puts the launch's id_token in
  the login's auth_state).
- An instructor may give one instead (`labkit passback --users FILE`), with at least the columns
  student and lms_user_id.
A student's last row wins (a later launch); rows from another issuer are not used."""
from __future__ import annotations

import csv
import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path

from autograder.integrations.lms.lti import PassbackError

COLUMNS = ("student", "lms_user_id", "email", "issuer", "client_id", "lineitem", "launched_at")
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def read(path: Path, issuer: str | None = None) -> dict[str, str]:
    """student id (lower case) -> LMS user id."""
    if not path.is_file():
        raise PassbackError(f"expected the students' LMS user ids at {path}: the file the hub writes at each "
                            f"LTI launch (LTI['users']), or a CSV with the columns student,lms_user_id (--users)")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("student", "lms_user_id") if c not in (reader.fieldnames or [])]
        if missing:
            raise PassbackError(f"{path} must have the columns student and lms_user_id; it has no "
                                f"{', '.join(missing)} column (it has {reader.fieldnames})")
        users = {}
        for row in reader:
            student, user = (row.get("student") or "").strip(), (row.get("lms_user_id") or "").strip()
            if student and user and (not issuer or not row.get("issuer") or row["issuer"] == issuer):
                users[student.lower()] = user
    return users


def launch_row(name: str, id_token: dict) -> dict | None:
    """The CSV row for one launch: the hub user `name`, and the LMS's id for them (`sub`)."""
    if not id_token.get("sub"):
        return None
    audience = id_token.get("aud")
    return {"student": name, "lms_user_id": id_token["sub"], "email": id_token.get("email", ""),
            "issuer": id_token.get("iss", ""),
            "client_id": audience[0] if isinstance(audience, list) and audience else audience or "",
            "lineitem": (id_token.get(AGS_CLAIM) or {}).get("lineitem", ""),
            "launched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def append(path: Path, row: dict) -> None:
    """Add one row, with the header if the file is new; a lock keeps rows of parallel logins whole."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a", newline="", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if handle.tell() == 0:
            writer.writeheader()
        writer.writerow(row)
        handle.flush()
        os.fsync(handle.fileno())


def record_launches(path):
    """A JupyterHub post_auth_hook that appends each LTI 1.3 login's student id and LMS user id to `path`."""
    path = Path(path)

    def record(authenticator, handler, authentication):
        row = launch_row(authentication["name"], authentication.get("auth_state") or {})
        if row is not None:
            try:
                append(path, row)
            except OSError as error:   # the login goes on; passback names the student without an id
                authenticator.log.error("labkit: could not record the LTI user id of %s in %s: %s",
                                        row["student"], path, error)
        return authentication

    return record
