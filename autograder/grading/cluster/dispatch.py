"""`labkit grade --cluster`: every submission one Dask task; this process alone records the results.

The batch's bookkeeping (grading/batch.py: state files, merged gradebook, stand-in results) is the
same as on the local path; only where the grading workers run changes. Each finished task's result
and files are written here, one student at a time, so an interrupted or repeated run resumes as the
local one does. A task whose Dask worker was lost is run again by the scheduler (up to its
`distributed.scheduler.allowed-failures`); after that its student gets the status "worker lost" and
is graded again by the next run.
"""
from __future__ import annotations

import io
import tarfile
import threading
import uuid
from dataclasses import asdict
from pathlib import Path

from autograder.course.records import (
    GRADING_ERROR,
    TIMED_OUT,
    WORKER_LOST,
    GradeResult,
    Submission,
)
from autograder.grading.cluster import bundle, task
from autograder.grading.cluster.connect import kit_fingerprint
from autograder.grading.vetting import SubmissionProblem, check_size

RETRIES = 1   # a task that raised (not a grading problem: those are results) is run once more


def course_for_workers(batch, course_files: str, client):
    """(request fields naming the course, the bundle's Dask future or None)."""
    if course_files == "paths":
        return {"course": asdict(bundle.paths_on_shared_filesystem(batch.settings, batch.template_db))}, None
    data, sha256 = bundle.build(batch.settings, batch.template_db)
    # one copy to each worker now; a worker that joins later fetches it from a peer
    return {"bundle_sha256": sha256}, client.scatter(data, broadcast=True, hash=False)


def request_for(batch, submission: Submission, course: dict, send_bytes: bool) -> dict:
    """What a task needs about one submission; its files as bytes when workers cannot read ours."""
    submission = Submission.from_dict(submission.to_dict())
    request = {"student": submission.student, "source_sha256": batch.source_sha, "verify": batch.verify, **course}
    if send_bytes:
        notebook = Path(submission.notebook) if submission.notebook else None
        try:   # a file too large to send is refused here with the worker's own message
            if notebook is not None and not submission.problem:
                check_size(notebook)
        except SubmissionProblem as problem:
            submission.problem, submission.message = problem.status, problem.message
        unread = notebook is None or submission.problem
        request["notebook_bytes"] = None if unread else notebook.read_bytes()
        request["folder_tar"] = _pack_folder(Path(submission.folder)) if submission.folder else None
        # the worker writes both where it grades: only the file's name travels
        submission.notebook = notebook.name if notebook is not None else None
        submission.folder = None
    request["submission"] = submission.to_dict()
    return request


def _pack_folder(folder: Path) -> bytes:
    """The student's assignment folder without notebooks (the worker copies it the same way)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if (path.is_file() and not path.is_symlink() and path.suffix != ".ipynb"
                    and ".ipynb_checkpoints" not in relative.parts):
                archive.add(path, arcname=relative.as_posix(), recursive=False)
    return buffer.getvalue()


def run(batch, queue: list[Submission], on_done, interrupted: threading.Event, client,
        course_files: str) -> list[GradeResult]:
    """Grade the queue on the cluster; KeyboardInterrupt (pending tasks cancelled) once `interrupted`."""
    from distributed import wait

    if not queue:
        return []
    course, course_bundle = course_for_workers(batch, course_files, client)
    course["kit"] = kit_fingerprint()   # a worker that joins later checks it itself (task.grade)
    futures = {}
    for submission in queue:
        request = request_for(batch, submission, course, send_bytes=course_files == "bundle")
        future = client.submit(task.grade, request, course_bundle, retries=RETRIES, pure=False,
                               key=f"labkit-grade-{submission.student}-{uuid.uuid4().hex[:8]}")
        futures[future] = submission
    results, pending = [], set(futures)
    try:
        while pending:
            if interrupted.is_set():
                raise KeyboardInterrupt
            try:
                done, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
                submission = futures[future]
                result = finish(batch, future, submission)
                batch.record(result, submission)
                results.append(result)
                on_done(result)
    finally:
        if pending:   # interrupted: what has not finished stays unfinished, graded by the next run
            client.cancel(list(pending))
    return results


def finish(batch, future, submission: Submission) -> GradeResult:
    """The result of one task, its files written into the output folder; a stand-in if it has none."""
    from distributed.scheduler import KilledWorker

    try:
        answer = future.result()
    except KilledWorker:
        return batch.stand_in(submission, WORKER_LOST, (
            "the Dask worker grading this notebook was lost each time it was tried (the cluster "
            "stopped it, or it ran out of memory); run labkit grade again to grade it"))
    except Exception as error:   # the task itself failed on the worker: its cause, for the instructor
        return batch.stand_in(submission, GRADING_ERROR,
                              f"the cluster task failed ({type(error).__name__}: {error})")
    unpack_outputs(answer["outputs"], batch.out)
    if answer["result"] is not None:
        result = GradeResult.from_dict(answer["result"])
        for name in ("autograded_notebook", "feedback_html"):
            setattr(result, name, moved(getattr(result, name), answer["out_dir"], batch.out))
        return result
    if answer["timed_out"]:
        from autograder.course.records import timed_out_message

        return batch.stand_in(submission, TIMED_OUT, timed_out_message(answer["limit"]))
    return batch.stand_in(submission, GRADING_ERROR, f"the grading process failed ({answer['log_tail']})")


def moved(path: str, remote_out: str, out: Path) -> str:
    """A path the worker reported under its own output folder, as the same file in ours."""
    if not path:
        return path
    try:
        return str(out / Path(path).relative_to(remote_out))
    except ValueError:
        return path


def unpack_outputs(data: bytes, out: Path) -> None:
    """A task's files into the output folder: plain files under its known folders only."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = [m for m in bundle.safe_members(archive)
                   if Path(m.name).parts and Path(m.name).parts[0] in task.OUTPUT_FOLDERS]
        archive.extractall(out, members=members)

