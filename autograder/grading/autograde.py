"""Autograde one submission: nbgrader in its private course, then the verdicts made outside the kernel."""
from __future__ import annotations

import contextlib
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.comments.gather import gather as gather_comment
from autograder.course.fences import Stage, per_student, required
from autograder.course.records import (
    BAD_NOTEBOOK,
    GRADING_ERROR,
    ExecutionReport,
    GradeResult,
    Submission,
)
from autograder.grading import gradebook
from autograder.grading.private_course import lay_out_course, nbgrader_config
from autograder.grading.scores import attach_errors, first_line, read_grades
from autograder.grading.task import Task
from autograder.grading.vetting import SubmissionProblem
from autograder.judging import cell_outputs, handover, model_verdict
from autograder.judging.forked import ForkedCall
from autograder.reporting import feedback

# The steps after the kernel, as the student is told when one fails (course.fences). Without the
# grades or the judgment there is no grade (a grading error, graded again next run); without the
# others the student is graded as usual, with a note.
NO_GRADE = "so this run gives no grade, and the next `labkit grade` grades it again"
GRADES = Stage("reading the grades nbgrader gave", instead=NO_GRADE)
JUDGING = Stage("judging the checks outside the notebook", instead=NO_GRADE)
VERIFYING = Stage("applying the saved model's verification", 10, instead=NO_GRADE)
VERIFIER = Stage("checking the saved model on the hidden test images", 10,
                 instead="the checks it decides count as not verified")
ERROR_LINES = Stage("copying each failed check's error line", instead="the feedback names no error lines")
VERDICTS = Stage("writing the judge's verdicts into the graded notebook",
                 instead="the graded notebook shows the notebook's own outputs in those cells")
FACTS = Stage("gathering the results the written comment is checked against", 13,
              instead="the comment has no suggestion, and the grader reads it before grading it")
PAGE = Stage("nbgrader's feedback page", instead="the feedback page holds the summary alone")
KEPT = Stage("keeping a copy of the graded notebook", instead="the graded notebook is not kept")


@contextlib.contextmanager
def clocked(result: GradeResult, step: str):
    """Add the seconds the block takes to `result.stages[step]`: where a worker's time goes."""
    started = time.monotonic()
    try:
        yield
    finally:
        result.stages[step] = round(result.stages.get(step, 0.0) + time.monotonic() - started, 3)


def autograde(task: Task, settings, submission: Submission, result: GradeResult, verifier=None,
              judge_call=None, notebook=None) -> str | None:
    """nbgrader's autograde on the private course, then the judgment outside the kernel and the
    verification of the saved model (`judge_and_verify`); fills `result` and returns nbgrader's
    feedback page. `notebook`: what to grade instead of the submitted file (altered_cells.given_marks)."""
    from nbgrader.apps import NbGraderAPI

    from autograder.course import plan as plans

    judge_call = judge_call or ForkedCall("labkit-judge")  # before nbgrader starts any thread
    facts_call = ForkedCall("labkit-facts")   # activity 13's facts from the same hand-over (comments.gather)
    try:
        plan = plans.from_settings(settings)
        with clocked(result, "laying out the private course"):
            root = lay_out_course(task, settings, submission, notebook)
        report_path = root / "execution.json"
        store = root / "capture"   # beside the gradebook: never in the kernel's sandbox
        api = NbGraderAPI(config=nbgrader_config(settings, root, report_path, defer_verification=task.verify,
                                                 capture=handover.capture_names(plan), capture_store=store))
        with clocked(result, "nbgrader autograde (kernel included)"):
            outcome = api.autograde(settings.assignment, submission.student, force=True, create=True)
        log_dir = Path(task.out_dir) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{submission.student}.log").write_text(outcome.get("log", "") + outcome.get("error", ""))
        report = (ExecutionReport.from_dict(json.loads(report_path.read_text()))
                  if report_path.is_file() else ExecutionReport(status=GRADING_ERROR))
        result.execution = report.to_dict()
        autograded = root / "autograded" / submission.student / settings.assignment / settings.notebook_name
        if not outcome["success"] or not autograded.is_file():
            status = BAD_NOTEBOOK if report_path.is_file() or "Error" in outcome.get("error", "") else GRADING_ERROR
            reason = first_line(outcome.get("error", "")) or "nbgrader could not grade it"
            raise SubmissionProblem(status, (
                f"expected a notebook nbgrader can grade, found one it rejects ({reason}); "
                "start from the released notebook and copy your answers into it"))
        result.status, result.message = report.status, report.message
        kernel_notes(report, result, settings)
        page = judge_and_verify(task, settings, submission, result, api.coursedir.db_url, plan, autograded,
                                store, verifier, judge_call, facts_call)
    finally:
        facts_call.close()
    with clocked(result, "keeping the graded notebook"):
        per_student(KEPT, result, keep, task, settings, submission, autograded, result)
    return page


