"""The committed solutions notebook: no nbgrader markers, executed with its outputs, and it still
runs cleanly under nbval (`pytest --nbval-lax`, comparing the cells tagged nbval-check-output)."""
from __future__ import annotations

import subprocess
import sys

import assignment_helpers as helpers
import pytest

from autograder.authoring import solutions

SETTINGS = helpers.SETTINGS
SOLUTION = SETTINGS.solutions_dir / SETTINGS.notebook_name
SANITIZE = SETTINGS.root / "solutions" / "nbval_sanitize.cfg"


def outputs_of(notebook, kind):
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type in kind]


def test_solution_is_the_source_without_markers():
    committed = helpers.read(SOLUTION)
    expected = solutions.to_solution(helpers.read(helpers.SOURCE_NOTEBOOK))
    assert [c.source for c in committed.cells] == [c.source for c in expected.cells], (
        "solutions/ is out of date: run `labkit solutions` and commit it")


def test_solution_was_executed_with_its_outputs():
    committed = helpers.read(SOLUTION)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert not outputs_of(committed, ("error",))
    images = [o for o in outputs_of(committed, ("display_data", "execute_result")) if "image/png" in o.data]
    assert len(images) >= 3  # sample figure, architecture diagram, curves
    text = "".join("".join(o.get("text", "")) for o in outputs_of(committed, ("stream",)))
    assert "precision" in text and "recall" in text and "f1-score" in text


@pytest.mark.slow
def test_solution_runs_under_nbval(tmp_path, prepared):
    """The lead's CI entry point for nbval: this test runs the notebook next to a copy of the assets."""
    solutions.copy_assets(SETTINGS, tmp_path)
    notebook = tmp_path / SETTINGS.notebook_name
    notebook.write_bytes(SOLUTION.read_bytes())
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
               f"--nbval-sanitize-with={SANITIZE}", "--nbval-cell-timeout=300",
               "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), str(notebook)]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                               env=helpers.course_env(SETTINGS.root))
    assert completed.returncode == 0, completed.stdout[-5000:]
