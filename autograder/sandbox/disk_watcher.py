"""A grading kernel's working folder, watched for what the kernel writes into it.

RLIMIT_FSIZE caps each file (sandbox.command); this caps their sum. The folder is measured as the
disk really holds it (allocated blocks, each inode once, links never followed), against what it
held when the kernel started: the released data and base count for nothing. Polled rather than
mounted as a size-limited file system, because that needs root and a mount the grader would have
to copy out of; the overshoot is what the kernel writes in one interval. Past the limit the
kernel is stopped (`stop`), and `trim` then removes what it wrote, largest first, until the folder
is back within the limit, so that nothing after the kernel copies it or keeps it on the disk."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field


@dataclass
class Usage:
    """A folder's allocated bytes and entries, and each regular file's identity and size."""

    bytes: int = 0
    entries: int = 0
    files: dict = field(default_factory=dict)   # path -> (inode, size, mtime_ns, allocated bytes)


def measure(folder: str, max_entries: int | None = None) -> Usage:
    """The folder's usage; stops counting files once past `max_entries` (the limit is hit anyway)."""
    usage, seen, pending = Usage(), set(), [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    usage.entries += 1
                    if max_entries is not None and usage.entries > max_entries:
                        return usage
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue   # removed while we looked
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    if (info.st_dev, info.st_ino) in seen:
                        continue   # a hard link holds no more bytes
                    seen.add((info.st_dev, info.st_ino))
                    allocated = info.st_blocks * 512
                    usage.bytes += allocated
                    if entry.is_file(follow_symlinks=False):
                        usage.files[entry.path] = (info.st_ino, info.st_size, info.st_mtime_ns, allocated)
        except OSError:
            continue
    return usage


class DiskWatcher:
    """Poll `folder`; call `stop` once the kernel has added more than `limit_mb` or `max_files`."""

    def __init__(self, folder: str, limit_mb: float, stop, interval: float = 0.1, max_files: int = 20000):
        self.folder, self.limit_bytes, self.stop = folder, int(limit_mb * 2**20), stop
        self.interval, self.max_files = interval, max_files
        self.exceeded = ""            # what went over: "" while within the limits
        self.peak_bytes = 0           # the most the kernel had added at one look
        self.baseline = measure(folder)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="disk-watcher", daemon=True)

    def __enter__(self) -> "DiskWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        self.check()   # the last writes before the kernel ended count too

    def added(self, usage: Usage) -> tuple[int, int]:
        return usage.bytes - self.baseline.bytes, usage.entries - self.baseline.entries

    def check(self) -> bool:
        """Measure once; True (and `stop` called) when over a limit."""
        written, entries = self.added(measure(self.folder, self.baseline.entries + self.max_files))
        self.peak_bytes = max(self.peak_bytes, written)
        if self.exceeded:
            return True
        if written > self.limit_bytes:
            self.exceeded = f"more than {self.limit_bytes // 2**20} MB"
        elif entries > self.max_files:
            self.exceeded = f"more than {self.max_files} files and folders"
        if self.exceeded:
            self.stop()
        return bool(self.exceeded)

    def _run(self) -> None:
        while not self._done.is_set():
            if self.check():
                return
            self._done.wait(self.interval)

    def trim(self) -> list[str]:
        """After the kernel: remove the files it wrote or changed, largest first, until it has added
        no more than the limit; the removed paths, relative to the folder."""
        usage = measure(self.folder)
        written = [(info[3], path) for path, info in usage.files.items()
                   if self.baseline.files.get(path, (None,))[:3] != info[:3]]
        written_bytes, entries = self.added(usage)
        over, removed = written_bytes - self.limit_bytes, []
        too_many = entries > self.max_files   # then every file it wrote goes
        for size, path in sorted(written, reverse=True):
            if over <= 0 and not too_many:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            over -= size
            removed.append(os.path.relpath(path, self.folder))
        if too_many:   # and the empty folders it made
            for root, folders, _ in os.walk(self.folder, topdown=False):
                for name in folders:
                    try:
                        os.rmdir(os.path.join(root, name))
                    except OSError:
                        continue
        return removed
