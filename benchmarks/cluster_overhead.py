"""Benchmark: `labkit grade` on local workers against `labkit grade --cluster` on a loopback Dask
cluster with as many workers, on the same cores, side by side in one run.

    .venv/bin/python benchmarks/cluster_overhead.py [--students 16] [--workers 2] [--rounds 1]

The same simulated submissions (the demo's class, repeated) are graded with `--jobs N` and through
a `dask scheduler` with N `dask worker` processes (one thread each, with nannies, started before the
clock as a cluster would be), alternating the two paths each round so both see the same machine.
It prints each path's wall time and the machine's busy CPU seconds, the cluster path's overhead in
per cent, the CPU cost of one submission (to size a cluster: students x CPU-seconds / cores), and
whether both paths wrote the same grades.csv. Figures only; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_speed import BIN, CPU_SECONDS, simulated_course, timed  # noqa: E402


def start_cluster(folder: Path, workers: int, env: dict) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and `workers` single-thread workers on 127.0.0.1; their address and processes."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "dask.log", "w")
    start = lambda *args: subprocess.Popen([str(BIN / "dask"), *args], cwd=folder, env=env,  # noqa: E731
                                           stdout=log, stderr=subprocess.STDOUT)
    processes = [start("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
                       "--scheduler-file", str(scheduler_file))]
    while not scheduler_file.is_file():
        time.sleep(0.2)
    processes.append(start("worker", "--scheduler-file", str(scheduler_file), "--nworkers", str(workers),
                           "--nthreads", "1", "--host", "127.0.0.1", "--local-directory", str(folder / "workers")))
    address = json.loads(scheduler_file.read_text())["address"]
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(workers, timeout=120)
    return address, processes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", help="keep the work folder here instead of a temporary one")
    args = parser.parse_args()
    folder, course, env, students = simulated_course(args.students, args.keep)
    submitted = folder / "submitted"
    print(f"{len(students)} submissions; machine: {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    address, processes = start_cluster(folder / "dask", args.workers, env)
    grade = [str(BIN / "labkit"), "grade", str(submitted), "--quiet", "--force"]
    walls, cpus = {"local": [], "cluster": []}, {"local": [], "cluster": []}
    try:
        for round_number in range(args.rounds):
            order = ["local", "cluster"] if round_number % 2 == 0 else ["cluster", "local"]
            for path in order:
                extra = (["--jobs", str(args.workers)] if path == "local" else ["--cluster", address])
                walls[path].append(timed([*grade, *extra, "--out", str(folder / path)], folder, env))
                cpus[path].append(CPU_SECONDS[-1])
                print(f"round {round_number + 1}, {path:7}: {walls[path][-1]:7.1f} s wall, "
                      f"CPU {cpus[path][-1]:.0f} s", flush=True)
    finally:
        for process in processes:
            process.terminate()
    local, cluster = sum(walls["local"]), sum(walls["cluster"])
    per_submission = sum(cpus["local"]) / (len(students) * args.rounds)
    same = (folder / "local" / "grades.csv").read_text() == (folder / "cluster" / "grades.csv").read_text()
    print(f"labkit grade --jobs {args.workers}:                  {local / args.rounds:7.1f} s per round")
    print(f"labkit grade --cluster ({args.workers} Dask workers):  {cluster / args.rounds:7.1f} s per round, "
          f"overhead {100 * (cluster - local) / local:+.1f} % over the local path")
    print(f"CPU per submission (local path): {per_submission:.1f} s; grades.csv identical: {same}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end; work folder: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
