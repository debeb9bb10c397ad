"""`labkit grade`: grade a class in parallel worker processes, resumably, then report.

Each submission is graded by a worker (autograder.grading.worker) in its own process, and so its own
kernel, course copy and gradebook; workers are forked from a warm server that has already imported
the heavy libraries (warm.py). This process alone writes the state files and the merged gradebook,
one finished student at a time.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


from autograder import sandbox
from autograder.course.files import write_json_atomic
from autograder.comments import publish as comments
from autograder.reporting import feedback, class_results as report
from autograder.grading import gradebook, submissions as inputs, hand_grades as manual, spawn, warm, worker
from autograder.course.records import GRADING_ERROR, REGRADE, TIMED_OUT, GradeResult, Submission, timed_out_message
from autograder.grading.worker import Task, file_sha256, score, zero_cells


@dataclass
class BatchReport:
    """What a `grade` run produced."""

    out: Path
    results: list = field(default_factory=list)       # GradeResult for every student
    graded: list = field(default_factory=list)        # students graded in this run
    skipped: list = field(default_factory=list)       # students already finished earlier
    csv: Path | None = None
    plot: Path | None = None
    seconds: float = 0.0
    gradebook_problems: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"out": str(self.out), "results": [r.to_dict() for r in self.results],
                "graded": self.graded, "skipped": self.skipped, "csv": str(self.csv),
                "plot": str(self.plot), "seconds": self.seconds,
                "gradebook_problems": self.gradebook_problems}


def tools_on_path() -> None:
    """nbgrader runs the `alembic` command when it creates a gradebook: find the one next to Python."""
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


@contextlib.contextmanager
def ctrl_c_as_flag():
    """While grading, Ctrl-C only sets the yielded flag, which the batch loop checks between steps.

    Python raises KeyboardInterrupt wherever the main thread happens to be; inside a garbage
    collection callback it is printed and dropped, and the batch would run on. A flag is never lost,
    and a worker being started is never left half-started. Outside the main thread: a flag never set."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda *args: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


