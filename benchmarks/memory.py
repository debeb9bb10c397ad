"""Benchmark: where the memory of a grading goes, for the solution notebook.

    .venv/bin/python benchmarks/memory.py [--json] [--no-steps] [--notebook SUBMISSION.ipynb]

The solution (the source notebook with its answers, in a folder holding what is released with it) is
graded as the pytest path and the Gradescope bundle grade it (autograder.integrations.pytest.run.grade):
the sandboxed kernel under LimitedExecute with the hand-overs before the grade cells, then the judge
and the hidden-split verifier in fresh processes. Every 20 ms the resident memory (RSS) of every
process it starts is read and summed by kind (the kernel's tree, as the kit's memory watcher sums it;
the judge; the verifier) and the grader's own process is read too. The kernel's table has one row per
step: what the kernel holds after it, the change, and the highest sum seen while it ran.

With steps (the default), the kernel imports numpy, tensorflow, keras and matplotlib and runs one
TensorFlow op, one at a time, before the hand-over module (which imports them all anyway) and the
notebook's first cell, so that each has a row. With --notebook, a submission is graded instead of the
solution (in the same folder of released files). Figures only; nothing here asserts a number.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from autograder.authoring import solutions  # noqa: E402
from autograder.course import config  # noqa: E402
from autograder.course import plan as plans  # noqa: E402
from autograder.integrations.pytest import run as runs  # noqa: E402
from autograder.preprocessors.limited_execute import LimitedExecute  # noqa: E402
from solution_runtime import vm_hwm_mb as high_water_mb  # noqa: E402  (a process's own peak RSS)

GOAL_MB = 700.0
MB = 2**20
STEPS = (   # what the hand-over module would import anyway, one at a time; then one op
    ("import numpy", "import numpy"),
    ("import tensorflow (and the Keras it loads)", "import tensorflow"),
    ("import keras", "import keras"),
    ("import matplotlib.pyplot", "import matplotlib.pyplot"),
    ("TensorFlow runtime: first op (eager context, thread pools, allocator)",
     "import tensorflow as _tf; _tf.constant(1.0) + 1.0; del _tf"),
)
JUDGE, VERIFIER, KERNEL = "judge", "verifier", "kernel"


def kind_of(process: psutil.Process) -> str:
    """Which of the grader's helpers a child process is (everything else is the kernel's tree)."""
    command = " ".join(process.cmdline())
    if "autograder.judging.judge" in command:
        return JUDGE
    if "autograder.judging.saved_model" in command:
        return VERIFIER
    return KERNEL


class Sampler(threading.Thread):
    """Reads the RSS of this process's descendants every `interval` s, by kind, and keeps the
    kernel's steps: (label, MB after, change, highest MB while it ran)."""

    def __init__(self, interval: float = 0.02):
        super().__init__(daemon=True)
        self.interval, self.me = interval, psutil.Process()
        self.peaks = {KERNEL: 0.0, JUDGE: 0.0, VERIFIER: 0.0, "grader": 0.0}
        self.kernel_hwm = 0.0
        self.steps: list[tuple[str, float, float, float]] = []
        self._kinds: dict[int, str] = {}
        self._step_peak, self._last = 0.0, 0.0
        self._lock, self._done = threading.Lock(), threading.Event()

    def sample(self) -> dict[str, float]:
        totals = {KERNEL: 0.0, JUDGE: 0.0, VERIFIER: 0.0}
        try:
            children = self.me.children(recursive=True)
        except psutil.Error:
            children = []
        for child in children:
            try:
                kind = self._kinds.get(child.pid) or self._kinds.setdefault(child.pid, kind_of(child))
                totals[kind] += child.memory_info().rss / MB
                if kind == KERNEL and child.name() not in ("bwrap", "sh", "prlimit", "setpriv"):
                    self.kernel_hwm = max(self.kernel_hwm, high_water_mb(child.pid))
            except psutil.Error:
                continue
        totals["grader"] = self.me.memory_info().rss / MB
        with self._lock:
            for kind, used in totals.items():
                self.peaks[kind] = max(self.peaks[kind], used)
            self._step_peak = max(self._step_peak, totals[KERNEL])
        return totals

    def end(self, label: str) -> None:
        """The step that just ran was `label` (no row for an empty label); the next one starts."""
        now = self.sample()[KERNEL]
        with self._lock:
            if label:
                self.steps.append((label, now, now - self._last, self._step_peak))
            self._step_peak, self._last = now, now

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


class Metered(LimitedExecute):
    """LimitedExecute that tells the sampler where it is: kernel start, steps, hand-overs, cells."""

    sampler: Sampler | None = None
    steps: tuple = STEPS

    def _run_cells(self, resources) -> None:
        time.sleep(0.5)   # let the new kernel settle after its start-up
        self.sampler.end("kernel started: Python, ipykernel (bare)")
        for label, code in self.steps:
            self._silently(code)
            self.sampler.end(label)
        super()._run_cells(resources)   # the hand-over module's import, then the cells

    def _silently(self, code: str, cell=None) -> None:
        super()._silently(code, cell)
        if code == '__import__("autograder.sandbox.capture")':
            self.sampler.end("hand-over module (the rest of its imports)")

    def _capture(self, cell, grade_id: str) -> None:
        super()._capture(cell, grade_id)
        self.sampler.end(f"hand-over before {grade_id}")

    def preprocess_cell(self, cell, resources, index):
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell.get("cell_type") == "code":
                self.sampler.end(f"cell {grade_id or index}")


