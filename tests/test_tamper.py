"""Issue 9: the batch grader against students who try to get a better grade by attacking it.

Every attack below is a solved notebook with one answer cell replaced by a payload (the rest still
solves the lab), graded in ONE batch together with an honest solved notebook, two jobs at a time.
Each must end with the points it deserves: every automatic point when the attack did not touch the
work itself, else the honest points minus exactly the activities it faked. Nothing outside the
working copies may change: the course, the cache with the hidden split, the other students'
submissions, the gradebooks (except what the grader itself writes into the batch's output folder).

| student           | attack                                                       | loses            |
|-------------------|--------------------------------------------------------------|------------------|
| gradebook_writer  | UPDATE/INSERT 99 points into every gradebook it can reach    | nothing          |
| patched_checks    | no-op checks, numpy/isinstance/sklearn patched, typed values | activities 8, 12 |
| secret_reader     | reads the environment, course_config.py, the cache, /root    | nothing          |
| network_caller    | connects to a server the test runs on this machine           | nothing          |
| fork_bomb         | forks over a thousand children                               | nothing          |
| lingering_process | a detached process that writes after the kernel ended        | nothing          |
| planted_links     | links in place of the saved model, the notebook, a capture   | 10 (5), 5 (4)    |
| outside_writer    | writes into /tmp, the grader's folders, the repository       | nothing          |
| capture_forger    | rewrites the capture of activity 8 after the fact            | activity 8       |
| huge_model        | hands in a few KB whose configuration asks for 500M weights  | hand-in 10 (5)   |

("hand-in 10": the saved model is gone with its link, so activity 10 keeps only its fit check.)
The secret, network, fork-bomb and outside-writer attacks can only be stopped by the sandbox
(autograder.sandbox): without it they are left out of the batch (so they harm nothing) and their
tests are skipped with the reason.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import sys
import threading
import uuid
from pathlib import Path

import assignment_helpers as helpers
import psutil
import pytest

from autograder.course import config
from autograder.course import plan as plans
from autograder.course import vocabulary as authoring
from autograder.course.records import KERNEL_DIED, MEMORY_LIMIT, OK, TIMED_OUT
from autograder.grading import runner

pytestmark = pytest.mark.slow

REPO = helpers.REPO
MARK = f"labkit-tamper-{uuid.uuid4().hex[:10]}"      # in every file name and argument an attack makes
SECRET = f"tamper-course-secret-{uuid.uuid4().hex}"  # the course secret of the graded copy
FORK_BOUND = 1200   # children the fork bomb tries: above the sandbox's process limit (512), and
                    # few enough sleeping processes that the machine is safe if the limit fails
HONEST = "honest"
SANDBOXED = ("secret_reader", "network_caller", "fork_bomb", "outside_writer")


def solution(grade_id: str) -> str:
    return helpers.solution_sources(helpers.read(helpers.SOURCE_NOTEBOOK))[grade_id]


def after(grade_id: str, payload: str) -> tuple[str, str]:
    """The answer cell `grade_id` solved as the solution does, then the payload."""
    return grade_id, solution(grade_id) + "\n\n" + payload.strip() + "\n"


def working_copy(out: Path, student: str, settings) -> Path:
    """Where the grader runs the student's kernel (autograder.grading.private_course.lay_out_course)."""
    return out / ".work" / "courses" / student / "autograded" / student / settings.assignment


# ---- the attacks --------------------------------------------------------------------------------

