"""`labkit passback` against a real LTI 1.3 platform on loopback (lti1p3platform, tests/lti_platform.py):
real RSA keys, the platform's JWKS and client-credentials token, scores posted to its line item and read
back; refusals, a wrong key, an expired assertion or launch, and a platform that goes down halfway."""
from __future__ import annotations

import asyncio
import csv
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pylti1p3.service_connector
import pytest
from lti_platform import LoopbackPlatform, rsa_key
from rich.console import Console
from test_config import SHIPPED, shipped_values

from autograder import cli
from autograder.course import config
from autograder.course.records import GRADING_ERROR, OK, GradeResult
from autograder.integrations.lms import passback as lms
from autograder.integrations.lms import users
from autograder.integrations.lms.lti import Sender, Tool
from autograder.reporting import class_results

FEEDBACK = "https://hub.example.edu/hub/user-redirect/tree/{course}/{assignment}/feedback"
BASE = {**shipped_values(), "DUE_DATE": "2026-12-10 23:59 Europe/Rome"}
LETTERS = config.from_values(BASE, SHIPPED)


@pytest.fixture(scope="module")
def tool_key():
    return rsa_key()


@pytest.fixture
def platform(tool_key):
    running = LoopbackPlatform(tool_key[1]).start()
    yield running
    running.stop()


def result(student: str, total: float, status: str = OK, late_percent: float = 0.0,
           sandboxed: bool = True) -> GradeResult:
    before = total / (1 - late_percent / 100)
    late = {"penalty_percent": late_percent, "points_before": before, "penalty_points": before - total,
            "late_hours": 5.0 if late_percent else 0.0, "submitted_at": "2026-12-11T03:00:00+00:00",
            "source": "the exchange's timestamp", "extension": ""}
    return GradeResult(student=student, status=status, total=total, max_total=100.0, percent=total,
                       letter=LETTERS.letter_for(total), sandboxed=sandboxed, late=late)


class Course:
    """A graded class (grades.csv by class_results.write_csv), the tool's key, the LMS user ids, and
    the settings with LTI pointing at the loopback platform."""

    def __init__(self, folder: Path, platform: LoopbackPlatform, tool_key, results, ids: dict, **lti):
        self.folder, self.platform = folder, platform
        self.key = folder / "lti_private.pem"
        self.key.write_text(tool_key[0])
        self.grades = class_results.write_csv(results, LETTERS, folder / "grades.csv", {})
        self.users = folder / "lti_users.csv"
        with open(self.users, "w", newline="") as handle:
            csv.writer(handle).writerows([("student", "lms_user_id"), *ids.items()])
        if "lineitems" not in lti:
            lti.setdefault("lineitem", platform.add_lineitem(LETTERS.assignment, 100))
        self.lti = platform.settings(self.key, users=str(self.users), feedback_url=FEEDBACK, **lti)
        self.settings = config.from_values({**BASE, "LTI": self.lti}, SHIPPED)
        self.sleeps: list[float] = []

    @property
    def totals(self) -> dict[str, float]:
        with open(self.grades, newline="") as handle:
            return {row["student"]: float(row["total"]) for row in csv.DictReader(handle)}

    def sender(self, timeout: float = 5.0) -> Sender:
        return Sender(Tool(self.settings.lti, timeout=timeout), retries=2, backoff=0.01, sleep=self.sleeps.append)

    def passback(self, **options) -> lms.PassbackReport:
        sender = options.pop("sender", None) or self.sender()
        return lms.passback(self.settings, self.grades, None, sender=sender, **options)

    def config_file(self) -> Path:
        path = self.folder / "course_config.py"
        path.write_text(SHIPPED.read_text() + f"\nDUE_DATE = {BASE['DUE_DATE']!r}\nLTI = {self.lti!r}\n")
        return path


def sub(student: str) -> str:
    return f"lms-{student}-7f3a"      # an opaque LMS user id, as Canvas and Moodle give in `sub`


@pytest.fixture
def course(tmp_path, platform, tool_key) -> Course:
    """anna late (10 % off), bo a grading error, carla, dave graded without the sandbox, eve with no LMS id."""
    results = [result("anna", 81.0, late_percent=10), result("bo", 0.0, GRADING_ERROR), result("carla", 95.0),
               result("dave", 70.0, sandboxed=False), result("eve", 60.0)]
    return Course(tmp_path, platform, tool_key, results, {s: sub(s) for s in ("anna", "bo", "carla", "dave")})


