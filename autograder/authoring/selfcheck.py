"""`labkit check NOTEBOOK`: run a notebook the way the grader does and print one row per activity
(points earned and possible, ok or failed, the first line of the first failure)."""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course import vocabulary
from autograder.course.vocabulary import ACTIVITY_TITLES
from autograder.preprocessors.nbgrader_setup import NOISE_PATTERN

TITLES = {number: title for number, title in ACTIVITY_TITLES.items() if 1 <= number <= 13}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class CellOutcome:
    """How one grade cell did."""

    grade_id: str
    activity: int
    points: float
    earned: float | None  # None: graded by hand, or a hidden check that runs only at grading
    status: str  # "ok", "failed", "manual", "hidden"
    message: str = ""


@dataclass
class ActivityRow:
    """One row of the table: an activity's grade cells taken together."""

    activity: int
    title: str
    possible: float = 0.0
    earned: float = 0.0
    status: str = "ok"
    message: str = ""
    cells: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _first_line(text: str) -> str:
    for line in ANSI.sub("", text).splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _has_code(source: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in source.splitlines())


def grade_cell(cell) -> CellOutcome:
    """Score an executed grade cell the way nbgrader does (TensorFlow's stderr noise dropped first)."""
    meta = vocabulary.nbgrader_meta(cell)
    name, points = meta["grade_id"], float(meta.get("points", 0))
    activity = vocabulary.activity_of(name) or 0
    if cell.cell_type != "code":
        return CellOutcome(name, activity, points, None, "manual", "graded by hand")
    if not _has_code(cell.source):
        return CellOutcome(name, activity, points, None, "hidden", "hidden check, run when graded")
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            message = f"{output.ename}: {_first_line(output.evalue) or '(no message)'}"
            return CellOutcome(name, activity, points, 0.0, "failed", message)
        if output.output_type == "stream" and output.name == "stderr" and not re.search(
                NOISE_PATTERN, output.text):
            return CellOutcome(name, activity, points, 0.0, "failed",
                               f"wrote to stderr (scores 0): {_first_line(output.text)}")
    return CellOutcome(name, activity, points, points, "ok")


def rows(notebook) -> list[ActivityRow]:
    """One ActivityRow per activity, from an executed notebook."""
    table = {number: ActivityRow(number, title) for number, title in TITLES.items()}
    own_errors = {}  # activity -> the first error raised by the student's own code cells
    for cell in notebook.cells:
        if cell.cell_type == "code" and not vocabulary.is_grade_cell(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    own_errors.setdefault(vocabulary.activity_of(cell),
                                          f"your code: {output.ename}: {_first_line(output.evalue)}")
    for cell in vocabulary.grade_cells(notebook):
        outcome = grade_cell(cell)
        row = table.setdefault(outcome.activity, ActivityRow(outcome.activity, "other"))
        row.cells.append(outcome)
        row.possible += outcome.points
        row.earned += outcome.earned or 0.0
        if outcome.status == "failed" and row.status != "failed":
            row.status, row.message = "failed", outcome.message
        elif outcome.status in ("manual", "hidden") and row.status == "ok":
            row.status, row.message = outcome.status, outcome.message
    for number, row in table.items():
        if row.status == "failed" and number in own_errors:
            row.message = own_errors[number]
    return [table[number] for number in sorted(table)]


def execute(path: Path, timeout: int = 300) -> tuple:
    """Run the notebook in its own folder (errors do not stop the run); the file is not changed."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - started


def render(table: list[ActivityRow], seconds: float | None = None, console=None) -> None:
    """Print the table with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    styles = {"ok": "green", "failed": "bold red", "manual": "yellow", "hidden": "cyan"}
    view = Table(title="Self-check, one row per activity", show_lines=False)
    for column, justify in (("#", "right"), ("activity", "left"), ("points", "right"),
                            ("status", "left"), ("first problem / note", "left")):
        view.add_column(column, justify=justify, overflow="fold")
    for row in table:
        status = row.status if row.cells else "-"
        view.add_row(str(row.activity), row.title, f"{row.earned:g}/{row.possible:g}",
                     f"[{styles.get(status, 'white')}]{status}[/]", row.message)
    earned = sum(row.earned for row in table)
    possible = sum(row.possible for row in table)
    manual = sum(c.points for row in table for c in row.cells if c.status in ("manual", "hidden"))
    console.print(view)
    note = f" ({manual:g} of them graded later: by hand or hidden checks)" if manual else ""
    timing = f" in {seconds:.0f} s" if seconds is not None else ""
    console.print(f"Checked{timing}: {earned:g} of {possible:g} points{note}.")


class NotebookMissing(ValueError):
    """The notebook to check is not there."""


def run(path: str | Path, timeout: int = 300, console=None) -> int:
    """Execute, print the table; exit status 0 if no check failed."""
    path = Path(path).resolve()
    if not path.is_file():
        raise NotebookMissing(f"NOTEBOOK must be an existing .ipynb file, got {str(path)!r} instead.")
    notebook, seconds = execute(path, timeout=timeout)
    table = rows(notebook)
    render(table, seconds, console=console)
    return 1 if any(row.status == "failed" for row in table) else 0
