"""Keep checks silent on stderr: nbgrader scores a test cell 0 if it writes anything there."""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import warnings

from autograder.checks.result import CheckFailed
from autograder.sandbox.run_state import random_state_kept

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_NOISY_LOGGERS = ("tensorflow", "absl", "keras", "h5py", "matplotlib", "PIL")


@contextlib.contextmanager
def _fd2_to_devnull():
    """Send file descriptor 2 (C++ logging of TensorFlow) to /dev/null for the duration."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (rare embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def quiet():
    """Silence Python warnings, library loggers and fd-level stderr within a check."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()), _fd2_to_devnull():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR + 10)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def check(activity: int, hint: str):
    """Run a check quietly; an unexpected error becomes a CheckFailed that names the activity."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with quiet(), random_state_kept():  # later cells draw what they would draw without it
                try:
                    return function(*args, **kwargs)
                except CheckFailed:
                    raise
                except Exception as error:  # a wrong-typed object deep inside Keras, for example
                    reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                    raise CheckFailed(activity, "objects this check can use",
                                      f"an error while checking them ({reason[:300]})", hint) from None

        return wrapper

    return decorate
