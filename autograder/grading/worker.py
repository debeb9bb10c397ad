"""Grade one submission in its own process, on its own copy of the course and its own gradebook.

The runner forks it from a warm server (`run_forked`, see warm.py); ``python -m
autograder.grading.worker TASK.json`` does the same from a cold start. Writes the task's result
file. Steps, in order: fork the verifier (before anything else runs), check the file, lay out a
private course folder, run nbgrader's autograde with the limited execute preprocessor, read the
grades back from the private gradebook, verify the saved model outside the kernel, write nbgrader's
feedback with a summary on top, copy the outputs out.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import config, files as digest
from autograder.preprocessors import nbgrader_setup
from autograder.comments.gather import gather as gather_comment
from autograder.judging.forked import ForkedCall
from autograder.reporting import feedback
from autograder.grading import gradebook
from autograder.judging import cell_outputs, handover as judging, model_verdict as verification
from autograder.course.records import ALTERED, BAD_NOTEBOOK, GRADING_ERROR, OK, WRONG_ASSIGNMENT, CellGrade, ExecutionReport, GradeResult, Submission
from autograder.course.vocabulary import activity_of

MAX_NOTEBOOK_MB = 64   # a notebook file larger than this is refused before it is parsed


@dataclass
class Task:
    """Everything a worker needs, written by the runner as JSON."""

    submission: dict
    config_file: str
    out_dir: str
    work_dir: str
    template_db: str
    source_sha256: str
    verify: bool = True
    result_path: str = ""

    def to_dict(self) -> dict:
        return dict(vars(self))


def file_sha256(path: str | Path | None) -> str:
    """The submitted file's sha256, or "" when there is no file."""
    return digest.file_sha256(path) if path and Path(path).is_file() else ""


# --- checks on the submitted file, one property each -----------------------------------------

class SubmissionProblem(Exception):
    """The submission cannot be graded; `status` says why."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def check_size(path: Path) -> None:
    """The file must be non-empty and at most MAX_NOTEBOOK_MB."""
    size = path.stat().st_size
    if size == 0:
        raise SubmissionProblem(BAD_NOTEBOOK, "expected a notebook, found an empty file; "
                                "save the notebook in Jupyter (File > Save) and submit again")
    if size > MAX_NOTEBOOK_MB * 2**20:
        raise SubmissionProblem(BAD_NOTEBOOK, (
            f"expected a notebook of at most {MAX_NOTEBOOK_MB} MB, found {size / 2**20:.0f} MB; "
            "clear the outputs (Kernel > Restart Kernel and Clear All Outputs), save and submit again"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The file must be a valid Jupyter notebook."""
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # json, encoding and schema errors all mean the same to a student
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SubmissionProblem(BAD_NOTEBOOK, (
            f"expected a valid Jupyter notebook, found a file that cannot be read ({first[:200]}); "
            "open it in Jupyter, save it and submit again, or start from the released notebook")) from None
    return notebook


def grade_ids(notebook) -> list[str]:
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")]


def check_assignment(notebook, expected_ids: set[str], assignment: str) -> None:
    """The notebook must carry at least one of the assignment's graded cells."""
    found = set(grade_ids(notebook))
    if found & expected_ids:
        return
    if found:
        raise SubmissionProblem(WRONG_ASSIGNMENT, (
            f"expected the notebook of the assignment '{assignment}', found a notebook whose graded "
            f"cells ({', '.join(sorted(found)[:3])}...) belong to another assignment; submit the right file"))
    raise SubmissionProblem(BAD_NOTEBOOK, (
        f"expected the released notebook of '{assignment}' with its graded cells, found a notebook "
        "without any; work in the released notebook (fetch it again) rather than a copy"))


def edited(cell) -> bool:
    """A check or locked cell (not an answer cell) whose content no longer matches the checksum
    nbgrader wrote into it at release; nbgrader restores such cells before grading."""
    from nbgrader.utils import compute_checksum

    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution") or not meta.get("checksum") or not (meta.get("grade") or meta.get("locked")):
        return False
    try:
        return compute_checksum(cell) != meta["checksum"]
    except (KeyError, TypeError, ValueError):  # points or ids made unreadable count as edited
        return True


