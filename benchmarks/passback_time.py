"""How long `labkit passback` takes to send a class to an LTI 1.3 platform on loopback (the real
lti1p3platform of tests/lti_platform.py): the first run (token, line item, results read back, one
score per student), and a second run, which finds everything sent and sends nothing. Figures only.

    .venv/bin/python benchmarks/passback_time.py --students 200
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from lti_platform import LoopbackPlatform, rsa_key  # noqa: E402

from autograder.course import config  # noqa: E402
from autograder.course.records import OK, GradeResult  # noqa: E402
from autograder.integrations.lms import passback  # noqa: E402
from autograder.integrations.lms.lti import Sender, Tool  # noqa: E402
from autograder.reporting import class_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    options = parser.parse_args()
    private, public = rsa_key()
    platform = LoopbackPlatform(public).start()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "key.pem").write_text(private)
        lineitem = platform.add_lineitem("transfer_learning", 100)
        with open(folder / "users.csv", "w", newline="") as handle:
            csv.writer(handle).writerows([("student", "lms_user_id"),
                                          *((f"s{i:04d}", f"lms-{i}") for i in range(options.students))])
        lti = platform.settings(folder / "key.pem", lineitem=lineitem, users=str(folder / "users.csv"))
        settings = config.from_values({**course_values(), "LTI": lti}, ROOT / "course_config.py")
        results = [GradeResult(student=f"s{i:04d}", status=OK, total=float(40 + i % 60), max_total=100.0,
                               percent=float(40 + i % 60), letter=settings.letter_for(40 + i % 60), sandboxed=True)
                   for i in range(options.students)]
        grades = class_results.write_csv(results, settings, folder / "grades.csv", {})
        for label in ("first run", "second run (all sent)"):
            start = time.perf_counter()
            report = passback.passback(settings, grades, None, sender=Sender(Tool(settings.lti)))
            seconds = time.perf_counter() - start
            print(f"{label}: {options.students} students, {len(report.sent)} sent, {len(report.already)} already "
                  f"there, {seconds:.2f} s ({seconds / options.students * 1000:.1f} ms per student)")
        assert len(platform.book.posts) == options.students
    platform.stop()


def course_values() -> dict:
    values: dict = {}
    exec((ROOT / "course_config.py").read_text(), values)
    return {k: v for k, v in values.items() if k.isupper()}


if __name__ == "__main__":
    main()
