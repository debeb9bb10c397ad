"""What a test needs of the machine: skipped with the reason where the machine cannot give it, but
never in CI (CI=true), where the kit's promises must be shown: there it fails."""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)
