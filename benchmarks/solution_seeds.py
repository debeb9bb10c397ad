"""Benchmark: how far the solution's hidden-split accuracy moves with the seed.

    .venv/bin/python benchmarks/solution_seeds.py [--seeds 1,2,3,4,5,6,7,8] [--json]

Runs the solution notebook (what `labkit solutions` runs) once per seed, with its seeding calls
given that seed; the training and validation split stay the course's. Prints each run's hidden-split
accuracy, then mean, standard deviation, range and the margin of ACCURACY_THRESHOLD below the
lowest run: the figures docs/reproducibility.md argues the threshold's margin from.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.authoring.compare import solution_accuracy  # noqa: E402
from autograder.authoring.prepare import prepare  # noqa: E402
from autograder.course import config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8", help="comma-separated seeds")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    settings = config.load()
    prepare(settings, say=lambda *_: None)
    runs = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        accuracy, seconds = solution_accuracy(settings, seed)
        runs[seed] = accuracy
        if not args.json:
            print(f"seed {seed}: hidden-split accuracy {accuracy:.4f} ({seconds:.1f} s)", flush=True)
    values = list(runs.values())
    summary = {"runs": runs, "mean": statistics.mean(values),
               "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
               "lowest": min(values), "highest": max(values), "threshold": settings.accuracy_threshold}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"mean {summary['mean']:.3f}, standard deviation {summary['stdev']:.3f}, "
          f"range {100 * (summary['highest'] - summary['lowest']):.1f} points; ACCURACY_THRESHOLD "
          f"{settings.accuracy_threshold:.2f} sits {100 * (summary['lowest'] - settings.accuracy_threshold):.1f} "
          "points below the lowest run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
