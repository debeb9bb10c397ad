"""Run one submitted notebook once and record the outcome of every grade cell of the plan.

The student's notebook runs in its own folder under the batch grader's limits (`LimitedExecute`:
cell and notebook time, memory, output). As nbgrader does at autograde time, locked cells get their
source back and each grade cell is replaced by the source notebook's version, so every check runs at
the cell's place in the notebook (a base checked right after activity 4 is judged before training).
The kernel decides nothing: it runs in a copy of the notebook's folder, hands the values each grade
cell reads to the grader (autograder.judging) and runs a stand-in in its place, and a new process
judges every such cell from them.
The hidden-split check (`hidden_accuracy`) is decided after the kernel is gone, in this process, by
autograder.judging.hidden_split (which starts `autograder.judging.saved_model` in a fresh one).
Outcomes can be cached per (notebook, plan)."""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course.files import file_sha256, write_json_atomic
from autograder.course.plan import GradedProperty, Plan, judged_outside
from autograder.course.records import Outcome

PROBE_MARK = "# graded at this place: "
CACHE_VERSION = 3   # 2: outcomes judged outside the kernel; 3: and their output is the judge's


@dataclass
class Graded:
    """Everything the tests of one submission need, JSON-able for the cache."""

    notebook: str
    notebook_sha256: str
    plan_sha256: str
    outcomes: dict = field(default_factory=dict)      # grade_id -> Outcome dict
    execution: dict = field(default_factory=dict)     # the ExecutionReport of the kernel run
    problem: str = ""                                 # why the notebook could not run at all
    seconds: float = 0.0

    def outcome(self, grade_id: str) -> Outcome:
        return Outcome(**self.outcomes[grade_id])

    def to_dict(self) -> dict:
        return {"version": CACHE_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, values: dict) -> "Graded":
        values = {k: v for k, v in values.items() if k != "version"}
        return cls(**values)


# --- the notebook that runs ------------------------------------------------------------------

def probe_source(prop: GradedProperty) -> str:
    """The grade cell's own code, after the real `checks` module and a check that its names exist."""
    names = ", ".join(repr(name) for name in prop.names)
    return (f"{PROBE_MARK}{prop.grade_id}\n"
            "from autograder import checks\n"
            "__import__('autograder.checks.presence', fromlist=['probe'])"
            f".require_names({prop.activity}, ({names}{',' if len(prop.names) == 1 else ''}), globals())\n"
            f"{prop.source}")


def grading_notebook(notebook, plan: Plan):
    """The student's notebook as it runs: locked cells restored, grade cells from the source.

    Returns the notebook and the grade_ids of the plan's in-kernel cells that it holds."""
    import nbformat

    from autograder.course import vocabulary

    properties = plan.by_id()
    cells, present = [], set()
    for cell in notebook.cells:
        grade_id = vocabulary.grade_id(cell)
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if grade_id in present or (grade_id in properties and properties[grade_id].outside_kernel):
            continue  # a duplicate, or a check that runs outside the kernel
        if grade_id in properties:
            present.add(grade_id)
            cell = nbformat.v4.new_code_cell(probe_source(properties[grade_id]))
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True}
        elif grade_id in plan.locked:
            present.add(grade_id)
            cell = nbformat.v4.new_code_cell(plan.locked[grade_id], metadata=cell.metadata)
        else:
            cell = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
        cells.append(cell)
    out = nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)
    return out, present


# --- reading the outcomes ---------------------------------------------------------------------

def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()


def outcome_of(cell, noise_pattern: str) -> Outcome:
    """nbgrader's rule: an error or any (non-noise) stderr output fails the cell; else it passes."""
    grade_id = cell.metadata["nbgrader"]["grade_id"]
    stdout = "".join(o.get("text", "") for o in cell.outputs
                     if o.output_type == "stream" and o.name == "stdout")
    for output in cell.outputs:
        if output.output_type == "error":
            value = _plain(output.get("evalue", ""))
            message = value if output.ename == "CheckFailed" else f"{output.ename}: {value}"
            return Outcome(grade_id, False, message, stdout)
        if output.output_type == "stream" and output.name == "stderr":
            if noise_pattern and re.search(noise_pattern, output.text):
                continue
            return Outcome(grade_id, False, f"the check wrote to stderr: {_plain(output.text)[:500]}", stdout)
    return Outcome(grade_id, True, _plain(stdout), stdout)


def missing(prop: GradedProperty) -> Outcome:
    from autograder.course.vocabulary import activity_label

    return Outcome(prop.grade_id, False,
                   f"{activity_label(prop.activity)}: expected the graded cell '{prop.grade_id}' in the "
                   "notebook, found it deleted. Try: start from the released notebook and copy your answers "
                   "into it; do not delete the cells you were given")


def not_run(prop: GradedProperty, why: str) -> Outcome:
    return Outcome(prop.grade_id, False, why)


