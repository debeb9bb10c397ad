"""When each submission was handed in, from what the exchange recorded, never from the student.

Best first: the `timestamp.txt` that `nbgrader collect` keeps with a collected submission; a zip's
recorded time for its notebook (zip times carry no time zone: they are read in the deadline's); the
notebook file's modification time on the grader's disk, where that is all there is. The student's
status names the one that was used."""
from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

TIMESTAMP = "timestamp.txt"   # nbgrader's record of when a collected submission was made
EXCHANGE = "the exchange's timestamp (nbgrader collect's timestamp.txt)"
ZIP = "the time the zip recorded for the notebook"
FILE = "the notebook file's modification time on the grader's disk"


def from_exchange(folder: str | None) -> datetime | None:
    """The time in the folder's timestamp.txt, time zone-aware (nbgrader writes UTC), or None."""
    from nbgrader.utils import parse_utc

    path = Path(folder) / TIMESTAMP if folder else None
    if path is None or not path.is_file() or path.is_symlink():
        return None
    try:
        return parse_utc(path.read_text()[:100].strip()).replace(tzinfo=timezone.utc)
    except (ValueError, OSError):
        return None


def zip_times(archive: Path, unpacked: Path, zone) -> dict[str, datetime]:
    """Path of each unpacked file (as a string) -> the time the zip recorded for it, in `zone`."""
    times = {}
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            if not member.is_dir():
                times[str((unpacked / member.filename).resolve())] = datetime(*member.date_time, tzinfo=zone)
    return times


def when(submission, recorded: dict[str, datetime] | None = None) -> tuple[datetime | None, str]:
    """(time handed in, which record it comes from) for a Submission; (None, "") without a notebook."""
    stamped = from_exchange(submission.folder)
    if stamped is not None:
        return stamped, EXCHANGE
    if not submission.notebook:
        return None, ""
    notebook = Path(submission.notebook)
    zipped = (recorded or {}).get(str(notebook.resolve()))
    if zipped is not None:
        return zipped, ZIP
    try:
        return datetime.fromtimestamp(notebook.lstat().st_mtime, tz=timezone.utc), FILE
    except OSError:
        return None, ""
