"""The kit as an LTI 1.3 tool, on pylti1p3: its registration from LTI in course_config.py, its public key
for the LMS, the Assignment and Grade Services calls that `labkit passback` makes (access token, line
item, results, scores), and `Sender`, which tries them again when the LMS refuses for a passing reason.
pylti1p3 signs the client-credentials assertion and holds the token; this module adds a time limit to
every request and reads results page by page."""
from __future__ import annotations

import time
from pathlib import Path

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfDict

from autograder.integrations.lms.export import ExportError

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCORE, RESULTS, LINEITEM_READ, LINEITEM = (AGS + s for s in ("score", "result.readonly", "lineitem.readonly",
                                                              "lineitem"))
RESULT_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
TRANSIENT = {408, 425, 429, 500, 502, 503, 504}   # refusals for a passing reason: tried again
MAX_WAIT = 60.0                                  # seconds, the longest wait between two tries


class PassbackError(ExportError):
    """The grades cannot go to the LMS from what is here; the message says what to fix."""


class TimedSession(requests.Session):
    """A requests session that gives every request a time limit (pylti1p3 sets none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "labkit-passback (pylti1p3)"

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def public_pem(private_key: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def tool_config(lti: dict) -> ToolConfDict:
    """pylti1p3's tool configuration for the one registration in LTI."""
    issuer = lti["issuer"]
    conf = ToolConfDict({issuer: {
        "default": True,
        "client_id": lti["client_id"],
        "auth_login_url": lti.get("auth_login_url", issuer),   # used by launches only, which the hub handles
        "auth_token_url": lti["auth_token_url"],
        "auth_audience": lti.get("auth_audience"),
        "key_set_url": lti["key_set_url"],
        "key_set": None,
        "deployment_ids": [lti["deployment_id"]],
    }})
    conf.set_private_key(issuer, lti["private_key"].read_text())
    conf.set_public_key(issuer, public_pem(lti["private_key"]))
    return conf


def public_jwks(lti: dict) -> dict:
    """The tool's public key set, to paste into the LMS (Canvas: Public JWK; Moodle: keyset or public key)."""
    return tool_config(lti).get_jwks()


class Tool:
    """One LMS registration, one line item: the access token, reading results, posting scores."""

    def __init__(self, lti: dict, timeout: float = 30.0):
        self.lti, self.timeout = lti, timeout
        conf = tool_config(lti)
        self.registration = conf.find_registration_by_params(lti["issuer"], lti["client_id"])
        self.scopes = [SCORE, RESULTS, LINEITEM if "lineitems" in lti else LINEITEM_READ]
        self.connect()

    def connect(self) -> None:
        """A new connection that has no access token yet (after the LMS refused the one it had)."""
        self.connector = ServiceConnector(self.registration, TimedSession(self.timeout))
        data = {"scope": self.scopes, **{k: self.lti[k] for k in ("lineitem", "lineitems") if k in self.lti}}
        self.service = AssignmentsGradesService(self.connector, data)

    def token(self) -> str:
        """The access token for Assignment and Grade Services (the client-credentials grant)."""
        return self.connector.get_access_token(self.scopes)

    def line_item(self, assignment: str, maximum: float) -> str:
        """The line item's URL: LTI['lineitem'], or found in (or added to) LTI['lineitems']."""
        if "lineitem" in self.lti:
            return self.lti["lineitem"]
        wanted = (LineItem().set_tag(assignment).set_label(assignment).set_resource_id(assignment)
                  .set_score_maximum(maximum))
        find_by = "tag"
        if "resource_link_id" in self.lti:
            wanted.set_resource_link_id(self.lti["resource_link_id"])
            find_by = "resource_link_id"
        found = self.service.find_or_create_lineitem(wanted, find_by=find_by)
        if not found.get_id():
            raise PassbackError(f"the LMS gave no URL for the line item of {assignment}")
        return found.get_id()

    def results(self, lineitem: str) -> dict[str, dict]:
        """LMS user id -> the result the LMS holds on the line item, every page of them."""
        url = AssignmentsGradesService._add_url_path_ending(lineitem, "results")
        found = {}
        while url:
            page = self.connector.make_service_request(self.scopes, url, accept=RESULT_TYPE)
            for result in page["body"] if isinstance(page["body"], list) else []:
                if isinstance(result, dict) and result.get("userId") is not None:
                    found[str(result["userId"])] = result
            url = page["next_page_url"]
        return found

    def post(self, lineitem: str, user_id: str, score: float, maximum: float, comment: str, timestamp: str,
             submitted_at: str = "") -> None:
        grade = (Grade().set_user_id(user_id).set_score_given(score).set_score_maximum(maximum)
                 .set_comment(comment).set_timestamp(timestamp)
                 .set_activity_progress("Completed").set_grading_progress("FullyGraded"))
        if submitted_at:
            grade.set_extra_claims({"submission": {"submittedAt": submitted_at}})
        self.service.put_grade(grade, LineItem({"id": lineitem}))


def answer(error: Exception) -> str:
    """What the LMS answered, in one line: status, URL and the start of its body."""
    if isinstance(error, LtiServiceException):
        text = " ".join(error.response.text.split())[:200]
        return f"HTTP {error.response.status_code} from {error.response.url}" + (f": {text}" if text else "")
    return f"{type(error).__name__}: {error}"


class Sender:
    """Calls to the LMS with retries for passing refusals, and one token renewal on a 401."""

    def __init__(self, tool: Tool, retries: int = 4, backoff: float = 1.0, sleep=time.sleep):
        self.tool, self.retries, self.backoff, self.sleep = tool, retries, backoff, sleep

    def attempt(self, call):
        for attempt in range(self.retries + 1):
            try:
                return call()
            except LtiServiceException as error:
                if error.response.status_code not in TRANSIENT or attempt == self.retries:
                    raise
                wait = retry_after(error.response)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.retries:
                    raise
                wait = None
            self.sleep(min(MAX_WAIT, wait if wait is not None else self.backoff * 2 ** attempt))

    def renewed(self, call):
        """call(), with a fresh access token once if the LMS answers 401 (the token expired or was revoked)."""
        try:
            return self.attempt(call)
        except LtiServiceException as error:
            if error.response.status_code != 401:
                raise
        self.tool.connect()
        self.token()
        return self.attempt(call)

    def token(self) -> None:
        """Get an access token; TokenRefused when the LMS's token endpoint says no."""
        try:
            self.attempt(self.tool.token)
        except LtiServiceException as error:
            raise TokenRefused(answer(error)) from None


class TokenRefused(Exception):
    """The LMS's token endpoint said no."""


def retry_after(response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
