"""Start a tiny sandbox once, the way kernels are started; refuse with the cause and the fix."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import leftovers

OPT_OUT = ("or, to grade without the sandbox (kernels then reach everything the grader can), set "
           "SANDBOX = False in course_config.py")

_results: dict[str, str] = {}   # bwrap path -> "" (works) or the refusal, once per process


class SandboxUnavailable(RuntimeError):
    """Grading kernels cannot be sandboxed on this machine; the message says why and what to do."""


def preflight(bwrap: str = "bwrap") -> None:
    """Raise SandboxUnavailable unless a sandbox like a kernel's starts here (tried once, cached)."""
    if not _results:   # once per process, before its first sandbox
        leftovers.sweep()
    if bwrap not in _results:
        _results[bwrap] = _try(bwrap)
    if _results[bwrap]:
        raise SandboxUnavailable(_results[bwrap])


def _try(bwrap: str) -> str:
    """'' when `true` runs in the sandbox, else the refusal message."""
    from autograder.sandbox import command, syscalls, uids

    if shutil.which(bwrap) is None:
        return (f"grading kernels run sandboxed with bubblewrap, and `{bwrap}` is not installed. Fix: "
                f"install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), "
                f"{OPT_OUT}.")
    with tempfile.TemporaryDirectory(prefix="lk-", dir="/tmp") as scratch:
        root = Path(scratch)
        for name in ("cwd", "s", "etc"):
            (root / name).mkdir()
        claim = uids.claim()
        try:
            syscalls.program()
        except syscalls.FilterUnavailable as missing:
            claim.release()
            return f"grading kernels run under a seccomp filter, and {missing}; {OPT_OUT}."
        try:
            for name, text in command.etc_files(claim.uid).items():
                (root / "etc" / name).write_text(text)
            layout = command.Layout(uid=claim.uid, cwd=root / "cwd", sockets=root / "s", etc=root / "etc",
                                    env={"PATH": "/usr/bin:/bin"}, as_root=os.geteuid() == 0, bwrap=bwrap,
                                    seccomp=syscalls.write(root / "seccomp.bpf"))
            argv = command.build(layout, [sys.executable, "-c", "import os; print(os.getuid())"])
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.SubprocessError) as error:
                return _refusal(bwrap, str(error))
        finally:
            claim.release()
    if done.returncode == 0 and done.stdout.strip() == str(layout.uid):
        return ""
    return _refusal(bwrap, (done.stderr or done.stdout).strip() or f"exit status {done.returncode}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _has_sys_admin() -> bool:
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << 21))   # CAP_SYS_ADMIN is bit 21
    return False


def _refusal(bwrap: str, said: str) -> str:
    """The message for a bubblewrap that is installed but cannot make the sandbox."""
    lines = said.splitlines()
    said = lines[-1][:300] if lines else said
    head = f"grading kernels run sandboxed with bubblewrap, and it fails on this machine ({bwrap}: {said})."
    if os.geteuid() == 0 and not _has_sys_admin():
        cause = ("Cause: the grader runs as root without CAP_SYS_ADMIN (a container's default), which "
                 "the sandbox needs to make its mounts when it runs as root. Fix: grade as a non-root "
                 "user (the sandbox then uses user namespaces; in Docker also --security-opt "
                 "seccomp=unconfined), or start the container with --cap-add SYS_ADMIN --security-opt "
                 "seccomp=unconfined")
    elif _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        cause = ("Cause: AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later). Fix: "
                 "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0 (persist it in "
                 "/etc/sysctl.d/), or give bwrap an AppArmor profile that allows `userns`, or grade as root")
    elif _read("/proc/sys/kernel/unprivileged_userns_clone") == "0" or _read("/proc/sys/user/max_user_namespaces") == "0":
        cause = ("Cause: user namespaces are switched off. Fix: sudo sysctl kernel.unprivileged_userns_clone=1 "
                 "and user.max_user_namespaces=10000, or grade as root")
    elif Path("/.dockerenv").exists() or "docker" in _read("/proc/1/cgroup") or os.environ.get("container"):
        cause = ("Cause: this runs in a container whose seccomp profile (Docker's default) forbids the "
                 "namespaces bubblewrap needs. Fix: start the container with "
                 "--security-opt seccomp=unconfined (or a profile that allows unshare, clone and mount), "
                 "and on Ubuntu hosts also --security-opt apparmor=unconfined")
    else:
        cause = ("Fix: install a recent bubblewrap (0.4 or later); in a container, run it with "
                 "--security-opt seccomp=unconfined; on Ubuntu 23.10 and later, "
                 "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0")
    return f"{head} {cause}; {OPT_OUT}. Check with: labkit sandbox-check"
