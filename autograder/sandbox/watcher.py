"""A grading kernel's processes: found by the run's mark wherever they went, watched for memory,
and killed together."""
from __future__ import annotations

import threading
import time

import psutil

from autograder.sandbox.environment import (
    RUN_MARK,  # every process of a grading kernel inherits it
)


def marked_processes(mark: str) -> list[psutil.Process]:
    """Processes whose environment carries this run's mark: the kernel and whatever it started,
    including processes that left its tree. Other accounts' processes cannot be read and are skipped."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(RUN_MARK) == mark:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def kill_all(processes: list[psutil.Process], wait: float = 5) -> None:
    """Kill every process in the list (gone ones are skipped), then wait up to `wait` s for them."""
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    if wait:
        psutil.wait_procs(processes, timeout=wait)


def kill_tree(pid: int) -> None:
    """Kill a process and everything it started, wherever it went in the tree (a grading worker's
    kernel runs in a session of its own).

    The tree is frozen (SIGSTOP) as it is listed, until a listing finds nothing new, so that a
    process forked while the list was taken (a kernel or judge being started) is not missed."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    frozen: dict[int, psutil.Process] = {}
    for _ in range(10):
        try:
            found = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        new = [process for process in found if process.pid not in frozen]
        if not new:
            break
        for process in new:
            try:
                process.suspend()
            except psutil.Error:
                pass
            frozen[process.pid] = process
    kill_all(list(frozen.values()))


def stop_marked(mark: str) -> int:
    """Kill what is left of a run (the kernel is already shut down); how many were found."""
    left = marked_processes(mark)
    kill_all(left)
    return len(left)


class MemoryWatcher:
    """Poll a process tree's resident memory; kill the tree when it passes `limit_mb`. With a run
    `mark`, the processes carrying it count as part of the tree wherever they are."""

    CHILDREN_EVERY_S = 1.0   # listing children scans the whole process table: do it less often

    def __init__(self, pid: int, limit_mb: float, interval: float = 0.05, mark: str = ""):
        self.pid, self.limit_mb, self.interval, self.mark = pid, limit_mb, interval, mark
        self.peak_mb = 0.0
        self.exceeded = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-watcher", daemon=True)
        self._root: psutil.Process | None = None
        self._children: list[psutil.Process] = []
        self._children_at = 0.0

    def __enter__(self) -> "MemoryWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        return [root, *self._others(root)]

    def _others(self, root: psutil.Process) -> list[psutil.Process]:
        """The root's descendants and, with a mark, every other marked process."""
        others = {p.pid: p for p in root.children(recursive=True)}
        if self.mark:
            others.update({p.pid: p for p in marked_processes(self.mark) if p.pid != root.pid})
        return list(others.values())

    def rss_mb(self) -> float:
        """Resident memory of the kernel and its children (the list refreshed every second)."""
        self._root = self._root or psutil.Process(self.pid)
        now = time.monotonic()
        if now - self._children_at >= self.CHILDREN_EVERY_S:
            self._children = self._others(self._root)
            self._children_at = now
        total = self._root.memory_info().rss
        for process in self._children:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                used = self.rss_mb()
            except psutil.Error:
                return  # the kernel is gone
            self.peak_mb = max(self.peak_mb, used)
            if used > self.limit_mb:
                self.exceeded = True
                self.kill()
                return
            self._stop.wait(self.interval)

    def kill(self) -> None:
        try:
            processes = self.tree()
        except psutil.Error:
            return
        kill_all(processes[::-1], wait=0)  # the kernel's death is seen by the notebook client
