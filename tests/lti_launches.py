"""The LMS's side of an LTI 1.3 launch, on the loopback platform (tests/lti_platform.py), for the live hub
check: the OpenID Connect third-party-initiated login of the IMS Security Framework, as Canvas and Moodle
run it.

1. A person opens the assignment's link in the LMS: GET /launch?user=<LMS user id>. The platform sends
   the browser to the tool's login initiation URL (lti1p3platform's OIDC login: iss, login_hint,
   target_link_uri, lti_message_hint, client_id, lti_deployment_id).
2. The tool (the hub's jupyterhub-ltiauthenticator) keeps a state and a nonce in its cookies and sends the
   browser to the platform's authorization endpoint: GET /auth?response_type=id_token&...
3. The platform checks that request against its registration of the tool and answers with a form that
   posts a signed id_token (lti1p3platform's resource-link launch, with the nonce and state) to the
   tool's redirect URI; the browser submits it, and the tool validates it against the platform's JWKS.

`browse` does what a browser does with those answers (cookies, redirects, the form), for one person."""
from __future__ import annotations

import html.parser
from urllib.parse import urljoin

import requests
from jinja2 import Environment, PackageLoader
from lti_platform import CLIENT_ID, LEARNER, HTTPRequest, Launch, LoopbackPlatform
from lti1p3platform.oidc_login import OIDCLoginAbstract

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LINK = "link-transfer-lab"            # the resource link (the assignment's placement in the course)


class OIDCLogin(OIDCLoginAbstract):
    """lti1p3platform's login initiation: the redirect to the tool's OIDC login URL."""

    def set_lti_message_hint(self, **kwargs) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class ToolLaunches:
    """The tool registered on `platform` with its login initiation URL, redirect URI and target link, the
    people enrolled in the course, and the platform's two pages of a launch."""

    def __init__(self, platform: LoopbackPlatform, login_url: str, redirect_uri: str, target_link_uri: str,
                 lineitem: str, course: str):
        platform.registration.set_oidc_login_url(login_url).set_launch_url(target_link_uri)
        platform.pages.update({"/launch": self.start, "/auth": self.authorize})
        self.platform, self.redirect_uri, self.lineitem, self.course = platform, redirect_uri, lineitem, course
        self.people: dict[str, dict] = {}      # LMS user id -> username, e-mail, role
        self.issued: list[str] = []            # LMS user ids that got an id_token, in order
        self.form = Environment(loader=PackageLoader("lti1p3platform.framework", "templates"),
                                autoescape=True).get_template("launch.html")

    def enrol(self, user_id: str, username: str, email: str, role: str = LEARNER) -> str:
        """Add a person to the course; the URL of the assignment's link as they would open it."""
        self.people[user_id] = {"username": username, "email": email, "role": role}
        return f"{self.platform.url}/launch?user={user_id}"

    def start(self, query: dict):
        """Step 1: the LMS sends the person's browser to the tool's login initiation URL."""
        if query.get("user") not in self.people:
            return 404, {"Content-Type": "text/plain"}, b"no such person in the course"
        login = OIDCLogin(None, self.platform.conf)
        login.set_lti_message_hint(hint=LINK)
        return 302, {"Location": login.initiate_login(query["user"])}, b""

    def authorize(self, query: dict):
        """Step 3: the authentication request checked against the registration; the launch form."""
        wrong = self.refusal(query)
        if wrong:
            return 400, {"Content-Type": "text/plain"}, wrong.encode()
        person = self.people[query["login_hint"]]
        request = HTTPRequest.__new__(HTTPRequest)
        request.request = {"get_data": query}
        message = Launch(request, self.platform.conf)
        message.set_user_data(query["login_hint"], [person["role"]], full_name=person["username"],
                              email_address=person["email"])
        message.set_resource_link_claim(LINK, title="Transfer learning with a CNN")
        message.set_launch_context_claim(self.course, context_title="Deep learning", context_label="DL")
        message.set_custom_parameters_claim({"username": person["username"]})
        message.set_ags(self.lineitem.rsplit("/", 1)[0], self.lineitem)
        launch = message.lti_launch()
        self.issued.append(query["login_hint"])
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self.form.render(launch).encode()

    def refusal(self, query: dict) -> str:
        """Why the platform refuses an authentication request ("" when it does not)."""
        expected = {"response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                    "client_id": CLIENT_ID, "redirect_uri": self.redirect_uri, "lti_message_hint": LINK}
        for name, value in expected.items():
            if query.get(name) != value:
                return f"{name} must be {value!r}, got {query.get(name)!r}"
        if "openid" not in query.get("scope", "").split():
            return f"scope must include openid, got {query.get('scope')!r}"
        if query.get("login_hint") not in self.people:
            return f"login_hint must be a person of the course, got {query.get('login_hint')!r}"
        return "" if query.get("nonce") and query.get("state") else "nonce and state are required"


class FormReader(html.parser.HTMLParser):
    """The action and the fields of the first form on a page."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def browse(link: str, stop_at: str, timeout: float = 30) -> tuple[requests.Session, requests.Response, list[str]]:
    """Open `link` as a browser would (cookies, redirects, the auto-submitted form) until an answer that
    redirects to a path starting with `stop_at`, or that is neither a redirect nor a form; the session,
    that answer and the URLs visited."""
    session, visited = requests.Session(), []
    reply = session.get(link, allow_redirects=False, timeout=timeout)
    for _ in range(10):
        visited.append(reply.url)
        if reply.is_redirect:
            target = urljoin(reply.url, reply.headers["Location"])
            if requests.utils.urlparse(target).path.startswith(stop_at):
                return session, reply, visited
            reply = session.get(target, allow_redirects=False, timeout=timeout)
            continue
        form = FormReader()
        form.feed(reply.text if reply.ok else "")
        if form.action is None:
            return session, reply, visited
        reply = session.post(urljoin(reply.url, form.action), data=form.fields, allow_redirects=False,
                             timeout=timeout)
    raise AssertionError(f"more than 10 steps opening {link}: {visited}")