def kernel_notes(report: ExecutionReport, result: GradeResult, settings) -> None:
    """What the ended kernel left behind, for the student."""
    if report.stray_processes:
        result.notes.append(
            f"The notebook: expected every process it starts to end with it, found "
            f"{report.stray_processes} still running after the kernel stopped; they were stopped. Hint: "
            "wait for or stop the processes you start, or do not start any")
    if report.trimmed_files:
        result.notes.append(
            f"The notebook: expected at most {settings.disk_limit_mb} MB of files written into its folder, "
            f"found {report.written_mb:g} MB; the grader removed the largest it wrote "
            f"({', '.join(report.trimmed_files[:3])}{', ...' if len(report.trimmed_files) > 3 else ''})")
    if report.removed_files:
        result.notes.append(
            f"The notebook: expected only ordinary files in its folder, found links or special files "
            f"({', '.join(report.removed_files[:3])}); the grader removed them without reading them")


def judge_and_verify(task: Task, settings, submission: Submission, result: GradeResult, db_url: str, plan,
                     autograded: Path, store: Path, verifier, judge_call, facts_call) -> str | None:
    """The steps after the kernel, each fenced: the grades, the judgment outside the kernel, the saved
    model's verification, activity 13's facts and nbgrader's feedback page (returned)."""
    root = autograded.parents[3]
    with required(GRADES), clocked(result, "reading the grades"):
        cells = read_grades(db_url, settings, submission.student)
    per_student(ERROR_LINES, result, attach_errors, cells, autograded)
    result.cells = [cell.to_dict() for cell in cells]
    with required(JUDGING), clocked(result, "hand-over"):
        capture, lab, notes = handover.hand_over(autograded.parent, settings, root / "judge", store=store)
    result.notes.extend(notes)
    judged_ids = set(handover.capture_names(plan))
    # the judge and the verifier run at once, each its own fresh process
    with ThreadPoolExecutor(max_workers=1) as pool:
        verifying = (pool.submit(model_verdict.run, lab / settings.notebook_name, settings, verifier)
                     if task.verify else None)
        with required(JUDGING), clocked(result, "judge"):
            outcomes, failure = handover.judge(judge_call, plan, capture, lab, settings)
        per_student(VERDICTS, result, cell_outputs.write_verdicts, autograded, outcomes, failure, judged_ids)
        if verifying is not None:   # a failure here is the grader's: model_verdict.apply tells the student
            with clocked(result, "waiting for the verifier"):
                result.verify = per_student(VERIFIER, None, verifying.result, fallback=lambda note: {
                    "status": "error", "ok": None, "error": note})
    with required(JUDGING):
        changed = handover.apply(result, outcomes, failure, judged_ids)
    with clocked(result, "activity 13's facts"):
        result.comment = per_student(FACTS, result, gather_comment, facts_call, plan, capture, lab, settings,
                                     submission.notebook, result.verify, fallback={})
    with required(VERIFYING):
        changed = model_verdict.apply(result, settings, deferred=task.verify) or changed
    # nbgrader's page is drawn once, from the final totals: a page drawn before the judgment would
    # be thrown away whenever the judgment changes a cell, and drawing it costs a second or two
    with clocked(result, "nbgrader's feedback page"):
        if changed:
            return per_student(PAGE, result, stored_page, db_url, settings, result, root)
        return per_student(PAGE, result, feedback.nbgrader_feedback, settings, root, submission.student)


def stored_page(db_url: str, settings, result: GradeResult, root: Path) -> str | None:
    """nbgrader's feedback page, after the private gradebook has the new totals."""
    gradebook.store(db_url, settings, result)
    return feedback.nbgrader_feedback(settings, root, result.student)


def keep(task: Task, settings, submission: Submission, autograded: Path, result: GradeResult) -> None:
    """The graded notebook in the output folder, with the exchange's records beside it."""
    keep = Path(task.out_dir) / "autograded" / submission.student / settings.assignment
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(autograded, keep / settings.notebook_name)
    result.autograded_notebook = str(keep / settings.notebook_name)
    for name in gradebook.EXCHANGE_RECORDS if submission.folder else ():
        record = Path(submission.folder) / name   # nbgrader release_feedback names the page by them
        for folder in (keep, Path(task.out_dir) / "feedback" / submission.student / settings.assignment):
            if record.is_file() and not record.is_symlink():
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(record, folder / name)
