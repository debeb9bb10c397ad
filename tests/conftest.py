"""Shared fixtures: the repository's own course settings, prepared once per test session."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from autograder.course import config  # noqa: E402


@pytest.fixture(scope="session")
def settings():
    """The course settings in force (course_config.py or $LABKIT_CONFIG)."""
    return config.load()


@pytest.fixture(scope="session")
def prepared(settings):
    """Settings after `prepare` has laid out the data and the base (idempotent, ~20 s once)."""
    from autograder.authoring.prepare import prepare

    manifest = prepare(settings, say=lambda message: None)
    return settings, manifest
