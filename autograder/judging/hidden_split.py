"""The hidden-split check: which grade cells call it, and how the grader decides them outside the kernel.

`checks.hidden_accuracy()` loads the saved model and scores it on the hidden test split; inside the
sandbox neither the split nor the course configuration exists, and nothing the kernel says could be
trusted. So no kernel decides such a cell: plain `nbgrader autograde` (SandboxedExecute) and the
pytest path run the check here, in the grader's process (which starts `autograder.judging.saved_model`
in a fresh one), on the model file the notebook saved in its folder (`decide`). The kit's batch
verifies every saved model anyway, in a process forked in advance: there the kernel runs a stand-in
(`stand_in`) and that verification decides the cell (model_verdict.apply, deferred)."""
from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from autograder.course.plan import HIDDEN_SPLIT_CHECK
from autograder.course.records import Outcome
from autograder.judging.cell_outputs import error_output

CALL = f"checks.{HIDDEN_SPLIT_CHECK}("
DEFERRED_NOTE = ("This check is made outside the notebook by the grader: the saved model is loaded "
                 "in a fresh process and evaluated on the hidden test images.")


def needs_outside(cell) -> bool:
    """A grade cell (code) that calls the hidden-split check."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and CALL in cell.get("source", "")


def stand_in() -> str:
    """What the kernel runs in such a cell's place when the batch's verification decides it."""
    return f"print({DEFERRED_NOTE!r})"


def model_file(folder: Path | None, settings) -> Path:
    """The saved model in the kernel's folder. A link could point anywhere on the grader's disk,
    so a path that leaves the folder counts as no model."""
    from autograder.checks.handin import SAVE_HINT
    from autograder.checks.result import CheckFailed

    path = Path(folder or ".") / settings.saved_model_file
    expected = os.path.join(os.path.realpath(folder or "."), settings.saved_model_file)
    if folder is None or path.is_symlink() or os.path.realpath(path) != expected:
        raise CheckFailed(10, f"the saved model as a file {settings.saved_model_file} in the notebook's folder",
                          "a link to somewhere else" if folder else "no working folder", SAVE_HINT)
    return path


def decide(folder: Path | None, settings, grade_id: str = "") -> Outcome:
    """The cell's outcome: the check, run here on the saved model in `folder`; its line on stdout,
    or its CheckFailed as the message."""
    from autograder import checks

    check, printed = getattr(checks, HIDDEN_SPLIT_CHECK), io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            check(path=model_file(folder, settings), settings=settings)
    except checks.CheckFailed as failure:
        return Outcome(grade_id, False, str(failure), printed.getvalue())
    return Outcome(grade_id, True, re.sub(r"\x1b\[[0-9;]*m", "", printed.getvalue()).strip(), printed.getvalue())


def outputs(folder: Path | None) -> list[NotebookNode]:
    """What the cell shows, decided with the course configuration: the check's line on stdout, or
    its CheckFailed as an error output."""
    from autograder.course import config

    outcome = decide(folder, config.load())
    shown = [NotebookNode(output_type="stream", name="stdout", text=outcome.output)] if outcome.output else []
    return shown if outcome.passed else [*shown, error_output("CheckFailed", outcome.message)]