def gradebook_writer(ctx) -> list[tuple[str, str]]:
    """Walk up from the working folder and over /, /tmp, /work and the home for every *.db, and
    write 99 points into each. Only databases inside this test's own folder are written to, so that
    a run without isolation cannot harm anything else on the machine; the others are only counted."""
    return [after("a01_imports", f"""
import os, sqlite3, time

SCOPE = {str(ctx['scope'])!r}
deadline = time.monotonic() + 15
here = os.path.abspath(".")
roots = [here]
while os.path.dirname(roots[-1]) != roots[-1]:
    roots.append(os.path.dirname(roots[-1]))
roots += ["/tmp", "/work", os.path.expanduser("~"), "/"]
skip = {{"/proc", "/sys", "/dev", "/usr", "/run", "/snap"}}
seen, databases = set(), []
for root in roots:
    for folder, folders, files in os.walk(root):
        real = os.path.realpath(folder)
        if real in seen or real in skip or time.monotonic() > deadline:
            folders[:] = []
            continue
        seen.add(real)
        folders[:] = [f for f in folders if f not in (".git", "site-packages", "node_modules", "__pycache__")]
        databases += [os.path.join(real, f) for f in files if f.endswith((".db", ".sqlite"))]
written, readable = [], 0
for path in dict.fromkeys(databases):
    if not path.startswith(SCOPE + os.sep):
        readable += 1
        continue
    try:
        connection = sqlite3.connect(path, timeout=3)
        connection.execute("UPDATE grade SET manual_score = 99, extra_credit = 99")
        connection.commit()
        written.append(path)
    except Exception as error:
        print("could not write", path, type(error).__name__)
        continue
    for insert in ("INSERT INTO grade (id, notebook_id, cell_id, manual_score, extra_credit, needs_manual_grade) "
                   "SELECT 'tamper' || id, notebook_id, cell_id, 99, 99, 0 FROM grade",
                   "INSERT INTO grade (id, notebook_id, cell_id, manual_score, extra_credit, needs_manual_grade) "
                   "SELECT 'tamper-bonus', notebook_id, 'tamper-cell', 99, 99, 0 FROM grade LIMIT 1"):
        try:
            connection.execute(insert)
            connection.commit()
        except sqlite3.Error as error:
            print("insert refused in", path, type(error).__name__)
    connection.close()
print("TAMPER-GRADEBOOKS", len(databases), "found,", readable, "outside the scope, written:", written)
""")]


def patched_checks(ctx) -> list[tuple[str, str]]:
    """Every check function a no-op, numpy's comparisons and the checks' isinstance always True,
    sklearn's report the student's string; then typed accuracies and a typed report."""
    return [("a08_accuracies", """
import builtins, importlib, pkgutil, sys, types

import numpy
import sklearn.metrics
import autograder.checks


def no_op(*args, **kwargs):
    return None


for module_info in pkgutil.walk_packages(autograder.checks.__path__, "autograder.checks."):
    importlib.import_module(module_info.name)
for module_name, module in list(sys.modules.items()):
    if module_name == "autograder.checks" or module_name.startswith("autograder.checks."):
        for attribute, value in list(vars(module).items()):
            if type(value) is types.FunctionType:
                setattr(module, attribute, no_op)

numpy.array_equal = lambda *args, **kwargs: True
numpy.allclose = lambda *args, **kwargs: True
real_isinstance = builtins.isinstance


def lenient_isinstance(value, kinds):
    # True for the kit's checks; the truth elsewhere, so that the rest of the lab still runs
    if sys._getframe(1).f_globals.get("__name__", "").startswith("autograder.checks"):
        return True
    return real_isinstance(value, kinds)


builtins.isinstance = lenient_isinstance
sklearn.metrics.classification_report = lambda *args, **kwargs: report

train_accuracy = 1.0
val_accuracy = 1.0
report = "nothing"
"""), ("a12_report", 'print(report)  # typed in activity 8')]


