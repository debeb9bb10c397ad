"""A process forked in advance that runs one grader-side function when asked.

Fork it before any student code runs (and before the process starts threads): the child is then a
fresh process that has done nothing but inherit imported modules, so it skips the seconds a new
interpreter spends importing TensorFlow, and nothing the student's kernel did can reach it.

What it reads is still the student's (captures, saved models): each call has a time limit and may
have a memory limit (autograder.sandbox.bounds); at either the process and its children are killed
and the call raises ProcessFailed, never anything worse."""
from __future__ import annotations

import importlib


class ProcessFailed(RuntimeError):
    """The forked process timed out or ended without an answer."""


class MemoryExceeded(ProcessFailed):
    """The forked process went over its memory limit and was stopped."""


class ForkedCall:
    """Call `module:function(*args)` once in a process forked now; the answer must be picklable."""

    def __init__(self, name: str = "labkit-forked"):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(target=self._serve, args=(child_end,), daemon=True, name=name)
        self._process.start()
        child_end.close()

    @staticmethod
    def _serve(connection) -> None:
        try:
            request = connection.recv()
        except EOFError:  # closed without a request: nothing to do
            return
        if request is not None:
            target, args = request
            module, function = target.split(":")
            connection.send(getattr(importlib.import_module(module), function)(*args))

    def call(self, target: str, *args, timeout: float = 300, memory_mb: int = 0):
        """The function's answer; ProcessFailed when it takes longer than `timeout` s or dies,
        MemoryExceeded when it uses more than `memory_mb` MB (0: no memory limit)."""
        from autograder.sandbox import bounds

        bound = bounds.Bound(self._process.pid, memory_mb) if memory_mb and self._process.is_alive() else None
        try:
            self._connection.send((target, args))
            if not self._connection.poll(timeout):
                raise ProcessFailed(f"timed out after {timeout:g} s")
            return self._connection.recv()
        except (EOFError, OSError):
            self._process.join(5)
            if bound is not None and bound.exceeded:
                raise MemoryExceeded(bounds.over_limit(memory_mb)) from None
            raise ProcessFailed(f"ended with status {self._process.exitcode} before answering") from None
        finally:
            self.close()
            if bound is not None:
                bound.release()

    def close(self) -> None:
        """Stop the process (unused, finished or hung) and release its pipe."""
        try:
            if self._process.is_alive():
                self._connection.send(None)
                self._process.join(1)
        except OSError:
            pass
        if self._process.is_alive():
            from autograder.sandbox.watcher import kill_tree

            kill_tree(self._process.pid)   # with whatever it started
            self._process.join(5)
        self._connection.close()
