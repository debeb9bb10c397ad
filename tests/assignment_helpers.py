"""Helpers for the assignment's tests: build submissions in code from the committed notebooks, and
set up a throw-away copy of the course that real nbgrader commands can run in."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.authoring import solutions
from autograder.course import config
from autograder.course import vocabulary as authoring

REPO = Path(__file__).resolve().parent.parent
SETTINGS = config.load(REPO / "course_config.py")
SOURCE_NOTEBOOK = SETTINGS.source_dir / SETTINGS.notebook_name
RELEASE_NOTEBOOK = SETTINGS.release_dir / SETTINGS.notebook_name
NBGRADER = [sys.executable, "-m", "nbgrader"]


def read(path: Path) -> nbformat.NotebookNode:
    return authoring.read(path)


def cell(notebook, grade_id: str):
    """The cell with this grade_id (KeyError if there is none)."""
    for candidate in notebook.cells:
        if authoring.grade_id(candidate) == grade_id:
            return candidate
    raise KeyError(grade_id)


def solution_sources(source_notebook) -> dict[str, str]:
    """grade_id -> what a student who solved everything writes in that answer cell."""
    answers = {}
    for candidate in source_notebook.cells:
        meta = authoring.nbgrader_meta(candidate)
        if meta.get("solution"):
            if candidate.cell_type == "code":
                answers[meta["grade_id"]] = solutions._plain_code(candidate.source)
            else:
                answers[meta["grade_id"]] = solutions._plain_answer(candidate.source)
    return answers


def solved_release(release_notebook=None, source_notebook=None):
    """The release notebook with every answer cell filled in as the solution does."""
    notebook = copy.deepcopy(release_notebook or read(RELEASE_NOTEBOOK))
    for grade_id, source in solution_sources(source_notebook or read(SOURCE_NOTEBOOK)).items():
        cell(notebook, grade_id).source = source
    return notebook


def edited(notebook, grade_id: str, old: str, new: str):
    """A copy of `notebook` with `old` replaced by `new` in one cell (old must be there)."""
    notebook = copy.deepcopy(notebook)
    target = cell(notebook, grade_id)
    assert old in target.source, f"{old!r} not in cell {grade_id}"
    target.source = target.source.replace(old, new)
    return notebook


def replaced(notebook, grade_id: str, new_source: str):
    notebook = copy.deepcopy(notebook)
    cell(notebook, grade_id).source = new_source
    return notebook


# ---- the variants of the tests' class, built from the solution ----------------------------------

def variant_not_frozen(solved):
    """The base is never frozen (the student forgot `base_model.trainable = False`)."""
    return edited(solved, "a05_transfer_model", "base_model.trainable = False\n", "")


def variant_no_regularization(solved):
    """Activity 9 builds the same head again, without dropout or an L2 penalty."""
    return replaced(solved, "a09_regularized", """
regularized_inputs = keras.Input(shape=base_model.input_shape[1:])
features = base_model(regularized_inputs, training=False)
hidden = keras.layers.Dense(256, activation="relu")(features)
regularized_outputs = keras.layers.Dense(len(class_names), activation="softmax")(hidden)
regularized_model = keras.Model(regularized_inputs, regularized_outputs)
""".strip())


def variant_sequential_regularized(solved):
    """Activity 9 as a Sequential model around the base frozen in activity 5 (correct work)."""
    return replaced(solved, "a09_regularized", """
regularized_model = keras.Sequential([
    keras.Input(shape=base_model.input_shape[1:]),
    keras.layers.RandomTranslation(0.1, 0.1),
    base_model,
    keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-4)),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(len(class_names), activation="softmax"),
])
""".strip())


def variant_low_accuracy(solved):
    """The regularized model sees one epoch of a few images: it cannot reach the threshold."""
    return edited(solved, "a10_regularized_fit",
                  'regularized_history = regularized_model.fit(\n'
                  '    train_ds, validation_data=val_ds, epochs=settings["regularized_epochs"], verbose=2\n)',
                  "regularized_history = regularized_model.fit(\n"
                  "    train_ds.unbatch().take(8).batch(8), validation_data=val_ds, epochs=1, verbose=2\n)")


def variant_report_missing(solved):
    """Activity 12 left out: no `report`."""
    return replaced(solved, "a12_report", "# I did not get to this one")


def variant_figure_missing(solved):
    """Activity 11 left out: no `curves_figure`."""
    return replaced(solved, "a11_curves", "# I did not get to this one")


def variant_typed_accuracies(solved):
    """Activity 8 with numbers typed in by hand instead of computed."""
    return replaced(solved, "a08_accuracies", "train_accuracy = 0.99\nval_accuracy = 0.97")


# ---- a throw-away course -------------------------------------------------------------------------

def copy_course(destination: Path) -> Path:
    """course_config.py, nbgrader_config.py, source/ (with the prepared assets) and release/ in
    `destination`; by-products of earlier runs of the source notebook are left behind."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("course_config.py", "nbgrader_config.py"):
        shutil.copy(REPO / name, destination / name)
    from autograder.authoring.release import BY_PRODUCTS

    def ignore(folder, names):
        if Path(folder).parent.name not in ("source", "release"):  # only the assignment folder's own files
            return {name for name in names if name in ("__pycache__", ".ipynb_checkpoints")}
        return {name for name in names if name in BY_PRODUCTS or name == SETTINGS.saved_model_file}

    for name in ("source", "release"):
        shutil.copytree(REPO / name, destination / name, ignore=ignore)
    return destination


def course_env(course: Path) -> dict:
    """The environment for commands and kernels in a copied course (hidden split: the repo's cache)."""
    env = dict(os.environ)
    # nbgrader's Gradebook runs the `alembic` script of this environment when it creates a database.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(LABKIT_CONFIG=str(course / "course_config.py"), LABKIT_CACHE=str(SETTINGS.cache_dir),
               MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    return env


def nbgrader(course: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a real `nbgrader` command from the copied course's root."""
    completed = subprocess.run([*NBGRADER, *arguments], cwd=course, env=course_env(course),
                               capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(arguments)} failed:\n{completed.stdout[-4000:]}\n"
                             f"{completed.stderr[-4000:]}")
    return completed


def submit(course: Path, student: str, notebook) -> Path:
    """Put a notebook where `nbgrader autograde` looks for a student's submission."""
    folder = course / "submitted" / student / SETTINGS.assignment
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SETTINGS.notebook_name
    authoring.write(notebook, target)
    return target


def scores_by_activity(course: Path, student: str) -> dict[int, float]:
    """Automatic points per activity for one graded student, read from the real gradebook."""
    from nbgrader.api import Gradebook

    totals: dict[int, float] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", SETTINGS.course_id) as gradebook:
        submission = gradebook.find_submission_notebook(SETTINGS.assignment, SETTINGS.assignment, student)
        for grade in submission.grades:
            activity = authoring.activity_of(grade.name)
            totals[activity] = totals.get(activity, 0.0) + float(grade.auto_score or 0.0)
    return totals


def grades(course: Path, student: str) -> dict[str, tuple]:
    """grade_id -> (auto_score, max_score, needs_manual_grade) from the real gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", SETTINGS.course_id) as gradebook:
        submission = gradebook.find_submission_notebook(SETTINGS.assignment, SETTINGS.assignment, student)
        return {grade.name: (grade.auto_score, grade.max_score, grade.needs_manual_grade)
                for grade in submission.grades}