def secret_reader(ctx) -> list[tuple[str, str]]:
    """Everything a kernel should not see, printed and written into a file."""
    return [after("a01_imports", f"""
import json, os, pathlib

found = {{"env": {{k: v for k, v in os.environ.items() if k.startswith("LABKIT")}}}}
guesses = {{"repo_config": {str(REPO / 'course_config.py')!r}, "course_config": {str(ctx['config_file'])!r},
           "env_config": os.environ.get("LABKIT_CONFIG", "/nonexistent"),
           "repo_cache": {str(REPO / '.kit_cache')!r}, "course_cache": {str(ctx['cache'])!r},
           "env_cache": os.environ.get("LABKIT_CACHE", "/nonexistent")}}
for label, guess in guesses.items():
    place = pathlib.Path(guess)
    try:
        if place.is_dir():
            entries = sorted(place.rglob("*"))[:3000]
            found[label] = [p.name for p in entries]
            found[label + "_manifests"] = [p.read_text()[:2000] for p in entries if p.name == "manifest.json"]
        else:
            found[label] = place.read_text()
    except Exception as error:
        found[label] = f"{{type(error).__name__}}"
for home in ("/root", os.path.expanduser("~")):
    try:
        found["home " + home] = sorted(os.listdir(home))
    except Exception as error:
        found["home " + home] = f"{{type(error).__name__}}"
print("TAMPER-FOUND", json.dumps(found))
with open("found-{MARK}.txt", "w") as handle:
    handle.write(json.dumps(found))
""")]


def network_caller(ctx) -> list[tuple[str, str]]:
    """Connect to the test's own server on every address of this machine."""
    return [after("a01_imports", f"""
import json, socket

attempts = {{}}
for host in {ctx['hosts']!r}:
    try:
        with socket.create_connection((host, {ctx['port']}), timeout=3) as connection:
            connection.sendall({MARK!r}.encode())
        attempts[host] = "connected"
    except OSError as error:
        attempts[host] = type(error).__name__
print("TAMPER-NET", json.dumps(attempts))
""")]


def fork_bomb(ctx) -> list[tuple[str, str]]:
    """Fork until refused (bounded), each child a small sleeping process; then wait for them."""
    return [after("a01_imports", f"""
import json, os

children, refused = [], ""
for _ in range({FORK_BOUND}):
    try:
        pid = os.fork()
    except OSError as error:
        refused = type(error).__name__
        break
    if pid == 0:
        try:
            os.execv("/bin/sleep", [{MARK!r}, "4"])
        finally:
            os._exit(0)
    children.append(pid)
print("TAMPER-FORK", json.dumps({{"started": len(children), "refused": refused}}))
for pid in children:
    os.waitpid(pid, 0)
""")]


LATE_WRITER = r'''
import os, sys, time
kernel, folder = int(sys.argv[1]), sys.argv[2]
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
while True:   # until the kernel has ended and been reaped
    try:
        os.kill(kernel, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.002)
# then once the grader has taken over: in the instant between the kernel's end and the sandbox's
# teardown a write would be no more than the kernel's own last write (the grader reads after)
time.sleep(1)
for root, folders, files in os.walk(folder):   # what the grader reads next: the capture, the model
    for name in files:
        if name == "values.json" or name.endswith((".keras", ".npz")):
            try:
                with open(os.path.join(root, name), "w") as handle:
                    handle.write('{"values": {}}')
            except OSError:
                pass
with open(os.path.join(folder, "late-" + sys.argv[3]), "w") as handle:
    handle.write("written after the kernel ended")
time.sleep(600)
'''


def lingering_process(ctx) -> list[tuple[str, str]]:
    """A double-forked, setsid'd process that rewrites the capture and the model once the kernel has
    ended and the grader has taken over."""
    return [after("a01_imports", f"""
import os, subprocess, sys

subprocess.Popen([sys.executable, "-c", {LATE_WRITER!r}, str(os.getpid()), os.getcwd(), {MARK!r}],
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                 start_new_session=True)
""")]


def planted_links(ctx) -> list[tuple[str, str]]:
    """Links in place of the saved model (to a classmate's) and of the notebook nbgrader writes back
    (to the private gradebook), planted once the model is saved; a FIFO beside them; and, before the
    last capture, a link where that capture goes (into the working copy's own top folder)."""
    honest = f"{HONEST}/autograded/{HONEST}/{ctx['assignment']}"
    return [after("a12_report", f"""
import os, shutil, threading, time


def replace_with_link(name, target):
    if os.path.isdir(name) and not os.path.islink(name):
        shutil.rmtree(name)
    elif os.path.lexists(name):
        os.remove(name)
    os.symlink(target, name)


def wait_for(path):
    deadline = time.monotonic() + 600
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.005)


os.makedirs(".labkit_capture", exist_ok=True)
replace_with_link(".labkit_capture/a05_frozen_hidden", "..")   # the last capture would land in the top folder


def plant_links():
    wait_for(settings["saved_model_file"])   # the hand-in cell is saving the model: plant at once, since
    # the checks after it run outside the kernel and the kernel soon ends (a save still being written
    # goes on into the replaced file, which the grader never sees)
    replace_with_link(settings["saved_model_file"], "../../../../{honest}/" + settings["saved_model_file"])
    replace_with_link("{ctx['assignment']}.ipynb", "../../../gradebook.db")
    os.mkfifo("model.npz")


threading.Thread(target=plant_links, daemon=True).start()
""")]


def outside_targets(ctx) -> list[str]:
    """Where the outside writer tries to write (relative paths: from its working folder up)."""
    site_packages = [str(Path(p) / f"{MARK}.pth") for p in sys.path if p.endswith("site-packages")]
    relative = ["/".join([".."] * level + [MARK]) for level in range(1, 9)]
    return [f"/tmp/{MARK}/loot.txt", f"/var/tmp/{MARK}", f"/dev/shm/{MARK}", *relative,
            str(ctx["out"] / MARK), str(ctx["submitted"] / MARK), str(ctx["submitted"] / HONEST / MARK),
            str(ctx["course"] / MARK), str(ctx["cache"] / MARK), str(REPO / MARK),
            str(REPO / "autograder" / f"{MARK}.py"), *site_packages, str(Path.home() / MARK)]


def outside_writer(ctx) -> list[tuple[str, str]]:
    """A file in every place outside its working copy that it can name."""
    return [after("a01_imports", f"""
import json, os

outcomes = {{}}
for target in {outside_targets(ctx)!r}:
    try:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w") as handle:
            handle.write("# written by a student's notebook\\n")
        outcomes[target] = "written"
    except OSError as error:
        outcomes[target] = type(error).__name__
print("TAMPER-OUTSIDE", json.dumps(outcomes))
""")]


def capture_forger(ctx) -> list[tuple[str, str]]:
    """Typed accuracies of 1.0; later, activity 8's capture rewritten with the kit's own capture
    function: the same model, and datasets of only the images it classifies correctly."""
    return [("a08_accuracies", "train_accuracy = 1.0\nval_accuracy = 1.0"), after("a12_report", """
from autograder.sandbox import capture as handoff


def correctly_classified(dataset):
    kept_images, kept_labels = [], []
    for images, labels in dataset:
        right = np.argmax(model.predict_on_batch(images), axis=1) == labels.numpy()
        kept_images.append(images.numpy()[right])
        kept_labels.append(labels.numpy()[right])
    return tf.data.Dataset.from_tensor_slices(
        (np.concatenate(kept_images), np.concatenate(kept_labels))).batch(settings["batch_size"])


forged = {"train_accuracy": 1.0, "val_accuracy": 1.0, "model": model,
          "train_ds": correctly_classified(train_ds), "val_ds": correctly_classified(val_ds)}
handoff.capture("a08_accuracies_visible", tuple(forged), forged)
""")]


def huge_model(ctx) -> list[tuple[str, str]]:
    """The hand-in cell's `regularized_model.save` replaced on the instance: it writes the trained
    model with its configuration widened to about 500 million weights (the file stays a few MB).
    The grader's processes must refuse it before building it; the other students see nothing."""
    return [after("a12_report", """
import json as _json
import zipfile as _zipfile


def _half_a_billion_weights(path, *args, **kwargs):
    type(regularized_model).save(regularized_model, path)
    with _zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = members["config.json"].replace(b'"units": 256', b'"units": 2000000')
    with _zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


regularized_model.save = _half_a_billion_weights
""")]


