"""The old public module paths keep working after the package was regrouped into rooms.

Files outside this repository still name them: instructors' nbgrader_config.py files, the setup cell
of every released and submitted notebook, uploaded Gradescope zips, deployed GitHub Classroom
workflows. Nothing here runs a notebook (docs/architecture.md lists the paths and why they stay)."""
from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder.course import config as course_config
from autograder.course import plan as plans

REPO = Path(__file__).resolve().parent.parent

# nbgrader_config.py as the repository shipped it before the regrouping; courses copied it.
NBGRADER_CONFIG_BEFORE_THE_MOVE = '''\
"""nbgrader reads this from the repository root; every value comes from course_config.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from autograder import config, nbgrader_setup  # noqa: E402

c = get_config()  # noqa: F821  (provided by nbgrader)
nbgrader_setup.apply(c, config.load())
'''


@pytest.fixture
def kept_sys_path(monkeypatch):
    """An nbgrader_config.py puts its folder on sys.path; take it off again afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def run_nbgrader_config(path: Path) -> Config:
    """Run an nbgrader_config.py as nbgrader does, with `get_config` handing it a fresh Config."""
    c = Config()
    runpy.run_path(str(path), init_globals={"get_config": lambda: c}, run_name="nbgrader_config")
    return c


def assert_course_settings(c: Config) -> None:
    from autograder.preprocessors.sandboxed_execute import SandboxedExecute

    settings = course_config.load()
    assert c.CourseDirectory.course_id == settings.course_id
    assert c.CourseDirectory.root == str(settings.root)
    assert c.CourseDirectory.db_assignments == [{"name": settings.assignment}]
    assert c.Execute.timeout == settings.cell_timeout
    assert SandboxedExecute in c.Autograde.autograde_preprocessors


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


# --- autograder.config and autograder.nbgrader_setup: nbgrader_config.py files ------------------

def test_config_and_nbgrader_setup_import_from_their_old_paths():
    from autograder import config, nbgrader_setup

    settings = config.load()
    assert settings == course_config.load()
    assert issubclass(config.ConfigError, Exception)   # scripts catch it by the old path
    c = Config()
    nbgrader_setup.apply(c, settings)
    assert_course_settings(c)


def test_the_repositorys_nbgrader_config_loads(kept_sys_path):
    assert_course_settings(run_nbgrader_config(REPO / "nbgrader_config.py"))


def test_an_nbgrader_config_written_before_the_move_loads_through_the_old_paths(tmp_path, kept_sys_path):
    assert "from autograder import config, nbgrader_setup" in NBGRADER_CONFIG_BEFORE_THE_MOVE
    copy = tmp_path / "nbgrader_config.py"
    copy.write_text(NBGRADER_CONFIG_BEFORE_THE_MOVE)
    assert_course_settings(run_nbgrader_config(copy))


# --- autograder.seeding: the notebook's locked setup cell ---------------------------------------

def test_seed_everything_imports_from_its_old_path():
    from autograder.course import seeding
    from autograder.seeding import seed_everything

    assert seed_everything is seeding.seed_everything


@pytest.mark.parametrize("folder", ["source", "release"])
def test_the_notebook_imports_seed_everything_by_the_old_path(settings, folder):
    """Why the path stays: every copy of the notebook in students' hands has this line."""
    notebook = nbformat.read(REPO / folder / settings.assignment / settings.notebook_name, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from autograder.seeding import seed_everything" in code


# --- python -m autograder.gradescope / autograder.classroom: deployed zips and workflows --------

@pytest.mark.parametrize("module, command, option", [
    ("autograder.gradescope", "run", "--root"),            # the uploaded zip's run_autograder
    ("autograder.classroom", "grader-data", "--folder"),   # the deployed workflow's first step
])
def test_old_module_entry_points_answer_help(tmp_path, module, command, option):
    top = run_module("-m", module, "--help", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert command in top.stdout
    sub = run_module("-m", module, command, "--help", cwd=tmp_path)
    assert sub.returncode == 0, sub.stderr
    assert option in sub.stdout


# --- pytest --pyargs autograder.grading_tests: course workflows ---------------------------------

def test_grading_tests_collects_one_test_per_grade_cell_without_running_the_notebook(tmp_path):
    notebook = tmp_path / "submitted" / "transfer_learning.ipynb"   # never created: nothing runs it
    report = tmp_path / "grading.json"
    done = run_module("-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "autograder.grading_tests",
                      "--collect-only", "--color=no", "--notebook", str(notebook),
                      "--grading-json", str(report), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "<Package grading_tests>" in done.stdout, done.stdout   # collected from the old path
    ids = re.findall(r"<Function test_grade_cell\[([^\]]+)\]>", done.stdout)
    assert ids == [prop.grade_id for prop in plans.from_settings(course_config.load()).properties]
    written = json.loads(report.read_text())   # the plugin's own record: no test ran, no notebook ran
    assert written["tests"] == [] and written["execution"] == {}
