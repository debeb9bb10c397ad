"""Grading a queue on this machine: `jobs` worker processes at a time (autograder.grading.worker),
each forked from the warm server (warm.py) with its own time limit; the batch records each result
as it finishes. The cluster's counterpart is cluster/dispatch.py.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from autograder.course.records import (
    GRADING_ERROR,
    TIMED_OUT,
    GradeResult,
    Submission,
    timed_out_message,
)
from autograder.grading import spawn
from autograder.grading.task import Task


def worker_env(batch) -> dict:
    """The cores shared out between the batch's parallel workers."""
    return spawn.worker_env(batch.settings, threads=max(1, (os.cpu_count() or 1) // batch.jobs))


def task_for(batch, submission: Submission, folder: Path, out: Path, work: Path) -> Task:
    """The worker's instructions for one submission; its files go under `folder`."""
    return Task(submission=submission.to_dict(), config_file=str(batch.settings.config_file),
                out_dir=str(out), work_dir=str(work), template_db=str(batch.template_db),
                source_sha256=batch.source_sha, verify=batch.verify,
                result_path=str(folder / f"{submission.student}.result.json"))


def launch(batch, submission: Submission) -> dict:
    folder = batch.scratch / "tasks"
    task = task_for(batch, submission, folder, batch.out, batch.scratch / "courses" / submission.student)
    process = spawn.start(task, folder, worker_env(batch), batch.scratch, submission.student)
    limit = spawn.time_limit(batch.settings, batch.verify)
    return {"submission": submission, "task": task, "process": process,
            "deadline": time.monotonic() + limit, "limit": limit}


def collect(batch, running: dict, timed_out: bool) -> GradeResult:
    """The result of a finished (or stopped) worker; a stand-in result when it left none."""
    task, submission = running["task"], running["submission"]
    written = None if timed_out else spawn.read_result(task)
    if written is not None:
        result = GradeResult.from_dict(written)
    elif timed_out:
        result = batch.stand_in(submission, TIMED_OUT, timed_out_message(running["limit"]))
    else:
        result = batch.stand_in(submission, GRADING_ERROR, f"the grading process failed ({spawn.log_tail(task)})")
    shutil.rmtree(task.work_dir, ignore_errors=True)
    return result


def run(batch, queue: list[Submission], on_done, interrupted: threading.Event) -> list[GradeResult]:
    """Grade the queue, `batch.jobs` at a time; KeyboardInterrupt once `interrupted` is set."""
    results, running = [], []
    pending = list(queue)
    try:
        while pending or running:
            if interrupted.is_set():
                raise KeyboardInterrupt
            while pending and len(running) < batch.jobs:
                running.append(launch(batch, pending.pop(0)))
            interrupted.wait(0.1)
            for job in list(running):
                over = time.monotonic() > job["deadline"]
                if job["process"].is_alive() and not over:
                    continue
                if over:
                    spawn.kill_tree(job["process"].pid)
                job["process"].join(5)
                running.remove(job)
                result = collect(batch, job, timed_out=over)
                batch.record(result, job["submission"])
                results.append(result)
                on_done(result)
    finally:
        for job in running:  # interrupted: stop what is still running; its student stays unfinished
            spawn.kill_tree(job["process"].pid)
            shutil.rmtree(job["task"].work_dir, ignore_errors=True)
    return results