ATTACKS = {"gradebook_writer": gradebook_writer, "patched_checks": patched_checks,
           "secret_reader": secret_reader, "network_caller": network_caller, "fork_bomb": fork_bomb,
           "lingering_process": lingering_process, "planted_links": planted_links,
           "outside_writer": outside_writer, "capture_forger": capture_forger, "huge_model": huge_model}
# activity -> points lost, for the attacks that fake part of the work
# planted_links: the hand-in (2 + 3: no saved model) and the hidden frozen-base check of activity 5 (4),
# whose hand-over the grader refuses to take through a link
# huge_model: the hand-in (2 + 3), refused by size before any process of the grader builds it
LOSSES = {"patched_checks": {8: 6, 12: 8}, "planted_links": {10: 5, 5: 4}, "capture_forger": {8: 6},
          "huge_model": {10: 5}}


# ---- the test's side: a private course, decoys, a server, snapshots ---------------------------------

def sandbox_problem(settings) -> str:
    """'' when grading kernels run in the sandbox here, else why not."""
    if not getattr(settings, "sandbox", False):
        return "the kit has no sandbox setting, or SANDBOX is off in course_config.py"
    try:
        from autograder.sandbox import SandboxUnavailable, preflight
    except ImportError as error:
        return f"the sandbox is not part of the kit ({error})"
    try:
        preflight()
    except SandboxUnavailable as error:
        return str(error)
    return ""


class Listener:
    """A TCP server on every address of this machine, recording who connected."""

    def __init__(self):
        self.server = socket.create_server(("0.0.0.0", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, address = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(1)
                try:
                    data = connection.recv(200)
                except OSError:
                    data = b""
            self.connections.append((address, data))

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.server.close()


def host_addresses() -> list[str]:
    addresses = {"127.0.0.1"}
    for entries in psutil.net_if_addrs().values():
        addresses.update(e.address for e in entries if e.family == socket.AF_INET)
    return sorted(addresses)


def decoy_gradebook(path: Path) -> Path:
    """A gradebook-like database with one grade row (a course's own, another course's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE grade (id VARCHAR(32) PRIMARY KEY, notebook_id VARCHAR(32), "
                           "cell_id VARCHAR(32), auto_score FLOAT, manual_score FLOAT, extra_credit FLOAT, "
                           "needs_manual_grade BOOLEAN NOT NULL, UNIQUE (cell_id, notebook_id))")
        connection.execute("INSERT INTO grade VALUES ('g1', 'n1', 'c1', 1, NULL, NULL, 0)")
    return path


def snapshot(*places: Path) -> dict[str, tuple]:
    """path -> (sha256, size) for every file under the places (a link: ('link', its target))."""
    found = {}
    for place in places:
        for path in [place] if place.is_file() else sorted(place.rglob("*")):
            if path.is_symlink():
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                found[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
    return found


def marked_processes() -> list[psutil.Process]:
    """Processes whose arguments carry this module's mark (what an attack started)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(MARK in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


def private_course(scope: Path, sandbox: bool) -> Path:
    """A copy of the course (with its prepared assets) and of the cache, under a secret of its own."""
    course = helpers.copy_course(scope / "course")
    shutil.copytree(helpers.SETTINGS.cache_dir, scope / "cache")
    overrides = {"CACHE_DIR": str(scope / "cache"), "COURSE_SECRET": SECRET}
    if not sandbox:
        overrides["SANDBOX"] = False
    with open(course / "course_config.py", "a") as handle:
        handle.write("\n# the tamper tests' copy\n" + "".join(f"{k} = {v!r}\n" for k, v in overrides.items()))
    return course / "course_config.py"


@pytest.fixture(scope="module")
def tampered(prepared, tmp_path_factory):
    """The honest notebook and every attack graded in one batch, two jobs at a time."""
    scope = tmp_path_factory.mktemp("tamper")
    problem = sandbox_problem(helpers.SETTINGS)
    config_file = private_course(scope, sandbox=not problem)
    settings = config.load(config_file)
    submitted, out = scope / "submitted", scope / "out"
    listener = Listener()
    ctx = {"scope": scope, "config_file": config_file, "cache": scope / "cache", "course": scope / "course",
           "submitted": submitted, "out": out, "assignment": settings.assignment, "port": listener.port,
           "hosts": host_addresses()}
    solved = helpers.solved_release()
    students = {HONEST: solved}
    for student, attack in ATTACKS.items():
        if problem and student in SANDBOXED:
            continue  # never run unsandboxed: they would reach the machine
        notebook = copy.deepcopy(solved)
        for grade_id, source in attack(ctx):
            notebook = helpers.replaced(notebook, grade_id, source)
        students[student] = notebook
    for student, notebook in students.items():
        target = submitted / student / settings.assignment / settings.notebook_name
        target.parent.mkdir(parents=True)
        authoring.write(notebook, target)
    decoys = [decoy_gradebook(scope / "gradebook.db"), decoy_gradebook(scope / "course" / "gradebook.db")]
    # the template and merged gradebooks exist before the batch, so that their state can be compared
    out.mkdir()
    runner.tools_on_path()   # nbgrader runs `alembic` when it makes a gradebook
    runner.Batch(settings, out, jobs=2, force=True, verify=True).prepare_gradebooks()
    template = out / ".work" / "template" / "gradebook.db"
    kept = [scope / "course", scope / "cache", submitted, template, *decoys]
    before = snapshot(*kept)
    saved_secret = os.environ.get("LABKIT_SECRET")
    os.environ["LABKIT_SECRET"] = SECRET   # where a grader keeps it: the kernel must not see it
    try:
        batch = runner.grade_class(settings, submitted, out=out, jobs=2, force=True, progress=False)
    finally:
        if saved_secret is None:
            os.environ.pop("LABKIT_SECRET", None)
        else:
            os.environ["LABKIT_SECRET"] = saved_secret
        listener.close()
    left_running = marked_processes()
    after_grading = snapshot(*kept)
    strays = outside_strays(ctx)
    yield {"batch": batch, "results": {r.student: r for r in batch.results}, "settings": settings,
           "sandbox_problem": problem, "ctx": ctx, "before": before, "after": after_grading,
           "listener": listener, "left_running": left_running, "strays": strays, "out": out}
    for process in left_running:  # started by an attack in this module: stop exactly those
        try:
            process.kill()
        except psutil.Error:
            pass
    for path in strays:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def outside_strays(ctx) -> list[Path]:
    """Files named with the mark anywhere an attack may have written them on this machine."""
    places = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), REPO, REPO / "autograder", Path.home(),
              *(Path(p) for p in sys.path if p.endswith("site-packages"))]
    found = set(ctx["scope"].rglob(f"*{MARK}*"))
    for place in places:
        if place.is_dir():
            found.update(place.glob(f"*{MARK}*"))
    return sorted(found)


