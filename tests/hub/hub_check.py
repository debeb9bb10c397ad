"""The live JupyterHub check: a real hub, real accounts, the whole term of the lab through it, from the
students' LTI 1.3 launches in a real LTI platform on loopback to their scores in its gradebook.

Started by tests/hub/run.sh (which installs what it needs, as root); this file runs the steps. Each
step has a timeout and prints `PASS name` or `FAIL name: why`; the last line is `N passed, N failed`.
A step that cannot run because an earlier one failed counts as failed, with the reason.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid
from contextlib import contextmanager
from pathlib import Path

import nbformat
import requests
import websocket

HERE = Path(__file__).resolve().parent
CHECKOUT = Path(os.environ.get("LABKIT_HUB_CHECKOUT", HERE.parent.parent))
STATE = Path(os.environ["LABKIT_HUB_STATE"])
NODE_PREFIX = Path(os.environ["LABKIT_HUB_NODE"])
VENV = Path(sys.prefix)
sys.path.insert(0, str(CHECKOUT / "tests"))

import assignment_helpers as helpers  # noqa: E402  (builds the students' notebooks from the release)
from accounts import create as create_accounts  # noqa: E402
from lti_launches import INSTRUCTOR as INSTRUCTOR_ROLE  # noqa: E402  (the LMS's side of a launch)
from lti_launches import LINK, ToolLaunches, browse  # noqa: E402
from lti_platform import LEARNER, LoopbackPlatform, rsa_key  # noqa: E402  (a real LTI 1.3 platform: lti1p3platform)
from term import Term  # noqa: E402  (the due date, extension and zero date, and when each student handed in)

from autograder.course import config  # noqa: E402
from autograder.course import vocabulary as authoring  # noqa: E402
from autograder.integrations.lms import users as lms_users  # noqa: E402
from autograder.integrations.lms.lti import Tool  # noqa: E402
from autograder.reporting.class_results import activity_columns  # noqa: E402

SETTINGS = config.load(CHECKOUT / "course_config.py")
COURSE, ASSIGNMENT, NOTEBOOK = SETTINGS.course_id, SETTINGS.assignment, SETTINGS.notebook_name
GRADER, INSTRUCTOR = f"grader-{COURSE}", "instructor1"
# student -> what their notebook does (built from the release notebook in the student's server)
STUDENTS = {"student1": "correct", "student2": "base not frozen", "student3": "crashes"}
HAND_SCORES = {"student1": 9.0, "student2": 6.0, "student3": 2.0}   # activity 13, given in formgrader
CONTROL_SERVER = "without-csp-fix"    # an instructor's named server that the fix is kept off
COURSE_DIR = Path(f"/home/{GRADER}/labkit")
SECRET = secrets.token_hex(16)
TERM = Term()
LMS_IDS = {user: f"lms-{uuid.uuid4()}" for user in [INSTRUCTOR, *STUDENTS]}   # the LMS's opaque user ids (sub)
LTI_USERS = STATE / "lti_users.csv"                # docs/lms.md: the file the hub writes at each launch
TOOL_KEY = rsa_key()                               # the course's LTI key (LTI['private_key'])
CHECK_TOKEN = secrets.token_hex(32)
EXCHANGE = STATE / "exchange"
JUPYTER_CONFIG = STATE / "jupyter"
IMAGES = CHECKOUT / "docs" / "images"


class StepTimeout(Exception):
    pass


@contextmanager
def deadline(seconds: int, what: str):
    def expire(signum, frame):
        raise StepTimeout(f"{what} did not finish within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Run:
    """Named steps with timeouts; a failed step's dependents are reported as not run."""

    def __init__(self):
        self.passed, self.failed, self.failed_names = 0, 0, set()
        self.started = time.monotonic()

    def step(self, name: str, seconds: int, function, *args, needs: tuple = (), counted: bool = True):
        missing = [n for n in needs if n in self.failed_names]
        if missing:
            return self.fail(name, f"not run: needs {', '.join(missing)}")
        began = time.monotonic()
        try:
            with deadline(seconds, name):
                value = function(*args)
        except Exception as error:  # noqa: BLE001  (every failure is reported, then the run goes on)
            detail = str(error) if isinstance(error, (AssertionError, StepTimeout)) else \
                "".join(traceback.format_exception_only(type(error), error)).strip()
            return self.fail(name, detail)
        self.passed += counted
        said = f": {value}" if isinstance(value, str) else ""
        print(f"{'PASS' if counted else 'ran '} {name} ({time.monotonic() - began:.0f} s){said}", flush=True)
        return value

    def fail(self, name: str, why: str):
        self.failed += 1
        self.failed_names.add(name)
        print(f"FAIL {name}: {why}", flush=True)
        return None


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every probe stays bound until all are chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def choose_ports():
    """The hub's public and internal ports, the proxy's API port and the course service's port."""
    global HUB_PORT, HUB_API_PORT, PROXY_API_PORT, SERVICE_PORT, BASE
    HUB_PORT, HUB_API_PORT, PROXY_API_PORT, SERVICE_PORT = free_ports(4)
    BASE = f"http://127.0.0.1:{HUB_PORT}"


choose_ports()


# ---- the machine: accounts, course folder, nbgrader's global config and exchange ---------------

def make_accounts():
    """A grader, an instructor and three students; the grader's home closed to the others."""
    create_accounts([GRADER, INSTRUCTOR, *STUDENTS])
    os.chmod(f"/home/{GRADER}", 0o700)   # docs/jupyterhub.md: the course folder is the grader's alone
    return f"{GRADER}, {INSTRUCTOR}, {', '.join(STUDENTS)}"


def grader_ids() -> tuple[int, int]:
    entry = pwd.getpwnam(GRADER)
    return entry.pw_uid, entry.pw_gid


def copy_course():
    """The course folder: the checkout's tracked files, owned by the grader (a clone, as the docs say)."""
    listed = subprocess.run(["git", "-C", str(CHECKOUT), "ls-files", "-z"], capture_output=True, timeout=60)
    if listed.returncode != 0:
        raise AssertionError(f"{CHECKOUT} is not a git checkout: {listed.stderr.decode()[-300:]}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = CHECKOUT / name
        if source.is_file():
            target = COURSE_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    uid, gid = grader_ids()
    for folder, _, files in os.walk(COURSE_DIR.parent):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)
    return str(COURSE_DIR)


def write_nbgrader_global_config():
    """nbgrader's global config (docs/jupyterhub.md), in a config folder every account's server reads."""
    doc = (CHECKOUT / "docs" / "jupyterhub.md").read_text()
    section = doc[doc.index("## `/etc/jupyter/nbgrader_config.py`"):]
    text = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    text, count = re.subn(r'c\.Exchange\.root = "[^"]*"', f'c.Exchange.root = "{EXCHANGE}"', text)
    assert count == 1, "docs/jupyterhub.md: the global nbgrader config sets c.Exchange.root once"
    STATE.chmod(0o755)
    EXCHANGE.mkdir()
    EXCHANGE.chmod(0o777)   # the docs' `chmod ugo+rwx`
    JUPYTER_CONFIG.mkdir()
    (JUPYTER_CONFIG / "nbgrader_config.py").write_text(text)
    JUPYTER_CONFIG.chmod(0o755)
    return f"exchange {EXCHANGE}"


