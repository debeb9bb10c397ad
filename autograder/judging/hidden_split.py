"""The grade cell whose check needs what the sandbox hides (the hidden split), run by the grader.

`checks.hidden_accuracy()` loads the saved model and scores it on the hidden test split; inside the
sandbox neither the split nor the course configuration exists. The grader runs the same check in
its own process (which starts `autograder.judging.saved_model` in a fresh one) on the model file the notebook
saved in its working folder, and gives the cell the outputs the kernel would have produced."""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from nbformat.notebooknode import NotebookNode

CALL = "checks.hidden_accuracy("


def needs_outside(cell) -> bool:
    """A grade cell (code) that calls the hidden-split check."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and CALL in cell.get("source", "")


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


def outputs(folder: Path | None) -> list[NotebookNode]:
    """What the cell shows: the check's line on stdout, or its CheckFailed as an error output."""
    from autograder import checks
    from autograder.course import config

    printed = io.StringIO()
    failure = None
    try:
        with contextlib.redirect_stdout(printed):
            settings = config.load()
            checks.hidden_accuracy(path=model_file(folder, settings), settings=settings)
    except checks.CheckFailed as error:
        failure = NotebookNode(output_type="error", ename="CheckFailed", evalue=str(error),
                               traceback=[f"\x1b[0;31mCheckFailed\x1b[0m: {error}"])
    shown = [NotebookNode(output_type="stream", name="stdout", text=printed.getvalue())] if printed.getvalue() else []
    return [*shown, failure] if failure else shown
