"""autograder.sandbox.library_pages: what the grading kernel releases after loading TensorFlow's
native libraries, on mappings made here (read-only file pages go, pages of its own stay)."""
from __future__ import annotations

import ctypes
import mmap
import sys
from pathlib import Path

import pytest

from autograder.sandbox import library_pages

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
SIZE = 8 * 2**20


def mapping(address: int) -> dict:
    """The smaps fields (kB) and permissions of the mapping that starts at `address`."""
    fields, inside = {}, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            inside = int(parts[0].split("-")[0], 16) == address
            if inside:
                fields["perms"] = parts[1]
        elif inside and parts[0].endswith(":") and len(parts) > 1 and parts[1].isdigit():
            fields[parts[0][:-1]] = int(parts[1])
    return fields


def private_map(path: Path) -> tuple[mmap.mmap, int]:
    """A private, writable mapping of the file, and its address."""
    with open(path, "r+b") as handle:
        view = mmap.mmap(handle.fileno(), SIZE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    first = ctypes.c_char.from_buffer(view)
    address = ctypes.addressof(first)
    del first   # no export left, so the mapping can be closed
    return view, address


def read_only(address: int) -> None:
    """mprotect the mapping read-only, as a loader does with a library's segments."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(address, SIZE, mmap.PROT_READ) == 0


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "library.bin"
    path.write_bytes(bytes(range(256)) * (SIZE // 256))
    return path


def test_read_only_file_pages_leave_the_resident_memory_and_read_the_same_after(data_file):
    view, address = private_map(data_file)
    read_only(address)
    checksum = sum(view[i] for i in range(0, SIZE, 4096))   # every page read once
    before = mapping(address)
    assert before["perms"] == "r--p" and before["Rss"] >= SIZE // 1024 // 2 and before["Anonymous"] == 0
    assert library_pages.release() >= SIZE
    assert mapping(address)["Rss"] == 0
    assert sum(view[i] for i in range(0, SIZE, 4096)) == checksum   # back from the file on first use
    view.close()


def test_a_read_only_mapping_holding_pages_of_its_own_is_kept_whole(data_file):
    """Like a library's relocated data made read-only after loading: releasing it would lose the writes."""
    view, address = private_map(data_file)
    view[0] = 0xAB                                             # a private copy of the first page
    read_only(address)
    assert mapping(address)["perms"] == "r--p" and mapping(address)["Anonymous"] > 0
    library_pages.release()
    assert view[0] == 0xAB and view[1] == 1                    # the write is still there
    assert (address, address + SIZE) not in library_pages.releasable(Path("/proc/self/smaps").read_text())


def test_the_finder_acts_once_at_tensorflows_first_import_only():
    finder = library_pages.TensorFlowFirstImport
    assert finder.find_spec("numpy") is None
    library_pages.install()
    try:
        if "tensorflow" in sys.modules:     # imported already in this test process: nothing to do
            assert finder not in sys.meta_path
        else:
            assert sys.meta_path[0] is finder
    finally:
        library_pages.uninstall()
    assert finder not in sys.meta_path
