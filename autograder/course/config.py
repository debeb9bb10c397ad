"""Where course_config.py is, and `load`: read it and validate it into one frozen `Settings`.
The kit's one door to the settings (`from autograder.course import config`): the record lives in
autograder.course.settings, the checks of each value in autograder.course.validation."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from autograder.course.settings import Settings  # noqa: F401  (re-exported: config.Settings)
from autograder.course.validation import (  # noqa: F401  (re-exported for config.X users)
    ACTIVITIES,
    CLUSTER_KINDS,
    COURSE_FILES,
    EPOCH_KEYS,
    LETTERS,
    PROFILES,
    ConfigError,
    from_values,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def config_path() -> Path:
    """The course_config.py in force: $LABKIT_CONFIG, else the one at the repository root."""
    override = os.environ.get("LABKIT_CONFIG")
    return Path(override).resolve() if override else REPO_ROOT / "course_config.py"


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate a course configuration file."""
    path = Path(path).resolve() if path else config_path()
    if not path.is_file():
        raise ConfigError(f"course configuration file not found: {path}")
    spec = importlib.util.spec_from_file_location("course_config_loaded", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a syntax error in the instructor's file
        raise ConfigError(f"could not read {path}: {exc}") from exc
    return from_values(vars(module), path)