def cell_notes(notebook, source_cells: dict[str, str], grade_cell_ids: set[str]) -> list[str]:
    """Changes to given cells that nbgrader repairs or scores 0, named for the student."""
    notes, seen = [], set()
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not grade_id:
            continue
        where = f"activity {activity_of(grade_id)}" if activity_of(grade_id) else "the notebook"
        if grade_id in seen:
            notes.append(f"{where}: cell '{grade_id}' appears more than once; only one copy was graded")
        seen.add(grade_id)
        expected_type = source_cells.get(grade_id)
        if expected_type and cell.cell_type != expected_type:
            notes.append(f"{where}: cell '{grade_id}' should be a {expected_type} cell, found a "
                         f"{cell.cell_type} cell; it was graded as {expected_type}")
        elif edited(cell):
            notes.append(f"{where}: the given cell '{grade_id}' was edited; it was graded as released "
                         "and the edit was ignored")
    for grade_id in sorted(grade_cell_ids - seen):
        where = f"activity {activity_of(grade_id)}" if activity_of(grade_id) else "the notebook"
        notes.append(f"{where}: graded cell '{grade_id}' was deleted, so it scores 0; "
                     "do not delete the cells you were given")
    return notes


# --- the private course folder ---------------------------------------------------------------

def lay_out_course(task: Task, settings, submission: Submission) -> Path:
    """A course folder of our own: source (linked), gradebook (copied), the one submission (copied)."""
    root = Path(task.work_dir)
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    os.symlink(settings.source_dir, root / "source" / settings.assignment)
    shutil.copyfile(task.template_db, root / "gradebook.db")
    target = root / "submitted" / submission.student / settings.assignment
    if submission.folder:
        shutil.copytree(submission.folder, target, symlinks=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(submission.notebook, target / settings.notebook_name)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o600 | (0o100 if path.is_dir() else 0))
    return root


# The notebook's hidden-split check; when the kit verifies saved models itself, that verification
# decides the cells that call it (see verification.apply), so the kernel does not repeat it.
DEFERRED_CALL = "checks.hidden_accuracy("


def nbgrader_config(settings, root: Path, report_path: Path, defer_verification: bool = False,
                    capture: dict | None = None, capture_store: Path | None = None):
    """nbgrader's configuration for the private course: the course's own, plus the limits."""
    from traitlets.config import Config
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds, Execute
    from autograder.preprocessors.limited_execute import LimitedExecute
    from autograder.preprocessors.sanitize import DropDuplicateIds

    c = Config()
    nbgrader_setup.apply(c, settings)
    c.CourseDirectory.root = str(root)
    c.NbGraderAPI.log_level = "INFO"
    traits = Autograde.class_traits()
    c.Autograde.sanitize_preprocessors = [DropDuplicateIds if pp is DeduplicateIds else pp
                                          for pp in traits["sanitize_preprocessors"].default()]
    c.Autograde.autograde_preprocessors = [LimitedExecute if pp is Execute else pp
                                           for pp in traits["autograde_preprocessors"].default()]
    c.LimitedExecute.notebook_timeout = settings.notebook_timeout
    c.LimitedExecute.memory_limit_mb = settings.memory_limit_mb
    c.LimitedExecute.output_limit_kb = settings.output_limit_kb
    c.LimitedExecute.report_path = str(report_path)
    c.LimitedExecute.deferred_call = DEFERRED_CALL if defer_verification else ""
    c.LimitedExecute.capture = capture or {}
    c.LimitedExecute.capture_store = str(capture_store or "")
    c.LimitedExecute.judge_outside = bool(capture)   # the judge decides those cells: not run twice
    return c


