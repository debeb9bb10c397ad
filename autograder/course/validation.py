"""Check the values of course_config.py, one helper per kind of value, and build `Settings` from
them. Every wrong value stops with a message that names the setting, what it must be and what it
was ("X must be ..., got ... instead")."""
from __future__ import annotations

import os
from pathlib import Path

from autograder.course import deadline_settings, lti_settings
from autograder.course.settings import (
    DEFAULT_GRADER_MEMORY_LIMIT_MB,
    DEFAULT_MAX_MODEL_PARAMS,
    Settings,
)

PROFILES = ("digits", "flowers", "folder")
LETTERS = ("AA", "AB", "BB", "BC", "CC", "CD", "DD")
ACTIVITIES = tuple(range(1, 14))
EPOCH_KEYS = ("fit", "regularized_fit", "pretrain")
# Named clusters for `labkit grade --cluster NAME` (built by autograder.grading.cluster.named, which imports these).
CLUSTER_KINDS = ("local", "slurm", "pbs", "gateway")
COURSE_FILES = ("paths", "bundle")   # how workers reach the course files: shared filesystem, or a bundle


class ConfigError(ValueError):
    """A setting in course_config.py is missing or wrong."""


def _get(values: dict, name: str):
    if name not in values:
        raise ConfigError(f"{name} is missing from course_config.py; add it (see the shipped file).")
    return values[name]


def _fail(name: str, expected: str, got) -> ConfigError:
    return ConfigError(f"{name} must be {expected}, got {got!r} instead.")


def _int(values, name, minimum=0) -> int:
    value = _get(values, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(name, f"a whole number >= {minimum}", value)
    return value


def _fraction(values, name, low_open=True, high_open=True) -> float:
    value = _get(values, name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (0 < value if low_open else 0 <= value) and (value < 1 if high_open else value <= 1)
    if not ok:
        bounds = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise _fail(name, f"a number in {bounds}", value)
    return float(value)


def _identifier(values, name) -> str:
    value = _get(values, name)
    if not isinstance(value, str) or not value or not value.replace("-", "_").isidentifier():
        raise _fail(name, "a non-empty name of letters, digits, '_' or '-'", value)
    return value


def _relative(values, name) -> str:
    value = _get(values, name)
    if not isinstance(value, str) or not value or Path(value).is_absolute() or ".." in Path(value).parts:
        raise _fail(name, "a path relative to the assignment folder (no '..')", value)
    return value


def _epochs(values) -> dict:
    value = _get(values, "EPOCHS")
    if not isinstance(value, dict) or set(value) != set(EPOCH_KEYS):
        raise _fail("EPOCHS", f"a dict with exactly the keys {list(EPOCH_KEYS)}", value)
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _fail(f"EPOCHS[{key!r}]", "a whole number >= 1", count)
    return dict(value)


def _points(values) -> tuple[dict, float]:
    points = _get(values, "POINTS")
    total = _get(values, "TOTAL_POINTS")
    if not isinstance(points, dict) or sorted(points) != list(ACTIVITIES):
        raise _fail("POINTS", "a dict with one entry for each activity 1..13", points)
    for activity, value in points.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise _fail(f"POINTS[{activity}]", "a number >= 0", value)
    if isinstance(total, bool) or not isinstance(total, (int, float)) or total <= 0:
        raise _fail("TOTAL_POINTS", "a number > 0", total)
    if abs(sum(points.values()) - total) > 1e-9:
        raise ConfigError(
            f"POINTS must add up to TOTAL_POINTS ({total}), got a sum of {sum(points.values())} instead."
        )
    return {int(k): float(v) for k, v in points.items()}, float(total)


def _letters(values) -> tuple[dict, str]:
    letters = _get(values, "LETTER_GRADES")
    fail = _get(values, "FAIL_GRADE")
    if not isinstance(letters, dict) or list(letters) != list(LETTERS):
        raise _fail("LETTER_GRADES", f"a dict with the keys {list(LETTERS)} in that order", letters)
    cutoffs = list(letters.values())
    for letter, cutoff in letters.items():
        if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not 0 <= cutoff <= 100:
            raise _fail(f"LETTER_GRADES[{letter!r}]", "a percentage between 0 and 100", cutoff)
    if any(a <= b for a, b in zip(cutoffs, cutoffs[1:])):
        raise _fail("LETTER_GRADES", "cut-offs strictly decreasing from AA to DD", letters)
    if not isinstance(fail, str) or not fail or fail in LETTERS:
        raise _fail("FAIL_GRADE", "a non-empty label other than the seven letters", fail)
    return {k: float(v) for k, v in letters.items()}, fail


def _image(values) -> tuple[tuple[int, int], int]:
    size = _get(values, "IMAGE_SIZE")
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 8 for s in size)
    ):
        raise _fail("IMAGE_SIZE", "a pair of whole numbers >= 8, like (28, 28)", size)
    channels = _get(values, "CHANNELS")
    if channels not in (1, 3) or isinstance(channels, bool):
        raise _fail("CHANNELS", "1 (grayscale) or 3 (RGB)", channels)
    return (int(size[0]), int(size[1])), int(channels)


