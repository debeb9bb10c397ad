"""Benchmark: run the solution notebook end to end and report wall time and the kernel's peak memory.

    .venv/bin/python benchmarks/solution_runtime.py [--runs N] [--json]

The notebook is the source notebook without nbgrader markers (what `labkit solutions` runs),
executed with nbclient in a temporary folder holding a copy of the assignment's assets. Wall time
counts kernel start-up, every cell and shutdown. Memory is sampled every 50 ms over the kernel's
process tree (psutil, summed RSS), and the kernel's own high-water mark (VmHWM in
/proc/<pid>/status) is read as well; the larger of the two is reported.
Budget (issue 3): under 60 s and under 1.5 GB on the 2-core CPU machine."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.authoring import solutions  # noqa: E402
from autograder.course import config
from autograder.course import vocabulary as authoring

BUDGET_SECONDS = 60.0
BUDGET_MB = 1536.0


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemoryWatcher(threading.Thread):
    """Polls this process's descendants (the kernel and anything it starts) until stopped."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_tree_mb = 0.0
        self.peak_hwm_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._done.is_set():
            total = 0.0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss / 2**20
                    self.peak_hwm_mb = max(self.peak_hwm_mb, vm_hwm_mb(child.pid))
                except psutil.Error:
                    continue
            self.peak_tree_mb = max(self.peak_tree_mb, total)
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_once(settings) -> dict:
    notebook = solutions.to_solution(authoring.read(settings.source_dir / settings.notebook_name))
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as folder:
        workdir = Path(folder)
        solutions.copy_assets(settings, workdir)
        watcher = MemoryWatcher()
        watcher.start()
        started = time.perf_counter()
        try:
            solutions.execute(notebook, workdir, timeout=settings.cell_timeout)
        finally:
            seconds = time.perf_counter() - started
            watcher.stop()
    peak = max(watcher.peak_tree_mb, watcher.peak_hwm_mb)
    return {"seconds": round(seconds, 1), "peak_mb": round(peak, 1),
            "peak_tree_rss_mb": round(watcher.peak_tree_mb, 1), "kernel_vmhwm_mb": round(watcher.peak_hwm_mb, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat and report each run (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    settings = config.load()
    from autograder.authoring.prepare import is_current, prepare

    if not is_current(settings):
        prepare(settings)
    results = [run_once(settings) for _ in range(args.runs)]
    worst = {"seconds": max(r["seconds"] for r in results), "peak_mb": max(r["peak_mb"] for r in results)}
    within = worst["seconds"] < BUDGET_SECONDS and worst["peak_mb"] < BUDGET_MB
    if args.json:
        print(json.dumps({"runs": results, "worst": worst, "within_budget": within}, indent=1))
    else:
        for index, result in enumerate(results, 1):
            print(f"run {index}: {result['seconds']:.1f} s wall, kernel peak {result['peak_mb']:.0f} MB "
                  f"(tree RSS {result['peak_tree_rss_mb']:.0f} MB, VmHWM {result['kernel_vmhwm_mb']:.0f} MB)")
        print(f"budget: < {BUDGET_SECONDS:.0f} s and < {BUDGET_MB:.0f} MB -> "
              f"{'within budget' if within else 'OVER BUDGET'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
