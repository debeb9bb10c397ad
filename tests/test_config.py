"""course_config.py validation: every wrong value stops with its own message naming the setting."""
from __future__ import annotations

import re

import pytest

from autograder.course import config

SHIPPED = config.REPO_ROOT / "course_config.py"


def shipped_values() -> dict:
    values: dict = {}
    exec(SHIPPED.read_text(), values)
    return {k: v for k, v in values.items() if k.isupper()}


def test_shipped_configuration_is_valid():
    settings = config.load(SHIPPED)
    assert sum(settings.points.values()) == settings.total_points
    assert settings.source_dir == config.REPO_ROOT / "source" / settings.assignment


BAD_VALUES = [
    ("EPOCHS", {"fit": -1, "regularized_fit": 2, "pretrain": 2}, r"EPOCHS\['fit'\] must be a whole number >= 1, got -1"),
    ("EPOCHS", {"fit": 2}, r"EPOCHS must be a dict with exactly the keys"),
    ("POINTS", {**{i: 1 for i in range(1, 13)}, 13: 5}, r"POINTS must add up to TOTAL_POINTS \(100\), got a sum of 17"),
    ("POINTS", {i: 1 for i in range(1, 12)}, r"POINTS must be a dict with one entry for each activity 1..13"),
    ("PROFILE", "cats", r"PROFILE must be one of \['digits', 'flowers', 'folder'\], got 'cats'"),
    ("LETTER_GRADES", {"AA": 80, "AB": 90, "BB": 70, "BC": 60, "CC": 50, "CD": 45, "DD": 40},
     r"LETTER_GRADES must be cut-offs strictly decreasing from AA to DD"),
    ("LETTER_GRADES", {"AA": 90}, r"LETTER_GRADES must be a dict with the keys"),
    ("ACCURACY_THRESHOLD", 1.5, r"ACCURACY_THRESHOLD must be a number in \[0, 1\], got 1.5"),
    ("ACCURACY_THRESHOLD", -0.1, r"ACCURACY_THRESHOLD must be a number in \[0, 1\], got -0.1"),
    ("VALIDATION_SPLIT", 0, r"VALIDATION_SPLIT must be a number in \(0, 1\), got 0"),
    ("BATCH_SIZE", 0, r"BATCH_SIZE must be a whole number >= 1, got 0"),
    ("BATCH_SIZE", 3.5, r"BATCH_SIZE must be a whole number >= 1, got 3.5"),
    ("IMAGE_SIZE", (28,), r"IMAGE_SIZE must be a pair of whole numbers >= 8"),
    ("CHANNELS", 2, r"CHANNELS must be 1 \(grayscale\) or 3 \(RGB\), got 2"),
    ("MEMORY_LIMIT_MB", 10, r"MEMORY_LIMIT_MB must be a whole number >= 256, got 10"),
    ("DISK_LIMIT_MB", 0, r"DISK_LIMIT_MB must be a whole number >= 16, got 0"),
    ("DISK_LIMIT_MB", "1GB", r"DISK_LIMIT_MB must be a whole number >= 16, got '1GB'"),
    ("GRADER_MEMORY_LIMIT_MB", 100, r"GRADER_MEMORY_LIMIT_MB must be a whole number >= 512, got 100"),
    ("MAX_MODEL_PARAMS", 2.5e7, r"MAX_MODEL_PARAMS must be a whole number >= 1000, got 25000000.0"),
    ("NOTEBOOK_TIMEOUT", 5, r"NOTEBOOK_TIMEOUT must be at least CELL_TIMEOUT"),
    ("TRAIN_DIR", "/abs/path", r"TRAIN_DIR must be a path relative to the assignment folder"),
    ("SAVED_MODEL_FILE", "../outside.keras", r"SAVED_MODEL_FILE must be a path relative"),
    ("ASSIGNMENT", "has space", r"ASSIGNMENT must be a non-empty name"),
    ("FAIL_GRADE", "AA", r"FAIL_GRADE must be a non-empty label other than the seven letters"),
    ("COURSE_SECRET", "short", r"COURSE_SECRET must be a string of at least 8 characters"),
]


@pytest.mark.parametrize("name, value, message", BAD_VALUES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_VALUES)])
def test_each_bad_value_names_its_setting(name, value, message, monkeypatch):
    monkeypatch.delenv("LABKIT_SECRET", raising=False)
    values = {**shipped_values(), name: value}
    with pytest.raises(config.ConfigError, match=message):
        config.from_values(values, SHIPPED)


def test_missing_setting_is_named(monkeypatch):
    values = shipped_values()
    del values["SEED"]
    with pytest.raises(config.ConfigError, match="SEED is missing from course_config.py"):
        config.from_values(values, SHIPPED)


def test_a_course_made_before_the_disk_limit_gets_its_default():
    values = shipped_values()
    del values["DISK_LIMIT_MB"]
    assert config.from_values(values, SHIPPED).disk_limit_mb == 1024


def test_folder_profile_needs_an_existing_folder(tmp_path):
    values = {**shipped_values(), "PROFILE": "folder", "LOCAL_FOLDER": str(tmp_path / "nope")}
    with pytest.raises(config.ConfigError, match="LOCAL_FOLDER must be an existing folder"):
        config.from_values(values, SHIPPED)


def test_environment_overrides(tmp_path, monkeypatch):
    copy = tmp_path / "course_config.py"
    copy.write_text(re.sub(r"^SEED = \d+", "SEED = 7", SHIPPED.read_text(), flags=re.M))
    monkeypatch.setenv("LABKIT_CONFIG", str(copy))
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LABKIT_SECRET", "another-secret-value")
    settings = config.load()
    assert settings.seed == 7
    assert settings.cache_dir == tmp_path / "cache"
    assert settings.course_secret == "another-secret-value"
    assert settings.source_dir == tmp_path / "source" / settings.assignment


def test_a_syntax_error_names_the_file(tmp_path):
    broken = tmp_path / "course_config.py"
    broken.write_text("SEED = = 3\n")
    with pytest.raises(config.ConfigError, match="could not read .*course_config.py"):
        config.load(broken)


@pytest.mark.parametrize("percent, letter", [(100, "AA"), (90, "AA"), (89.9, "AB"), (70, "BB"),
                                             (45, "CD"), (40, "DD"), (39.9, "FF"), (0, "FF")])
def test_letter_grades_follow_the_cutoffs(percent, letter):
    assert config.load(SHIPPED).letter_for(percent) == letter