def read_grades(db_url: str, settings, student: str) -> list[CellGrade]:
    """Every grade cell's score from the private gradebook, in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(settings.assignment, settings.assignment, student)
        order = {cell.name: i for i, cell in enumerate(notebook.notebook.source_cells)}
        grades = sorted(notebook.grades, key=lambda g: order.get(g.name, 0))
        return [CellGrade(grade_id=g.name, activity=activity_of(g.name), points=float(g.score or 0.0),
                          max_points=float(g.max_score), passed=float(g.score or 0.0) >= float(g.max_score),
                          needs_manual_grade=bool(g.needs_manual_grade)) for g in grades]


def template_cells(db_path: str, settings) -> tuple[dict[str, str], dict[str, float]]:
    """The assignment's source cells (grade_id -> cell type) and its grade cells (grade_id -> the
    points the assignment gives it)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db_path}") as gradebook:
        notebook = gradebook.find_notebook(settings.assignment, settings.assignment)
        return ({c.name: c.cell_type for c in notebook.source_cells},
                {c.name: float(c.max_score) for c in notebook.grade_cells})


def out_of_bounds(result: GradeResult, maxima: dict[str, float]) -> str:
    """Why the result's points cannot be a grade (a cell above its points, a cell the assignment does
    not have, a total above the maximum), else ''."""
    for cell in map(CellGrade.from_dict, result.cells):
        allowed = maxima.get(cell.grade_id)
        if allowed is None:
            return f"points recorded for '{cell.grade_id}', which is not a grade cell of the assignment"
        if not (0.0 <= cell.points <= allowed + 1e-9) or abs(cell.max_points - allowed) > 1e-9:
            return f"'{cell.grade_id}' has {cell.points:g} of {cell.max_points:g} points; the assignment gives {allowed:g}"
    if result.total > sum(maxima.values()) + 1e-9:
        return f"a total of {result.total:g} above the maximum {sum(maxima.values()):g}"
    return ""


def first_line(text: str) -> str:
    import re
    text = re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()
    return text.splitlines()[-1][:300] if text else ""


def cell_error(cell) -> str:
    """The first error (or stderr) line of a code cell's outputs, else ''."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return first_line(f"{output.ename}: {output.evalue}")
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + first_line(output.text)
    return ""


def attach_errors(cells: list[CellGrade], autograded: Path) -> None:
    """Copy each failed grade cell's error line from the autograded notebook; when a check failed
    only because the activity's answer cell failed first, show the answer cell's error (its hint)."""
    notebook = nbformat.read(autograded, as_version=4)
    by_id, answer_errors = {}, {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        by_id[meta.get("grade_id")] = cell
        if meta.get("solution") and cell.cell_type == "code" and cell_error(cell):
            answer_errors.setdefault(activity_of(meta.get("grade_id")), cell_error(cell))
    for grade in cells:
        cell = by_id.get(grade.grade_id)
        if cell is None or grade.passed or cell.cell_type != "code":
            continue
        grade.error = cell_error(cell)
        if grade.error.startswith("NameError") and grade.activity in answer_errors:
            grade.error = f"the answer cell failed first: {answer_errors[grade.activity]}"


def score(result: GradeResult, settings) -> None:
    """Points per activity, total, percent and letter from the cell grades."""
    points = {str(a): 0.0 for a in settings.points}
    maxima = {str(a): 0.0 for a in settings.points}
    for cell in map(CellGrade.from_dict, result.cells):
        key = str(cell.activity) if cell.activity else "other"
        points[key] = points.get(key, 0.0) + cell.points
        maxima[key] = maxima.get(key, 0.0) + cell.max_points
    result.points, result.max_points = points, maxima
    result.total = round(sum(points.values()), 4)
    result.max_total = round(sum(maxima.values()), 4) or float(settings.total_points)
    result.percent = round(100.0 * result.total / result.max_total, 2)
    result.letter = settings.letter_for(result.percent)


# --- the steps -------------------------------------------------------------------------------

def grade(task: Task, verifier=None, judge_call=None) -> GradeResult:
    """Grade the task's submission; never raises for a problem with the submission itself.
    `verifier`: a ForkedVerifier for the saved model (else a new process is started for it)."""
    started = time.monotonic()
    page = None
    settings = config.load(task.config_file)
    submission = Submission.from_dict(task.submission)
    out = Path(task.out_dir)
    result = GradeResult(student=submission.student, status=OK, source_sha256=task.source_sha256,
                         submission_sha256=file_sha256(submission.notebook))
    result.sandboxed = settings.sandbox
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
        result.notes = list(altered)
        del notebook
        page = autograde(task, settings, submission, result, verifier, judge_call)
        if altered and result.status == OK:
            result.status = ALTERED
            result.message = f"{len(altered)} change{'s' if len(altered) > 1 else ''} to graded cells: {altered[0]}"
    except SubmissionProblem as problem:
        result.status, result.message = problem.status, problem.message
        zero_cells(result, task.template_db, settings)
    score(result, settings)
    problem = out_of_bounds(result, maxima)
    if problem:  # never a grade: the instructor is told, and the student is graded again next run
        result.status, result.message = GRADING_ERROR, f"grading error: {problem}"
        zero_cells(result, task.template_db, settings)
        score(result, settings)
    result.seconds = round(time.monotonic() - started, 2)
    feedback.write(result, settings, out, page, submitted=submission.notebook)
    return result


def zero_cells(result: GradeResult, template_db: str, settings) -> None:
    """For a submission that was not run: every grade cell at 0 of its points."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{template_db}") as gradebook:
        notebook = gradebook.find_notebook(settings.assignment, settings.assignment)
        result.cells = [CellGrade(c.name, activity_of(c.name), 0.0, float(c.max_score), False,
                                  error="not graded").to_dict() for c in notebook.grade_cells]