class Batch:
    """One grading run over an output folder."""

    def __init__(self, settings, out: Path, jobs: int, force: bool, verify: bool):
        self.settings, self.out, self.jobs, self.force, self.verify = settings, out, jobs, force, verify
        self.scratch = out / ".work"
        self.state_dir = out / "state"
        self.merged_db = out / "gradebook.db"
        self.gradebook_problems: list[str] = []

    # --- preparation -----------------------------------------------------------------------
    def prepare_gradebooks(self) -> None:
        """Template gradebook from the source notebook; merged gradebook started from it."""
        self.source_sha = gradebook.source_sha256(self.settings)
        stamp = self.scratch / "template.sha256"
        self.template_db = self.scratch / "template" / "gradebook.db"
        if not (self.template_db.is_file() and stamp.is_file() and stamp.read_text() == self.source_sha):
            gradebook.make_template(self.settings, self.scratch)
            stamp.write_text(self.source_sha)
        # A gradebook the kit made is remade when the source changes; any other (the course's own,
        # with --out at the course root) is only ever added to.
        merged_stamp = self.out / ".gradebook.sha256"
        ours = merged_stamp.is_file()
        if not self.merged_db.is_file() or (ours and merged_stamp.read_text() != self.source_sha):
            shutil.copyfile(self.template_db, self.merged_db)
            merged_stamp.write_text(self.source_sha)

    def state_path(self, student: str) -> Path:
        return self.state_dir / f"{student}.json"

    def finished(self, submission: Submission) -> GradeResult | None:
        """The stored result, if this exact submission was graded against this source already."""
        path = self.state_path(submission.student)
        if self.force or not path.is_file():
            return None
        try:
            result = GradeResult.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        current = file_sha256(submission.notebook)
        if result.source_sha256 != self.source_sha or result.submission_sha256 != current:
            return None
        return None if result.status in REGRADE else result

    # --- workers ---------------------------------------------------------------------------
    def worker_env(self) -> dict:
        return spawn.worker_env(self.settings, threads=max(1, (os.cpu_count() or 1) // self.jobs))

    def task_for(self, submission: Submission, folder: Path, out: Path, work: Path) -> Task:
        """The worker's instructions for one submission; its files go under `folder`."""
        return Task(submission=submission.to_dict(), config_file=str(self.settings.config_file),
                    out_dir=str(out), work_dir=str(work), template_db=str(self.template_db),
                    source_sha256=self.source_sha, verify=self.verify,
                    result_path=str(folder / f"{submission.student}.result.json"))

    def launch(self, submission: Submission) -> dict:
        folder = self.scratch / "tasks"
        task = self.task_for(submission, folder, self.out, self.scratch / "courses" / submission.student)
        process = spawn.start(task, folder, self.worker_env(), self.scratch, submission.student)
        limit = spawn.time_limit(self.settings, self.verify)
        return {"submission": submission, "task": task, "process": process,
                "deadline": time.monotonic() + limit, "limit": limit}

    def collect(self, running: dict, timed_out: bool) -> GradeResult:
        """The result of a finished (or stopped) worker; a stand-in result when it left none."""
        task, submission = running["task"], running["submission"]
        written = None if timed_out else spawn.read_result(task)
        if written is not None:
            result = GradeResult.from_dict(written)
        elif timed_out:
            result = self.stand_in(submission, TIMED_OUT, timed_out_message(running["limit"]))
        else:
            result = self.stand_in(submission, GRADING_ERROR, f"the grading process failed ({spawn.log_tail(task)})")
        shutil.rmtree(task.work_dir, ignore_errors=True)
        return result

    def stand_in(self, submission: Submission, status: str, message: str) -> GradeResult:
        """The result of a student whose worker left none: every cell at 0, and why."""
        result = GradeResult(student=submission.student, status=status,
                             source_sha256=self.source_sha, submission_sha256=file_sha256(submission.notebook))
        result.sandboxed = self.settings.sandbox
        result.message = message
        zero_cells(result, str(self.template_db), self.settings)
        score(result, self.settings)
        feedback.write(result, self.settings, self.out)
        return result

    def record(self, result: GradeResult, submission: Submission) -> None:
        """State file first (atomically), then the merged gradebook."""
        write_json_atomic(self.state_path(result.student), result.to_dict(), indent=1)
        self.merge(result, submission)

    def merge(self, result: GradeResult, submission: Submission) -> None:
        """Into the merged gradebook; a problem there is reported, never fatal (state is kept)."""
        try:
            missing = gradebook.store(f"sqlite:///{self.merged_db}", self.settings, result,
                                      timestamp=gradebook.submitted_timestamp(submission))
        except Exception as error:  # e.g. a course gradebook without this assignment
            self.gradebook_problems.append(f"{result.student}: {type(error).__name__}: {error}")
            return
        if missing:
            self.gradebook_problems.append(f"{result.student}: the gradebook has no cells {missing}; "
                                           f"run `nbgrader generate_assignment {self.settings.assignment}`")

    def run(self, queue: list[Submission], on_done, interrupted: threading.Event) -> list[GradeResult]:
        """Grade the queue, `jobs` at a time; KeyboardInterrupt once `interrupted` is set."""
        results, running = [], []
        pending = list(queue)
        try:
            while pending or running:
                if interrupted.is_set():
                    raise KeyboardInterrupt
                while pending and len(running) < self.jobs:
                    running.append(self.launch(pending.pop(0)))
                interrupted.wait(0.1)
                for job in list(running):
                    over = time.monotonic() > job["deadline"]
                    if job["process"].is_alive() and not over:
                        continue
                    if over:
                        spawn.kill_tree(job["process"].pid)
                    job["process"].join(5)
                    running.remove(job)
                    result = self.collect(job, timed_out=over)
                    self.record(result, job["submission"])
                    results.append(result)
                    on_done(result)
        finally:
            for job in running:  # interrupted: stop what is still running; its student stays unfinished
                spawn.kill_tree(job["process"].pid)
                shutil.rmtree(job["task"].work_dir, ignore_errors=True)
        return results


def grade_class(settings, submissions, out: str | Path | None = None, jobs: int | None = None,
                force: bool = False, verify: bool = True, progress: bool = True, console=None,
                cluster: str | None = None, course_files: str | None = None) -> BatchReport:
    """Grade every submission under `submissions` (folder or zip) into `out`; see the module doc.
    `cluster`: a Dask scheduler address or a cluster named in course_config.py (autograder.grading.cluster),
    whose workers grade instead of local ones; `course_files`: "paths" or "bundle" (its default)."""
    from rich.console import Console

    started = time.monotonic()
    tools_on_path()
    if settings.sandbox and not cluster:  # refuse with the cause and the fix before any student is graded
        sandbox.preflight()
    console = console or Console(stderr=False)
    out = (Path(out) if out else settings.grading_dir).resolve()  # workers run in another folder
    submissions = Path(submissions).resolve()
    out.mkdir(parents=True, exist_ok=True)
    batch = Batch(settings, out, max(1, jobs or os.cpu_count() or 1), force, verify)
    if not cluster:
        warm.start(batch.worker_env())  # its imports overlap the gradebook template and input checks
    batch.scratch.mkdir(parents=True, exist_ok=True)
    batch.prepare_gradebooks()
    found = inputs.discover(submissions, settings.assignment, settings.notebook_name, batch.scratch)
    done = {s.student: batch.finished(s) for s in found}
    queue = [s for s in found if done[s.student] is None]
    for submission in found:  # idempotent: a gradebook removed since the last run is filled again
        if done[submission.student] is not None:
            batch.merge(done[submission.student], submission)
    batch_report = BatchReport(out=out, skipped=[s for s, r in done.items() if r is not None])
    if batch_report.skipped:
        console.print(f"Already graded, skipped: {len(batch_report.skipped)} (use --force to regrade).")
    with contextlib.ExitStack() as stack:
        client = None
        if cluster and queue:   # nothing left to grade: no cluster to start
            from autograder.grading.cluster import connect

            client, default_files = stack.enter_context(connect.client_for(cluster, settings, jobs, console))
        advance = stack.enter_context(_progress(console, len(queue), progress))
        interrupted = stack.enter_context(ctrl_c_as_flag())
        if client is None:
            graded = batch.run(queue, advance, interrupted)
        else:
            from autograder.grading.cluster import dispatch

            graded = dispatch.run(batch, queue, advance, interrupted, client, course_files or default_files)
    batch_report.graded = [r.student for r in graded]
    by_student = {**{s: r for s, r in done.items() if r}, **{r.student: r for r in graded}}
    batch_report.results = [by_student[s.student] for s in found]
    # grades a person gave in formgrader since (activity 13) count in grades.csv and the feedback,
    # whose page nbgrader makes again from the gradebook that now holds them
    notebooks = {s.student: s.notebook for s in found}
    for result in manual.apply(batch_report.results, f"sqlite:///{batch.merged_db}", settings, worker.score):
        page = feedback.nbgrader_feedback(settings, out, result.student)
        feedback.write(result, settings, out, page, submitted=notebooks.get(result.student))
    batch_report.csv = report.write_csv(batch_report.results, settings, out / "grades.csv")
    # activity 13's suggestions: grades.csv columns and the gradebook's comment (never points)
    batch.gradebook_problems += comments.publish(batch_report.results, settings, batch_report.csv,
                                                 f"sqlite:///{batch.merged_db}")[1]
    batch_report.plot = report.plot(batch_report.results, settings, out / "grade_distribution.png")
    batch_report.seconds = round(time.monotonic() - started, 2)
    batch_report.gradebook_problems = batch.gradebook_problems
    for problem in batch.gradebook_problems[:10]:
        console.print(f"[yellow]gradebook {batch.merged_db}: {problem}[/]")
    return batch_report


class _progress:
    """A rich progress bar with ETA and live counts of finished and failed; silent when off."""

    def __init__(self, console, total: int, enabled: bool):
        self.console, self.total, self.enabled = console, total, enabled
        self.ok = self.failed = 0

    def __enter__(self):
        if not self.enabled:
            return lambda result: None
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[green]ok {task.fields[ok]}[/] [red]failed {task.fields[failed]}[/]"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=self.console)
        self.bar.__enter__()
        self.task = self.bar.add_task("grading", total=self.total, ok=0, failed=0)
        return self.advance

    def advance(self, result: GradeResult) -> None:
        if result.failed:
            self.failed += 1
        else:
            self.ok += 1
        self.bar.update(self.task, advance=1, ok=self.ok, failed=self.failed)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
