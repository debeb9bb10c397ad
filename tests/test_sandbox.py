"""The sandbox of grading kernels: a real `labkit-sandbox` kernel, started through jupyter_client's
KernelManager, runs code that tries to reach what it must not; the host checks the outcome.

One kernel is shared by the tests whose property survives the others (environment, files, network,
fork bomb, uid); a kernel is started of its own where the test ends it or needs the default limits."""
from __future__ import annotations

import importlib
import json
import os
import random
import runpy
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from jupyter_client import KernelManager
from traitlets.config import Config

from autograder import sandbox
from autograder.course import config

preflight_module = importlib.import_module("autograder.sandbox.preflight")   # the package exports the function

FORK_LIMIT = 64      # the shared kernel's process limit; the fork bomb tries far more
FORK_TRIES = 400     # bounded: even with no limit at all the bomb stops here


def start(cwd: Path, env: dict | None = None, **provisioner) -> tuple[KernelManager, object]:
    sandbox.preflight()
    sandbox.ensure_kernelspec()
    km = KernelManager(kernel_name=sandbox.KERNEL_NAME, config=Config({"SandboxProvisioner": provisioner}))
    km.start_kernel(cwd=str(cwd), env=env or dict(os.environ))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return km, client


def stop(km, client) -> None:
    client.stop_channels()
    km.shutdown_kernel()


