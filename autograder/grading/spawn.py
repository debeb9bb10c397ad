"""One grading worker as a fresh process forked from the warm server, and how to stop its tree.

Both ways of grading a class start workers through here: the local path (local_workers.py), several at
a time, and a Dask worker (autograder.grading.cluster.task), one per task.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
import time
from pathlib import Path


from autograder.grading import warm, worker
from autograder.grading.task import Task
from autograder.judging import model_verdict
from autograder.sandbox.watcher import kill_tree

STARTUP_MARGIN_S = 120   # worker start, nbgrader's sanitizing and feedback, on top of the notebook limit
_starting = threading.Lock()


def worker_env(settings, threads: int, base: dict | None = None) -> dict:
    """The environment of a grading worker: `threads` for TensorFlow and OpenMP, the course's paths."""
    env = dict(os.environ if base is None else base)
    env.update({"OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
                "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
                "TF_CPP_MIN_LOG_LEVEL": "2", "LABKIT_CONFIG": str(settings.config_file),
                "LABKIT_CACHE": str(settings.cache_dir)})
    return env


def time_limit(settings, verify: bool) -> float:
    """Seconds a worker may take before it is stopped and its student marked timed out."""
    return settings.notebook_timeout + STARTUP_MARGIN_S + (model_verdict.time_limit(settings) if verify else 0)


def start(task: Task, folder: Path, env: dict, cwd: Path, name: str) -> multiprocessing.Process:
    """Write the task beside its result file and fork its worker; the worker's log goes to
    `folder`/<name>.worker.log."""
    folder.mkdir(parents=True, exist_ok=True)
    task_path = folder / f"{name}.task.json"
    task_path.write_text(json.dumps(task.to_dict()))
    Path(task.result_path).unlink(missing_ok=True)
    with _starting, children_allowed():   # made inside too: a Process copies its parent's daemon flag
        process = warm.context().Process(target=worker.run_forked, name=f"labkit-worker-{name}",
                                         args=(str(task_path), env, str(cwd), str(log_path(task))))
        process.start()
    return process


def log_path(task: Task) -> Path:
    return Path(task.result_path.replace(".result.json", ".worker.log"))


def log_tail(task: Task) -> str:
    """The last line the worker wrote to its log, for the message of a worker that left no result."""
    path = log_path(task)
    lines = path.read_text(errors="replace").strip().splitlines() if path.is_file() else []
    return lines[-1] if lines else "no log"


def read_result(task: Task) -> dict | None:
    """The result the worker wrote, if it wrote one."""
    path = Path(task.result_path)
    return json.loads(path.read_text()) if path.is_file() else None


def run_to_end(process: multiprocessing.Process, limit: float, cancelled=lambda: False) -> bool:
    """Wait for the worker up to `limit` s, or until `cancelled()` says nobody wants its result;
    then stop its whole tree. True when it ran out of time."""
    deadline = time.monotonic() + limit
    while process.is_alive() and time.monotonic() < deadline and not cancelled():
        process.join(min(1.0, max(0.0, deadline - time.monotonic())))
    over = process.is_alive() and time.monotonic() >= deadline
    if process.is_alive():
        kill_tree(process.pid)
    process.join(5)
    return over


@contextlib.contextmanager
def children_allowed():
    """Let a daemonic process (a Dask worker under a nanny is one) start the grading worker, itself
    not daemonic, so that it can start its own judge and verifier.

    multiprocessing refuses children to daemonic processes because it would not stop them on exit;
    the grading worker is stopped by its own deadline (kill_tree) and dies with its parent, so the
    refusal does not apply. Outside a daemonic process this changes nothing."""
    config = multiprocessing.current_process()._config
    daemon = config.pop("daemon", None)
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon
