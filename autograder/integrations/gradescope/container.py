"""Grade one submission inside Gradescope's container: find the notebook in /autograder/submission,
run the pytest entry point on a fresh copy of it, and write /autograder/results/results.json.

    python -m autograder.integrations.gradescope run [--root DIR]    (what the zip's run_autograder calls)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.integrations.gradescope.layout import (
    ASSIGNMENT_FILES,
    COURSE,
    DEFAULT_ROOT,
    PLAN_FILE,
    ROOT_VARIABLE,
)
from autograder.integrations.gradescope.results import (
    VISIBILITIES,
    VISIBLE,
    failed_results,
    results_json,
    write_results,
)


def autograder_root(root: str | Path | None = None) -> Path:
    return Path(root or os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)


def find_submission(folder: Path, notebook_name: str) -> tuple[Path | None, str]:
    """The notebook to grade in the submission folder, and a note if the choice was not obvious."""
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        return None, (f"No notebook (.ipynb) was found in your submission; upload your {notebook_name} "
                      "(File > Download in Jupyter) and submit again.")
    named = [p for p in notebooks if p.name == notebook_name]
    chosen = named[0] if named else notebooks[0]
    note = "" if len(notebooks) == 1 else (f"Your submission holds {len(notebooks)} notebooks; "
                                           f"{chosen.relative_to(folder)} was graded.")
    return chosen, note


def work_folder(root: Path, settings, notebook: Path) -> Path:
    """A fresh assignment folder: the bundled assignment files and a copy of the notebook."""
    work = root / "work" / settings.assignment
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(root / "source" / COURSE / ASSIGNMENT_FILES, work)
    shutil.copyfile(notebook, work / settings.notebook_name)
    return work


def run_pytest(notebook: Path, config_file: Path, plan_file: Path, report: Path, timeout: float) -> str:
    """The pytest entry point on one notebook; returns its console output."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "autograder.integrations.pytest",
               "--notebook", str(notebook), "--grading-plan", str(plan_file),
               "--course-config", str(config_file), "--grading-json", str(report), "-q", "-rN",
               "--color=no"]
    env = {**os.environ, "LABKIT_CONFIG": str(config_file), "MPLBACKEND": "Agg",
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    try:
        done = subprocess.run(command, cwd=notebook.parent, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        return done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        return f"pytest did not finish within {timeout:.0f} s"


def run(root: str | Path | None = None, visibility: str = VISIBLE) -> dict:
    """Grade the submission under `root` (default /autograder) and write results/results.json."""
    from autograder.course import config
    from autograder.course.plan import Plan

    started = time.monotonic()
    root = autograder_root(root)
    course = root / "source" / COURSE
    settings = config.load(course / "course_config.py")
    plan = Plan.read(course / PLAN_FILE)
    notebook, note = find_submission(root / "submission", settings.notebook_name)
    if notebook is None:
        results = failed_results(note, time.monotonic() - started, visibility)
        write_results(root, results)
        return results
    work = work_folder(root, settings, notebook)
    with tempfile.TemporaryDirectory(prefix="labkit-gradescope-") as scratch:
        report_path = Path(scratch) / "report.json"
        console = run_pytest(work / settings.notebook_name, course / "course_config.py", course / PLAN_FILE,
                             report_path, timeout=settings.notebook_timeout + 600)
        print(console[-20000:])
        if not report_path.is_file():
            results = failed_results("The autograder could not finish grading this submission; your "
                                     "instructor has been shown the log. " + note,
                                     time.monotonic() - started, visibility)
        else:
            results = results_json(json.loads(report_path.read_text()), settings, plan,
                                   time.monotonic() - started, note, visibility)
    write_results(root, results)
    print(f"results.json: {results['score']:g} points")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.integrations.gradescope",
                                     description="Gradescope: build the autograder zip, and grade one "
                                                 "submission inside Gradescope's container.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("run", help="grade /autograder/submission and write results/results.json")
    grade.add_argument("--root", default=None, help=f"the autograder folder (default: ${ROOT_VARIABLE} or "
                                                    f"{DEFAULT_ROOT})")
    grade.add_argument("--visibility", choices=VISIBILITIES, default=VISIBLE,
                       help="visibility of the whole result (hidden checks stay after_published)")
    args = parser.parse_args(argv)
    run(args.root, args.visibility)
    return 0
