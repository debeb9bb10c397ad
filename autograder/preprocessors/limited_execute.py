"""Limits on a grading kernel: per-cell and per-notebook time, memory, and output size.

`LimitedExecute` replaces nbgrader's `Execute` in the autograde preprocessor list. It runs the
notebook like nbgrader does, and in addition
- gives every cell the smaller of the cell time limit and what is left of the notebook's,
- watches the kernel's process tree with psutil and kills it when it passes the memory limit,
- keeps at most `output_limit_kb` of output per cell while the cell runs,
- when the kernel dies or the notebook runs out of time, marks the cells that did not run with an
  error, so nbgrader scores those grade cells 0 and the cells that ran before still count,
- marks the kernel's environment, so that processes the notebook started and detached from the
  kernel's tree (a new session, a double fork) are counted against the memory limit and stopped
  when the kernel ends.
It writes what happened to `report_path` as an `ExecutionReport`. Its kernel starts in the sandbox
(autograder.sandbox) unless `sandbox` is off.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Dict, Float, Integer, Unicode

from autograder.course.files import write_json_atomic
from autograder.course.records import (
    DISK_LIMIT,
    KERNEL_DIED,
    MEMORY_LIMIT,
    OK,
    TIMED_OUT,
    ExecutionReport,
)
from autograder.judging import hidden_split
from autograder.judging.cell_outputs import error_output
from autograder.preprocessors.sandboxed_execute import SandboxedExecute
from autograder.preprocessors.scrub import scrub
from autograder.sandbox import CAPTURE_FOLDER
from autograder.sandbox.bounds import hard_limit_mb
from autograder.sandbox.disk_watcher import DiskWatcher
from autograder.sandbox.environment import RUN_MARK  # every process of a grading kernel inherits it
from autograder.sandbox.watcher import MemoryWatcher, stop_marked

UNINTERRUPTIBLE = "uninterruptible"   # a reason to stop, reported as TIMED_OUT


JUDGED_NOTE = "This check is made outside the notebook by the grader, on the values the notebook left here."


# before any student code: the hand-over binds what it uses now (Keras, and how models that need the
# notebook's code are measured), so that a notebook that later patches the kit's modules cannot redirect it
BIND_HANDOVER = ('__import__("autograder.sandbox.capture", fromlist=["use_measure"]).use_measure('
                 '__import__("autograder.checks.measure", fromlist=["measure"]).measure)')


class LimitedExecute(SandboxedExecute):
    """nbgrader's Execute, sandboxed, with a notebook deadline, a memory limit and an output cap."""

    notebook_timeout = Integer(900, help="seconds for the whole notebook").tag(config=True)
    memory_limit_mb = Integer(2048, help="resident memory of the kernel's process tree").tag(config=True)
    output_limit_kb = Integer(256, help="output kept per cell while it runs").tag(config=True)
    memory_poll_seconds = Float(0.05, help="how often the memory watcher looks").tag(config=True)
    disk_limit_mb = Integer(1024, help="what the kernel may add to its working folder").tag(config=True)
    report_path = Unicode("", help="where to write the ExecutionReport as JSON").tag(config=True)
    defer_hidden_split = Bool(False, help="the grader's own out-of-kernel verification of the saved model "
                              "decides the hidden-split cells (autograder.judging.hidden_split); they run a "
                              "stand-in instead").tag(config=True)
    capture = Dict({}, help="grade_id -> the names its checks read; before such a grade cell runs, the "
                   "kernel writes them into the capture folder for the judge outside it").tag(config=True)
    judge_outside = Bool(False, help="captured grade cells run a stand-in in the kernel: the grader's judge "
                         "decides them and writes their output into the graded notebook").tag(config=True)
    capture_store = Unicode("", help="a folder the kernel cannot see: each capture is moved there as soon "
                            "as it is written, so that later cells cannot change it").tag(config=True)

    _watchers: tuple = (None, None)   # (memory, disk) while a notebook runs

    def hard_memory_mb(self) -> int:
        """The sandbox's cgroup limit sits above the watcher's: the watcher stops the kernel with a
        clear status; the cgroup only catches memory that grows faster than the watcher looks."""
        return hard_limit_mb(self.memory_limit_mb)

    def preprocess_cell(self, cell, resources, index):
        """Run a cell. A grade cell whose check the grader decides outside the kernel runs a stand-in:
        the hidden-split check (the fresh-process verification decides it) and, with `judge_outside`,
        every captured grade cell (the judge decides it and its output is written back afterwards),
        so no check is done twice."""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        judged = cell.get("cell_type") == "code" and meta.get("grade") and meta.get("grade_id") in self.capture
        if judged:
            self._capture(cell, meta["grade_id"])
        deferred = self.defer_hidden_split and hidden_split.needs_outside(cell)
        if not (deferred or (judged and self.judge_outside)):
            return super().preprocess_cell(cell, resources, index)
        original = cell.source
        cell.source = hidden_split.stand_in() if deferred else f"print({JUDGED_NOTE!r})"
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            cell.source = original

    def _capture(self, cell, grade_id: str) -> None:
        """Have the kernel write the names this grade cell reads (see autograder.judging), silently,
        within the cell's time limit; what it writes is judged outside the kernel later."""
        names = tuple(self.capture[grade_id])
        code = ('__import__("autograder.sandbox.capture", fromlist=["capture"])'
                f".capture({grade_id!r}, {names!r}, globals())")
        try:
            self._silently(code, cell)
        except CellTimeoutError:
            pass  # the kernel was interrupted; the judge finds no capture for this cell
        self._store_capture(grade_id)

    def _silently(self, code: str, cell=None) -> None:
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        self.wait_for_reply(msg_id, cell)

    def _store_capture(self, grade_id: str) -> None:
        """Move the cell's capture out of the kernel's reach (links inside move as links and are
        never followed: autograder.judging.safe_copy reads the store)."""
        if not (self.capture_store and self._working_copy):
            return
        written = os.path.join(self._working_copy, CAPTURE_FOLDER, grade_id)
        target = os.path.join(self.capture_store, grade_id)
        os.makedirs(self.capture_store, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        # a link anywhere on the way would make this move a folder the grader, not the kernel, can reach
        real = os.path.join(os.path.realpath(self._working_copy), CAPTURE_FOLDER, grade_id)
        if os.path.isdir(written) and os.path.realpath(written) == real:
            try:
                os.rename(written, target)
            except OSError:   # another file system: copy what is safe to copy, drop the rest
                from autograder.judging.safe_copy import copy_tree

                copy_tree(Path(written), Path(target))
                shutil.rmtree(written, ignore_errors=True)

    def preprocess(self, nb, resources=None, km=None):
        """Run every cell within the limits, then record what happened."""
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self._working_copy = (resources or {}).get("metadata", {}).get("path") or ""
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.report = ExecutionReport()
        mark = uuid.uuid4().hex
        self._started = time.monotonic()
        self._deadline = self._started + self.notebook_timeout + self.startup_timeout
        self._output_bytes: dict[int, int] = {}
        self.timeout_func = self._cell_timeout
        watcher = disk = None
        self._watchers = (None, None)
        try:
            with self.setup_kernel(env={**os.environ, RUN_MARK: mark}):
                self._deadline = time.monotonic() + self.notebook_timeout  # from a ready kernel on
                watcher = MemoryWatcher(self._kernel_pid(), self.memory_limit_mb, self.memory_poll_seconds,
                                        mark=mark)
                disk = DiskWatcher(self._working_copy, self.disk_limit_mb, watcher.kill) if self._working_copy else None
                self._watchers = (watcher, disk)
                with watcher, disk or contextlib.nullcontext():
                    self._run_cells(resources)
                if disk and disk.exceeded and self.report.status == OK:   # by the last cell, after the last look
                    self.report.status = DISK_LIMIT
                    self.report.message = f"the notebook wrote {disk.exceeded} into its folder by its end"
        except DeadKernelError:
            # the kernel died while being shut down or before the first cell; cells are marked below
            self._stop(self.report.stopped_at_cell or 0, self._death())
        finally:
            self.report.stray_processes = stop_marked(mark)
            if disk is not None and disk.exceeded:   # before anything reads or copies the folder
                self.report.trimmed_files = disk.trim()
            self.report.removed_files = scrub(self._working_copy) if self._working_copy else []
            self.report.peak_memory_mb = round(watcher.peak_mb, 1) if watcher else 0.0
            self.report.written_mb = round(disk.peak_bytes / 2**20, 1) if disk else 0.0
            self.report.seconds = round(time.monotonic() - self._started, 2)
            self._write_report()
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _kernel_pid(self) -> int:
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
        return pid or os.getpid()

    def _death(self) -> str:
        """Why the kernel died: a watcher stopped it, or it ended by itself."""
        memory, disk = self._watchers
        if disk is not None and disk.exceeded:
            return DISK_LIMIT
        return MEMORY_LIMIT if memory is not None and memory.exceeded else KERNEL_DIED

    def _disk_overrun(self) -> str:
        disk = self._watchers[1]
        return disk.exceeded if disk is not None and disk.exceeded else f"more than {self.disk_limit_mb} MB"

    def _run_cells(self, resources) -> None:
        info_msg = self.wait_for_reply(self.kc.kernel_info())
        if info_msg:
            self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
        if self.capture:  # before any student code: the hand-over binds what it uses now (Keras included)
            try:
                self._silently(BIND_HANDOVER)
            except CellTimeoutError:
                pass  # interrupted: the first capture imports it, later and less guarded
        for index, cell in enumerate(self.nb.cells):
            if time.monotonic() >= self._deadline:
                self._stop(index, TIMED_OUT)
                return
            try:
                self.preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._stop(index, self._death())
                return
            except CellTimeoutError:  # the kernel ignored the interrupt and stays busy
                self._stop(index, UNINTERRUPTIBLE)
                return

    def _cell_timeout(self, cell) -> int:
        """The cell limit, or what is left of the notebook's time if that is less."""
        remaining = self._deadline - time.monotonic()
        return max(1, int(min(self.timeout or remaining, remaining) + 0.999))

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        reply = kwargs["execute_reply"]
        if reply and reply["content"].get("ename") == "CellTimeoutError":
            self.report.timed_out_cells.append(kwargs["cell_index"])
            if self.report.status == OK:
                self.report.status = TIMED_OUT
                self.report.message = (f"a cell {self._where(kwargs['cell_index'])} ran longer than "
                                       f"the {self.timeout} s cell time limit and was interrupted")

    def _stop(self, index: int, status: str) -> None:
        """Mark cell `index` and every later code cell as not run, for `status`."""
        reasons = {
            TIMED_OUT: ("NotebookTimeLimit", f"the notebook ran out of its {self.notebook_timeout} s "
                        f"time limit before this cell"),
            MEMORY_LIMIT: ("MemoryLimit", f"the kernel went over the {self.memory_limit_mb} MB memory "
                           f"limit and was stopped"),
            DISK_LIMIT: ("DiskLimit", f"the notebook wrote {self._disk_overrun()} into its folder and was stopped"),
            KERNEL_DIED: ("KernelDied", "the Python kernel stopped (it exited or crashed)"),
            UNINTERRUPTIBLE: ("CellTimeoutError", f"a cell ran longer than the {self.timeout} s cell time "
                              "limit and did not stop when interrupted"),
        }
        ename, why = reasons[status]
        status = TIMED_OUT if status == UNINTERRUPTIBLE else status
        where = self._where(index)
        self.report.status, self.report.stopped_at_cell = status, index
        self.report.message = f"{why} {where}"
        for later, cell in enumerate(self.nb.cells[index:], start=index):
            if cell.cell_type != "code":
                continue
            note = why if later == index else f"not run: {why} {where}"
            cell.outputs = [*(cell.get("outputs", []) if later == index else []), error_output(ename, note)]

    def _where(self, index: int) -> str:
        """'in activity N (cell i)' for the activity the cell belongs to, else 'at cell i'."""
        from autograder.course.vocabulary import activity_of

        for cell in reversed(self.nb.cells[: index + 1]):
            activity = activity_of(cell.metadata.get("nbgrader", {}).get("grade_id"))
            if activity:
                return f"in activity {activity} (cell {index})"
        return f"at cell {index}"

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most `output_limit_kb` of output per cell; drop the rest while it runs."""
        limit = self.output_limit_kb * 1024
        used = self._output_bytes.get(cell_index, 0)
        if used > limit:
            return None
        size = len(json.dumps(msg.get("content", {}), default=str))
        self._output_bytes[cell_index] = used + size
        if used + size > limit:
            self.report.truncated_cells.append(cell_index)
            outs.append(NotebookNode(output_type="stream", name="stdout",
                                     text=f"\n... output truncated: more than {self.output_limit_kb} KB ...\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _write_report(self) -> None:
        if not self.report_path:
            return
        write_json_atomic(self.report_path, self.report.to_dict())