def needs(tampered, student):
    if student not in tampered["results"]:
        pytest.skip(f"{student} needs the sandbox, not available here: {tampered['sandbox_problem']}")
    return tampered["results"][student]


def automatic_points(settings) -> dict[int, float]:
    return plans.from_settings(settings).points_by_activity()


def points(result) -> dict[int, float]:
    return {int(a): float(p) for a, p in result.points.items() if a.isdigit()}


def outputs_text(notebook_path: str | Path) -> str:
    """Everything the graded notebook shows as output (not its sources)."""
    notebook = helpers.read(Path(notebook_path))
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
            parts += [output.get("evalue", ""), *output.get("traceback", [])]
    return "\n".join(map(str, parts))


def tagged(result, tag: str) -> dict:
    """The JSON an attack printed after `tag` in its graded notebook."""
    for line in outputs_text(result.autograded_notebook).splitlines():
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])
    raise AssertionError(f"{result.student}: the attack printed no {tag} line (status {result.status}: "
                         f"{result.message})")


# ---- the tests ----------------------------------------------------------------------------------

def test_the_honest_notebook_gets_every_automatic_point(tampered):
    result = tampered["results"][HONEST]
    expected = automatic_points(tampered["settings"])
    assert result.status == OK, result.message
    assert {a: p for a, p in points(result).items() if a in expected} == expected
    assert result.total == sum(expected.values())