def class_of(count: int, tmp_path, platform, tool_key) -> Course:
    results = [result(f"s{i:03d}", float(40 + i % 60), late_percent=10 if i % 7 == 0 else 0) for i in range(count)]
    return Course(tmp_path, platform, tool_key, results, {r.student: sub(r.student) for r in results})


def read_back(course: Course) -> dict[str, float]:
    """The platform's line item as the tool reads it back over AGS (results), by student."""
    results = Tool(course.settings.lti).results(course.settings.lti["lineitem"])
    by_user = {sub(s): s for s in course.totals}
    return {by_user[user]: r["resultScore"] for user, r in results.items()}


def test_scores_reach_the_line_item_and_read_back_equal_grades_csv_after_penalties(course):
    report = course.passback()
    assert report.sent == ["anna", "carla"] and report.stopped == ""
    assert report.held == {"bo": f"status '{GRADING_ERROR}': regrade first", "dave": "graded without the sandbox"}
    assert report.no_user == ["eve"] and not report.complete
    assert read_back(course) == {"anna": 81.0, "carla": 95.0} == {s: course.totals[s] for s in ("anna", "carla")}
    lineitem = course.settings.lti["lineitem"].rsplit("/", 1)[-1]
    score = course.platform.book.latest[(lineitem, sub("anna"))]
    assert score["scoreMaximum"] == 100 and score["gradingProgress"] == "FullyGraded"
    assert score["comment"].startswith("81 points (81.0 %), AB; late: -10 % (before: 90")
    assert score["comment"].endswith(f"Feedback: https://hub.example.edu/hub/user-redirect/tree/"
                                     f"{LETTERS.course_id}/{LETTERS.assignment}/feedback")
    everyone = course.passback(everyone=True)     # --all: the held grades too
    assert everyone.sent == ["bo", "dave"] and everyone.already == ["anna", "carla"]


def test_sending_twice_leaves_the_platform_as_after_once(course):
    course.passback()
    posts = list(course.platform.book.posts)
    again = course.passback()
    assert again.sent == [] and again.already == ["anna", "carla"]
    assert course.platform.book.posts == posts
    (course.folder / lms.LOG).unlink()           # the log lost: the scores read back from the LMS count
    third = course.passback()
    assert third.sent == [] and third.already == ["anna", "carla"] and course.platform.book.posts == posts
    assert len((course.folder / lms.LOG).read_text().splitlines()) == 2
    changed = [result("anna", 85.5), result("carla", 95.0)]      # anna regraded: only her score goes again
    class_results.write_csv(changed, LETTERS, course.grades, {})
    fourth = course.passback()
    assert fourth.sent == ["anna"] and fourth.already == ["carla"]
    assert read_back(course) == {"anna": 85.5, "carla": 95.0}


def test_a_dry_run_sends_nothing_and_knows_what_was_sent(course, capsys):
    dry = course.passback(dry_run=True)
    assert [s.student for s in dry.planned] == ["anna", "carla"] and course.platform.requests == []
    course.passback()
    assert course.passback(dry_run=True).already == ["anna", "carla"]
    assert cli.main(["--config", str(course.config_file()), "passback", "--dry-run", "--grades",
                     str(course.grades)]) == cli.FELL_SHORT      # eve has no LMS user id
    said = capsys.readouterr().out
    assert "nothing sent" in said and "no LMS user id (1): eve" in said and "bo" in said


def test_the_command_sends_and_its_status_says_whether_everyone_went(course, capsys):
    args = ["--config", str(course.config_file()), "passback", "--grades", str(course.grades)]
    assert cli.main(args) == cli.FELL_SHORT
    assert "Sent 2 score(s)" in capsys.readouterr().out
    assert cli.main([*args, "--users", str(course.users), "--all"]) == cli.FELL_SHORT   # eve still unknown
    with open(course.users, "a", newline="") as handle:
        csv.writer(handle).writerow(("eve", sub("eve")))
    assert cli.main([*args, "--all"]) == cli.OK
    assert read_back(course) == course.totals
    assert cli.main(["passback"]) == cli.BAD_REQUEST             # the shipped course_config.py has LTI = None
    assert "LTI is None" in capsys.readouterr().err


