"""Grader side of the hidden checks: verify a saved model in a fresh Python process
(`python -m autograder.judging.saved_model`) and read the one JSON line it prints, so that nothing in
the process that asks can change the outcome."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from autograder.course.records import VerifyResult


def not_verified(settings, error: str) -> VerifyResult:
    """The result when the verification process itself failed (timed out, crashed)."""
    return VerifyResult(False, None, settings.accuracy_threshold, None, [], error)


def verify_in_subprocess(path, settings=None, timeout: float = 300) -> VerifyResult:
    """Run `python -m autograder.judging.saved_model` in a fresh process and return its result."""
    from autograder.course import config
    from autograder.sandbox import bounds

    settings = settings or config.load()
    command = [sys.executable, "-m", "autograder.judging.saved_model", str(Path(path).resolve()), "--json",
               "--config", str(settings.config_file)]
    # the child reads the same cache as `settings`, whatever the environment says
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore",
           "LABKIT_CACHE": str(settings.cache_dir)}
    try:   # the process and whatever it starts are killed at the time or memory limit
        run = bounds.run(command, timeout=timeout, limit_mb=settings.grader_memory_limit_mb, env=env,
                         stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return not_verified(settings, f"verification timed out after {timeout:g} s")
    except bounds.OverLimit as over:   # the student's model: no grader-side error
        return not_verified(settings, f"verification process {over}")
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return VerifyResult.from_dict(json.loads(line))
            except (ValueError, TypeError):
                break
    tail = " | ".join(run.stderr.strip().splitlines()[-3:])
    return not_verified(settings, f"verification process ended with status {run.returncode}: {tail[:500]}")
