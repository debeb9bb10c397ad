"""`labkit solutions`: the full pipeline without nbgrader markers, hints, checks or rubric, executed
with its outputs, written to solutions/<assignment>/<assignment>.ipynb for posting after the deadline."""
from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import vocabulary

SOLUTION_INTRO_END = "**How this notebook works**"
CHECKS_IMPORT = "from autograder import checks"
# The setup cell seeds through the kit (autograder.seeding); the posted solution spells out the
# same two calls, so that it runs where the kit is not installed.
PLAIN_LINES = {
    "from autograder.seeding import seed_everything": [],
    'seed_everything(settings["seed"])': ["import keras", "import tensorflow as tf", "",
                                          'keras.utils.set_random_seed(settings["seed"])',
                                          "tf.config.experimental.enable_op_determinism()"],
}
# Cells whose outputs do not depend on training; nbval compares them (tag "nbval-check-output")
# while it only runs the others (`pytest --nbval-lax`). See solutions/nbval_sanitize.cfg.
CHECKED_OUTPUTS = ("a00_settings", "a02_dataset", "a04_base")


def _plain_code(source: str) -> str:
    """Drop the solution markers, hint comments and the checks import; keep the code."""
    kept = []
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith((vocabulary.SOLUTION_BEGIN, vocabulary.SOLUTION_END, vocabulary.HINT_PREFIX)):
            continue
        if stripped == CHECKS_IMPORT:
            continue
        if stripped in PLAIN_LINES:
            kept.extend(PLAIN_LINES[stripped])
            continue
        kept.append(line)
    text = "\n".join(kept).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _plain_answer(source: str) -> str:
    """The example answer of the manually graded cell, without markers or the grader's rubric."""
    text = source.split(vocabulary.RUBRIC_HEADING)[0]
    return _plain_code(text)


def to_solution(source_notebook) -> nbformat.NotebookNode:
    """The solution notebook: every cell but the grade cells, with nbgrader metadata removed."""
    notebook = copy.deepcopy(source_notebook)
    cells = []
    for cell in notebook.cells:
        if vocabulary.is_test_cell(cell):
            continue
        name = vocabulary.grade_id(cell) or ""
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.source = _plain_code(cell.source)
            cell.outputs, cell.execution_count = [], None
            if name in CHECKED_OUTPUTS:
                cell.metadata["tags"] = ["nbval-check-output"]
        elif vocabulary.is_grade_cell(cell) or vocabulary.SOLUTION_BEGIN in cell.source:
            cell.source = _plain_answer(cell.source)
        elif name == "a00_title":
            cell.source = cell.source.split(SOLUTION_INTRO_END)[0].rstrip() + (
                "\n\nThis is the worked solution: every activity filled in and run, with its outputs.")
        cells.append(cell)
    notebook.cells = cells
    return notebook


def asset_paths(settings) -> list[Path]:
    """Files the notebook reads, next to it in the assignment folder."""
    source = settings.source_dir
    return [source / settings.train_dir.split("/")[0], source / settings.base_model_file,
            source / "lab_settings.json"]


def copy_assets(settings, destination: Path) -> None:
    """Copy the training folder, the pretrained base and lab_settings.json into `destination`."""
    for path in asset_paths(settings):
        target = destination / path.name
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, target)


def execute(notebook, workdir: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run a notebook in `workdir` with nbclient and return it with its outputs."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook


@contextlib.contextmanager
def executed_in_copy(settings, notebook, prefix: str = "labkit-solution-"):
    """Run `notebook` (outputs filled in place) in a temporary folder holding the assignment's assets;
    yield (that folder, seconds the run took) while the folder and what the notebook saved exist."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        workdir = Path(folder)
        copy_assets(settings, workdir)
        started = time.perf_counter()
        execute(notebook, workdir, timeout=settings.notebook_timeout)
        yield workdir, time.perf_counter() - started


def build(settings, run: bool = True, say=print) -> Path:
    """Write (and by default execute) the solution notebook; return its path."""
    from autograder.authoring.prepare import is_current, prepare

    if run and not is_current(settings):
        prepare(settings, say=say)
    notebook = to_solution(vocabulary.read(settings.source_dir / settings.notebook_name))
    if run:
        with executed_in_copy(settings, notebook) as (_, seconds):
            say(f"solutions: executed in {seconds:.1f} s")
    for cell in notebook.cells:  # execution metadata (timestamps) changes on every run
        cell.metadata.pop("execution", None)
        if "nbval-check-output" in cell.metadata.get("tags", []):
            # TensorFlow's C++ start-up lines go to stderr or not depending on how the kernel
            # captures file descriptors; compared cells keep what the notebook itself prints
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
    target = settings.solutions_dir / settings.notebook_name
    target.parent.mkdir(parents=True, exist_ok=True)
    vocabulary.write(notebook, target)
    say(f"solutions: wrote {target}")
    return target
