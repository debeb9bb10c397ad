"""The `Settings` record: validated course settings and the places derived from them, so that no
module builds a course path by hand. Built by autograder.course.validation, read through
autograder.course.config."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.course.deadlines import Deadline

# Defaults of the grader's bounds, for a course_config.py written before they existed.
DEFAULT_GRADER_MEMORY_LIMIT_MB = 3072
DEFAULT_MAX_MODEL_PARAMS = 20_000_000


@dataclass(frozen=True)
class Settings:
    """Validated course settings; paths are absolute."""

    config_file: Path
    course_id: str
    assignment: str
    profile: str
    local_folder: Path | None
    image_size: tuple[int, int]
    channels: int
    train_per_class: int
    hidden_test_size: int
    validation_split: float
    batch_size: int
    seed: int
    epochs: dict = field(hash=False)
    accuracy_threshold: float
    points: dict = field(hash=False)
    total_points: float
    letter_grades: dict = field(hash=False)
    fail_grade: str
    cell_timeout: int
    notebook_timeout: int
    memory_limit_mb: int
    disk_limit_mb: int
    output_limit_kb: int
    cache_dir: Path
    course_secret: str
    train_dir: str
    base_model_file: str
    saved_model_file: str
    sandbox: bool = True          # grading kernels start in the sandbox (autograder.sandbox)
    clusters: dict = field(default_factory=dict, hash=False)   # CLUSTERS: kind -> its settings
    deadline: Deadline | None = field(default=None, hash=False)   # DUE_DATE and the late policy; None: none
    roster: Path | None = None    # ROSTER: the roster exported from the LMS, if given
    grader_memory_limit_mb: int = DEFAULT_GRADER_MEMORY_LIMIT_MB   # each grader process reading a student's files
    max_model_params: int = DEFAULT_MAX_MODEL_PARAMS   # the largest model (in parameters) the grader builds
    lti: dict | None = field(default=None, hash=False)   # LTI: the LMS registration for `labkit passback`

    # Derived places, so that no module builds them by hand.
    @property
    def root(self) -> Path:
        return self.config_file.parent

    @property
    def source_dir(self) -> Path:
        return self.root / "source" / self.assignment

    @property
    def release_dir(self) -> Path:
        return self.root / "release" / self.assignment

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions" / self.assignment

    @property
    def grading_dir(self) -> Path:
        """Where `labkit grade` writes a class's results unless told otherwise (--out)."""
        return self.root / "grading" / self.assignment

    @property
    def notebook_name(self) -> str:
        return f"{self.assignment}.ipynb"

    @property
    def profile_cache(self) -> Path:
        return self.cache_dir / self.profile

    @property
    def hidden_test_dir(self) -> Path:
        return self.profile_cache / "hidden_test"

    @property
    def reference_base(self) -> Path:
        return self.profile_cache / "reference_base.keras"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    def letter_for(self, percent: float) -> str:
        """Letter grade for a percentage, from the configured cut-offs."""
        for letter, cutoff in self.letter_grades.items():
            if percent >= cutoff:
                return letter
        return self.fail_grade

    def student_view(self) -> dict:
        """The settings a student's notebook needs (written to lab_settings.json)."""
        return {
            "assignment": self.assignment,
            "profile": self.profile,
            "image_size": list(self.image_size),
            "channels": self.channels,
            "color_mode": "grayscale" if self.channels == 1 else "rgb",
            "batch_size": self.batch_size,
            "seed": self.seed,
            "validation_split": self.validation_split,
            "epochs": self.epochs["fit"],
            "regularized_epochs": self.epochs["regularized_fit"],
            "train_dir": self.train_dir,
            "base_model_file": self.base_model_file,
            "saved_model_file": self.saved_model_file,
            "max_model_params": self.max_model_params,
        }
