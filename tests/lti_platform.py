"""A real LTI 1.3 platform on loopback for the passback tests and benchmark: the `lti1p3platform` package
(its registration, JWKS, client-credentials token with a JWT bearer assertion, access-token checks,
Assignment and Grade Services handlers and launch messages) behind a small http.server layer, with an
in-memory gradebook of line items and scores. The layer only routes requests to the library and turns
its answers into HTTP; it can also refuse, hang or go down on purpose."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import (LineItemNotFoundException, LtiException, MissingRequiredClaim,
                                       UnsupportedGrantType)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from lti1p3platform.response import generate_next_link
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService

CLIENT_ID, DEPLOYMENT_ID = "labkit-tool", "deployment-1"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def rsa_key() -> tuple[str, str]:
    """(private PEM, public PEM) of a new 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, registration: Registration) -> None:
        self._registration = registration

    def get_registration_by_params(self, **kwargs) -> Registration:
        return self._registration


class Gradebook:
    """The platform's line items and every score posted to them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lineitems: dict[str, dict] = {}
        self.posts: list[tuple[str, dict]] = []            # (line item id, score) in the order accepted
        self.latest: dict[tuple[str, str], dict] = {}      # (line item id, user) -> the score in force

    def scores(self, lineitem: str) -> dict[str, float]:
        return {user: score["scoreGiven"] for (item, user), score in self.latest.items() if item == lineitem}

    def posts_per_user(self, lineitem: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item, score in self.posts:
            if item == lineitem:
                counts[score["userId"]] = counts.get(score["userId"], 0) + 1
        return counts


class AGS(AssignmentsGradesService):
    """lti1p3platform's Assignment and Grade Services on the in-memory gradebook."""

    def __init__(self, request, conf, book: Gradebook, base: str, lineitem_url: str | None):
        super().__init__(request, conf, f"{base}/lineitems", lineitem_url)
        self.book, self.base = book, base

    def _item(self, line_item_id: str) -> dict:
        if line_item_id not in self.book.lineitems:
            raise LineItemNotFoundException(line_item_id)
        return self.book.lineitems[line_item_id]

    def find_lineitems(self, page=1, limit=None, line_item_id=None, resource_link_id=None, resource_id=None,
                       tag=None):
        items = [i for i in self.book.lineitems.values()
                 if (not resource_link_id or i.get("resourceLinkId") == resource_link_id)
                 and (not resource_id or i.get("resourceId") == resource_id) and (not tag or i.get("tag") == tag)]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id):
        return self._item(line_item_id)

    def create_lineitem(self, creation_data):
        with self.book.lock:
            number = str(len(self.book.lineitems) + 1)
            item = {**creation_data, "id": f"{self.base}/lineitems/{number}"}
            self.book.lineitems[number] = item
        return item

    def update_lineitem(self, update_data):
        number = update_data["id"].rstrip("/").rsplit("/", 1)[-1]
        self._item(number).update({k: v for k, v in update_data.items() if k != "id"})
        return self._item(number)

    def delete_lineitem(self, line_item_id):
        self._item(line_item_id)
        del self.book.lineitems[line_item_id]

    def update_score(self, line_item_id, score):
        self._item(line_item_id)
        key = (line_item_id, str(score["userId"]))
        with self.book.lock:
            before = self.book.latest.get(key)
            stamp = datetime.fromisoformat(score["timestamp"].replace("Z", "+00:00"))
            if before and datetime.fromisoformat(before["timestamp"].replace("Z", "+00:00")) >= stamp:
                return UpdateScoreStatus.OLD_TIMESTAMP
            self.book.posts.append((line_item_id, dict(score)))
            self.book.latest[key] = dict(score)
        return UpdateScoreStatus.SUCCESS if before else UpdateScoreStatus.CREATED

    def get_results(self, line_item_id, page=1, limit=None, user_id=None):
        item = self._item(line_item_id)
        results = [{"id": f"{item['id']}/results/{user}", "scoreOf": item["id"], "userId": user,
                    "resultScore": s["scoreGiven"], "resultMaximum": s["scoreMaximum"], "comment": s.get("comment")}
                   for (number, user), s in sorted(self.book.latest.items()) if number == line_item_id]
        return {"content": results, "has_next": False, "next": None}


