"""`labkit grade`: grade a class in parallel worker processes, resumably, then report.

Each submission is graded by a worker (autograder.grading.worker) in its own process, and so its own
kernel, course copy and gradebook; workers are forked from a warm server that has already imported
the heavy libraries (warm.py), or run on a Dask cluster (cluster/). This process alone writes the
state files and the merged gradebook, one finished student at a time (batch.py), then the class's
outputs once every student is graded (autograder.reporting.class_outputs).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import sandbox
from autograder.course.fences import per_student
from autograder.grading import hand_grades, local_workers, warm
from autograder.grading import submissions as inputs
from autograder.grading.batch import Batch
from autograder.grading.interrupt import ctrl_c_as_flag
from autograder.grading.progress import Progress
from autograder.grading.scores import score
from autograder.reporting import class_outputs


@dataclass
class BatchReport:
    """What a `grade` run produced."""

    out: Path
    results: list = field(default_factory=list)       # GradeResult for every student
    graded: list = field(default_factory=list)        # students graded in this run
    skipped: list = field(default_factory=list)       # students already finished earlier
    csv: Path | None = None
    plot: Path | None = None
    page: Path | None = None                          # the class page (reporting/class_page.py)
    seconds: float = 0.0
    gradebook_problems: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"out": str(self.out), "results": [r.to_dict() for r in self.results],
                "graded": self.graded, "skipped": self.skipped, "csv": str(self.csv),
                "plot": str(self.plot), "page": str(self.page), "seconds": self.seconds,
                "gradebook_problems": self.gradebook_problems}


def tools_on_path() -> None:
    """nbgrader runs the `alembic` command when it creates a gradebook: find the one next to Python."""
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


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
    if not cluster:  # the warm server's imports overlap the gradebook template and the input checks
        warm.start(local_workers.worker_env(batch))
    batch.scratch.mkdir(parents=True, exist_ok=True)
    batch.prepare_gradebooks()
    zone = settings.deadline.due.tzinfo if settings.deadline else None   # a zip's times are read in it
    found = inputs.discover(submissions, settings.assignment, settings.notebook_name, batch.scratch,
                            **({"zone": zone} if zone else {}))
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
        advance = stack.enter_context(Progress(console, len(queue), progress))
        interrupted = stack.enter_context(ctrl_c_as_flag())
        if client is None:
            graded = local_workers.run(batch, queue, advance, interrupted)
        else:
            from autograder.grading.cluster import dispatch

            graded = dispatch.run(batch, queue, advance, interrupted, client, course_files or default_files)
    batch_report.graded = [r.student for r in graded]
    by_student = {**{s: r for s, r in done.items() if r}, **{r.student: r for r in graded}}
    batch_report.results = [by_student[s.student] for s in found]
    # grades a person gave in formgrader since (activity 13) count in grades.csv and the feedback
    hand_graded = per_student(hand_grades.HAND_GRADES, None, hand_grades.apply, batch_report.results, batch.db_url,
                              settings, score, fallback=[], problems=batch.gradebook_problems)
    outputs = class_outputs.write(batch_report.results, settings, out, batch.db_url, hand_graded,
                                  scratch=batch.scratch, submitted={s.student: s.notebook for s in found})
    batch_report.csv, batch_report.plot, batch_report.page = outputs.csv, outputs.plot, outputs.page
    if outputs.page_problem:
        console.print(f"[yellow]class page not written: {outputs.page_problem}[/]")
    batch.gradebook_problems += outputs.gradebook_problems
    batch_report.seconds = round(time.monotonic() - started, 2)
    batch_report.gradebook_problems = batch.gradebook_problems
    for problem in batch.gradebook_problems[:10]:
        console.print(f"[yellow]gradebook {batch.merged_db}: {problem}[/]")
    return batch_report
