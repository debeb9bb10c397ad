"""Inside the grading kernel: TensorFlow without the library pages its start-up read once.

Loading TensorFlow's native libraries runs their start-up code (the registration of every op and
kernel), spread over the 800 MB of libtensorflow_cc; Linux maps the pages around each page that code
reads, so right after the load the kernel's resident memory holds about 300 MB of library pages, of
which training uses a small part again (benchmarks/memory.py measures both). So, when TensorFlow is
first imported in the kernel, its two native libraries are loaded first, and then the kernel tells
Linux that it does not need the library pages it holds (madvise MADV_DONTNEED): they stay in the page
cache, shared with every other process, and those TensorFlow uses again come back on first use, from
memory. Only mappings that cannot have been written are released: private, read-only, file-backed
and holding no page of their own (a relocated or written page would be lost, so such a mapping is
left whole). Nothing here changes what the notebook computes.

Runs in the student's kernel: nothing here is trusted, and a notebook that undoes it only uses more
memory, which the grader's watcher counts."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import sys

MADV_DONTNEED = 4
LIBRARIES = ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2")   # in the tensorflow package folder
PACKAGE = "tensorflow"


def releasable(smaps_text: str) -> list[tuple[int, int]]:
    """(start, end) of every mapping in /proc/<pid>/smaps text that is file-backed, private and
    read-only (no w, ends in p) and holds no anonymous page."""
    found, current = [], None
    for line in smaps_text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if "-" in fields[0] and not fields[0].endswith(":"):   # a mapping's header line
            start, _, end = fields[0].partition("-")
            perms = fields[1] if len(fields) > 1 else ""
            path = fields[5] if len(fields) > 5 else ""
            current = None
            if path.startswith("/") and len(perms) == 4 and perms[1] == "-" and perms[3] == "p":
                current = (int(start, 16), int(end, 16))
        elif fields[0] == "Anonymous:" and current is not None:
            if fields[1] == "0":
                found.append(current)
            current = None
    return found


def release() -> int:
    """Tell Linux this process does not need the library pages it holds now; bytes released from
    its mappings (their resident part is what leaves the resident memory)."""
    try:
        with open("/proc/self/smaps") as handle:
            ranges = releasable(handle.read())
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end in ranges:
        if libc.madvise(start, end - start, MADV_DONTNEED) == 0:
            released += end - start
    return released


class TensorFlowFirstImport:
    """A meta path finder that acts once, at the first `import tensorflow` (or anything that
    imports it, Keras included): it loads TensorFlow's native libraries, releases the start-up's
    pages, removes itself and lets the usual finders import the package."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != PACKAGE:
            return None
        uninstall()
        spec = importlib.util.find_spec(PACKAGE)
        folder = os.path.dirname(spec.origin) if spec is not None and spec.origin else ""
        try:
            for library in LIBRARIES:
                if os.path.isfile(os.path.join(folder, library)):
                    ctypes.CDLL(os.path.join(folder, library))
        except OSError:   # another build of TensorFlow: it loads its libraries itself
            return None
        release()
        return None


def install() -> None:
    """Act at TensorFlow's first import in this process (nothing if it is imported already)."""
    if PACKAGE not in sys.modules and TensorFlowFirstImport not in sys.meta_path:
        sys.meta_path.insert(0, TensorFlowFirstImport)


def uninstall() -> None:
    while TensorFlowFirstImport in sys.meta_path:
        sys.meta_path.remove(TensorFlowFirstImport)