def test_the_printed_jwk_is_the_key_the_platform_accepts(course, tool_key, capsys):
    assert cli.main(["--config", str(course.config_file()), "passback", "--jwk"]) == cli.OK
    printed = json.loads(capsys.readouterr().out)
    assert [k["kty"] for k in printed["keys"]] == ["RSA"] and "d" not in printed["keys"][0]   # public only
    course.platform.registration.set_tool_key_set(printed)       # what the instructor pastes into the LMS
    assert course.passback().sent == ["anna", "carla"]


def test_a_wrong_key_is_refused_before_any_score(course):
    course.platform.trust_tool(rsa_key()[1])                     # the LMS holds another tool key
    report = course.passback()
    assert report.sent == [] and report.left == ["anna", "carla"] and course.platform.book.posts == []
    assert "refused the tool's access token (HTTP 400" in report.stopped and "--jwk" in report.stopped
    assert "Unable to find public key" in report.stopped


def test_an_expired_assertion_is_refused(course, monkeypatch):
    hour_behind = time.time() - 3600                             # the tool's clock an hour behind
    monkeypatch.setattr(pylti1p3.service_connector, "time", SimpleNamespace(time=lambda: hour_behind))
    report = course.passback()
    assert report.sent == [] and report.left == ["anna", "carla"]
    assert "Signature has expired" in report.stopped and "clock" in report.stopped


def test_a_token_the_platform_stops_accepting_is_renewed_once(course):
    sender = course.sender()
    sender.token()
    new_private, new_public = rsa_key()                          # the platform rotates its own key:
    course.platform.registration.set_platform_private_key(new_private).set_platform_public_key(new_public)
    report = course.passback(sender=sender)                      # the old token no longer verifies
    assert report.sent == ["anna", "carla"] and report.stopped == ""
    assert course.platform.book.posts_per_user(course.settings.lti["lineitem"].rsplit("/", 1)[-1]) == {
        sub("anna"): 1, sub("carla"): 1}


def test_a_revoked_tool_stops_the_run_and_a_rerun_sends_the_rest(tmp_path, platform, tool_key):
    course = class_of(6, tmp_path, platform, tool_key)
    sender = course.sender()
    sent_before_revoking = []

    def post(*args, post=sender.tool.post):
        post(*args)
        sent_before_revoking.append(args[1])
        if len(sent_before_revoking) == 2:                       # the LMS admin disables the key mid-run
            platform.trust_tool(rsa_key()[1])
            platform.registration.set_platform_public_key(rsa_key()[1])
    sender.tool.post = post
    report = course.passback(sender=sender)
    assert report.sent == ["s000", "s001"] and report.left == ["s002", "s003", "s004", "s005"]
    assert "refused the tool's access token" in report.stopped
    platform.trust_tool(tool_key[1])
    platform.registration.set_platform_public_key(platform.public_pem)
    rerun = course.passback()
    assert rerun.sent == ["s002", "s003", "s004", "s005"] and rerun.already == ["s000", "s001"]
    assert set(platform.book.posts_per_user("1").values()) == {1} and read_back(course) == course.totals


def test_passing_refusals_and_a_timeout_are_tried_again(course):
    course.platform.fault("token", status=500)
    course.platform.fault("scores", count=2, status=503)
    course.platform.fault("scores", status=429, retry_after=0, after=1)   # carla's first try
    course.platform.fault("results", hang=1.0)                   # longer than the tool waits: a timeout
    report = course.passback(sender=course.sender(timeout=0.3))
    assert report.sent == ["anna", "carla"] and report.stopped == ""
    assert course.sleeps == [0.01, 0.01, 0.01, 0.02, 0.0]        # growing waits; the LMS's Retry-After: 0
    assert course.platform.book.posts_per_user("1") == {sub("anna"): 1, sub("carla"): 1}


def test_a_refusal_about_one_student_is_reported_and_the_rest_go_on(course):
    course.platform.fault("scores", status=422)                  # the LMS does not take anna's score
    report = course.passback()
    assert report.sent == ["carla"] and list(report.failed) == ["anna"] and report.stopped == ""
    assert "HTTP 422" in report.failed["anna"] and not report.complete
    assert course.passback().sent == ["anna"]                    # not in the log: the next run sends it


