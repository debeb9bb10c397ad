"""Student self-check: `labkit check` (one row per activity) and `nbgrader validate`."""
from __future__ import annotations

import subprocess

import assignment_helpers as helpers
import nbformat
import pytest

from autograder.authoring import selfcheck, solutions

SETTINGS = helpers.SETTINGS


def graded_cell(grade_id, source, outputs, points=2):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                                 "points": points, "schema_version": 3, "task": False}
    cell.outputs = outputs
    return cell


def test_rows_score_like_nbgrader_and_forgive_tensorflow_noise():
    stream = nbformat.v4.new_output
    student = nbformat.v4.new_code_cell("raise NotImplementedError('Activity 3: draw it')")
    student.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                    "grade_id": "a03_sample_figure", "schema_version": 3, "task": False}
    student.outputs = [stream("error", ename="NotImplementedError", evalue="Activity 3: draw it", traceback=[])]
    notebook = nbformat.v4.new_notebook(cells=[
        graded_cell("a01_imports_visible", "checks.imports(tf, keras);",
                    [stream("stream", name="stderr", text="W0000 00:00 tensorflow noise\n"),
                     stream("stream", name="stdout", text="Activity 1: ok\n")], points=1),
        graded_cell("a02_dataset_visible", "checks.dataset_loaded(...);",
                    [stream("error", ename="CheckFailed", evalue="Activity 2 (load): expected x\nmore",
                            traceback=[])], points=8),
        graded_cell("a02_other_visible", "print('x', file=sys.stderr)",
                    [stream("stream", name="stderr", text="my own message\n")], points=0),
        student,
        graded_cell("a03_sample_figure_visible", "checks.sample_figure(sample_figure, class_names);",
                    [stream("error", ename="NameError", evalue="name 'sample_figure' is not defined",
                            traceback=[])], points=6),
        graded_cell("a10_hidden_accuracy_hidden", "# Checked when your work is graded", [], points=3),
    ])
    rows = {row.activity: row for row in selfcheck.rows(notebook)}
    assert (rows[1].earned, rows[1].possible, rows[1].status) == (1, 1, "ok")
    assert (rows[2].earned, rows[2].status) == (0, "failed")
    assert rows[2].message == "CheckFailed: Activity 2 (load): expected x"
    assert rows[2].cells[1].message.startswith("wrote to stderr")
    assert rows[3].message == "your code: NotImplementedError: Activity 3: draw it"
    assert (rows[10].status, rows[10].possible, rows[10].earned) == ("hidden", 3, 0)
    assert rows[13].cells == [] and len(rows) == 13


@pytest.fixture
def untouched_release(tmp_path, prepared):
    solutions.copy_assets(SETTINGS, tmp_path)
    target = tmp_path / SETTINGS.notebook_name
    target.write_bytes(helpers.RELEASE_NOTEBOOK.read_bytes())
    return target


@pytest.mark.slow
def test_labkit_check_explains_what_is_missing_in_the_release(untouched_release):
    from rich.console import Console

    console = Console(record=True, width=200)
    status = selfcheck.run(untouched_release, console=console)
    text = console.export_text()
    assert status == 1
    assert "NotImplementedError: Activity 2:" in text
    assert "0 of 100 points" in text
    assert untouched_release.read_bytes() == helpers.RELEASE_NOTEBOOK.read_bytes()  # never modified


def validate(notebook) -> str:
    completed = subprocess.run([*helpers.NBGRADER, "validate", notebook.name], cwd=notebook.parent,
                               env=helpers.course_env(SETTINGS.root), capture_output=True, text=True)
    return completed.stdout + completed.stderr


@pytest.mark.slow
def test_nbgrader_validate_fails_clearly_on_the_untouched_release(untouched_release):
    output = validate(untouched_release)
    assert "VALIDATION FAILED ON 13 CELL(S)" in output
    assert "NameError: name 'train_ds' is not defined" in output
    assert "You did not provide a response." in output


@pytest.mark.slow
def test_nbgrader_validate_passes_on_the_solved_release(untouched_release):
    helpers.authoring.write(helpers.solved_release(), untouched_release)
    output = validate(untouched_release)
    assert "Success! Your notebook passes all the tests." in output, output[-3000:]
