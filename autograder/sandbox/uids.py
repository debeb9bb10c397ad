"""One unprivileged uid per running kernel, when the grader is root.

Why not one shared uid (65534): RLIMIT_NPROC counts every process of a real uid on the machine, so
kernels graded in parallel under one uid would share one process budget (one student's fork bomb
would stop the other's kernel from starting threads), and so would any other program running as
`nobody`. A uid of its own gives each kernel its own budget. The uids come from a range that no
distribution or subordinate-uid default hands out and are in no passwd file; a lock file held while
the kernel runs keeps parallel workers (separate processes) from taking the same one."""
from __future__ import annotations

import fcntl
import os
import random
from pathlib import Path

FIRST_UID = 1_610_000_000     # above the usual subuid ranges (100000 + 65536 n), below 2^31
SLOTS = 10_000
SHARED_UID = 65534            # `nobody`: the uid inside the user namespace when not root
LOCK_DIR = Path("/run/labkit-sandbox") if Path("/run").is_dir() else Path("/tmp/labkit-sandbox")


class Claim:
    """A uid held by this process until `release` (or until the process ends)."""

    def __init__(self, uid: int, handle: int | None):
        self.uid, self._handle = uid, handle

    def release(self) -> None:
        if self._handle is not None:
            os.close(self._handle)  # closing drops the lock; the file stays for the next claim
            self._handle = None


def claim() -> Claim:
    """A uid for a new kernel: its own from the range when root, else the shared one."""
    if os.geteuid() != 0:
        return Claim(SHARED_UID, None)  # inside a user namespace; RLIMIT_NPROC counts per namespace
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    start = random.randrange(SLOTS)   # a random start makes two workers rarely try the same slot
    for step in range(SLOTS):
        slot = (start + step) % SLOTS
        handle = os.open(LOCK_DIR / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        return Claim(FIRST_UID + slot, handle)
    raise RuntimeError(f"all {SLOTS} sandbox uids are in use (locks in {LOCK_DIR})")
