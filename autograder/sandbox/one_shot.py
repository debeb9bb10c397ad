"""One command in the kernel's sandbox, run to its end: for work that runs a student's code outside
the kernel (measuring a saved model that needs the notebook's own classes).

The same walls as a grading kernel (autograder.sandbox.command): its own namespaces and uid, no
network, the seccomp filter, only `folder` writable and nothing else of the grader's visible; held
under a time and memory limit like the grader's own processes (bounds)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import bounds, cgroups, command, environment, leftovers, syscalls, uids, workdir

MAX_PROCESSES = 512


def run(module: str, args: list[str], folder: Path, *, timeout: float, limit_mb: int,
        bwrap: str = "bwrap") -> subprocess.CompletedProcess:
    """`python -m module *args` in the sandbox, working in `folder` (which it may write); raises
    subprocess.TimeoutExpired or bounds.OverLimit like bounds.run."""
    private = Path(tempfile.mkdtemp(prefix="lk-", dir="/tmp"))
    leftovers.mark(private)
    (private / "s").mkdir(mode=0o700)
    (private / "etc").mkdir()
    claim, group, lent = uids.claim(), None, None
    cwd = workdir.check(folder)
    try:
        as_root = os.geteuid() == 0
        if as_root:
            lent = workdir.lend(cwd, claim.uid, claim.uid)
            os.chown(private / "s", claim.uid, claim.uid)
        for name, text in command.etc_files(claim.uid).items():
            (private / "etc" / name).write_text(text)
        group = cgroups.create(MAX_PROCESSES, 0)
        layout = command.Layout(uid=claim.uid, cwd=cwd, sockets=private / "s", etc=private / "etc",
                                env=environment.kernel_env(dict(os.environ)), as_root=as_root, bwrap=bwrap,
                                max_processes=MAX_PROCESSES, seccomp=syscalls.write(private / "seccomp.bpf"),
                                cgroup_procs=group.procs_files if group else [])
        argv = command.build(layout, [sys.executable, "-m", module, *args])
        return bounds.run(argv, timeout=timeout, limit_mb=limit_mb, stdin=subprocess.DEVNULL,
                          env=layout.env, cwd=str(cwd))
    finally:
        if lent is not None:
            workdir.take_back(cwd, claim.uid, lent)
        if group is not None:
            group.remove()
        claim.release()
        shutil.rmtree(private, ignore_errors=True)