def metered_grade(settings, plan, steps: bool, submission: Path | None = None) -> tuple[runs.Graded, Sampler]:
    """Grade the solution (or `submission`) with the sampler running."""
    sampler = Sampler()
    original = runs._executor

    def executor(*args, **kwargs):
        built = original(*args, **kwargs)
        built.__class__ = Metered   # the same traits and limits; only the steps are added
        built.sampler, built.steps = sampler, STEPS if steps else ()
        return built

    with tempfile.TemporaryDirectory(prefix="labkit-memory-") as folder:
        student = Path(folder) / settings.assignment
        student.mkdir()
        solutions.copy_assets(settings, student)
        notebook = student / settings.notebook_name
        notebook.write_bytes((submission or settings.source_dir / settings.notebook_name).read_bytes())
        runs._executor = executor
        sampler.start()
        try:
            graded = runs.grade(notebook, plan, settings)
        finally:
            runs._executor = original
            sampler.stop()
    return graded, sampler


KINDS = (   # the kernel's steps by kind, for the summary
    ("kernel start (Python, ipykernel)", ("kernel started",)),
    ("imports (numpy, tensorflow, keras, matplotlib, the hand-over module)", ("import ", "hand-over module")),
    ("TensorFlow runtime (first op)", ("TensorFlow runtime",)),
    ("settings and activity 1", ("cell a00", "cell a01")),
    ("datasets (activity 2)", ("cell a02",)),
    ("figures and diagram (activities 3, 6, 11)", ("cell a03", "cell a06", "cell a11")),
    ("pretrained base and models (activities 4, 5, 9)", ("cell a04", "cell a05", "cell a09")),
    ("training and evaluation (activities 7, 8, 10, 12)", ("cell a07", "cell a08", "cell a10", "cell a12")),
    ("hand-overs", ("hand-over before",)),
    ("saving the model", ("cell a14",)),
)


def summary(steps) -> list[tuple[str, float, float]]:
    """(kind, what its steps added, the most one of its steps rose above where it started and fell
    back: a passing need) in the order above; the rest as 'other cells'."""
    rows, used = [], set()
    for kind, prefixes in KINDS:
        chosen = [s for s in steps if s[0].startswith(prefixes) and s[0] not in used]
        used.update(s[0] for s in chosen)
        if chosen:
            rows.append((kind, sum(s[2] for s in chosen), max(s[3] - s[1] for s in chosen)))
    rest = [s for s in steps if s[0] not in used]
    if rest:
        rows.append(("other cells", sum(s[2] for s in rest), max(s[3] - s[1] for s in rest)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-steps", action="store_true",
                        help="no import steps before the notebook: the kernel runs exactly as in grading")
    parser.add_argument("--notebook", type=Path, help="grade this submission instead of the solution")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # as the grading paths have it; the kernel inherits it
    settings = config.load()
    from autograder.authoring.prepare import is_current, prepare

    if not is_current(settings):
        prepare(settings)
    plan = plans.from_settings(settings)
    graded, sampler = metered_grade(settings, plan, steps=not args.no_steps, submission=args.notebook)
    passed = sum(1 for outcome in graded.outcomes.values() if outcome["passed"])
    peak = max(sampler.peaks[KERNEL], sampler.kernel_hwm)
    figures = {"kernel_peak_mb": round(peak, 1), "kernel_tree_peak_mb": round(sampler.peaks[KERNEL], 1),
               "kernel_vmhwm_mb": round(sampler.kernel_hwm, 1), "judge_peak_mb": round(sampler.peaks[JUDGE], 1),
               "verifier_peak_mb": round(sampler.peaks[VERIFIER], 1),
               "grader_process_peak_mb": round(sampler.peaks["grader"], 1),
               "status": graded.execution.get("status"), "watcher_peak_mb": graded.execution.get("peak_memory_mb"),
               "passed": passed, "grade_cells": len(graded.outcomes), "seconds": graded.seconds,
               "steps": [{"step": s[0], "mb": round(s[1], 1), "change": round(s[2], 1), "peak": round(s[3], 1)}
                         for s in sampler.steps]}
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    print(f"{'kernel step':72s} {'RSS after':>9s} {'change':>8s} {'peak in step':>12s}")
    for label, after, change, top in sampler.steps:
        print(f"{label[:72]:72s} {after:7.0f} MB {change:+6.0f} MB {top:9.0f} MB")
    print(f"\n{'by kind':72s} {'kept':>9s} {'passing':>10s}")
    for kind, change, passing in summary(sampler.steps):
        print(f"{kind[:72]:72s} {change:+6.0f} MB {passing:+7.0f} MB")
    print(f"\nkernel peak {peak:.0f} MB (tree RSS sampled {sampler.peaks[KERNEL]:.0f} MB, kernel VmHWM "
          f"{sampler.kernel_hwm:.0f} MB, the kit's watcher saw {graded.execution.get('peak_memory_mb', 0):.0f} MB); "
          f"goal <= {GOAL_MB:.0f} MB: {'met' if peak <= GOAL_MB else 'NOT MET'}")
    print(f"grader's own processes: judge {sampler.peaks[JUDGE]:.0f} MB, verifier {sampler.peaks[VERIFIER]:.0f} MB, "
          f"the grading process itself (nbclient, nbgrader) {sampler.peaks['grader']:.0f} MB")
    print(f"{args.notebook.name if args.notebook else 'solution'}: {passed} of {len(graded.outcomes)} grade cells passed, run {graded.execution.get('status')}, "
          f"{graded.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
