"""What a grade cell shows in the graded notebook: an error output as a kernel would write it, and
the judge's verdict written into each judged cell (whose kernel ran a stand-in there)."""
from __future__ import annotations

from pathlib import Path

from nbformat.notebooknode import NotebookNode


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as a kernel would produce it."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def verdict_outputs(outcome: dict | None, failure: str):
    """What a judged grade cell shows in the graded notebook: the check's line, or its failure."""
    outcome = outcome or {"passed": False, "message": f"GradingError: could not be judged ({failure})",
                          "output": ""}
    shown = ([NotebookNode(output_type="stream", name="stdout", text=outcome["output"])]
             if outcome.get("output") else [])
    if outcome.get("passed"):
        return shown
    message = outcome.get("message", "")
    name, _, rest = message.partition(": ")
    ename, evalue = (name, rest) if name.isidentifier() else ("CheckFailed", message)
    return [*shown, error_output(ename, evalue)]


def write_verdicts(notebook_path: Path, outcomes: dict, failure: str, judged_ids: set[str]) -> None:
    """Put the judge's outcome into each judged grade cell of the graded notebook (whose kernel ran a
    stand-in there), so that the feedback shows what decided the points."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in judged_ids and cell.get("outputs"):
            cell.outputs = verdict_outputs(outcomes.get(grade_id), failure)
    mode = notebook_path.stat().st_mode
    notebook_path.chmod(mode | 0o200)  # nbgrader leaves it read-only (444): only root could write it
    nbformat.write(notebook, notebook_path)
    notebook_path.chmod(mode)