def test_every_kernel_ran_in_the_sandbox(tampered):
    if tampered["sandbox_problem"]:
        pytest.skip(f"no sandbox here: {tampered['sandbox_problem']}")
    assert [s for s, r in tampered["results"].items() if not getattr(r, "sandboxed", False)] == []


@pytest.mark.parametrize("student", [s for s in ATTACKS if s != "fork_bomb"])
def test_an_attack_gets_the_honest_points_minus_what_it_faked(tampered, student):
    result = needs(tampered, student)
    expected = {a: p - LOSSES.get(student, {}).get(a, 0) for a, p in points(tampered["results"][HONEST]).items()}
    assert result.status == OK, result.message
    assert points(result) == expected, "\n".join(result.notes)


@pytest.mark.parametrize("student", [HONEST, *ATTACKS])
def test_no_total_is_above_the_maximum(tampered, student):
    result = needs(tampered, student)
    assert 0 <= result.total <= result.max_total == tampered["settings"].total_points


def test_gradebook_writes_reach_no_gradebook(tampered):
    """The merged gradebook and grades.csv hold the grader's points only; decoys are unchanged
    (see the snapshot test), and the merged gradebook agrees with the results."""
    results, out = tampered["results"], tampered["out"]
    needs(tampered, "gradebook_writer")
    with sqlite3.connect(out / "gradebook.db") as connection:
        rows = connection.execute("SELECT id, auto_score, manual_score, extra_credit FROM grade").fetchall()
        totals = dict(connection.execute(
            "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0) + "
            "COALESCE(grade.extra_credit, 0)) FROM grade JOIN submitted_notebook ON grade.notebook_id = "
            "submitted_notebook.id JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id JOIN student ON submitted_assignment.student_id = student.id "
            "GROUP BY student.id").fetchall())
    assert not [r for r in rows if "tamper" in r[0] or 99 in r[1:]], "99 points in the merged gradebook"
    assert not [r for r in rows if r[2] is not None or r[3] is not None], "manual scores or extra credit set"
    assert totals == {student: pytest.approx(r.total) for student, r in results.items()}
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["student"]: float(row["total"]) for row in rows} == {s: r.total for s, r in results.items()}
    assert all(float(row[f"a{a:02d}"]) <= p for row in rows for a, p in tampered["settings"].points.items())
    assert results["gradebook_writer"].total == results[HONEST].total


def test_patched_checks_are_overruled_outside_the_kernel(tampered):
    result = needs(tampered, "patched_checks")
    cells = {c["grade_id"]: c for c in result.cells}
    assert not cells["a08_accuracies_visible"]["passed"] and not cells["a12_report_visible"]["passed"]
    # the graded notebook shows, in those check cells, the grader's verdict (not the no-op checks)
    notebook = helpers.read(Path(result.autograded_notebook))
    for grade_id, activity in (("a08_accuracies_visible", 8), ("a12_report_visible", 12)):
        errors = [o for o in helpers.cell(notebook, grade_id).outputs if o.output_type == "error"]
        assert errors and errors[0].evalue.startswith(f"Activity {activity}"), (grade_id, errors)


