"""The sandbox's seccomp filter, and the removal of what a killed grader leaves behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
from machine_needs import unavailable
from test_sandbox import result, start, stop

from autograder.sandbox import cgroups, command, leftovers, syscalls

TRIES = """
import ctypes, errno, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
def outcome(value):
    return "allowed" if value >= 0 else errno.errorcode[ctypes.get_errno()]
answer = {
    "unshare user": outcome(libc.unshare(0x10000000)),
    "unshare mount": outcome(libc.unshare(0x00020000)),
    "unshare net": outcome(libc.unshare(0x40000000)),
    "ptrace": outcome(libc.ptrace(0, 0, 0, 0)),
    "mount": outcome(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
    "bpf": outcome(libc.syscall(321, 0, 0, 0)),
    "keyctl": outcome(libc.syscall(250, 0, 0)),
    "perf_event_open": outcome(libc.syscall(298, 0, 0, -1, -1, 0)),
    "unshare -U (the tool)": subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode,
}
thread = threading.Thread(target=lambda: None)
thread.start(); thread.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
answer["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
answer["subprocess"] = subprocess.run(["python3", "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip()
"""


def test_the_kernel_cannot_make_namespaces_mount_trace_or_reach_the_kernels_keyrings(tmp_path):
    km, client = start(tmp_path)
    try:
        found = result(client, TRIES)
    finally:
        stop(km, client)
    refused = {k: v for k, v in found.items() if k not in ("fork", "subprocess", "unshare -U (the tool)")}
    assert set(refused.values()) == {"EPERM"}, refused
    assert found["unshare -U (the tool)"] != 0
    assert found["fork"] == 7 and found["subprocess"] == "42"   # what Python and TensorFlow need still works


def test_the_filter_is_handed_to_bubblewrap_and_never_bound_into_the_sandbox(tmp_path):
    layout = command.Layout(uid=1234, cwd=tmp_path / "cwd", sockets=tmp_path / "s", etc=tmp_path / "etc",
                            env={}, as_root=True, seccomp=syscalls.write(tmp_path / "seccomp.bpf"))
    argv = command.build(layout, ["python3"])
    assert argv[:2] == ["/bin/sh", "-c"] and f"exec {command.FILTER_FD}< " in argv[2]
    bwrap = argv.index("bwrap")
    assert argv[bwrap + 1:].count("--seccomp") == 1
    assert str(tmp_path / "seccomp.bpf") not in argv[bwrap:]
    assert len(syscalls.program()) % 8 == 0 and len(syscalls.program()) > 100   # whole BPF instructions


def owner_of_a_process_that_ended() -> str:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = f"{child.pid} {psutil.Process(child.pid).create_time():.2f}"
    child.kill()
    child.wait()
    return owner


def test_only_folders_of_graders_that_are_gone_are_removed(tmp_path):
    gone, mine, fresh, ancient = (tmp_path / f"{leftovers.PREFIX}{n}" for n in ("gone", "mine", "fresh", "ancient"))
    for folder in (gone, mine, fresh, ancient):
        (folder / "s").mkdir(parents=True)
    (gone / leftovers.OWNER).write_text(owner_of_a_process_that_ended())
    leftovers.mark(mine)
    day_and_more = time.time() - leftovers.UNOWNED_S - 60
    os.utime(ancient, (day_and_more, day_and_more))
    (tmp_path / "lk-link").symlink_to(mine)
    removed = leftovers.sweep(tmp_path)
    assert sorted(Path(p).name for p in removed if p.startswith(str(tmp_path))) == ["lk-ancient", "lk-gone"]
    assert mine.is_dir() and fresh.is_dir() and (tmp_path / "lk-link").is_symlink()


KILLED_GRADER = """
import os, sys, time
from pathlib import Path
from jupyter_client import KernelManager
from traitlets.config import Config
from autograder import sandbox
sandbox.ensure_kernelspec()
km = KernelManager(kernel_name=sandbox.KERNEL_NAME, config=Config({"SandboxProvisioner": {"memory_limit_mb": 512}}))
km.start_kernel(cwd=sys.argv[1], env=dict(os.environ))
client = km.client(); client.start_channels(); client.wait_for_ready(timeout=60)
print(Path(km.connection_file).parent.parent, flush=True)
time.sleep(600)
"""


def test_a_killed_graders_sandbox_folder_and_cgroup_go_at_the_next_start(tmp_path):
    grader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED_GRADER), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(grader.stdout.readline().strip())
        assert folder.name.startswith(leftovers.PREFIX) and (folder / leftovers.OWNER).is_file()
        groups = [p for p in Path("/sys/fs/cgroup").rglob(f"{cgroups.NAME_PREFIX}{grader.pid}-*")]
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
    time.sleep(1)   # bubblewrap dies with its parent; its cgroup empties
    assert folder.is_dir(), "the killed grader had no chance to remove its folder"
    removed = leftovers.sweep()
    assert str(folder) in removed and not folder.exists()
    if not cgroups.available().startswith("cgroup:"):
        unavailable("no cgroup can be made on this machine; the folder part passed")
    assert groups, "the killed grader's kernel had a cgroup named after the grader"
    assert all(not group.exists() for group in groups), groups
