"""Memory and time bounds for the grader's own processes that read a student's files: the judge,
the saved-model verifier and activity 13's facts. No student code runs in them, but the files they
read are the student's, and a small model file can ask for gigabytes.

As for the kernel, the memory watcher stops the process and everything it started at the limit
(GRADER_MEMORY_LIMIT_MB), so the result can say why; a cgroup, where the grader may make one, holds
it a little above that, for memory that grows faster than the watcher looks."""
from __future__ import annotations

import subprocess


from autograder.sandbox import cgroups
from autograder.sandbox.watcher import MemoryWatcher, kill_tree


class OverLimit(RuntimeError):
    """The process went over its memory limit and was stopped."""


def hard_limit_mb(limit_mb: int) -> int:
    """The cgroup's limit: above the watcher's, which stops the process with a clear status first."""
    return limit_mb + max(256, limit_mb // 4)


def over_limit(limit_mb: int) -> str:
    """What the result says of a process stopped at the limit."""
    return f"used more than {limit_mb} MB of memory and was stopped"


class Bound:
    """Hold a running process, and whatever it starts, under `limit_mb` MB of resident memory until
    `release`; `exceeded` tells whether it went over and was stopped."""

    def __init__(self, pid: int, limit_mb: int):
        self.pid, self.limit_mb = pid, limit_mb
        self.group = cgroups.create(0, hard_limit_mb(limit_mb))
        if self.group is not None:
            try:
                self.group.add(pid)
            except OSError:   # gone already, or the group refuses it: the watcher alone holds it
                self.group.remove(wait=0)
                self.group = None
        self.watcher = MemoryWatcher(pid, limit_mb).__enter__()

    @property
    def exceeded(self) -> bool:
        return self.watcher.exceeded or (self.group is not None and self.group.oom_kills() > 0)

    @property
    def peak_mb(self) -> float:
        """The largest resident memory the watcher saw."""
        return self.watcher.peak_mb

    def release(self) -> None:
        """Stop watching and remove the cgroup (once the process has ended)."""
        self.watcher.__exit__(None, None, None)
        if self.group is not None:
            self.group.remove()


def run(command: list[str], *, timeout: float, limit_mb: int, **options) -> subprocess.CompletedProcess:
    """subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options), with the
    process and everything it starts held under `limit_mb` MB (0: no bound) and killed together at
    the timeout. Raises subprocess.TimeoutExpired, or OverLimit when the memory bound stopped it."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          **options) as process:
        bound = Bound(process.pid, limit_mb) if limit_mb else None
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.communicate()
            raise
        finally:
            exceeded = bound is not None and bound.exceeded
            if bound is not None:
                bound.release()
        if exceeded and process.returncode != 0:
            raise OverLimit(over_limit(limit_mb))
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