def autograde(task: Task, settings, submission: Submission, result: GradeResult, verifier=None,
              judge_call=None) -> str | None:
    """nbgrader's autograde on the private course, then the judgment outside the kernel and the
    verification of the saved model; fills `result` and returns nbgrader's feedback page."""
    from nbgrader.apps import NbGraderAPI

    from autograder.course import plan as plans

    judge_call = judge_call or ForkedCall("labkit-judge")  # before nbgrader starts any thread
    facts_call = ForkedCall("labkit-facts")   # activity 13's facts from the same hand-over (comments.gather)
    plan = plans.from_settings(settings)
    root = lay_out_course(task, settings, submission)
    report_path = root / "execution.json"
    store = root / "capture"   # beside the gradebook: never in the kernel's sandbox
    api = NbGraderAPI(config=nbgrader_config(settings, root, report_path, defer_verification=task.verify,
                                             capture=judging.capture_names(plan), capture_store=store))
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
    if report.stray_processes:
        result.notes.append(
            f"The notebook: expected every process it starts to end with it, found "
            f"{report.stray_processes} still running after the kernel stopped; they were stopped. Hint: "
            "wait for or stop the processes you start, or do not start any")
    if report.removed_files:
        result.notes.append(
            f"The notebook: expected only ordinary files in its folder, found links or special files "
            f"({', '.join(report.removed_files[:3])}); the grader removed them without reading them")
    cells = read_grades(api.coursedir.db_url, settings, submission.student)
    attach_errors(cells, autograded)
    result.cells = [cell.to_dict() for cell in cells]
    capture, lab, notes = judging.hand_over(autograded.parent, settings, root / "judge", store=store)
    result.notes.extend(notes)
    judged_ids = set(judging.capture_names(plan))
    # the judge and the verifier run at once, each its own fresh process
    with ThreadPoolExecutor(max_workers=1) as pool:
        verifying = (pool.submit(verification.run, lab / settings.notebook_name, settings, verifier)
                     if task.verify else None)
        outcomes, failure = judging.judge(judge_call, plan, capture, lab, settings)
        cell_outputs.write_verdicts(autograded, outcomes, failure, judged_ids)
        page = feedback.nbgrader_feedback(settings, root, submission.student)
        if verifying is not None:
            result.verify = verifying.result()
    changed = judging.apply(result, outcomes, failure, judged_ids)
    result.comment = gather_comment(facts_call, plan, capture, lab, settings, submission.notebook, result.verify)
    if verification.apply(result, settings, deferred=task.verify) or changed:
        gradebook.store(api.coursedir.db_url, settings, result)
        page = feedback.nbgrader_feedback(settings, root, submission.student)  # with the new totals
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
    return page


def main(argv: list[str] | None = None) -> int:
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
    finally:
        judge_call.close()
        if verifier is not None:
            verifier.close()
    partial = Path(task.result_path + ".partial")
    partial.write_text(json.dumps(result.to_dict(), indent=1))
    os.replace(partial, task.result_path)
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
