"""A small nbgrader course built in code for the grading tests: pure-Python cells, tiny limits."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "mini_lab"
LIMITS = {"CELL_TIMEOUT": 3, "NOTEBOOK_TIMEOUT": 8, "MEMORY_LIMIT_MB": 400, "OUTPUT_LIMIT_KB": 8}

# grade_id -> (solution source, student-facing starting code)
SOLUTIONS = {
    "a01_add": "def add(a, b):\n    return a + b",
    "a02_squares": "squares = [i * i for i in range(5)]",
}
TESTS = {  # grade_id -> (source, points)
    "a01_add_test": ("assert add(1, 2) == 3, 'add(1, 2) must be 3'", 2),
    "a02_squares_test": ("assert squares == [0, 1, 4, 9, 16], f'squares must be the first five squares, got {squares}'", 3),
    "a03_more_test": ("assert add(2, 2) == 4", 1),
}
MAX_TOTAL = sum(points for _, points in TESTS.values())


def _nbgrader(cell, grade_id, *, solution=False, grade=False, points=0, locked=False):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade,
                                 "locked": locked, "schema_version": 3, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def source_notebook():
    """The instructor's source notebook: two answers, three graded tests (activities 1-3)."""
    cells = [new_markdown_cell("# Mini lab")]
    for grade_id, solution in SOLUTIONS.items():
        cells.append(_nbgrader(new_code_cell(f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION"),
                               grade_id, solution=True))
        for test_id, (source, points) in TESTS.items():
            if test_id.startswith(grade_id[:3]):
                cells.append(_nbgrader(new_code_cell(source), test_id, grade=True, points=points, locked=True))
    source, points = TESTS["a03_more_test"]
    cells.append(_nbgrader(new_code_cell(source), "a03_more_test", grade=True, points=points, locked=True))
    cells.append(new_code_cell("print('end of the lab')"))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def make_course(root: Path, **limits) -> Path:
    """A course folder with course_config.py, nbgrader_config.py and the source notebook; returns
    the config path (also what LABKIT_CONFIG should point at)."""
    root.mkdir(parents=True, exist_ok=True)
    text = (REPO / "course_config.py").read_text()
    values = {**LIMITS, **limits, "ASSIGNMENT": repr(ASSIGNMENT), "COURSE_ID": repr("mini-course"),
              "CACHE_DIR": repr(str(root / "cache"))}
    for name, value in values.items():
        text, count = re.subn(rf"^{name} = .*$", f"{name} = {value}", text, flags=re.M)
        assert count == 1, name
    config_file = root / "course_config.py"
    config_file.write_text(text)
    (root / "nbgrader_config.py").write_text(
        "from autograder import config, nbgrader_setup\n"
        f"nbgrader_setup.apply(get_config(), config.load({str(config_file)!r}))\n")
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), source / f"{ASSIGNMENT}.ipynb")
    return config_file


def generate_release(config_file: Path) -> Path:
    """Run plain `nbgrader generate_assignment` in the course; returns the released notebook."""
    root = config_file.parent
    env = {**os.environ, "LABKIT_CONFIG": str(config_file),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", ASSIGNMENT,
                           "--force"], cwd=root, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stderr}")
    return root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def answered(release: Path, **answers: str):
    """The released notebook with the named solution cells replaced by `answers`."""
    notebook = nbformat.read(release, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def solved(release: Path, **overrides: str):
    return answered(release, **{**SOLUTIONS, **overrides})


def write_submission(folder: Path, student: str, notebook_or_bytes, layout: str = "nbgrader") -> Path:
    """Write one submission: nbgrader layout (<student>/<assignment>/<assignment>.ipynb) or loose."""
    path = (folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" if layout == "nbgrader"
            else folder / f"{student}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook_or_bytes, (bytes, str)):
        path.write_bytes(notebook_or_bytes if isinstance(notebook_or_bytes, bytes) else notebook_or_bytes.encode())
    else:
        nbformat.write(notebook_or_bytes, path)
    return path


def tree_checksums(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mode of every file under `folder`."""
    import hashlib

    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_course(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst / "course_config.py"
