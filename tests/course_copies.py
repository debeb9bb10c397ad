"""Copies of the shipped course configuration for tests that need other settings."""
from __future__ import annotations

from pathlib import Path

from autograder.course.config import REPO_ROOT


def write_config(folder: Path, **overrides) -> Path:
    """The shipped course_config.py in `folder`, with settings appended (later assignments win)."""
    text = (REPO_ROOT / "course_config.py").read_text()
    if overrides:
        text += "\n# test overrides\n" + "".join(f"{k} = {v!r}\n" for k, v in overrides.items())
    path = Path(folder) / "course_config.py"
    path.write_text(text)
    return path