# ---- the grader's commands ------------------------------------------------------------------------

def grader_env() -> dict:
    return {"HOME": f"/home/{GRADER}", "USER": GRADER, "LOGNAME": GRADER, "LANG": "C.UTF-8",
            "PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin", "LABKIT_SECRET": SECRET,
            "LABKIT_CONFIG": str(COURSE_DIR / "course_config.py"), "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIG),
            "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"}


def as_grader(*command: str, timeout: int) -> subprocess.CompletedProcess:
    """A command in the grader account, from the course folder (as its terminal would run it)."""
    env = [f"{key}={value}" for key, value in grader_env().items()]
    done = subprocess.run(["runuser", "-u", GRADER, "--", "env", "-i", *env, *command], cwd=COURSE_DIR,
                          capture_output=True, text=True, timeout=timeout)
    log = STATE / "logs" / f"grader-{command[0]}-{command[1] if len(command) > 1 else ''}.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text(done.stdout + "\n---- stderr\n" + done.stderr)
    if done.returncode != 0:
        raise AssertionError(f"`{' '.join(command)}` as {GRADER} exited {done.returncode}:\n"
                             f"{(done.stdout + done.stderr)[-2500:]}")
    return done


def grader_prepare():
    as_grader("labkit", "prepare", timeout=600)
    hidden = hidden_split()
    mode = SETTINGS_COURSE().cache_dir.stat().st_mode & 0o777
    assert mode == 0o700, \
        f"expected the cache {SETTINGS_COURSE().cache_dir} closed to others (0o700), found {oct(mode)}"
    return f"hidden split: {sum(1 for _ in hidden.rglob('*.png'))} images in {hidden} (cache mode {oct(mode)})"


def grader_release():
    as_grader("labkit", "release", timeout=300)
    released = COURSE_DIR / "release" / ASSIGNMENT / NOTEBOOK
    assert released.is_file(), f"expected {released} after `labkit release`, found no file"
    return str(released)


_course_settings = None


def SETTINGS_COURSE():  # noqa: N802  (the course folder's settings, as the grader's commands see them)
    global _course_settings
    if _course_settings is None:
        os.environ["LABKIT_SECRET"] = SECRET
        _course_settings = config.load(COURSE_DIR / "course_config.py")
    return _course_settings


def hidden_split() -> Path:
    return SETTINGS_COURSE().hidden_test_dir


# ---- the hub --------------------------------------------------------------------------------------

