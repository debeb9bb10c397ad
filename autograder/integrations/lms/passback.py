"""`labkit passback`: each student's score (grades.csv `total`, after late penalties), a short comment and
the link to the feedback page, to the LMS's line item over LTI 1.3 Assignment and Grade Services.

- Who: a student whose grade is final (export.hold_reason; `--all` sends them anyway) and whose LMS
  user id is known (users.py); every other student is named.
- Idempotent: each score the LMS accepted is appended to a log beside grades.csv (LOG), keyed by
  student, LMS user, line item, score and comment, so a second run sends nothing that is there
  already; before sending, the results the LMS holds are read back (where it lets the tool), and a
  score it holds already is logged, not sent again.
- A passing refusal (HTTP 429 or 5xx, a timeout, no connection) is tried again after a growing wait
  (the LMS's Retry-After when it gives one); an access token the LMS stops accepting (401) is renewed
  once. When the LMS stays away or refuses the tool, the run stops: what was sent is in the log, and
  the students left are named for the next run. A refusal about one student is reported for that
  student, and the others go on."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from pylti1p3.exception import LtiException, LtiServiceException

from autograder.course.validation import ConfigError
from autograder.integrations.lms import export, users
from autograder.integrations.lms.lti import TRANSIENT, PassbackError, Sender, Tool, TokenRefused, answer, public_jwks

LOG = "lti_passback.jsonl"
KEY = ("student", "user_id", "lineitem", "score", "maximum", "comment")   # a score is sent once per key


@dataclass(frozen=True)
class Score:
    """What goes to the LMS for one student."""

    student: str
    user_id: str
    score: float
    maximum: float
    comment: str
    submitted_at: str = ""

    def key(self, lineitem: str) -> dict:
        return dict(zip(KEY, (self.student, self.user_id, lineitem, self.score, self.maximum, self.comment)))


@dataclass
class PassbackReport:
    lineitem: str = ""
    planned: list = field(default_factory=list)   # Scores to send (all of them with --dry-run)
    sent: list = field(default_factory=list)      # students whose score the LMS accepted in this run
    already: list = field(default_factory=list)   # students whose score the LMS holds already
    held: dict = field(default_factory=dict)      # student -> why the grade is not final
    no_user: list = field(default_factory=list)   # graded students without an LMS user id
    failed: dict = field(default_factory=dict)    # student -> what the LMS answered (it refused that score)
    left: list = field(default_factory=list)      # students not tried because the run stopped
    stopped: str = ""                             # why the run stopped, if it did
    dry_run: bool = False

    @property
    def complete(self) -> bool:
        return not (self.no_user or self.failed or self.left or self.stopped)


def plan(settings, rows: dict[str, dict], ids: dict[str, str], waiting: set[str], everyone: bool,
         report: PassbackReport) -> list[Score]:
    """The Scores to send, from grades.csv's rows; the held and unknown students go into `report`."""
    lti, scores = settings.lti, []
    for student in sorted(rows):
        row = rows[student]
        why = "" if everyone else export.hold_reason(row, waiting)
        if why:
            report.held[student] = why
            continue
        if student.lower() not in ids:
            report.no_user.append(student)
            continue
        comment = export.feedback_text(row)
        if lti.get("feedback_url"):
            link = lti["feedback_url"].format(student=student, assignment=settings.assignment,
                                              course=settings.course_id)
            comment += f". Feedback: {link}"
        scores.append(Score(student, ids[student.lower()], float(row["total"] or 0), settings.total_points,
                            comment, row.get("submitted_at") or ""))
    return scores


def read_log(path: Path) -> dict[str, dict]:
    """student -> the key of the last score the LMS accepted (a torn last line, from a killed run, is skipped)."""
    sent = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                sent[entry["student"]] = {name: entry[name] for name in KEY}
            except (ValueError, KeyError, TypeError):
                continue
    return sent


def write_log(path: Path, entry: dict) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def already_there(result: dict | None, score: Score) -> bool:
    """Whether a result read back from the LMS is this score already."""
    if not result or result.get("resultScore") is None:
        return False
    maximum = float(result.get("resultMaximum") or 1)
    return (abs(float(result["resultScore"]) / maximum * score.maximum - score.score) < 1e-6
            and (result.get("comment") or "") == score.comment)


def stop_message(error: Exception) -> str:
    if isinstance(error, TokenRefused):
        return (f"the LMS refused the tool's access token ({error}). Check LTI['client_id'] and "
                f"LTI['auth_token_url'] (and 'auth_audience'), that the LMS holds the tool's public key "
                f"(`labkit passback --jwk` prints it) and that this machine's clock is right")
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        why = ("timed out" if isinstance(error, requests.Timeout) else
               "connection refused" if "refused" in str(error).lower() else "connection lost")
        url = getattr(error.request, "url", "") or ""
        return f"the LMS did not answer{' at ' + url if url else ''} ({why}), also when tried again"
    if isinstance(error, LtiServiceException) and error.response.status_code in TRANSIENT:
        return f"the LMS kept refusing for now ({answer(error)}), also when tried again"
    if isinstance(error, LtiServiceException) and error.response.status_code in (401, 403):
        return (f"the LMS refused the tool ({answer(error)}): check that the tool has the Assignment and Grade "
                f"Services scopes in the LMS and that LTI['lineitem'] belongs to its course")
    return f"the LMS refused: {answer(error)}"