def judge_outside_kernel(plan: Plan, working_copy: Path, scratch: Path, settings,
                   notebook_folder: Path) -> tuple[dict, Path]:
    """(grade_id -> Outcome dict, lab folder): every in-kernel grade cell judged in a new process
    from what the ended kernel left in `working_copy` (see autograder.judging); the released files
    come from the grader's copy, else from the notebook's own folder, which the kernel never saw."""
    import subprocess
    import sys

    from autograder.judging import handover
    from autograder.sandbox import bounds

    capture, lab, _ = handover.hand_over(working_copy, settings, scratch / "judge", notebook_folder,
                                        store=scratch / "capture")
    plan_file, out = plan.write(scratch / "plan.json"), scratch / "judged.json"
    limit = handover.time_limit(settings)
    try:   # killed with whatever it started at the time or memory limit
        run = bounds.run([sys.executable, "-m", "autograder.judging.judge", str(plan_file), str(capture),
                          str(lab), str(out), str(settings.max_model_params)],
                         timeout=limit, limit_mb=settings.grader_memory_limit_mb)
        failure = "" if run.returncode == 0 and out.is_file() else " | ".join(run.stderr.strip().splitlines()[-2:])[:300]
    except subprocess.TimeoutExpired:
        failure = f"the judging process timed out after {limit:g} s"
    except bounds.OverLimit as over:
        failure = f"the judging process {over}"
    if failure:
        return {p.grade_id: not_run(p, f"could not be judged outside the notebook ({failure})").to_dict()
                for p in plan.properties if judged_outside(p)}, lab
    return json.loads(out.read_text()), lab


def working_copy(notebook_folder: Path, target: Path) -> Path:
    """A copy of the notebook's folder for the kernel to run in (links copied as what they point
    to), so that nothing the notebook does changes the student's own folder."""
    import shutil

    shutil.copytree(notebook_folder, target, symlinks=False, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", ".labkit_capture",
                                                  "__pycache__", ".pytest_cache"))
    return target


# --- running it -------------------------------------------------------------------------------

def _executor(settings, report_path: Path, plan: Plan, capture_store: Path):
    from autograder.judging import handover
    from autograder.preprocessors.limited_execute import LimitedExecute

    return LimitedExecute(timeout=settings.cell_timeout, interrupt_on_timeout=True,
                          notebook_timeout=settings.notebook_timeout,
                          memory_limit_mb=settings.memory_limit_mb, disk_limit_mb=settings.disk_limit_mb,
                          output_limit_kb=settings.output_limit_kb, report_path=str(report_path),
                          capture=handover.capture_names(plan), capture_store=str(capture_store),
                          judge_outside=True, sandbox=settings.sandbox)


def read_submission(path: Path):
    """The submitted notebook, or the reason it cannot be graded (same wording as the batch grader)."""
    from autograder.grading.vetting import SubmissionProblem, check_size, read_notebook

    try:
        check_size(path)
        return read_notebook(path), ""
    except SubmissionProblem as problem:
        return None, problem.message
    except OSError as error:
        return None, f"expected a notebook at {path}, found none ({error.strerror})"


def grade(notebook_path: str | Path, plan: Plan, settings) -> Graded:
    """Run the notebook once in its folder and record every grade cell's outcome."""
    from autograder.course.records import ExecutionReport
    from autograder.judging import hidden_split
    from autograder.preprocessors.nbgrader_setup import NOISE_PATTERN

    started = time.monotonic()
    path = Path(notebook_path).resolve()
    graded = Graded(notebook=str(path), notebook_sha256=file_sha256(path) if path.is_file() else "",
                    plan_sha256=plan.sha256())
    notebook, problem = read_submission(path)
    if notebook is None:
        graded.problem = problem
        graded.outcomes = {p.grade_id: not_run(p, problem).to_dict() for p in plan.properties}
        return graded
    runnable, present = grading_notebook(notebook, plan)
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory(prefix="labkit-pytest-") as scratch:
        scratch = Path(scratch)
        report_path = scratch / "execution.json"
        work = working_copy(path.parent, scratch / "work")
        executor = _executor(settings, report_path, plan, scratch / "capture")
        executor.preprocess(runnable, {"metadata": {"path": str(work)}})
        graded.execution = (json.loads(report_path.read_text()) if report_path.is_file()
                            else ExecutionReport(status="grading error").to_dict())
        judged, lab = judge_outside_kernel(plan, work, scratch, settings, path.parent)
        cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in runnable.cells
                 if cell.cell_type == "code"}
        for prop in plan.properties:
            if prop.outside_kernel:   # on the saved model in the lab folder, which the kernel never saw
                outcome = hidden_split.decide(lab, settings, prop.grade_id)
            elif prop.grade_id not in present:
                outcome = missing(prop)
            elif prop.grade_id in judged:  # the kernel ran a stand-in there: the judge decides
                outcome = Outcome(**judged[prop.grade_id])
            else:
                outcome = outcome_of(cells[prop.grade_id], NOISE_PATTERN)
            graded.outcomes[prop.grade_id] = outcome.to_dict()
    graded.seconds = round(time.monotonic() - started, 2)
    return graded


def cached_grade(notebook_path: str | Path, plan: Plan, settings, cache: str | Path | None = None) -> Graded:
    """`grade`, reusing `cache` when it holds the outcomes of this very notebook and plan."""
    path = Path(notebook_path).resolve()
    if cache:
        cache = Path(cache)
        try:
            stored = Graded.from_dict(json.loads(cache.read_text()))
            if (path.is_file() and stored.notebook_sha256 == file_sha256(path)
                    and stored.plan_sha256 == plan.sha256()
                    and set(stored.outcomes) == {p.grade_id for p in plan.properties}):
                return stored
        except (OSError, ValueError, TypeError):
            pass
    graded = grade(path, plan, settings)
    if cache:
        write_json_atomic(cache, graded.to_dict(), indent=1)
    return graded