def test_a_platform_down_halfway_loses_nothing_sends_nothing_twice_and_a_rerun_finishes(
        tmp_path, platform, tool_key, capsys):
    course = class_of(20, tmp_path, platform, tool_key)
    platform.fault("scores", after=8, down=True)
    report = course.passback()
    assert len(report.sent) == 8 and report.left == sorted(course.totals)[8:] and not report.complete
    assert re.fullmatch(rf"the LMS did not answer at {re.escape(platform.url)}/lineitems/1/scores "
                        r"\(connection (refused|lost)\), also when tried again", report.stopped), report.stopped
    lms.show(report, Console(width=300))
    said = capsys.readouterr().out
    assert "left to send (12): s008, s009" in said and "run `labkit passback` again" in said
    platform.start(port=platform.port)                           # back up, with its gradebook
    rerun = course.passback()
    assert rerun.sent == sorted(course.totals)[8:] and rerun.already == sorted(course.totals)[:8]
    assert platform.book.posts_per_user("1") == {sub(s): 1 for s in course.totals}
    assert read_back(course) == course.totals


def test_the_line_item_is_found_or_created_from_the_courses_line_items(tmp_path, platform, tool_key):
    linked = platform.add_lineitem("Lab 6", 100, resource_link_id="link-6")
    by_link = Course(tmp_path, platform, tool_key, [result("anna", 81.0)], {"anna": sub("anna")},
                     lineitems=f"{platform.url}/lineitems", resource_link_id="link-6")
    assert by_link.passback().lineitem == linked
    (tmp_path / lms.LOG).unlink()
    by_tag = Course(tmp_path, platform, tool_key, [result("anna", 81.0)], {"anna": sub("anna")},
                    lineitems=f"{platform.url}/lineitems")
    made = by_tag.passback()
    assert made.lineitem == f"{platform.url}/lineitems/2" and made.sent == ["anna"]
    assert platform.book.lineitems["2"]["tag"] == LETTERS.assignment and platform.book.lineitems["2"][
        "scoreMaximum"] == 100
    assert by_tag.passback().lineitem == made.lineitem and len(platform.book.lineitems) == 2


def hub_login(platform: LoopbackPlatform, id_token: str, mapping: Path) -> str:
    """What the hub does with a launch: jupyterhub-ltiauthenticator validates the id_token against the
    platform's JWKS, and JupyterHub's login runs the kit's post_auth_hook."""
    from ltiauthenticator.lti13.auth import LTI13Authenticator
    from ltiauthenticator.lti13.validator import LTI13LaunchValidator

    validator = LTI13LaunchValidator()
    claims = validator.verify_and_decode_jwt(id_token, issuer=platform.registration.get_iss(),
                                             audience=platform.registration.get_client_id(),
                                             jwks_endpoint=f"{platform.url}/jwks", jwks_algorithms=["RS256"])
    validator.validate_id_token(claims)
    hub = LTI13Authenticator(username_key="custom_username", allow_all=True,
                             post_auth_hook=users.record_launches(mapping))
    return asyncio.run(hub.get_authenticated_user(None, claims))["name"]


def test_a_hub_launch_records_the_lms_id_and_an_expired_launch_records_nothing(tmp_path, platform, tool_key):
    from ltiauthenticator.lti13.error import TokenError

    course = class_of(2, tmp_path, platform, tool_key)
    mapping = tmp_path / "from_hub.csv"
    lineitem = course.settings.lti["lineitem"]
    for student in ("s000", "s001"):
        launch = platform.launch(sub(student), f"{student}@uni.example", lineitem, username=student.upper())
        assert hub_login(platform, launch, mapping) == student       # the hub's name, lower-cased
    stale = platform.launch("lms-stranger", "x@uni.example", lineitem, username="stranger", issued_ago=3600)
    with pytest.raises(TokenError, match="expired"):
        hub_login(platform, stale, mapping)
    rows = list(csv.DictReader(open(mapping, newline="")))
    assert [(r["student"], r["lms_user_id"], r["lineitem"]) for r in rows] == [
        ("s000", sub("s000"), lineitem), ("s001", sub("s001"), lineitem)]
    assert users.read(mapping, platform.registration.get_iss()) == {"s000": sub("s000"), "s001": sub("s001")}
    report = lms.passback(course.settings, course.grades, mapping, sender=course.sender())
    assert report.sent == ["s000", "s001"] and read_back(course) == course.totals


