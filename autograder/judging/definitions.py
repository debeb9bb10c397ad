"""The notebook's own definitions (imports, classes, functions), as text the measuring sandbox runs.

Read by the grader from the graded notebook as plain text and parsed with `ast` (never run here):
only top-level imports, classes and functions are kept, so that loading a saved model in the
sandbox does not train anything again."""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

KEPT = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
FILE = "notebook_definitions.py"   # written next to a saved model by the hand-over
MAX_NOTEBOOK_BYTES = 50 * 2**20


def from_notebook(path: Path) -> str:
    """The top-level imports, classes and functions of every code cell that parses, in order."""
    if Path(path).stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"a notebook larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    notebook = nbformat.read(str(path), as_version=4)
    kept = []
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        source = "\n".join(line for line in str(cell.get("source", "")).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        kept.extend(ast.unparse(node) for node in tree.body if isinstance(node, KEPT))
    return "\n\n".join(kept) + "\n"


def beside(model_path: Path) -> str | None:
    """The definitions for the saved model at `model_path`: the hand-over's file next to it, else
    those of the one notebook next to it; None when there is neither."""
    folder = Path(model_path).parent
    if (folder / FILE).is_file() and not (folder / FILE).is_symlink():
        return (folder / FILE).read_text()
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        return None
    try:
        return from_notebook(notebooks[0])
    except Exception:   # an unreadable notebook: no definitions
        return None