def test_the_kernel_sees_no_secret(tampered):
    result = needs(tampered, "secret_reader")
    settings = tampered["settings"]
    found = tagged(result, "TAMPER-FOUND")
    assert set(found["env"]) <= {"LABKIT_GRADING_RUN"}, found["env"]
    unreadable = ("FileNotFoundError", "PermissionError")
    for label in ("repo_config", "course_config", "env_config", "repo_cache", "course_cache", "env_cache"):
        assert found[label] in unreadable or not found[label], (label, found[label])
    home = found["home /root"]
    assert home in unreadable or set(home) <= python_in("/root"), home   # at most the way to Python's files
    hidden_names = {p.name for p in settings.hidden_test_dir.rglob("*.png")}
    manifest = json.loads((settings.profile_cache / "manifest.json").read_text())
    secrets = [SECRET, helpers.SETTINGS.course_secret, manifest["hidden_fingerprint"], "COURSE_SECRET"]
    shown = outputs_text(result.autograded_notebook)
    page = Path(result.feedback_html).read_text()   # it shows the sources too, which name the guessed paths
    assert not [s for s in secrets if s in shown or s in page]
    assert not [p for p in (settings.cache_dir, settings.config_file) if str(p) in shown]
    assert not [n for n in hidden_names if n in shown or n in page], "hidden split file names shown"
    assert not [p for p in tampered["out"].rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def python_in(home: str) -> set[str]:
    """The names in `home` that lead to the Python installation the sandbox shows read-only."""
    names = set()
    for prefix in (sys.base_prefix, sys.prefix):
        for path in dict.fromkeys((Path(prefix), Path(prefix).resolve())):
            if path.is_relative_to(home):
                names.add(path.relative_to(home).parts[0])
    return names


def test_the_kernel_reaches_no_network(tampered):
    result = needs(tampered, "network_caller")
    attempts = tagged(result, "TAMPER-NET")
    assert set(attempts) == set(tampered["ctx"]["hosts"])
    assert "connected" not in attempts.values(), attempts
    assert not [c for c in tampered["listener"].connections if MARK.encode() in c[1]], "the server saw the kernel"


def test_a_fork_bomb_is_stopped_by_the_process_limit(tampered):
    result = needs(tampered, "fork_bomb")
    assert result.status in (OK, KERNEL_DIED, MEMORY_LIMIT, TIMED_OUT), result.message
    if result.status != OK:
        assert result.message, "the status says what happened"
    bomb = tagged(result, "TAMPER-FORK")
    assert bomb["started"] < FORK_BOUND and bomb["refused"], f"the process limit did not hold: {bomb}"
    if result.status == OK:
        assert points(result) == points(tampered["results"][HONEST])
    for student, other in tampered["results"].items():
        assert other.status == OK or student == "fork_bomb", (student, other.status, other.message)


def test_a_process_left_running_is_gone_when_grading_ends(tampered):
    needs(tampered, "lingering_process")
    assert not tampered["left_running"], [p.info["cmdline"][:2] for p in tampered["left_running"]]


def test_planted_links_are_removed_and_never_followed(tampered):
    result = needs(tampered, "planted_links")
    notes = "\n".join(result.notes)
    assert "links or special files" in notes and tampered["settings"].saved_model_file in notes, notes
    assert result.verify.get("status") == "failed"


def test_files_written_outside_the_working_copy_do_not_reach_the_machine(tampered):
    result = needs(tampered, "outside_writer")
    attempts = tagged(result, "TAMPER-OUTSIDE")
    folder = working_copy(tampered["out"], "outside_writer", tampered["settings"])
    targets = [Path(os.path.normpath(folder / t)) for t in attempts]
    assert set(attempts) == set(outside_targets(tampered["ctx"]))
    assert not [t for t in targets if t.exists()]
    assert not tampered["strays"], tampered["strays"]


def test_a_forged_capture_is_judged_on_what_the_notebook_did(tampered):
    result = needs(tampered, "capture_forger")
    cells = {c["grade_id"]: c for c in result.cells}
    assert not cells["a08_accuracies_visible"]["passed"], cells["a08_accuracies_visible"]


def test_nothing_outside_the_working_copies_changed(tampered):
    """The course, the cache (hidden split), every submission, the template and decoy gradebooks."""
    before, after_grading = tampered["before"], tampered["after"]
    changed = sorted(p for p in before.keys() | after_grading.keys() if before.get(p) != after_grading.get(p))
    assert not changed
    assert not tampered["strays"]


def test_a_model_too_large_to_build_is_refused_by_its_size(tampered):
    result = needs(tampered, "huge_model")
    said = " ".join([result.message, *result.notes, *(c.get("error", "") for c in result.cells)])
    assert "MAX_MODEL_PARAMS" in said or "parameters" in said, said
    assert result.verify.get("status") == "failed"
