"""What a Dask worker runs for one submission: the kit's own grading worker, in a fresh process.

The task lays the submission (sent as bytes) into the Dask worker's local directory, forks the same
sandboxed grading worker the local path uses from a warm server on that machine, waits for it up to
the same time limit, and returns its result with the files it wrote (feedback page, autograded
notebook, log) as bytes. It writes nothing of the grader's: the grader's process alone records
results. A crash, a hang or a memory blow-up ends that grading process, never the Dask worker.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import shutil
import tarfile
import tempfile
import threading
import uuid
from pathlib import Path

from autograder.grading import spawn, warm
from autograder.grading.cluster import bundle
from autograder.grading.task import Task
from autograder.grading.worker import DIE_WITH_PARENT

OUTPUT_FOLDERS = ("feedback", "autograded", "logs")   # what a worker writes for its student
_warm_started = threading.Lock()


def grade(request: dict, course_bundle: bytes | None = None) -> dict:
    """Grade one submission here; `request` is made by `dispatch.request_for`."""
    import distributed

    try:
        here = distributed.get_worker()
        local, address, cancelled = Path(here.local_directory), here.address, _cancelled(here)
    except ValueError:   # called outside a Dask worker (a direct call in a test)
        local, address, cancelled = Path(tempfile.gettempdir()), "local", lambda: False
    if request.get("kit") and request["kit"] != _kit():
        raise RuntimeError(f"the Dask worker {address} runs another copy of the kit than the grader; "
                           "install the same version there and restart it")
    base = local / "labkit"
    course = (bundle.unpacked(course_bundle, request["bundle_sha256"], base / "courses")
              if course_bundle is not None else bundle.CoursePaths(**request["course"]))
    job = base / "jobs" / f"{request['student']}-{uuid.uuid4().hex[:12]}"
    try:
        return _grade_in(job, request, course, cancelled) | {"worker": address}
    finally:
        shutil.rmtree(job, ignore_errors=True)


def _grade_in(job: Path, request: dict, course: bundle.CoursePaths, cancelled) -> dict:
    from autograder.course import config

    # the cache the grader named (shared paths) or the bundle's, whatever this machine's LABKIT_CACHE
    settings = dataclasses.replace(config.load(course.config_file), cache_dir=Path(course.cache_dir))
    submission = _lay_out_submission(job / "submission", request)
    out = job / "out"
    task = Task(submission=submission, config_file=course.config_file, out_dir=str(out),
                work_dir=str(job / "course"), template_db=course.template_db,
                source_sha256=request["source_sha256"], verify=request["verify"],
                result_path=str(job / "task" / f"{request['student']}.result.json"))
    # one thread per task: a Dask worker's threads are the submissions it grades at once, and
    # several workers may share one machine without knowing of each other
    env = spawn.worker_env(settings, threads=1) | {DIE_WITH_PARENT: "1"}
    _ensure_warm(env)
    process = spawn.start(task, job / "task", env, job, request["student"])
    limit = spawn.time_limit(settings, request["verify"])
    timed_out = spawn.run_to_end(process, limit, cancelled)
    return {"student": request["student"], "result": None if timed_out else spawn.read_result(task),
            "timed_out": timed_out, "limit": limit, "log_tail": spawn.log_tail(task),
            "out_dir": str(out), "outputs": _pack(out)}


def _cancelled(worker):
    """A check that this task is still wanted: a client that cancels it (Ctrl-C) or goes away
    leaves it cancelled or forgotten on the worker, and its grading process is then stopped."""
    key = worker.get_current_task()

    def cancelled() -> bool:
        state = worker.state.tasks.get(key)
        return state is None or state.state in ("cancelled", "released", "forgotten")
    return cancelled


@functools.cache
def _kit() -> str:
    from autograder.grading.cluster.connect import kit_fingerprint

    return kit_fingerprint()


def _ensure_warm(env: dict) -> None:
    """One warm server per Dask worker process, started by its first task."""
    with _warm_started:
        warm.start(env)


def _lay_out_submission(folder: Path, request: dict) -> dict:
    """The submission as the worker expects it: sent bytes written here, or shared paths as they are."""
    submission = dict(request["submission"])
    if "notebook_bytes" not in request:
        return submission
    folder.mkdir(parents=True)
    submission["folder"] = None
    if request.get("folder_tar") is not None:
        files = folder / "folder"
        files.mkdir()
        with tarfile.open(fileobj=io.BytesIO(request["folder_tar"])) as archive:
            archive.extractall(files, members=bundle.safe_members(archive))
        submission["folder"] = str(files)
    if request["notebook_bytes"] is not None:
        notebook = folder / (Path(submission["notebook"]).name if submission.get("notebook") else "notebook.ipynb")
        notebook.write_bytes(request["notebook_bytes"])
        submission["notebook"] = str(notebook)
    return submission


def _pack(out: Path) -> bytes:
    """The files the worker wrote for its student, as a tar to unpack into the grader's output folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in OUTPUT_FOLDERS:
            if (out / name).exists():
                archive.add(out / name, arcname=name)
    return buffer.getvalue()
