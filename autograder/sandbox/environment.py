"""The sandboxed kernel's environment: an allow-list, never the grader's own variables."""
from __future__ import annotations

import sys
from pathlib import Path

import autograder

RUN_MARK = "LABKIT_GRADING_RUN"   # the only LABKIT_* variable a kernel gets (see grading/limits.py)

# Passed through when the grader has them: thread counts, seeds, locale, plotting backend.
PASSED = ("LANG", "LANGUAGE", "TZ", "MPLBACKEND", "PYTHONHASHSEED", "OMP_NUM_THREADS",
          "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_CPP_MIN_LOG_LEVEL", RUN_MARK)

HOME = "/tmp"   # the private tmpfs: IPython, Keras and fontconfig write their folders here


def kernel_env(launch_env: dict) -> dict:
    """The variables the kernel starts with, from the environment it would have been given.

    Secrets (LABKIT_SECRET), the grader's paths (LABKIT_CONFIG, LABKIT_CACHE) and hub tokens are
    left out because only the names here are copied. JPY_PARENT_PID is 1, the sandbox's init and
    the kernel's real parent: ipykernel watches no parent then (the grader's pid would not exist in
    the pid namespace, and the kernel would exit) and prints no console banner."""
    env = {name: value for name, value in launch_env.items()
           if name in PASSED or (name.startswith("LC_") and name[3:].isalpha())}
    env.setdefault("LANG", "C.UTF-8")
    env.setdefault("MPLBACKEND", "Agg")
    env.update({
        # the kit's package is bound at its own path: found there even when the grader imports it
        # from a folder on PYTHONPATH rather than an installed copy (only the package is visible)
        "PYTHONPATH": str(Path(autograder.__file__).parent.parent),
        "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME,
        "JPY_PARENT_PID": "1",
        "MPLCONFIGDIR": f"{HOME}/matplotlib",
    })
    return env