def send(settings, scores: list[Score], log: Path, report: PassbackReport, sender: Sender, progress=None) -> None:
    """Send every score not in the LMS yet; on a stop, the rest go to report.left."""
    sent = read_log(log)
    try:
        sender.token()
        report.lineitem = sender.attempt(lambda: sender.tool.line_item(settings.assignment, settings.total_points))
        todo = [s for s in scores if sent.get(s.student) != s.key(report.lineitem)]
        report.already += [s.student for s in scores if s not in todo]
        try:
            in_lms = sender.renewed(lambda: sender.tool.results(report.lineitem)) if todo else {}
        except LtiServiceException as error:   # the LMS does not let the tool read results: send them all
            if error.response.status_code not in (400, 403, 404, 405, 501):
                raise
            in_lms = {}
    except (TokenRefused, LtiException, requests.RequestException) as error:
        lineitem = report.lineitem or settings.lti.get("lineitem", "")
        report.stopped = stop_message(error)
        report.left = [s.student for s in scores if sent.get(s.student) != s.key(lineitem)]
        return
    task = progress.add_task("sending to the LMS", total=len(todo)) if progress else None
    for index, score in enumerate(todo):
        entry = score.key(report.lineitem)
        try:
            if already_there(in_lms.get(score.user_id), score):
                report.already.append(score.student)
            else:
                sender.renewed(lambda: sender.tool.post(
                    report.lineitem, score.user_id, score.score, score.maximum, score.comment,
                    datetime.now(timezone.utc).isoformat(timespec="milliseconds"), score.submitted_at))
                report.sent.append(score.student)
            write_log(log, entry | {"at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        except LtiServiceException as error:
            if error.response.status_code in TRANSIENT or error.response.status_code == 401:
                report.stopped, report.left = stop_message(error), [s.student for s in todo[index:]]
                return
            report.failed[score.student] = answer(error)     # about this student (unknown user, ...): go on
        except (TokenRefused, LtiException, requests.RequestException) as error:
            report.stopped, report.left = stop_message(error), [s.student for s in todo[index:]]
            return
        finally:
            if progress:
                progress.advance(task)


def passback(settings, grades: Path, users_csv: Path | None, dry_run: bool = False, everyone: bool = False,
             sender: Sender | None = None, progress=None) -> PassbackReport:
    """Plan and (unless dry_run) send; what happened to each student."""
    lti = settings.lti
    if lti is None:
        raise ConfigError("LTI is None in course_config.py; set the LMS registration there to send grades "
                          "(docs/lms.md, 'LTI 1.3')")
    users_csv = users_csv or lti.get("users")
    if users_csv is None:
        raise PassbackError("expected the students' LMS user ids: LTI['users'] (the file the hub writes at each "
                            "launch) or --users FILE (a CSV with the columns student,lms_user_id)")
    rows = export.read_grades(grades)
    waiting = export.waiting_for_hand_grades(grades.parent / "gradebook.db", settings.assignment)
    report = PassbackReport(dry_run=dry_run)
    report.planned = plan(settings, rows, users.read(Path(users_csv), lti["issuer"]), waiting, everyone, report)
    if dry_run and "lineitem" in lti:       # without asking the LMS: what the log says was sent
        sent = read_log(grades.parent / LOG)
        report.already = [s.student for s in report.planned if sent.get(s.student) == s.key(lti["lineitem"])]
        report.planned = [s for s in report.planned if s.student not in report.already]
    if not dry_run:
        send(settings, report.planned, grades.parent / LOG, report, sender or Sender(Tool(lti)), progress)
    return report


def run(settings, args) -> bool:
    """`labkit passback` (args: users, grades, dry_run, all, jwk): False when a student could not be sent
    (or has no LMS user id)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if args.jwk:
        if settings.lti is None:
            raise ConfigError("LTI is None in course_config.py; set it (with LTI['private_key']) first")
        print(json.dumps(public_jwks(settings.lti), indent=2))
        return True
    console = Console()
    grades_csv = Path(args.grades) if args.grades else settings.grading_dir / "grades.csv"
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        report = passback(settings, grades_csv, Path(args.users) if args.users else None, dry_run=args.dry_run,
                          everyone=args.all, progress=progress)
    show(report, console)
    return report.complete


def show(report: PassbackReport, console) -> None:
    """What went to the LMS and what did not, every student named."""
    if report.dry_run:
        for score in report.planned:
            console.print(f"would send {score.student} (LMS user {score.user_id}): {score.score:g} / "
                          f"{score.maximum:g}, \"{score.comment}\"")
        console.print(f"Dry run: {len(report.planned)} score(s) to send, {len(report.already)} sent before; "
                      "nothing sent.")
    else:
        console.print(f"Sent {len(report.sent)} score(s) to {report.lineitem or 'the LMS'}; "
                      f"{len(report.already)} already there.")
    for student, why in sorted(report.held.items()):
        console.print(f"[yellow]not sent[/] {student}: {why} (use --all to send it anyway)")
    if report.no_user:
        console.print(f"[red]no LMS user id ({len(report.no_user)}):[/] " + ", ".join(report.no_user)
                      + " - they have not opened the hub from the LMS yet; or give their ids with --users")
    for student, why in sorted(report.failed.items()):
        console.print(f"[red]refused[/] {student}: {why}")
    if report.stopped:
        console.print(f"[red]stopped:[/] {report.stopped}.")
        console.print(f"[red]left to send ({len(report.left)}):[/] " + ", ".join(report.left)
                      + " - run `labkit passback` again to send them (what was sent is not sent twice)")
