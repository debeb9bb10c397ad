"""The instructions for grading one submission, as the runner writes them for a worker."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.course import files


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
    return files.file_sha256(path) if path and Path(path).is_file() else ""
