"""Ctrl-C during a batch: a flag the grading loops check between steps, never an exception raised
wherever the main thread happens to be."""
from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def ctrl_c_as_flag():
    """While grading, Ctrl-C only sets the yielded flag, which the batch loop checks between steps.

    Python raises KeyboardInterrupt wherever the main thread happens to be; inside a garbage
    collection callback it is printed and dropped, and the batch would run on. A flag is never lost,
    and a worker being started is never left half-started. Outside the main thread: a flag never set."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda *args: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
