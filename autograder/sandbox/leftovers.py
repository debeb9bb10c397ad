"""What a killed grader leaves of its sandboxes, removed when a grader next starts.

A grader that ends normally removes each sandbox's folder (/tmp/lk-*) and cgroup itself; one that
is killed cannot. Each folder names its owner (pid and start time) and each cgroup its owner's pid,
so the next start can tell what belongs to a grader that is gone. Only this user's folders are
touched, and a folder without an owner is left alone for a day (it is being made, or a grader
of an older kit made it)."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psutil

OWNER = "owner"
PREFIX = "lk-"
UNOWNED_S = 24 * 3600   # a folder with no owner: being made, or from a kit before owners; a day
last_sweep: list[str] = []   # what the last sweep of this process removed (for `labkit sandbox-check`)


def _me() -> str:
    return f"{os.getpid()} {psutil.Process().create_time():.2f}"


def mark(folder: Path) -> None:
    """Name this process as the owner of a sandbox folder."""
    (folder / OWNER).write_text(_me())


def alive(owner: str) -> bool:
    """Whether the process named by an owner text ("pid start-time") still runs."""
    try:
        pid, started = owner.split()
        return f"{psutil.Process(int(pid)).create_time():.2f}" == started
    except (ValueError, psutil.Error):
        return False


def _stale_folder(folder: Path) -> bool:
    info = folder.lstat()
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.geteuid():
        return False
    try:
        return not alive((folder / OWNER).read_text())
    except OSError:   # no owner yet: stale only once it is old
        return time.time() - info.st_mtime > UNOWNED_S


def sweep(tmp: Path = Path("/tmp")) -> list[str]:
    """Remove the sandbox folders and cgroups of graders that are gone; what was removed."""
    from autograder.sandbox import cgroups

    removed = []
    for folder in tmp.glob(f"{PREFIX}*"):
        try:
            if _stale_folder(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
        except OSError:
            continue
    removed += cgroups.sweep(lambda pid: psutil.pid_exists(pid))
    last_sweep[:] = removed
    return removed
