"""Grading workers forked from a warm server that has already imported nbgrader, TensorFlow and Keras.

Importing those costs a new Python process about 6.5 s of CPU (`python -c "import nbgrader.apps"`
2.3 s, `python -c "import tensorflow, keras"` 4.2 s on the 2-core machine the kit is measured on),
which each worker and each verification used to pay. With
multiprocessing's forkserver a batch pays it once: every worker is still a new process of its own,
forked from a server that has only imported modules (it never runs a notebook nor loads a model).
"""
from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver

# What a worker and its verifier import; a module that fails to import is simply not preloaded.
PRELOAD = ["autograder.grading.worker", "autograder.judging.saved_model", "nbgrader.apps", "nbgrader.converters",
           "nbconvert", "jupyter_client", "tensorflow", "keras"]


def context():
    """The forkserver context whose server preloads PRELOAD."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start(env: dict) -> None:
    """Start the server now, in the background, so its imports overlap the caller's own start-up.

    The server keeps the environment it starts with (its imports read some of it, such as
    TF_CPP_MIN_LOG_LEVEL); each worker still sets its own (see worker.run_forked)."""
    context()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(saved)