class HTTPRequest(Request):
    def build_metadata(self, handler):
        parts = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        kind = handler.headers.get("Content-Type", "")
        return {"method": handler.command, "headers": handler.headers, "content_type": kind, "path": parts.path,
                "get_data": dict(parse_qsl(parts.query)),
                "form_data": dict(parse_qsl(body.decode())) if "form" in kind else {},
                "json": json.loads(body) if body and "json" in kind else None}


class Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class LoopbackPlatform:
    """The platform at http://127.0.0.1:<port>, with the tool (client CLIENT_ID) registered by its public key."""

    def __init__(self, tool_public_pem: str):
        self.private_pem, self.public_pem = rsa_key()
        self.registration = (Registration().set_iss("http://127.0.0.1").set_client_id(CLIENT_ID)
                             .set_deployment_id(DEPLOYMENT_ID).set_launch_url("http://127.0.0.1/hub/lti13/oauth_callback")
                             .set_platform_public_key(self.public_pem).set_platform_private_key(self.private_pem))
        self.trust_tool(tool_public_pem)
        self.conf = PlatformConf(registration=self.registration)
        self.book = Gradebook()
        self.faults: list[dict] = []      # what the next requests of a kind meet: refusal, hang, going down
        self.requests: list[tuple[str, str]] = []
        self.server = None
        self.port = 0
        self.down = False
        self.pages: dict = {}             # path -> page(query) -> (status, headers, body): the LMS's own pages

    def trust_tool(self, *public_pems: str) -> None:
        """The tool keys the platform accepts (what an instructor pastes into the LMS)."""
        self.registration.set_tool_key_set({"keys": [Registration.get_jwk(pem) for pem in public_pems]})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, private_key_path, **extra) -> dict:
        """The LTI dict for course_config.py that this platform's registration screen would give."""
        return {"issuer": self.registration.get_iss(), "client_id": CLIENT_ID, "deployment_id": DEPLOYMENT_ID,
                "auth_token_url": f"{self.url}/token", "key_set_url": f"{self.url}/jwks",
                "auth_login_url": f"{self.url}/auth", "private_key": str(private_key_path), **extra}

    def add_lineitem(self, label: str, maximum: float, resource_link_id: str = "") -> str:
        number = str(len(self.book.lineitems) + 1)
        self.book.lineitems[number] = {"id": f"{self.url}/lineitems/{number}", "label": label,
                                       "scoreMaximum": maximum, "resourceLinkId": resource_link_id}
        return self.book.lineitems[number]["id"]

    def fault(self, kind: str, count: int = 1, after: int = 0, **how) -> None:
        """The `count` requests of `kind` ("token", "scores", "results", "any"), after `after` more of them
        have been answered, get `how`: status (and retry_after), hang (seconds, then no answer), or down
        (no answer, and the server stops)."""
        self.faults.append({"kind": kind, "count": count, "after": after, **how})

    def launch(self, user_id: str, email: str, lineitem: str, username: str = "", issued_ago: int = 0) -> str:
        """A resource-link launch's id_token (what the platform posts to the hub), issued `issued_ago` s ago."""
        request = HTTPRequest.__new__(HTTPRequest)
        request.request = {"get_data": {"nonce": "n-0", "state": "s-0", "client_id": CLIENT_ID,
                                        "redirect_uri": "http://127.0.0.1/hub/lti13/oauth_callback"}}
        message = Launch(request, self.conf)
        message.set_user_data(user_id, [LEARNER], full_name=username, email_address=email)
        message.set_resource_link_claim("link-1", title="transfer learning")
        message.set_launch_context_claim("course-1", context_title="Deep learning", context_label="DL")
        message.set_custom_parameters_claim({"username": username})
        message.set_ags(f"{self.url}/lineitems", lineitem)
        token = message.lti_launch()["id_token"]
        if issued_ago:
            claims = jwt.decode(token, options={"verify_signature": False})
            claims.update(iat=claims["iat"] - issued_ago, exp=claims["exp"] - issued_ago)
            token = self.registration.platform_encode_and_sign(claims)
        return token

    # --- the HTTP layer ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> LoopbackPlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                platform.serve(self)

            do_POST = do_PUT = do_DELETE = do_GET

        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.shutdown()
            server.server_close()

    def _fault_for(self, kind: str) -> dict | None:
        for fault in self.faults:
            if fault["kind"] in (kind, "any") and fault["count"] > 0:
                if fault["after"] > 0:
                    fault["after"] -= 1
                    return None
                fault["count"] -= 1
                return fault
        return None

    def serve(self, handler) -> None:
        path = urlsplit(handler.path).path.rstrip("/")
        parts = path.strip("/").split("/")
        kind = "token" if path == "/token" else (parts[-1] if parts[0] == "lineitems" and len(parts) == 3 else "other")
        if self.down:
            return                                        # going down: nothing more is answered
        self.requests.append((handler.command, path))
        fault = self._fault_for(kind)
        if fault and fault.get("hang"):
            time.sleep(fault["hang"])
            return                                        # no answer: the connection just closes
        if fault and fault.get("down"):
            self.down = True                              # the platform goes away, this request unanswered
            threading.Thread(target=self.stop).start()
            return
        if fault and fault.get("status"):
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            return self.reply(handler, fault["status"], {"error": "refused on purpose"}, headers=headers)
        if path in self.pages:
            status, headers, body = self.pages[path](dict(parse_qsl(urlsplit(handler.path).query)))
            return self.send(handler, status, body, headers)
        request = HTTPRequest(handler)
        try:
            if path == "/jwks":
                return self.reply(handler, 200, self.conf.get_jwks())
            if path == "/token":
                return self.reply(handler, 200, self.conf.get_access_token(request.form_data))
            if parts[0] != "lineitems":
                return self.reply(handler, 404, {"error": "not found"})
            item = parts[1] if len(parts) > 1 else None
            service = AGS(request, self.conf, self.book, self.url, f"{self.url}/lineitems/{item}" if item else None)
            action = {(1, "GET"): service.handle_get_lineitems, (1, "POST"): service.handle_create_lineitem,
                      (2, "GET"): service.handle_get_lineitem, (2, "PUT"): service.handle_update_lineitem,
                      (2, "DELETE"): service.handle_delete_lineitem}.get((len(parts), handler.command))
            if len(parts) == 3:
                action = {"scores": service.handle_update_score, "results": service.handle_get_results}.get(parts[2])
            if action is None:
                return self.reply(handler, 405, {"error": "not allowed"})
            response = service.handle_resp(action, **({"line_item_id": item} if item else {}))
        except (LtiException, MissingRequiredClaim, UnsupportedGrantType, jwt.PyJWTError, KeyError) as error:
            status = 400 if path == "/token" else 401
            return self.reply(handler, status, {"error": "invalid_client" if status == 400 else "invalid_token",
                                                "error_description": str(error) or type(error).__name__})
        self.respond(handler, response)

    def respond(self, handler, response) -> None:
        """An lti1p3platform Response as HTTP, as its Django adapter does."""
        if not 200 <= response.code < 300:
            return self.reply(handler, response.code, {"error": response.message}, response.media_type)
        result, page = response.result, isinstance(response.result, dict)
        headers = {"Link": generate_next_link(result["next"])} if page and result.get("next") else {}
        data = result["content"] if page and "content" in result else result
        self.reply(handler, response.code, data, response.media_type, headers)

    @staticmethod
    def reply(handler, status: int, data, media_type: str = "application/json", headers: dict | None = None) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        LoopbackPlatform.send(handler, status, body, {"Content-Type": media_type, **(headers or {})})

    @staticmethod
    def send(handler, status: int, body: bytes, headers: dict) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