def sample_hub_config() -> str:
    doc = (CHECKOUT / "docs" / "jupyterhub.md").read_text()
    section = doc[doc.index("## Sample `jupyterhub_config.py`"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def substitute(text: str, pattern: str, replacement: str) -> str:
    text, count = re.subn(pattern, lambda _: replacement, text)
    assert count == 1, f"the sample hub config must have one line matching {pattern!r}, found {count}"
    return text


HARNESS = """
# ---- the hub check's own settings (not part of the sample) ----
import os
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {hub_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_api_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{state}/hub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/hub/cookie_secret"
c.JupyterHub.pid_file = "{state}/hub/jupyterhub.pid"
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = ["{venv}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {{"JUPYTER_CONFIG_PATH": "{jupyter_config}"}}
c.JupyterHub.allow_named_servers = True
for service in c.JupyterHub.services:
    service.setdefault("environment", {{}})["JUPYTER_CONFIG_PATH"] = "{jupyter_config}"

# An instructor's named server "{control}" is started without the formgrader fix: the browser
# check expects its formgrader frame to be refused (so the check notices when upstream changes).
_sample_hook = c.Spawner.pre_spawn_hook
def _hook(spawner):
    if spawner.name != "{control}":
        _sample_hook(spawner)
c.Spawner.pre_spawn_hook = _hook

# the check's own API client: starts servers and makes the users' tokens
c.JupyterHub.services.append({{"name": "hub-check", "api_token": os.environ["LABKIT_HUB_CHECK_TOKEN"]}})
c.JupyterHub.load_roles.append({{"name": "hub-check", "services": ["hub-check"],
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "access:services",
               "list:users", "read:users", "read:groups", "list:groups"]}})
"""


def write_hub_config():
    text = sample_hub_config()
    text = substitute(text, r"(?m)^instructors = \[.*\]", f'instructors = ["{INSTRUCTOR}"]')
    text = substitute(text, r"(?m)^students = \[.*\]", f"students = {list(STUDENTS)!r}")
    text = substitute(text, r'(?m)^kit_env = "[^"]*"', f'kit_env = "{VENV}"')
    text = substitute(text, r'"LABKIT_SECRET": "[^"]*"', f'"LABKIT_SECRET": "{SECRET}"')
    text = substitute(text, r'"url": "http://127\.0\.0\.1:\d+"', f'"url": "http://127.0.0.1:{SERVICE_PORT}"')
    text += "\n# ---- docs/lms.md: the LTI 1.3 login, with the loopback platform's registration ----\n"
    text += lms_hub_config()
    register_tool()
    text += HARNESS.format(hub_port=HUB_PORT, hub_api_port=HUB_API_PORT, proxy_api_port=PROXY_API_PORT,
                           state=STATE, venv=VENV, jupyter_config=JUPYTER_CONFIG, control=CONTROL_SERVER)
    (STATE / "hub").mkdir(mode=0o700, exist_ok=True)
    (STATE / "hub" / "jupyterhub_config.py").write_text(text)
    return f"hub on {BASE}"


def lms_hub_config() -> str:
    """docs/lms.md's hub block, with the values the loopback platform's registration gives."""
    doc = (CHECKOUT / "docs" / "lms.md").read_text()
    text = re.search(r"```python\n(.*?)```", doc[doc.index("### The hub side"):], re.S).group(1)
    registration = PLATFORM.registration
    for key, value in [("issuer", f'"{registration.get_iss()}"'), ("client_id", f'["{registration.get_client_id()}"]'),
                       ("authorize_url", f'"{PLATFORM.url}/auth"'), ("jwks_endpoint", f'"{PLATFORM.url}/jwks"')]:
        text = substitute(text, rf"(?m)^c\.LTI13Authenticator\.{key} = .*$", f"c.LTI13Authenticator.{key} = {value}")
    return substitute(text, r'"/srv/nbgrader/lti_users\.csv"', f'"{LTI_USERS}"')


hub_process = None


def start_hub(attempts: int = 3):
    """Start the hub; a port another process took meanwhile means new ports and another try."""
    for attempt in range(1, attempts + 1):
        if launch_hub():
            version = requests.get(f"{BASE}/hub/api/", timeout=5).json()["version"]
            return f"JupyterHub {version}, pid {hub_process.pid}, {BASE}" + (f" (try {attempt})" if attempt > 1 else "")
        log = hub_log()
        if attempt == attempts or "address already in use" not in log.lower():
            raise AssertionError(f"jupyterhub exited with {hub_process.returncode}:\n{hub_log_tail()}")
        print(f"  the hub found a port taken (try {attempt}); new ports", flush=True)
        stop_hub()
        choose_ports()
        write_hub_config()


def launch_hub() -> bool:
    """True once the hub answers its API; False if it exits first."""
    global hub_process
    env = dict(os.environ, LABKIT_HUB_CHECK_TOKEN=CHECK_TOKEN)
    log = open(STATE / "logs" / "jupyterhub.log", "w")
    hub_process = subprocess.Popen([str(VENV / "bin" / "jupyterhub"), "-f", "jupyterhub_config.py"],
                                   cwd=STATE / "hub", env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    (STATE / "hub.pid").write_text(str(hub_process.pid))   # run.sh's trap stops the hub by this PID
    while hub_process.poll() is None:
        try:
            if requests.get(f"{BASE}/hub/api/", timeout=5).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    # the hub leaves its proxy behind when it dies at start: stop the whole session
    with contextlib.suppress(ProcessLookupError):
        os.killpg(hub_process.pid, signal.SIGTERM)
    return False


def hub_log() -> str:
    path = STATE / "logs" / "jupyterhub.log"
    return path.read_text(errors="replace") if path.exists() else ""


def hub_log_tail(lines: int = 30) -> str:
    """The hub's own last lines: the proxy's, which can flood the log, are counted, not shown."""
    own = [line for line in hub_log().splitlines() if "[ConfigProxy]" not in line]
    proxy = len(hub_log().splitlines()) - len(own)
    note = [f"({proxy} lines from configurable-http-proxy left out)"] if proxy else []
    return "\n".join(own[-lines:] + note)


def stop_hub():
    if hub_process and hub_process.poll() is None:
        hub_process.terminate()
        try:
            hub_process.wait(30)
        except subprocess.TimeoutExpired:
            hub_process.kill()


def hub_api(method: str, path: str, token: str = CHECK_TOKEN, **kwargs) -> requests.Response:
    return requests.request(method, f"{BASE}/hub/api{path}", headers={"Authorization": f"token {token}"},
                            timeout=kwargs.pop("timeout", 30), **kwargs)


TOKENS: dict[str, str] = {}


def make_tokens():
    """An API token for each user, made by the hub for that user (it acts with the user's rights)."""
    for user in [INSTRUCTOR, *STUDENTS]:
        reply = hub_api("POST", f"/users/{user}/tokens", json={"note": "hub check", "expires_in": 3600})
        assert reply.status_code == 201, f"token for {user}: {reply.status_code} {reply.text[:300]}"
        TOKENS[user] = reply.json()["token"]
    return f"{len(TOKENS)} tokens"


def start_servers():
    """Each student's and the instructor's server, and the instructor's control server, via the REST API."""
    wanted = [(user, "") for user in [INSTRUCTOR, *STUDENTS]] + [(INSTRUCTOR, CONTROL_SERVER)]
    for user, name in wanted:
        reply = hub_api("POST", f"/users/{user}/servers/{name}" if name else f"/users/{user}/server")
        assert reply.status_code in (201, 202), f"start {user}/{name}: {reply.status_code} {reply.text[:300]}"
    pending = set(wanted)
    while pending:
        for user, name in sorted(pending):
            server = hub_api("GET", f"/users/{user}").json()["servers"].get(name) or {}
            if server.get("ready"):
                pending.discard((user, name))
            elif not server.get("pending") and not server:
                raise AssertionError(f"the server of {user} {name!r} stopped while starting:\n{hub_log_tail()}")
        time.sleep(1)
    for user in STUDENTS:   # through the proxy, as the user
        reply = requests.get(f"{BASE}/user/{user}/api/status", headers=auth(user), timeout=30)
        assert reply.ok, f"{user}'s server through the proxy: {reply.status_code}"
    return f"{len(wanted)} servers ready"


def auth(user: str) -> dict:
    return {"Authorization": f"token {TOKENS[user]}"}


def formgrader(method: str, path: str, **kwargs) -> requests.Response:
    """formgrader's HTTP API in the course service, called with the instructor's token."""
    reply = requests.request(method, f"{BASE}/services/{COURSE}/formgrader/api{path}", headers=auth(INSTRUCTOR),
                             timeout=kwargs.pop("timeout", 120), **kwargs)
    assert reply.ok, f"formgrader {method} {path}: {reply.status_code}; the hub's log says: {last_error()}"
    return reply


def last_error() -> str:
    """The last error lines the hub and its servers logged (the course service logs there too)."""
    lines = [line for line in hub_log_tail(400).splitlines() if re.search(r"Error|^\[E ", line)]
    return " / ".join(line.strip()[:300] for line in lines[-2:]) or "no error logged"


def course_service_ready():
    while True:
        try:
            reply = requests.get(f"{BASE}/services/{COURSE}/formgrader/api/status", headers=auth(INSTRUCTOR),
                                 timeout=10)
            if reply.ok and reply.json().get("status"):
                return f"formgrader answers at /services/{COURSE}/formgrader"
        except requests.RequestException:
            pass
        time.sleep(1)


def release_with_formgrader():
    outcome = formgrader("POST", f"/assignment/{ASSIGNMENT}/release").json()
    assert outcome.get("success"), f"formgrader release: {(outcome.get('error') or outcome.get('log'))[-1500:]}"
    released = EXCHANGE / COURSE / "outbound" / ASSIGNMENT / NOTEBOOK
    assert released.is_file(), f"expected {released} in the exchange after the release, found no file"
    assert not (EXCHANGE / COURSE / "outbound" / ASSIGNMENT / ".kit_cache").exists()
    return f"released to {released.parent}"


# ---- the LMS: a real LTI 1.3 platform on loopback (lti1p3platform) -------------------------------

PLATFORM: LoopbackPlatform | None = None
LAUNCHES: ToolLaunches | None = None
LINEITEM = ""
TARGET_LINK = "/hub/user-redirect/lab"    # docs/lms.md: the Target Link URI (Canvas), the Tool URL (Moodle)


def start_platform():
    """The LMS, with the course's assignment as a line item; it holds no key of the tool yet."""
    global PLATFORM, LINEITEM
    PLATFORM = LoopbackPlatform(rsa_key()[1]).start()
    LINEITEM = PLATFORM.add_lineitem(ASSIGNMENT, SETTINGS.total_points, resource_link_id=LINK)
    return f"{PLATFORM.url}, issuer {PLATFORM.registration.get_iss()}, line item {LINEITEM}"


def register_tool():
    """The hub registered as the LTI tool (docs/lms.md's Canvas and Moodle screens), and the people of
    the course; done again when the hub gets new ports."""
    global LAUNCHES
    LAUNCHES = ToolLaunches(PLATFORM, f"{BASE}/hub/lti13/oauth_login", f"{BASE}/hub/lti13/oauth_callback",
                            f"{BASE}{TARGET_LINK}", LINEITEM, COURSE)
    for user, sub in LMS_IDS.items():
        LAUNCHES.enrol(sub, user, f"{user}@uni.example", INSTRUCTOR_ROLE if user == INSTRUCTOR else LEARNER)


def launch_link(user: str) -> str:
    return f"{PLATFORM.url}/launch?user={LMS_IDS[user]}"


def make_lti_users_file():
    """docs/lms.md's command that makes the file the hub writes (owned by the hub, read by the grader)."""
    doc = (CHECKOUT / "docs" / "lms.md").read_text()
    command = re.search(r"```bash\n(install [^\n]*lti_users\.csv)\n```", doc).group(1)
    command = substitute(command, r"/srv/nbgrader/lti_users\.csv", str(LTI_USERS))
    subprocess.run(["bash", "-c", command], check=True, timeout=30)
    return command


def student_launches(user: str):
    """The student opens the assignment in the LMS: the OIDC login through the hub's LTI 1.3 login."""
    session, reply, visited = browse(launch_link(user), stop_at=TARGET_LINK)
    path = requests.utils.urlparse(visited[-1]).path
    assert reply.is_redirect and path == "/hub/lti13/oauth_callback", \
        f"{user}: expected the hub's callback to log in and send the browser to {TARGET_LINK}, found " \
        f"{reply.status_code} at {reply.url}: {reply.text[:300]}; the hub's log says: {last_error()}"
    home = session.get(f"{BASE}/hub/home", allow_redirects=False, timeout=30)
    assert home.status_code == 200 and user in home.text, \
        f"{user}: expected the hub's home page for the logged-in student, found {home.status_code}"
    hops = " -> ".join(requests.utils.urlparse(url).path for url in visited)
    return f"logged in as {user}: {hops} -> {TARGET_LINK}"


def hub_recorded_launches():
    rows = list(csv.DictReader(open(LTI_USERS, newline="")))
    issuer = PLATFORM.registration.get_iss()
    for user in STUDENTS:
        mine = [r for r in rows if r["student"] == user]
        assert mine and (mine[-1]["lms_user_id"], mine[-1]["issuer"], mine[-1]["lineitem"]) == \
            (LMS_IDS[user], issuer, LINEITEM), f"{LTI_USERS}: expected {user}'s LMS id, found {mine}"
    recorded = lms_users.read(LTI_USERS, issuer)
    assert {u: recorded.get(u) for u in STUDENTS} == {u: LMS_IDS[u] for u in STUDENTS}, recorded
    mode = LTI_USERS.stat().st_mode & 0o777
    assert mode == 0o640, f"expected {LTI_USERS} readable by the grader only (0o640), found {oct(mode)}"
    return f"{len(rows)} launches recorded: student -> LMS user id, line item {LINEITEM}"


def course_term_settings():
    """The instructor adds the term to course_config.py: due date, zero date, an extension."""
    with open(COURSE_DIR / "course_config.py", "a") as handle:
        handle.write(TERM.settings())
    os.environ["LABKIT_SECRET"] = SECRET
    deadline = config.load(COURSE_DIR / "course_config.py").deadline
    assert deadline is not None and deadline.due == TERM.due, f"expected the due date {TERM.due}, found {deadline}"
    return TERM.settings().strip().replace("\n", "; ")


def course_lti_settings():
    """The instructor adds LTI to course_config.py (the line item from the hub's launch record) and
    pastes `labkit passback --jwk` into the platform's registration of the tool."""
    uid, gid = grader_ids()
    key = COURSE_DIR / "lti_private.pem"
    key.write_text(TOOL_KEY[0])
    os.chown(key, uid, gid)
    key.chmod(0o600)
    lineitem = list(csv.DictReader(open(LTI_USERS, newline="")))[-1]["lineitem"]
    lti = PLATFORM.settings("lti_private.pem", lineitem=lineitem, users=str(LTI_USERS),
                            feedback_url=f"{BASE}/hub/user-redirect/tree/{{course}}/{{assignment}}/feedback")
    with open(COURSE_DIR / "course_config.py", "a") as handle:
        handle.write(f"LTI = {lti!r}\n")
    printed = json.loads(as_grader("labkit", "passback", "--jwk", timeout=120).stdout)
    PLATFORM.registration.set_tool_key_set(printed)
    return f"LTI['lineitem'] = {lineitem}; the platform holds the tool's key {printed['keys'][0].get('kid', '')}"


def student_hands_in_at(user: str):
    """When the student handed in, as the exchange records it (the term is a week back): the submission's
    folder name and timestamp.txt, in the exchange's inbound and in the student's own cache, as
    `nbgrader submit` writes them."""
    stamp = TERM.exchange_stamp(user)
    inbound = list((EXCHANGE / COURSE / "inbound").glob(f"{user}+{ASSIGNMENT}+*"))
    cache = list(Path(f"/home/{user}/.local/share/jupyter/nbgrader_cache/{COURSE}").glob(f"{user}+{ASSIGNMENT}+*"))
    assert len(inbound) == len(cache) == 1, f"{user}: expected one submission and its cache, found {inbound}, {cache}"
    for folder in (inbound[0], cache[0]):
        parts = folder.name.split("+")
        moved = folder.rename(folder.with_name("+".join([*parts[:2], stamp, *parts[3:]])))
        (moved / "timestamp.txt").write_text(stamp)
    return f"handed in {TERM.handed_in(user):%Y-%m-%d %H:%M %Z} (due {TERM.due:%Y-%m-%d %H:%M %Z}): {stamp}"


def grader_passback():
    done = as_grader("labkit", "passback", "--grades", "grades.csv", timeout=300)   # where `grade --out .` wrote it
    return " / ".join(line.strip() for line in done.stdout.strip().splitlines()[-3:])


def platform_scores_equal_grades_csv():
    """The scores in the platform's gradebook, read back over AGS as the LMS serves them, = grades.csv."""
    rows = grades_csv()
    wrong = {user: problem for user in STUDENTS if (problem := Term.check_row(user, rows[user]))}
    assert not wrong, f"grades.csv does not show the term's penalties: {wrong}"
    os.environ["LABKIT_SECRET"] = SECRET
    settings = config.load(COURSE_DIR / "course_config.py")
    results = Tool(settings.lti).results(settings.lti["lineitem"])
    by_id = {LMS_IDS[user]: user for user in STUDENTS}
    read_back = {by_id.get(sub, sub): result["resultScore"] for sub, result in results.items()}
    expected = {user: float(rows[user]["total"]) for user in STUDENTS}
    assert read_back == expected, f"the platform's line item holds {read_back}, grades.csv {expected}"
    held = PLATFORM.book.scores(LINEITEM.rsplit("/", 1)[-1])
    assert {by_id[sub]: score for sub, score in held.items()} == expected, f"the platform's gradebook: {held}"
    late = results[LMS_IDS["student1"]]["comment"]
    assert "late: -10 %" in late and "Feedback: " in late, f"student1's comment in the LMS: {late!r}"
    return "; ".join(f"{user} {expected[user]:g} (before {rows[user]['points_before_penalty']}, "
                     f"{rows[user]['late_penalty_percent']} % off {rows[user]['extension']})".replace(" )", ")")
                     for user in STUDENTS)


def passback_again_sends_nothing():
    before = list(PLATFORM.book.posts)
    said = grader_passback()
    assert PLATFORM.book.posts == before, f"a second passback posted {len(PLATFORM.book.posts) - len(before)} scores"
    return said


# ---- the students, each in their own server ----------------------------------------------------

def assignments(user: str, action: str | None = None) -> list[dict]:
    """The Assignments tab's HTTP API in the student's own server."""
    url = f"{BASE}/user/{user}/assignments"
    if action:
        reply = requests.post(f"{url}/{action}", headers=auth(user), timeout=120,
                              data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
    else:
        reply = requests.get(url, headers=auth(user), params={"course_id": COURSE}, timeout=60)
    assert reply.ok, f"{user}: assignments {action or 'list'}: {reply.status_code} {reply.text[:400]}"
    answer = reply.json()
    assert isinstance(answer, list) or answer.get("success"), f"{user}: assignments {action}: {answer}"
    return answer["value"] if isinstance(answer, dict) else answer


def contents(user: str, path: str, model: dict | None = None) -> dict:
    url = f"{BASE}/user/{user}/api/contents/{path}"
    reply = (requests.put(url, headers=auth(user), json=model, timeout=60) if model is not None
             else requests.get(url, headers=auth(user), timeout=60))
    assert reply.ok, f"{user}: contents {path}: {reply.status_code} {reply.text[:300]}"
    return reply.json()


class RemoteKernel:
    """A kernel in a user's own server, driven over its websocket as JupyterLab drives it."""

    def __init__(self, user: str, notebook_path: str | None = None):
        self.user, self.server = user, f"{BASE}/user/{user}"
        if notebook_path:
            reply = requests.post(f"{self.server}/api/sessions", headers=auth(user), timeout=60,
                                  json={"path": notebook_path, "type": "notebook", "name": "",
                                        "kernel": {"name": "python3"}})
            self.session = reply.json()["id"] if reply.ok else None
            self.kernel = reply.json()["kernel"]["id"] if reply.ok else None
        else:
            reply = requests.post(f"{self.server}/api/kernels", headers=auth(user), timeout=60,
                                  json={"name": "python3"})
            self.session, self.kernel = None, reply.json()["id"] if reply.ok else None
        assert reply.ok, f"{user}: start a kernel: {reply.status_code} {reply.text[:300]}"
        ws_url = self.server.replace("http://", "ws://") + f"/api/kernels/{self.kernel}/channels"
        self.client_session = uuid.uuid4().hex
        self.ws = websocket.create_connection(f"{ws_url}?session_id={self.client_session}",
                                              header=[f"Authorization: token {TOKENS[user]}"], timeout=60)
        self.died = False

    def execute(self, code: str, timeout: float) -> tuple[str, list]:
        """Run one cell: ("ok" | "error" | "died", nbformat outputs)."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user,
                       "session": self.client_session, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": False}}))
        outputs, status, idle, replied = [], "ok", False, False
        end = time.monotonic() + timeout
        while not (idle and replied):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.user}: a cell ran over {timeout:.0f} s: {code[:80]!r}")
            self.ws.settimeout(left)
            message = json.loads(self.ws.recv())
            kind = message["header"]["msg_type"]
            if kind == "status" and message["content"]["execution_state"] in ("restarting", "dead"):
                self.died = True
                return "died", outputs
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "status" and message["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied, status = True, message["content"]["status"]
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append(nbformat.v4.output_from_msg(message))
        return status, outputs

    def close(self):
        self.ws.close()
        path = f"/api/sessions/{self.session}" if self.session else f"/api/kernels/{self.kernel}"
        requests.delete(f"{self.server}{path}", headers=auth(self.user), timeout=30)


def fetch_assignment(user: str) -> str:
    listed = assignments(user, "fetch")
    fetched = [a for a in listed if a["assignment_id"] == ASSIGNMENT and a["status"] == "fetched"]
    assert fetched, f"{user}: expected {ASSIGNMENT} fetched, the Assignments list shows {listed}"
    notebook = next(n for n in fetched[0]["notebooks"] if n["notebook_id"] == NOTEBOOK.removesuffix(".ipynb"))
    path = os.path.relpath(notebook["path"], f"/home/{user}") if notebook["path"].startswith("/") \
        else notebook["path"]
    return path


def student_notebook(user: str, released) -> nbformat.NotebookNode:
    """What this student writes, built from the notebook they fetched."""
    solved = helpers.solved_release(released, helpers.read(helpers.SOURCE_NOTEBOOK))
    kind = STUDENTS[user]
    if kind == "correct":
        return solved
    if kind == "base not frozen":
        return helpers.variant_not_frozen(solved)
    return helpers.replaced(solved, "a07_fit", "import os\nos._exit(1)  # the kernel dies here")


def run_notebook(user: str, path: str, notebook) -> dict[str, tuple[str, str]]:
    """Run every code cell in the student's kernel (as "Run All" that goes on after errors), save
    the notebook with its outputs; returns grade_id -> (status, text of the outputs)."""
    kernel = RemoteKernel(user, path)
    ran = {}
    try:
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            status, outputs = kernel.execute(cell.source, timeout=SETTINGS.cell_timeout)
            cell.outputs = outputs
            text = "".join(o.get("text", "") if o.output_type == "stream" else
                           "\n".join([o.get("ename", ""), o.get("evalue", "")]) for o in outputs)
            ran[authoring.grade_id(cell) or f"cell{len(ran)}"] = (status, text)
            if status == "died":
                break
    finally:
        kernel.close()
    contents(user, path, {"type": "notebook", "format": "json", "content": notebook})
    return ran


CANNOT_READ = """
import json, os, pwd
hidden = {hidden!r}
found = {{"uid": os.getuid(), "user": pwd.getpwuid(os.getuid()).pw_name,
         "secret_in_env": "LABKIT_SECRET" in os.environ}}
for name, probe in [("list_hidden", lambda: os.listdir(hidden)),
                    ("read_image", lambda: open({image!r}, "rb").read(1)),
                    ("list_course", lambda: os.listdir({course!r}))]:
    try:
        probe()
        found[name] = "readable"
    except PermissionError:
        found[name] = "refused"
    except Exception as error:
        found[name] = type(error).__name__
print(json.dumps(found))
"""


def student_cannot_read_the_hidden_split(user: str):
    image = next(hidden_split().rglob("*.png"))
    kernel = RemoteKernel(user)
    try:
        status, outputs = kernel.execute(CANNOT_READ.format(hidden=str(hidden_split()), image=str(image),
                                                            course=str(COURSE_DIR)), timeout=60)
    finally:
        kernel.close()
    assert status == "ok", f"{user}: the probe failed: {outputs}"
    found = json.loads(outputs[-1]["text"])
    assert found["user"] == user, f"expected the kernel to run as {user}, found {found['user']}"
    assert found["list_hidden"] == found["read_image"] == found["list_course"] == "refused", \
        f"expected the hidden split and the course folder refused to {user}, found {found}"
    assert not found["secret_in_env"], f"{user}'s kernel has LABKIT_SECRET in its environment"
    return f"kernel runs as {user}; hidden split, course folder: refused; no secret"


def student_works(user: str):
    path = fetch_assignment(user)
    released = nbformat.from_dict(contents(user, path)["content"])
    notebook = student_notebook(user, released)
    contents(user, path, {"type": "notebook", "format": "json", "content": notebook})
    ran = run_notebook(user, path, notebook)
    visible = {gid: result for gid, result in ran.items() if gid.endswith("_visible")}
    passed = [gid for gid, (status, text) in visible.items() if status == "ok" and " ok" in text]
    failed = {gid: text.strip().splitlines()[-1][:160] for gid, (status, text) in visible.items()
              if status != "ok"}
    kind = STUDENTS[user]
    if kind == "correct":
        errors = {gid: text[-300:] for gid, (status, text) in ran.items() if status != "ok"}
        assert not errors, f"{user}: expected every cell to run, found errors {errors}"
        assert len(passed) == len(visible) == 12, f"{user}: expected 12 visible checks ok, found {passed}"
    elif kind == "base not frozen":
        status, text = ran["a05_transfer_model_visible"]
        assert status == "error" and "Activity 5" in text, \
            f"{user}: expected activity 5's visible check to fail, found {status}: {text[-300:]}"
        assert "a14_save" in ran and ran["a14_save"][0] == "ok", f"{user}: expected the model saved"
    else:
        assert ran.get("a07_fit", ("", ""))[0] == "died", f"{user}: expected the kernel to die in activity 7"
    return f"{kind}: visible checks ok {len(passed)}, failed {sorted(failed)}"


def student_submits(user: str):
    listed = assignments(user, "submit")
    mine = [a for a in listed if a["assignment_id"] == ASSIGNMENT and a["status"] == "submitted"]
    assert mine, f"{user}: expected {ASSIGNMENT} among the submitted assignments, the list shows {listed}"
    inbound = list((EXCHANGE / COURSE / "inbound").glob(f"{user}+{ASSIGNMENT}+*"))
    assert len(inbound) == 1, f"{user}: expected one submission in the exchange's inbound, found {inbound}"
    stamps = [s.get("timestamp") for a in mine for s in a.get("submissions", [])]
    return f"submitted at {', '.join(map(str, stamps))}"


# ---- grading ---------------------------------------------------------------------------------------

def collect_with_formgrader():
    outcome = formgrader("POST", f"/assignment/{ASSIGNMENT}/collect").json()
    assert outcome.get("success"), f"formgrader collect: {(outcome.get('error') or outcome.get('log'))[-1500:]}"
    collected = sorted(p.parent.name for p in (COURSE_DIR / "submitted").glob(f"*/{ASSIGNMENT}"))
    assert collected == sorted(STUDENTS), f"expected {sorted(STUDENTS)} collected, found {collected}"
    return f"collected {', '.join(collected)}"


def grade():
    try:
        as_grader("labkit", "grade", "submitted", "--out", ".", "--jobs", "2", timeout=1200)
    finally:   # the course's grading logs and table outlive the grader's home
        shutil.copytree(COURSE_DIR / "logs", STATE / "logs" / "course-logs", dirs_exist_ok=True)
        if (COURSE_DIR / "grades.csv").is_file():
            shutil.copy(COURSE_DIR / "grades.csv", STATE / "logs" / "grades.csv")
    rows = grades_csv()
    return f"grades.csv: {len(rows)} students; " + "; ".join(
        f"{user} {row['total']} {row['status']} {row['message'][:200]}" for user, row in rows.items())


def grades_csv() -> dict[str, dict]:
    with open(COURSE_DIR / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


COLUMNS = dict(zip(sorted(SETTINGS.points), activity_columns(SETTINGS)))   # activity -> grades.csv column


def before_penalty(row: dict) -> float:
    """The points as graded, before the term's late penalty (grades.csv's `total` is after it)."""
    return float(row["points_before_penalty"])


def autograded_max() -> float:
    return sum(points for activity, points in SETTINGS.points.items() if activity != 13)


def grades_make_sense():
    rows = grades_csv()
    good, frozen, crashed = (rows[u] for u in STUDENTS)
    full = autograded_max()
    assert good["status"] == "ok" and before_penalty(good) == full, \
        f"expected the correct notebook to get all {full:g} automatic points, " \
        f"found {good['points_before_penalty']} ({good['status']})"
    freezing = COLUMNS[5]
    assert before_penalty(frozen) < full and float(frozen[freezing]) < SETTINGS.points[5], \
        f"expected the unfrozen base to cost points in activity 5, found {freezing} = {frozen[freezing]}"
    assert crashed["status"] != "ok" and before_penalty(crashed) < before_penalty(frozen), \
        f"expected the crashing notebook to be reported and to score least, " \
        f"found {crashed['status']}, {crashed['points_before_penalty']}"
    wrong = {user: problem for user in STUDENTS if (problem := Term.check_row(user, rows[user]))}
    assert not wrong, f"expected the term's lateness in grades.csv, found {wrong}"
    return ", ".join(f"{u} {rows[u]['points_before_penalty']} -> {rows[u]['total']} ({rows[u]['status']}, "
                     f"{rows[u]['late_penalty_percent']} % off)" for u in STUDENTS)


def formgrader_lists_results():
    submissions = {s["student"]: s for s in formgrader("GET", f"/submissions/{ASSIGNMENT}").json()}
    rows = grades_csv()
    for user in STUDENTS:
        shown = submissions.get(user)
        assert shown and shown["autograded"], f"formgrader: expected {user}'s submission autograded, found {shown}"
        assert abs(float(shown["score"]) - before_penalty(rows[user])) < 1e-6, \
            f"formgrader shows {shown['score']} for {user}, grades.csv {rows[user]['points_before_penalty']}"
        assert shown["needs_manual_grade"], f"formgrader: expected {user} to wait for activity 13 by hand"
    return "scores as in grades.csv, activity 13 waiting"


def grade_activity_13_by_hand():
    notebooks = formgrader("GET", f"/submitted_notebooks/{ASSIGNMENT}/{NOTEBOOK.removesuffix('.ipynb')}").json()
    for entry in notebooks:
        user = entry["student"]
        grades = formgrader("GET", "/grades", params={"submission_id": entry["id"]}).json()
        manual = [g for g in grades if g["name"].startswith("a13_")]
        assert len(manual) == 1 and manual[0]["needs_manual_grade"], f"{user}: activity 13 grade: {manual}"
        formgrader("PUT", f"/grade/{manual[0]['id']}", json={"manual_score": HAND_SCORES[user], "extra_credit": 0})
    submissions = {s["student"]: s for s in formgrader("GET", f"/submissions/{ASSIGNMENT}").json()}
    rows = grades_csv()
    for user in STUDENTS:
        expected = before_penalty(rows[user]) + HAND_SCORES[user]
        assert not submissions[user]["needs_manual_grade"], f"formgrader still shows {user} waiting"
        assert abs(float(submissions[user]["score"]) - expected) < 1e-6, \
            f"formgrader: {user} has {submissions[user]['score']}, expected {expected:g}"
    return "activity 13 graded; formgrader totals = grades.csv + hand points"


def grade_again_with_hand_grades():
    """The grader runs `labkit grade submitted --out .` again: nothing is regraded, and the hand
    grades in the gradebook reach grades.csv and the feedback pages that are released next."""
    before = grades_csv()
    as_grader("labkit", "grade", "submitted", "--out", ".", "--jobs", "2", timeout=300)
    rows = grades_csv()
    submissions = {s["student"]: s for s in formgrader("GET", f"/submissions/{ASSIGNMENT}").json()}
    for user in STUDENTS:
        assert float(rows[user][COLUMNS[13]]) == HAND_SCORES[user], \
            f"grades.csv: expected {user}'s hand grade {HAND_SCORES[user]:g} in activity 13, " \
            f"found {rows[user][COLUMNS[13]]}"
        assert abs(before_penalty(rows[user]) - float(submissions[user]["score"])) < 1e-6, \
            f"grades.csv: {user} has {rows[user]['points_before_penalty']}, formgrader {submissions[user]['score']}"
        assert before_penalty(rows[user]) == before_penalty(before[user]) + HAND_SCORES[user]
        assert not Term.check_row(user, rows[user]), f"{user}: {Term.check_row(user, rows[user])}"
    return "grades.csv's points before the penalty = formgrader's, hand grades included; penalties applied"


def release_feedback():
    outcome = formgrader("POST", f"/assignment/{ASSIGNMENT}/release_feedback").json()
    assert outcome.get("success"), \
        f"formgrader release_feedback: {(outcome.get('error') or outcome.get('log'))[-1500:]}"
    released = list((EXCHANGE / COURSE / "feedback").glob("*.html"))
    assert len(released) == len(STUDENTS), f"expected {len(STUDENTS)} feedback pages released, found {released}"
    return f"{len(released)} feedback pages in the exchange"


FEEDBACK_PATHS: dict[str, str] = {}


def student_fetches_feedback(user: str):
    listed = assignments(user, "fetch_feedback")
    submitted = [s for a in listed if a["assignment_id"] == ASSIGNMENT and a["status"] == "submitted"
                 for s in a.get("submissions", [])]
    with_feedback = [s for s in submitted if s.get("has_local_feedback") and s.get("local_feedback_path")]
    assert with_feedback, f"{user}: expected the submission to have fetched feedback, the list shows {submitted}"
    folder = with_feedback[0]["local_feedback_path"]
    folder = os.path.relpath(folder, f"/home/{user}") if folder.startswith("/") else folder
    pages = sorted(f["path"] for f in contents(user, folder)["content"] if f["name"].endswith(".html"))
    assert pages, f"{user}: expected a feedback page in {folder}, found none"
    path = pages[0]
    FEEDBACK_PATHS[user] = path
    page = requests.get(f"{BASE}/user/{user}/files/{path}", headers=auth(user), timeout=60)
    assert page.ok, f"{user}: feedback page {path}: {page.status_code}"
    row = grades_csv()[user]
    shown = feedback_scores(page.text)
    assert shown["total"] == float(row["total"]), \
        f"{user}: the feedback page says {shown['total']:g} points, grades.csv {row['total']}"
    assert set(shown["activities"]) == {a for a, p in SETTINGS.points.items() if p}, \
        f"{user}: expected every activity on the feedback page, found {sorted(shown['activities'])}"
    for activity, points in shown["activities"].items():
        assert points == float(row[COLUMNS[activity]]), \
            f"{user}: activity {activity}: feedback {points:g}, grades.csv {row[COLUMNS[activity]]}"
    assert shown["letter"] == row["letter"], \
        f"{user}: feedback grade {shown['letter']}, grades.csv {row['letter']}"
    nbgrader_score = re.search(r"\(Score: ([\d.]+) / [\d.]+\)", page.text)   # nbgrader's part: score - penalty
    assert nbgrader_score and abs(float(nbgrader_score.group(1)) - float(row["total"])) < 0.01, \
        f"{user}: nbgrader's part of the feedback page says " \
        f"{nbgrader_score.group(1) if nbgrader_score else 'no score'}, grades.csv {row['total']}"
    late = re.search(r'<p id="late-work">([^<]*)</p>', page.text)
    words = TERM.words(user)
    assert late and words in late.group(1), \
        f"{user}: expected {words!r} on the feedback page, found {late.group(1) if late else 'no late-work note'}"
    return (f"{path}: {shown['total']:g} points, {shown['letter']}, "
            f"{len(shown['activities'])} activities = grades.csv")


def feedback_scores(page: str) -> dict:
    """The kit's summary at the top of a feedback page: total, letter and points per activity."""
    head = re.search(r"<h2>[^<:]*: ([\d.]+) / ([\d.]+) points \(([\d.]+) %\), grade (\w+)</h2>", page)
    assert head, "the feedback page has no grading summary at the top"
    rows = re.findall(r"<td>Activity (\d+)</td><td>([\d.]+) / [\d.]+</td>", page)
    activities = {int(activity): float(points) for activity, points in rows}
    return {"total": float(head.group(1)), "letter": head.group(4), "activities": activities}


# ---- the browser ------------------------------------------------------------------------------------

def browser_checks():
    """Headless Chromium, driven by playwright-core: tests/hub/browser.cjs."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    plan = {"base": BASE, "launches": {user: launch_link(user) for user in LMS_IDS}, "instructor": INSTRUCTOR,
            "course": COURSE,
            "assignment": ASSIGNMENT, "student": next(iter(STUDENTS)), "control": CONTROL_SERVER,
            "feedback": FEEDBACK_PATHS.get(next(iter(STUDENTS))), "images": str(IMAGES),
            "profile": str(STATE / "chromium")}
    # playwright-core from the browser tools (tests/browser/install.sh), the proxy from the hub's prefix
    modules = [Path(os.environ["LABKIT_BROWSER_HOME"]) / "node_modules", NODE_PREFIX / "node_modules"]
    env = dict(os.environ, NODE_PATH=os.pathsep.join(map(str, modules)))
    done = subprocess.run(["node", str(HERE / "browser.cjs"), json.dumps(plan)], capture_output=True, text=True,
                          timeout=280, env=env, cwd=NODE_PREFIX)
    (STATE / "logs" / "browser.log").write_text(done.stdout + "\n---- stderr\n" + done.stderr)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert results, f"the browser script printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return results


def main() -> int:
    run = Run()
    (STATE / "logs").mkdir(exist_ok=True)
    print(f"hub check: {BASE}, course {COURSE}, state in {STATE}", flush=True)
    try:
        run.step("LMS: an LTI 1.3 platform on loopback (lti1p3platform)", 30, start_platform)
        run.step("accounts", 120, make_accounts)
        run.step("course folder", 120, copy_course, needs=("accounts",))
        run.step("course_config.py: the term (due date, zero date, an extension)", 60, course_term_settings,
                 needs=("course folder",))
        run.step("nbgrader global config and exchange", 30, write_nbgrader_global_config)
        run.step("grader: labkit prepare", 620, grader_prepare, needs=("course folder",))
        run.step("grader: labkit release", 320, grader_release, needs=("grader: labkit prepare",))
        run.step("hub config: the sample block and docs/lms.md's LTI 1.3 login", 30, write_hub_config,
                 needs=("LMS: an LTI 1.3 platform on loopback (lti1p3platform)",))
        run.step("the LTI users file (docs/lms.md)", 30, make_lti_users_file, needs=("accounts",))
        run.step("hub starts", 90, start_hub,
                 needs=("hub config: the sample block and docs/lms.md's LTI 1.3 login", "accounts"))
        for user in STUDENTS:
            run.step(f"{user}: opens the assignment in the LMS, logs in to the hub (LTI 1.3 launch)", 60,
                     student_launches, user, needs=("hub starts",))
        run.step("the hub recorded each student's LMS user id", 30, hub_recorded_launches,
                 needs=tuple(f"{u}: opens the assignment in the LMS, logs in to the hub (LTI 1.3 launch)"
                             for u in STUDENTS) + ("the LTI users file (docs/lms.md)",))
        run.step("course_config.py: LTI; the platform holds `labkit passback --jwk`", 120, course_lti_settings,
                 needs=("the hub recorded each student's LMS user id", "course_config.py: the term "
                        "(due date, zero date, an extension)"))
        run.step("users' tokens", 60, make_tokens, needs=("hub starts",))
        run.step("servers start through the REST API", 240, start_servers, needs=("users' tokens",))
        run.step("course service: formgrader", 120, course_service_ready, needs=("users' tokens",))
        run.step("grader: release with formgrader's API", 120, release_with_formgrader,
                 needs=("course service: formgrader", "grader: labkit release"))
        for user in STUDENTS:
            run.step(f"{user}: hidden split unreadable from the student's kernel", 120,
                     student_cannot_read_the_hidden_split, user,
                     needs=("servers start through the REST API", "grader: labkit prepare"))
        for user in STUDENTS:
            run.step(f"{user}: fetch, work, visible checks in own server", 600, student_works, user,
                     needs=("servers start through the REST API", "grader: release with formgrader's API"))
            run.step(f"{user}: submit", 120, student_submits, user,
                     needs=(f"{user}: fetch, work, visible checks in own server",))
            run.step(f"{user}: handed in as the term says (the exchange's record)", 30, student_hands_in_at, user,
                     needs=(f"{user}: submit",))
        run.step("grader: collect with formgrader's API", 120, collect_with_formgrader,
                 needs=tuple(f"{u}: handed in as the term says (the exchange's record)" for u in STUDENTS))
        run.step("grader: labkit grade submitted --out .", 1250, grade,
                 needs=("grader: collect with formgrader's API",))
        run.step("grades.csv: correct full marks, frozen-base mistake in activity 5, crash reported; "
                 "late, extension, past the zero date", 30,
                 grades_make_sense, needs=("grader: labkit grade submitted --out .",))
        run.step("formgrader lists the results", 60, formgrader_lists_results,
                 needs=("grader: labkit grade submitted --out .",))
        run.step("activity 13 graded by hand in formgrader", 120, grade_activity_13_by_hand,
                 needs=("formgrader lists the results",))
        run.step("grader: labkit grade again: hand grades into grades.csv and feedback", 320,
                 grade_again_with_hand_grades, needs=("activity 13 graded by hand in formgrader",))
        passback = "grader: labkit passback (LTI 1.3 Assignment and Grade Services)"
        run.step(passback, 320, grader_passback,
                 needs=("grader: labkit grade again: hand grades into grades.csv and feedback",
                        "course_config.py: LTI; the platform holds `labkit passback --jwk`"))
        run.step("LMS: the platform's line item holds grades.csv's totals after penalties", 60,
                 platform_scores_equal_grades_csv, needs=(passback,))
        run.step("grader: labkit passback again sends nothing", 120, passback_again_sends_nothing,
                 needs=(passback,))
        run.step("grader: release feedback with formgrader's API", 120, release_feedback,
                 needs=("grader: labkit grade again: hand grades into grades.csv and feedback",))
        for user in STUDENTS:
            run.step(f"{user}: fetch feedback; its scores = grades.csv", 120, student_fetches_feedback, user,
                     needs=("grader: release feedback with formgrader's API",))
        results = run.step("browser: headless Chromium", 300, browser_checks,   # its checks count one by one
                           needs=("course service: formgrader",), counted=False)
        for result in results or []:
            if result["ok"]:
                run.passed += 1
                print(f"PASS browser: {result['name']}: {result['detail']}", flush=True)
            else:
                run.fail(f"browser: {result['name']}", result["detail"])
    except KeyboardInterrupt:
        run.fail("interrupted", "stopped by a signal")
    finally:
        stop_hub()
        if PLATFORM is not None:
            PLATFORM.stop()
    if run.failed:
        print(f"\nlast lines of the hub's log:\n{hub_log_tail(40)}\n(logs: {STATE / 'logs'}, removed at exit)")
    print(f"hub check took {time.monotonic() - run.started:.0f} s")
    print(f"{run.passed} passed, {run.failed} failed")
    return 1 if run.failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main())