@pytest.mark.parametrize("change, named", [
    ({"issuer": "http://canvas.example.edu"}, "LTI['issuer'] must be an https:// URL"),
    ({"client_id": ""}, "LTI['client_id'] must be a non-empty string"),
    ({"auth_token_url": None}, "LTI['auth_token_url'] must be set"),
    ({"auth_token_url": "ftp://lms.example.edu/token"}, "LTI['auth_token_url'] must be an https:// URL"),
    ({"private_key": "missing.pem"}, "LTI['private_key'] must be an existing PEM file"),
    ({"lineitem": None}, "LTI['lineitem'] must be the URL of the assignment's line item"),
    ({"resource_link_id": "link-1"}, "LTI['resource_link_id'] must be used with LTI['lineitems']"),
    ({"feedback_url": "https://hub.example.edu/{name}"}, "LTI['feedback_url'] must be a URL whose only"),
    ({"secret": "x"}, "unknown: ['secret']"),
])
def test_each_wrong_lti_value_is_named(course, change, named):
    lti = {k: v for k, v in {**course.lti, **change}.items() if v is not None}
    with pytest.raises(config.ConfigError, match=re.escape(named)):
        config.from_values({**BASE, "LTI": lti}, SHIPPED)


def test_a_key_that_is_not_an_rsa_private_key_is_named(course):
    (course.folder / "public.pem").write_text(rsa_key()[1])
    with pytest.raises(config.ConfigError, match=r"LTI\['private_key'\] must be an unencrypted PEM file"):
        config.from_values({**BASE, "LTI": {**course.lti, "private_key": str(course.folder / "public.pem")}}, SHIPPED)


def test_the_hub_settings_in_docs_give_the_lti_login_and_record_each_launch(tmp_path):
    from ltiauthenticator.lti13.auth import LTI13Authenticator
    from traitlets.config import Config
    from traitlets.utils.importstring import import_item

    text = (config.REPO_ROOT / "docs" / "lms.md").read_text()
    block = re.search(r"### The hub side.*?```python\n(.*?)```", text, re.S).group(1)
    hub_config = Config()
    mapping = tmp_path / "lti_users.csv"
    exec(block.replace("/srv/nbgrader/lti_users.csv", str(mapping)), {"get_config": lambda: hub_config})
    assert import_item(hub_config.JupyterHub.authenticator_class) is LTI13Authenticator
    hub = LTI13Authenticator(config=hub_config, allow_all=True)
    assert hub.issuer == "https://canvas.instructure.com" and hub.client_id == {"10000000000042"}
    assert hub.jwks_endpoint == "https://sso.canvaslms.com/api/lti/security/jwks"
    claims = {"sub": "535fa085", "iss": hub.issuer, "aud": "10000000000042", "email": "anna@uni.example",
              "https://purl.imsglobal.org/spec/lti/claim/custom": {"username": "Anna"}}
    assert asyncio.run(hub.get_authenticated_user(None, claims))["name"] == "anna"
    assert users.read(mapping, hub.issuer) == {"anna": "535fa085"}


def test_the_lti_settings_shown_in_docs_and_course_config_are_valid(tmp_path, tool_key):
    (tmp_path / "lti_private.pem").write_text(tool_key[0])
    docs = (config.REPO_ROOT / "docs" / "lms.md").read_text()
    examples = re.findall(r"```python\n(LTI = \{.*?\})\n```", docs, re.S)
    shipped = re.search(r"^# LTI = \{.*?^# \}", SHIPPED.read_text(), re.S | re.M).group(0)
    examples.append("\n".join(line[2:] for line in shipped.splitlines()))
    assert len(examples) == 3
    for example in examples:
        values: dict = {}
        exec(example, values)
        checked = config.from_values({**BASE, "LTI": values["LTI"]}, tmp_path / "course_config.py").lti
        assert checked["private_key"] == tmp_path / "lti_private.pem" and "lineitem" in checked