def run(client, code: str, timeout: float = 120) -> str:
    """Execute `code`; its stdout (an error in the kernel fails the test with its message)."""
    out = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda msg: out.append(
        msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
    content = reply["content"]
    assert content["status"] == "ok", f"{content.get('ename')}: {content.get('evalue')}"
    return "".join(out)


def result(client, code: str, timeout: float = 120):
    """Execute `code` that leaves a JSON-able value in `answer`; that value."""
    text = run(client, code + "\nimport json as _json\nprint('ANSWER', _json.dumps(answer))", timeout)
    return json.loads(text.split("ANSWER ", 1)[1])


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A working folder, and a stand-in for the grader's cache next to it with a secret file."""
    work = tmp_path_factory.mktemp("work")
    cache = tmp_path_factory.mktemp("cache")
    (cache / "hidden_split.txt").write_text("the hidden split\n")
    return {"work": work, "cache": cache}


@pytest.fixture(scope="module")
def shared(places):
    """One sandboxed kernel, started with the grader's secrets in the environment it is given."""
    env = {**os.environ, "LABKIT_CONFIG": "/srv/course/course_config.py", "LABKIT_SECRET": "s3cret-course-key",
           "LABKIT_CACHE": str(places["cache"]), "JUPYTERHUB_API_TOKEN": "hub-token"}
    km, client = start(places["work"], env, max_processes=FORK_LIMIT)
    yield km, client
    stop(km, client)


def test_kernelspec_names_the_sandbox_provisioner():
    from jupyter_client.kernelspec import KernelSpecManager

    sandbox.ensure_kernelspec()
    spec = KernelSpecManager().get_kernel_spec(sandbox.KERNEL_NAME)
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == sandbox.PROVISIONER_NAME
    assert spec.argv[:3] == [sys.executable, "-m", "autograder.sandbox.kernel_launcher"]
    before = (sandbox.kernelspec.folder() / "kernel.json").stat().st_mtime_ns
    sandbox.ensure_kernelspec()   # idempotent: an unchanged spec is not rewritten
    assert (sandbox.kernelspec.folder() / "kernel.json").stat().st_mtime_ns == before


def test_environment_has_no_labkit_variables_nor_tokens(shared):
    _, client = shared
    env = result(client, "import os\nanswer = dict(os.environ)")
    assert not [name for name in env if name.startswith(("LABKIT_", "JUPYTERHUB_"))], sorted(env)
    assert "s3cret-course-key" not in json.dumps(env) and "hub-token" not in json.dumps(env)
    assert env["HOME"] == "/tmp" and "PATH" in env   # the allow-list is there, not an empty env


def test_the_cache_and_the_course_are_unreachable(shared, places):
    _, client = shared
    settings = config.load()
    targets = [str(places["cache"]), str(places["cache"] / "hidden_split.txt"), str(settings.cache_dir),
               str(settings.config_file), str(settings.root / "source")]
    answer = result(client, f"""
import os
answer = {{}}
for path in {targets!r}:
    try:
        answer[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()[:20]
    except OSError as error:
        answer[path] = None
""")
    assert answer == {path: None for path in targets}
    assert (places["cache"] / "hidden_split.txt").is_file()   # the file is there, on the host


def test_only_the_working_folder_is_writable(shared, places):
    _, client = shared
    settings = config.load()
    tag = f"escape-{random.randrange(10**9)}.txt"
    outside = [places["cache"] / tag, places["work"].parent / tag, Path("/tmp") / tag, settings.root / tag,
               Path.home() / tag, Path(sys.prefix) / tag, Path(sandbox.__file__).parent / tag]
    answer = result(client, f"""
answer = {{}}
for path in {[str(p) for p in outside]!r} + ["inside.txt"]:
    try:
        with open(path, "w") as handle:
            handle.write("from the kernel")
        answer[path] = True
    except OSError:
        answer[path] = False
""")
    assert answer["inside.txt"] is True and (places["work"] / "inside.txt").read_text() == "from the kernel"
    assert answer[str(Path("/tmp") / tag)] is True   # its private /tmp ...
    assert not [path for path in outside if path.exists()]   # ... and nothing of it on the host
    assert not answer[str(settings.root / tag)] and not answer[str(Path(sys.prefix) / tag)]


def test_no_tcp_connection_to_the_hosts_loopback(shared):
    _, client = shared
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted, stopped = [], threading.Event()

    def serve():
        while not stopped.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=3):   # the server works from the host
            pass
        time.sleep(0.5)
        assert len(accepted) == 1
        answer = result(client, f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    answer = "connected"
except OSError as error:
    answer = type(error).__name__
""")
        time.sleep(0.5)
    finally:
        stopped.set()
        thread.join(2)
        server.close()
    assert answer != "connected" and len(accepted) == 1


def test_a_fork_bomb_hits_the_process_limit(shared):
    km, client = shared
    answer = result(client, f"""
import errno, os, time
children, failure = [], None
for _ in range({FORK_TRIES}):
    try:
        pid = os.fork()
    except OSError as error:
        failure = errno.errorcode[error.errno]
        break
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    children.append(pid)
answer = [len(children), failure]
""")
    forked, failure = answer
    in_sandbox = len(psutil.Process(km.provisioner.pid).children(recursive=True))   # counted from the host
    cleanup = run(client, "import signal\nfor pid in children: os.kill(pid, signal.SIGKILL)\n"
                          "for pid in children: os.waitpid(pid, 0)\nprint(len(children))")
    assert failure == "EAGAIN" and 0 < forked < FORK_LIMIT, answer
    assert in_sandbox <= FORK_LIMIT + 2, in_sandbox   # the kernel, bwrap's init, and no more than the limit
    assert cleanup.strip() == str(forked)
    assert run(client, "print(6 * 7)").strip() == "42"   # the kernel still works
    assert subprocess.run(["true"]).returncode == 0      # and so does the host


def test_the_kernel_does_not_run_as_root(shared):
    km, client = shared
    uid, capabilities = result(client, "import os\nanswer = [os.getuid(), [l.split()[1] for l in "
                                       "open('/proc/self/status') if l.startswith('CapEff')][0]]")
    assert int(capabilities, 16) == 0
    if os.geteuid() == 0:
        assert uid != 0 and uid == km.provisioner.kernel_process().uids().real


def test_a_detached_process_ends_with_the_kernel(places, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    km, client = start(work)
    marker = str(random.randrange(10**6, 10**7))
    run(client, f"""
import os
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{marker}"])
    os._exit(0)
os.waitpid(pid, 0)
open("left.txt", "w").write("made by the kernel")
""")

    def detached():
        return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", marker]]

    deadline = time.monotonic() + 5
    while not detached() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert detached(), "the detached process never started"
    stop(km, client)
    deadline = time.monotonic() + 10
    while detached() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not detached()
    # the working folder and what the kernel made in it belong to the grader again
    assert {path.stat().st_uid for path in (work, work / "left.txt")} == {os.geteuid()}


@pytest.mark.slow
def test_tensorflow_keras_and_plot_model_work_in_the_working_folder(tmp_path):
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "lab_settings.json").write_text(json.dumps({"image_size": [8, 8]}))
    km, client = start(work)   # the default limits, as grading uses
    try:
        text = run(client, """
import json, sys
finders = lambda: [getattr(finder, "__name__", "") for finder in sys.meta_path]
print("before", "TensorFlowFirstImport" in finders())
import keras, tensorflow as tf
print("after", "TensorFlowFirstImport" in finders())
size = json.load(open("lab_settings.json"))["image_size"]
model = keras.Sequential([keras.Input((*size, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                          keras.layers.Dense(2)])
keras.utils.plot_model(model, "model.png", show_shapes=True)
model.save("model.keras")
print("tensorflow", tf.__version__)
""", timeout=300)
    finally:
        stop(km, client)
    assert "tensorflow" in text
    # the kernel's launcher released TensorFlow's start-up pages at its first import (library_pages)
    assert "before True" in text and "after False" in text
    assert (work / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (work / "model.keras").stat().st_size > 0


def test_refusal_names_the_cause_and_the_fix(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.preflight(str(fake))
    message = str(refused.value)
    assert "Creating new namespace failed" in message          # what bubblewrap said
    assert "seccomp=unconfined" in message or "sysctl" in message   # a fix
    assert "SANDBOX = False" in message                        # and the opt-out
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.preflight(str(tmp_path / "no-such-bwrap"))


def test_labkit_grade_refuses_before_the_first_student(tmp_path, monkeypatch, capsys):
    from autograder import cli

    monkeypatch.setitem(preflight_module._results, "bwrap", "bubblewrap fails here (a test)")
    status = cli.main(["grade", str(tmp_path / "submitted"), "--out", str(tmp_path / "out"), "--quiet"])
    assert status == 1 and "bubblewrap fails here" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_sandbox_setting_is_validated():
    path = config.REPO_ROOT / "course_config.py"
    values = {name: value for name, value in runpy.run_path(str(path)).items() if name.isupper()}
    assert config.from_values(values, path).sandbox is True
    assert config.from_values({**values, "SANDBOX": False}, path).sandbox is False
    with pytest.raises(config.ConfigError, match="SANDBOX must be True or False"):
        config.from_values({**values, "SANDBOX": "no"}, path)


def test_labkit_sandbox_check_passes_here():
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "sandbox-check"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the sandbox holds" in done.stdout and "REACHABLE" not in done.stdout


def test_the_hidden_split_check_refuses_a_saved_model_that_is_a_link(tmp_path):
    """The grader runs that check itself (the sandbox hides the split); a link the notebook left in
    its folder could point at any file of the grader's, so it counts as no model."""
    from autograder.checks.result import CheckFailed
    from autograder.judging import hidden_split as outside

    settings = config.load()
    (tmp_path / settings.saved_model_file).symlink_to(settings.config_file)
    with pytest.raises(CheckFailed, match="a link to somewhere else"):
        outside.model_file(tmp_path, settings)
    shown = outside.outputs(tmp_path)
    assert [o.output_type for o in shown][-1] == "error" and shown[-1].ename == "CheckFailed"
    (tmp_path / settings.saved_model_file).unlink()
    (tmp_path / settings.saved_model_file).write_bytes(b"not a model")
    assert outside.model_file(tmp_path, settings) == tmp_path / settings.saved_model_file
