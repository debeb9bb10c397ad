"""Measurement: the time the class page adds at the end of a `labkit grade` run, for a class of 16,
side by side with writing grades.csv. Figures only: nothing is asserted.

    .venv/bin/python benchmarks/report_time.py [--runs 5]

The class is synthetic (tests/class_samples.py: GradeResults with the planted mistakes, activity-13
comments and their facts; no notebook runs). Each run writes, into a fresh folder, what the batch
writes there: grades.csv, then the class page with its four pictures, and the page without its
pictures (to show what matplotlib costs). Activity 13's pre-assessments, which both use, are made
once before (the batch makes them once, for grades.csv and the gradebook). The first run also pays
for importing matplotlib and Jinja2, as the batch does; the median is over the later runs."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import class_samples  # noqa: E402

from autograder.comments import publish  # noqa: E402
from autograder.course import config  # noqa: E402
from autograder.reporting import class_page, class_results  # noqa: E402


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    args = parser.parse_args(argv)
    settings = config.load(ROOT / "course_config.py")
    results = class_samples.sixteen(settings)
    started = time.perf_counter()
    assessments = publish.review_class(results, settings)
    review = time.perf_counter() - started
    rows = {"grades.csv": [], "class page with 4 pictures": [], "class page without pictures": []}
    for _ in range(max(2, args.runs)):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            rows["grades.csv"].append(timed(
                lambda: class_results.write_csv(results, settings, out / "grades.csv", assessments)))
            rows["class page with 4 pictures"].append(timed(
                lambda: class_page.write(results, settings, out, assessments)))
            rows["class page without pictures"].append(timed(
                lambda: class_page.write(results, settings, out / "bare", assessments, draw=False)))
    print(f"class of {len(results)} (synthetic), {max(2, args.runs)} runs; activity 13's pre-assessments "
          f"(shared, made once): {review:.2f} s")
    print(f"{'':30} {'first run':>10} {'median after':>13}")
    for name, times in rows.items():
        print(f"{name:30} {times[0]:>9.3f}s {statistics.median(times[1:]):>12.3f}s")
    page, csv = statistics.median(rows["class page with 4 pictures"][1:]), statistics.median(rows["grades.csv"][1:])
    print(f"the class page adds {page:.2f} s per grading run ({page / csv:.0f} times grades.csv's {csv * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
