"""Grader side: copy what the kernel left in its working copy into a folder the kernel never saw.

Only real folders and regular files are copied; a symbolic link (or anything else) is skipped, so
nothing outside the working copy is ever read through one. Sizes are capped."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_TOTAL_BYTES = 4 * 2**30
MAX_FILES = 10000


class CopyLimit(RuntimeError):
    """The capture is larger than the grader accepts."""


def copy_file(source: Path, target: Path, budget: list[int] | None = None) -> bool:
    """Copy one regular file without following a link at its last step; False if it is not one."""
    try:
        handle = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    with os.fdopen(handle, "rb") as reader:
        info = os.fstat(reader.fileno())
        if not stat.S_ISREG(info.st_mode):
            return False
        if budget is not None:
            budget[0] -= info.st_size
            if budget[0] < 0:
                raise CopyLimit(f"more than {MAX_TOTAL_BYTES // 2**20} MB")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as writer:
            shutil.copyfileobj(reader, writer, 2**20)
    return True


def copy_tree(source: Path, target: Path) -> list[str]:
    """Copy the real folders and regular files under `source` into `target` (replaced); returns
    the relative paths that were skipped (links, devices, ...). Raises CopyLimit when too large."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    skipped, budget, count = [], [MAX_TOTAL_BYTES], 0
    if source.is_symlink() or not source.is_dir():
        return [] if not source.exists() and not source.is_symlink() else ["."]
    pending = [Path()]
    while pending:
        relative = pending.pop()
        with os.scandir(source / relative) as entries:
            for entry in entries:
                inner = relative / entry.name
                count += 1
                if count > MAX_FILES:
                    raise CopyLimit(f"more than {MAX_FILES} files")
                if entry.is_dir(follow_symlinks=False):
                    (target / inner).mkdir()
                    pending.append(inner)
                elif not (entry.is_file(follow_symlinks=False) and copy_file(source / inner, target / inner, budget)):
                    skipped.append(str(inner))
    return skipped
