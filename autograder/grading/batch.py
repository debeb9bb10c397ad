"""One grading run's bookkeeping over an output folder: the gradebooks, a state file per finished
student (what lets an interrupted run resume), and the results of students whose worker left none.

Only this process writes here, one finished student at a time, whether the workers run locally
(local_workers.py) or on a cluster (cluster/dispatch.py).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from autograder.course.files import write_json_atomic
from autograder.course.records import REGRADE, GradeResult, Submission
from autograder.grading import gradebook
from autograder.grading.scores import score, zero_cells
from autograder.grading.task import file_sha256
from autograder.reporting import feedback


class Batch:
    """One grading run over an output folder."""

    def __init__(self, settings, out: Path, jobs: int, force: bool, verify: bool):
        self.settings, self.out, self.jobs, self.force, self.verify = settings, out, jobs, force, verify
        self.scratch = out / ".work"
        self.state_dir = out / "state"
        self.merged_db = out / "gradebook.db"
        self.gradebook_problems: list[str] = []

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.merged_db}"

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
            missing = gradebook.store(self.db_url, self.settings, result,
                                      timestamp=gradebook.submitted_timestamp(submission))
        except Exception as error:  # e.g. a course gradebook without this assignment
            self.gradebook_problems.append(f"{result.student}: {type(error).__name__}: {error}")
            return
        if missing:
            self.gradebook_problems.append(f"{result.student}: the gradebook has no cells {missing}; "
                                           f"run `nbgrader generate_assignment {self.settings.assignment}`")