def _profile(values) -> tuple[str, Path | None]:
    profile = _get(values, "PROFILE")
    if profile not in PROFILES:
        raise _fail("PROFILE", f"one of {list(PROFILES)}", profile)
    folder = values.get("LOCAL_FOLDER")
    if profile == "folder":
        if not isinstance(folder, (str, os.PathLike)) or not str(folder):
            raise _fail("LOCAL_FOLDER", "the path of a folder of class folders when PROFILE is 'folder'", folder)
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise _fail("LOCAL_FOLDER", "an existing folder", str(folder))
        return profile, folder.resolve()
    return profile, None


def _bool(values, name, default: bool) -> bool:
    value = values.get(name, default)
    if not isinstance(value, bool):
        raise _fail(name, "True or False", value)
    return value


def _int_or(values, name, minimum: int, default: int) -> int:
    """A whole-number setting that a course_config.py written before it existed may leave out."""
    return _int({name: values.get(name, default)}, name, minimum)


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(name, "a whole number >= 1", value)
    return value


def _clusters(values) -> dict:
    """CLUSTERS (optional): {kind: {setting: value}}; only the kit's own keys are checked here, the
    rest go to Dask as they are and Dask names what it does not accept."""
    clusters = values.get("CLUSTERS", {})
    if not isinstance(clusters, dict) or not set(clusters) <= set(CLUSTER_KINDS):
        raise _fail("CLUSTERS", f"a dict whose keys are among {list(CLUSTER_KINDS)}", clusters)
    checked = {}
    for kind, entry in clusters.items():
        name = f"CLUSTERS[{kind!r}]"
        if not isinstance(entry, dict) or not all(isinstance(key, str) for key in entry):
            raise _fail(name, "a dict of settings named by strings, like {'cores': 4}", entry)
        if "course_files" in entry and entry["course_files"] not in COURSE_FILES:
            raise _fail(f"{name}['course_files']", f"one of {list(COURSE_FILES)}", entry["course_files"])
        for key in ("jobs", "workers"):
            if key in entry:
                _whole(f"{name}[{key!r}]", entry[key])
        checked[kind] = dict(entry)
    return checked


def from_values(values: dict, path: Path) -> Settings:
    """Validate a mapping of course settings; `path` anchors relative paths."""
    profile, local_folder = _profile(values)
    image_size, channels = _image(values)
    points, total = _points(values)
    letters, fail = _letters(values)
    cache = os.environ.get("LABKIT_CACHE") or _get(values, "CACHE_DIR")
    if not isinstance(cache, (str, os.PathLike)) or not str(cache):
        raise _fail("CACHE_DIR", "a folder path", cache)
    cache = Path(cache).expanduser()
    if not cache.is_absolute():
        cache = path.parent / cache
    secret = os.environ.get("LABKIT_SECRET") or _get(values, "COURSE_SECRET")
    if not isinstance(secret, str) or len(secret) < 8:
        raise _fail("COURSE_SECRET", "a string of at least 8 characters", secret)
    deadline, roster = deadline_settings.deadline(values, path, _fail)
    cell_timeout = _int(values, "CELL_TIMEOUT", 1)
    notebook_timeout = _int(values, "NOTEBOOK_TIMEOUT", 1)
    if notebook_timeout < cell_timeout:
        raise _fail("NOTEBOOK_TIMEOUT", f"at least CELL_TIMEOUT ({cell_timeout})", notebook_timeout)
    return Settings(
        config_file=path,
        course_id=_identifier(values, "COURSE_ID"),
        assignment=_identifier(values, "ASSIGNMENT"),
        profile=profile,
        local_folder=local_folder,
        image_size=image_size,
        channels=channels,
        train_per_class=_int(values, "TRAIN_PER_CLASS", 2),
        hidden_test_size=_int(values, "HIDDEN_TEST_SIZE", 1),
        validation_split=_fraction(values, "VALIDATION_SPLIT"),
        batch_size=_int(values, "BATCH_SIZE", 1),
        seed=_int(values, "SEED", 0),
        epochs=_epochs(values),
        accuracy_threshold=_fraction(values, "ACCURACY_THRESHOLD", low_open=False, high_open=False),
        points=points,
        total_points=total,
        letter_grades=letters,
        fail_grade=fail,
        cell_timeout=cell_timeout,
        notebook_timeout=notebook_timeout,
        memory_limit_mb=_int(values, "MEMORY_LIMIT_MB", 256),
        disk_limit_mb=_int_or(values, "DISK_LIMIT_MB", 16, 1024),
        grader_memory_limit_mb=_int_or(values, "GRADER_MEMORY_LIMIT_MB", 512, DEFAULT_GRADER_MEMORY_LIMIT_MB),
        max_model_params=_int_or(values, "MAX_MODEL_PARAMS", 1000, DEFAULT_MAX_MODEL_PARAMS),
        output_limit_kb=_int(values, "OUTPUT_LIMIT_KB", 1),
        cache_dir=cache.resolve(),
        course_secret=secret,
        train_dir=_relative(values, "TRAIN_DIR"),
        base_model_file=_relative(values, "BASE_MODEL_FILE"),
        saved_model_file=_relative(values, "SAVED_MODEL_FILE"),
        sandbox=_bool(values, "SANDBOX", True),   # missing means the safe default
        clusters=_clusters(values),
        deadline=deadline,
        roster=roster,
        lti=lti_settings.lti(values, path, _fail),
    )
