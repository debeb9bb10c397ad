"""Small result records passed between the batch runner and its workers, each with `to_dict()`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

# Statuses a student's row can carry, best first.
OK = "ok"
ALTERED = "altered cells"   # graded, but given cells were deleted, duplicated, retyped or edited
TIMED_OUT = "timed out"
KERNEL_DIED = "kernel died"
MEMORY_LIMIT = "memory limit"
DISK_LIMIT = "disk limit"     # the kernel wrote more into its working folder than DISK_LIMIT_MB
BAD_NOTEBOOK = "bad notebook"
MISSING_NOTEBOOK = "missing notebook"
WRONG_ASSIGNMENT = "wrong assignment"
GRADING_ERROR = "grading error"
WORKER_LOST = "worker lost"   # labkit grade --cluster: the Dask worker grading it was lost every try
STATUSES = (OK, ALTERED, TIMED_OUT, KERNEL_DIED, MEMORY_LIMIT, DISK_LIMIT, BAD_NOTEBOOK, MISSING_NOTEBOOK,
            WRONG_ASSIGNMENT, GRADING_ERROR, WORKER_LOST)
# Statuses that say nothing about the notebook: the next run grades the student again.
REGRADE = (GRADING_ERROR, WORKER_LOST)
# Statuses for which nothing was executed: the student gets no points.
NOT_GRADED = (BAD_NOTEBOOK, MISSING_NOTEBOOK, WRONG_ASSIGNMENT)



class _Record:
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Submission(_Record):
    """One student's input: the notebook to grade, or why there is none."""

    student: str
    notebook: str | None = None          # path of the submitted notebook
    folder: str | None = None            # the student's assignment folder (copied whole), if any
    problem: str | None = None           # a status from NOT_GRADED, found while reading the input
    message: str = ""
    submitted_at: str = ""               # when it was handed in, ISO 8601 (grading/submission_times.py)
    time_source: str = ""                # which record that time comes from, in words


@dataclass
class CellGrade(_Record):
    """One grade cell's outcome as nbgrader scored it."""

    grade_id: str
    activity: int | None
    points: float
    max_points: float
    passed: bool
    needs_manual_grade: bool = False
    error: str = ""                      # first line of the error or stderr text, if it failed


@dataclass
class ExecutionReport(_Record):
    """What the limited kernel run saw (written by the execute preprocessor)."""

    status: str = OK
    message: str = ""
    stopped_at_cell: int | None = None
    timed_out_cells: list = field(default_factory=list)
    truncated_cells: list = field(default_factory=list)
    peak_memory_mb: float = 0.0
    seconds: float = 0.0
    stray_processes: int = 0      # processes the notebook started that outlived its kernel (stopped)
    removed_files: list = field(default_factory=list)  # links and special files left in the working copy
    written_mb: float = 0.0       # the most the kernel had added to its working copy at one look
    trimmed_files: list = field(default_factory=list)  # what it wrote past the disk limit, removed


@dataclass
class GradeResult(_Record):
    """One student's grade, as written to the state file, grades.csv and the gradebook."""

    student: str
    status: str
    points: dict = field(default_factory=dict)        # activity number (as str) -> points
    max_points: dict = field(default_factory=dict)    # activity number (as str) -> max points
    total: float = 0.0
    max_total: float = 0.0
    percent: float = 0.0
    letter: str = ""
    message: str = ""
    notes: list = field(default_factory=list)
    cells: list = field(default_factory=list)         # CellGrade dicts
    verify: dict = field(default_factory=dict)
    execution: dict = field(default_factory=dict)
    sandboxed: bool = False                           # the kernel ran in the sandbox (autograder.sandbox)
    submission_sha256: str = ""
    source_sha256: str = ""
    seconds: float = 0.0
    autograded_notebook: str = ""
    feedback_html: str = ""
    comment: dict = field(default_factory=dict)       # activity 13: text and facts (autograder.comments)
    late: dict = field(default_factory=dict)          # the deadline's say (course.deadlines.late_record)
    reproduced: list = field(default_factory=list)    # accuracies of activities 8 and 10, submitted and regraded
    stages: dict = field(default_factory=dict)        # seconds of each grading step (benchmarks/grading_speed.py)

    @property
    def failed(self) -> bool:
        """Not run to the end as submitted (an altered notebook still ran, so it has not failed)."""
        return self.status not in (OK, ALTERED)

    def activity_points(self, activity: int) -> float:
        return float(self.points.get(str(activity), 0.0))


def relative_to(path: Path | str, base: Path) -> str:
    """`path` relative to `base` when inside it (for portable state files), else absolute."""
    path = Path(path)
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


@dataclass
class Outcome(_Record):
    """One grade cell's result: passed or not, the student-facing message, what it printed."""

    grade_id: str
    passed: bool
    message: str = ""
    output: str = ""


def timed_out_message(limit: float) -> str:
    """The status message of a notebook stopped at the per-notebook time limit."""
    return f"grading this notebook took longer than {limit:.0f} s and was stopped"


@dataclass(frozen=True)
class VerifyResult:
    """What the verification found; JSON-able through `to_dict()`."""

    ok: bool
    accuracy: float | None
    threshold: float
    base_matches_reference: bool | None
    classes: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "VerifyResult":
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in values.items() if key in names})
