"""Measurement: the disk a batch leaves used, with one student who writes GB of files.

    .venv/bin/python benchmarks/disk_after_batch.py [--gigabytes 5] [--file-mb 900]

Grades a class of three on the small pure-Python course of the tests (two honest students and one
whose answer writes --gigabytes in files of --file-mb), in a temporary folder, and prints the free
space of that file system before, at its lowest during, and after the batch, next to the size of
the batch's results. Figures only; nothing here asserts.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import grading_helpers as helpers  # noqa: E402

from autograder.course import config  # noqa: E402
from autograder.grading import runner  # noqa: E402
from autograder.sandbox.disk_watcher import measure  # noqa: E402

MB = 2**20


def writer_source(gigabytes: float, file_mb: int) -> str:
    files = int(gigabytes * 1024 // file_mb) + 1
    return ("block = b'\\1' * 2**20\n"
            f"for n in range({files}):\n"
            "    with open(f'junk{n}.bin', 'wb') as out:\n"
            f"        for _ in range({file_mb}):\n"
            "            out.write(block)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=5)
    parser.add_argument("--file-mb", type=int, default=900)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="labkit-disk-"))
    try:
        config_file = helpers.make_course(root / "course", CELL_TIMEOUT=120, NOTEBOOK_TIMEOUT=240)
        settings = config.load(config_file)
        release = helpers.generate_release(config_file)
        submitted = root / "submitted"
        helpers.write_submission(submitted, "alice", helpers.solved(release))
        helpers.write_submission(submitted, "carol", helpers.solved(release, a02_squares="squares = [1, 2]"))
        writer = writer_source(args.gigabytes, args.file_mb) + helpers.SOLUTIONS["a02_squares"]
        helpers.write_submission(submitted, "writer", helpers.solved(release, a02_squares=writer))
        lowest, done = [shutil.disk_usage(root).free], threading.Event()

        def watch():
            while not done.wait(0.05):
                lowest[0] = min(lowest[0], shutil.disk_usage(root).free)

        before = shutil.disk_usage(root).free
        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        batch = runner.grade_class(settings, submitted, out=root / "out", jobs=2, progress=False)
        done.set()
        thread.join()
        after = shutil.disk_usage(root).free
        results = measure(str(root / "out")).bytes
        writer_result = next(r for r in batch.results if r.student == "writer")
        print(f"writer: status {writer_result.status!r}, wrote at most {writer_result.execution['written_mb']:g} MB "
              f"(limit {settings.disk_limit_mb} MB), asked for {args.gigabytes:g} GB in {args.file_mb} MB files")
        print(f"free before {before / MB:,.0f} MB, lowest during {lowest[0] / MB:,.0f} MB, after {after / MB:,.0f} MB")
        print(f"used by the batch at its peak: {(before - lowest[0]) / MB:,.1f} MB; "
              f"after it: {(before - after) / MB:,.1f} MB; its results: {results / MB:,.1f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
