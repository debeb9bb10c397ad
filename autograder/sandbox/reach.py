"""Runs inside a sandboxed kernel for `labkit sandbox-check`: what can this process reach?

Reports facts only; the grader outside decides what they mean."""
from __future__ import annotations

import os
import resource
import socket

from autograder.sandbox.environment import RUN_MARK


def _look(path: str):
    """None when the path is not there; else its listing (a folder), 'read' (a readable file) or
    'there, unreadable'."""
    if not os.path.lexists(path):
        return None
    try:
        if os.path.isdir(path):
            return sorted(os.listdir(path))
        with open(path, "rb") as handle:
            handle.read(1)
        return "read"
    except OSError:
        return "there, unreadable"


def _write(path: str) -> bool:
    try:
        with open(path, "x") as handle:
            handle.write("written from a sandboxed kernel\n")
        return True
    except OSError:
        return False


def _connect(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
            connection.sendall(b"hello")
        return "connected"
    except OSError as error:
        return f"refused ({error.strerror or error})"


def _capabilities() -> str:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                return line.split()[1]
    return "?"


def _system_calls() -> dict:
    """Which of the calls the seccomp filter refuses this process can make ('allowed') or not."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    calls = {"a user namespace (unshare)": lambda: libc.unshare(0x10000000),
             "a mount namespace (unshare)": lambda: libc.unshare(0x00020000),
             "ptrace": lambda: libc.ptrace(0, 0, 0, 0),
             "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
             "bpf": lambda: libc.syscall(321, 0, 0, 0),
             "keyctl": lambda: libc.syscall(250, 0, 0)}
    found = {}
    for name, call in calls.items():
        found[name] = "allowed" if call() >= 0 else os.strerror(ctypes.get_errno())
    return found


def probe(targets: dict) -> dict:
    """targets: paths (label -> path), writes (paths to try), port, host_pid, host_cmdline."""
    pids = [name for name in os.listdir("/proc") if name.isdigit()]
    try:
        with open(f"/proc/{targets['host_pid']}/cmdline", "rb") as handle:
            host_visible = handle.read().decode(errors="replace") == targets["host_cmdline"]
    except OSError:
        host_visible = False
    return {
        "env": sorted(name for name in os.environ if name != RUN_MARK and (
            name.startswith(("LABKIT_", "JUPYTERHUB_", "JPY_API")) or "TOKEN" in name or "SECRET" in name)),
        "paths": {label: _look(path) for label, path in targets["paths"].items()},
        "tmp": sorted(os.listdir("/tmp")),
        "writes": {path: _write(path) for path in targets["writes"]},
        "network": _connect(targets["port"]),
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "uid": os.getuid(), "gid": os.getgid(), "capabilities": _capabilities(),
        "pid": os.getpid(), "processes": len(pids), "host_pid_visible": host_visible,
        "nproc": list(resource.getrlimit(resource.RLIMIT_NPROC)),
        "cwd_writable": _write("labkit-probe.txt"),
        "system_calls": _system_calls(),
    }
