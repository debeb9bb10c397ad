"""Grade one submission in a process of its own: `python -m autograder.grading.worker TASK.json`."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from autograder.course import config, deadlines
from autograder.course.fences import Stage, StageFailed, describe, per_student
from autograder.course.files import write_json_atomic
from autograder.course.records import (
    ALTERED,
    GRADING_ERROR,
    OK,
    GradeResult,
    Submission,
)
from autograder.grading.altered_cells import cell_notes, given_marks, released_marks
from autograder.grading.autograde import autograde
from autograder.grading.scores import out_of_bounds, score, template_cells, zero_cells
from autograder.grading.task import Task, file_sha256
from autograder.grading.vetting import (
    SubmissionProblem,
    check_assignment,
    check_size,
    read_notebook,
)
from autograder.judging.forked import ForkedCall
from autograder.reporting import feedback

FEEDBACK = Stage("the feedback page", instead="the feedback page holds the summary alone, or is missing")
STAND_IN = Stage("the stand-in result of a submission the grader could not grade")


def grade(task: Task, verifier=None, judge_call=None) -> GradeResult:
    """Grade the task's submission; never raises for a problem with the submission itself, and a
    step of the grader's that fails after the kernel is that student's grading error or note
    (course.fences). `verifier`: a ForkedVerifier for the saved model (else a new process is started).

    Steps, in order: check the file, lay out a private course folder and run nbgrader's autograde
    there (autograde.py), score it, refuse points out of bounds, write the feedback."""
    started = time.monotonic()
    page = None
    settings = config.load(task.config_file)
    submission = Submission.from_dict(task.submission)
    out = Path(task.out_dir)
    result = GradeResult(student=submission.student, status=OK, source_sha256=task.source_sha256,
                         submission_sha256=file_sha256(submission.notebook))
    result.sandboxed = settings.sandbox
    result.late = deadlines.record(settings.deadline, submission.student, submission.submitted_at,
                                   submission.time_source)
    source_cells, maxima = template_cells(task.template_db, settings)
    grade_cell_ids = set(maxima)
    try:
        if submission.problem:
            raise SubmissionProblem(submission.problem, submission.message)
        notebook_path = Path(submission.notebook)
        check_size(notebook_path)
        notebook = read_notebook(notebook_path)
        check_assignment(notebook, grade_cell_ids, settings.assignment)
        altered = cell_notes(notebook, source_cells, grade_cell_ids)
        planted, changed = given_marks(notebook, released_marks(task.template_db, settings))
        altered += planted
        result.notes = list(altered)
        # the grader's copy without planted marks; the submitted file is never changed
        page = autograde(task, settings, submission, result, verifier, judge_call, notebook if changed else None)
        del notebook
        if altered and result.status == OK:
            result.status = ALTERED
            result.message = f"{len(altered)} change{'s' if len(altered) > 1 else ''} to graded cells: {altered[0]}"
    except SubmissionProblem as problem:
        result.status, result.message = problem.status, problem.message
        zero_cells(result, task.template_db, settings)
    except Exception as error:   # the grader's own failure: no grade from this run, the others go on
        result.status = GRADING_ERROR
        result.message = f"grading error: {error if isinstance(error, StageFailed) else describe(error)}"
        zero_cells(result, task.template_db, settings)
    score(result, settings)
    problem = out_of_bounds(result, maxima)
    if problem:  # never a grade: the instructor is told, and the student is graded again next run
        result.status, result.message = GRADING_ERROR, f"grading error: {problem}"
        zero_cells(result, task.template_db, settings)
        score(result, settings)
    result.seconds = round(time.monotonic() - started, 2)
    written = per_student(FEEDBACK, result, feedback.write, result, settings, out, page,
                          submitted=submission.notebook)
    if written is None:
        per_student(FEEDBACK, None, feedback.write, result, settings, out)   # the summary alone
    return result


def stand_in(task: Task, error: BaseException) -> GradeResult:
    """The result of a task that `grade` could not finish (its settings or gradebook unreadable):
    a grading error, with every cell at 0 where the template still tells them."""
    submission = task.submission if isinstance(task.submission, dict) else {}
    result = GradeResult(student=str(submission.get("student", "")), status=GRADING_ERROR,
                         source_sha256=task.source_sha256,
                         message=f"grading error: the grading process failed ({describe(error)})")
    result.submission_sha256 = per_student(STAND_IN, None, file_sha256, submission.get("notebook"), fallback="")
    settings = per_student(STAND_IN, None, config.load, task.config_file)
    if settings is not None:
        result.sandboxed = settings.sandbox
        per_student(STAND_IN, None, zero_cells, result, task.template_db, settings)
        per_student(STAND_IN, None, score, result, settings)
        per_student(STAND_IN, None, feedback.write, result, settings, Path(task.out_dir))
    return result


def main(argv: list[str] | None = None) -> int:
    """Grade the task in the file argv[0] and write its result file; run cold by `python -m`, or
    forked from the warm server by `run_forked`."""
    argv = sys.argv[1:] if argv is None else argv
    task = Task(**json.loads(Path(argv[0]).read_text()))
    os.environ.setdefault("MPLBACKEND", "Agg")
    verifier = None
    # forked first, while this process is single-threaded and has run nothing
    judge_call = ForkedCall("labkit-judge")
    if task.verify:
        from autograder.judging.saved_model import ForkedVerifier
        verifier = ForkedVerifier()
    try:
        result = grade(task, verifier, judge_call)
    except Exception as error:   # the result file is always written
        result = stand_in(task, error)
    finally:
        judge_call.close()
        if verifier is not None:
            verifier.close()
    write_json_atomic(task.result_path, result.to_dict(), indent=1)   # the runner never reads half a result
    return 0


DIE_WITH_PARENT = "LABKIT_DIE_WITH_PARENT"   # set by a Dask worker: its grading ends if it is lost


def die_with_parent() -> None:
    """Be killed when the warm server that forked this worker ends, as it does when the process
    that started it (a Dask worker killed by its cluster) is gone; the kernel's sandbox follows."""
    import ctypes
    import signal

    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:   # the parent ended before the request took hold
        os._exit(1)


def run_forked(task_path: str, env: dict, cwd: str, log_path: str) -> None:
    """A worker forked from the warm server: set up what a new process would have, then `main`."""
    os.setsid()  # Ctrl-C in the terminal reaches only the runner, which stops its workers itself
    if env.get(DIE_WITH_PARENT):
        die_with_parent()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.exit(main([task_path]))


if __name__ == "__main__":
    sys.exit(main())
