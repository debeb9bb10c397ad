"""`labkit release`: generate the student version with `nbgrader generate_assignment`, from the
repository root, and make sure that nothing grader-only reaches release/.

Stubs name what to write: the "# Hint: ..." comment that sits right above each
"### BEGIN SOLUTION" line becomes the message of the stub's NotImplementedError. Plain
`nbgrader generate_assignment` (without `HintedClearSolutions`) keeps that comment above nbgrader's
generic stub instead, so the hint reaches the student either way."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder.course import vocabulary
from autograder.preprocessors.hinted_stubs import configure

# Files that running the source notebook leaves next to it; nbgrader would copy them into release/.
BY_PRODUCTS = ("transfer_model.png", ".ipynb_checkpoints", "__pycache__")
LEAK_MARKERS = (vocabulary.SOLUTION_BEGIN, vocabulary.SOLUTION_END, vocabulary.HIDDEN_BEGIN,
                vocabulary.HIDDEN_END, vocabulary.RUBRIC_HEADING, "BEGIN MARK SCHEME", "checks.hidden_accuracy",
                "checks.saved_model")


class ReleaseError(RuntimeError):
    """The release could not be made, or would leak grader-only material."""


def stray_files(settings) -> list[Path]:
    """Files in source/<assignment>/ that are not part of the assignment (nbgrader would release them)."""
    source = settings.source_dir
    allowed = {settings.notebook_name, "lab_settings.json", settings.base_model_file,
               Path(settings.train_dir).parts[0]}
    return sorted(path for path in source.iterdir() if path.name not in allowed)


def check_source(settings, clean: bool = False, say=print) -> None:
    """Refuse to release by-products, stray files or anything of the hidden split."""
    hidden = settings.hidden_test_dir.resolve()
    if hidden.is_relative_to(settings.source_dir.resolve()):
        raise ReleaseError(f"the hidden test split {hidden} lies inside {settings.source_dir}; "
                           "set CACHE_DIR in course_config.py to a folder outside source/")
    strays = stray_files(settings)
    removable = [p for p in strays if p.name in BY_PRODUCTS or p.name == settings.saved_model_file]
    if clean:
        import shutil

        for path in removable:
            say(f"release: removing {path.relative_to(settings.root)} (made by running the notebook)")
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        strays = [p for p in strays if p not in removable]
    if strays:
        names = ", ".join(str(p.relative_to(settings.root)) for p in strays)
        raise ReleaseError(f"nbgrader would copy these files into the release: {names}. Remove them "
                           "(or run `labkit release --clean` for files that running the notebook made).")


def check_release(settings) -> None:
    """The generated release holds no solution, hidden test, rubric or hidden-split image."""
    release = settings.release_dir
    text = (release / settings.notebook_name).read_text()
    leaked = [marker for marker in LEAK_MARKERS if marker in text]
    if leaked:
        raise ReleaseError(f"the release notebook still contains {leaked}")
    hidden_names = {p.name for p in settings.hidden_test_dir.rglob("*") if p.is_file()}
    train_names = {p.name for p in (settings.source_dir / settings.train_dir).rglob("*") if p.is_file()}
    shipped = {p.name for p in release.rglob("*") if p.is_file()}
    overlap = (shipped & hidden_names) - train_names
    if overlap:
        raise ReleaseError(f"hidden test images ended up in the release: {sorted(overlap)[:5]}")


def run_nbgrader(settings) -> None:
    """`nbgrader generate_assignment <assignment> --force` from the root, in a child process."""
    env = dict(os.environ, LABKIT_CONFIG=str(settings.config_file))
    # nbgrader's Gradebook runs the `alembic` script of this environment when it creates a database.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    command = [sys.executable, "-m", "autograder.authoring.release", settings.assignment]
    completed = subprocess.run(command, cwd=settings.root, env=env, capture_output=True, text=True)
    if completed.returncode != 0 or not (settings.release_dir / settings.notebook_name).is_file():
        raise ReleaseError(f"nbgrader generate_assignment failed:\n{completed.stdout}\n{completed.stderr}")


def release(settings, clean: bool = False, say=print) -> Path:
    """Prepare if needed, generate release/<assignment>/, check it; return the release notebook."""
    from autograder.authoring.prepare import is_current, prepare

    if not is_current(settings):
        prepare(settings, say=say)
    check_source(settings, clean=clean, say=say)
    run_nbgrader(settings)
    check_release(settings)
    target = settings.release_dir / settings.notebook_name
    say(f"release: wrote {target.relative_to(settings.root)}")
    return target


def _main(argv: list[str]) -> int:
    """Child process: nbgrader's GenerateAssignmentApp with the course config and hinted stubs."""
    from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp

    app = GenerateAssignmentApp()
    app.initialize([*argv, "--force"])
    configure(app.config)
    app.start()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
