"""Gradescope: build the autograder zip, and grade one submission inside Gradescope's container.

    labkit gradescope-bundle [--out autograder.zip]     (on the grader's machine)
    python -m autograder.integrations.gradescope run [--root DIR]    (what the zip's run_autograder calls)

The zip holds setup.sh, run_autograder, the kit's source (kit/), the course (course/: a
course_config.py that points at the bundled cache, the grading plan, the assignment's files that sit
next to the notebook, and the cache with the hidden test split and the pretrained reference base) and
manifest.json. `run` grades /autograder/submission/*.ipynb with the pytest entry point
(autograder.integrations.pytest) and writes /autograder/results/results.json in Gradescope's format: one
test per grade cell, its points, the check's message; hidden checks are shown after grades are
published. $LABKIT_AUTOGRADER_ROOT replaces /autograder (tests, local trials)."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "LABKIT_AUTOGRADER_ROOT"
COURSE = "course"
KIT = "kit"
PLAN_FILE = "grading_plan.json"
ASSIGNMENT_FILES = "assignment"     # under course/: what the notebook finds next to it
CACHE = "cache"                     # under course/: the hidden test split and reference base
VISIBLE, AFTER_PUBLISHED = "visible", "after_published"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
BUNDLE_KIND = "labkit-gradescope-autograder"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
SOURCE="${LABKIT_AUTOGRADER_ROOT:-/autograder}/source"
VENV="${LABKIT_AUTOGRADER_ROOT:-/autograder}/venv"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# graphviz: keras.utils.plot_model; bubblewrap: the sandbox grading kernels run in
apt-get install -y -qq graphviz bubblewrap python3-venv >/dev/null
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "$SOURCE/kit"
"$VENV/bin/python" -c "import autograder.integrations.pytest.plugin, keras; print('labkit autograder ready')"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json.
ROOT="${LABKIT_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${LABKIT_PYTHON:-$ROOT/venv/bin/python}"
export LABKIT_CONFIG="$ROOT/source/course/course_config.py"
export MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2
exec "$PYTHON" -m autograder.integrations.gradescope run --root "$ROOT"
"""


class BundleError(RuntimeError):
    """The autograder zip cannot be built (missing assets, for example)."""


# --- building the zip ---------------------------------------------------------------------------

def bundled_config(settings) -> str:
    """The course's course_config.py, pointed at the bundled cache and assignment files."""
    from autograder.integrations.classroom import without_secret

    text = without_secret(Path(settings.config_file).read_text())
    return text + f'''

# --- set by `labkit gradescope-bundle`: paths inside the autograder zip ---------------------
import os as _os

CACHE_DIR = "{CACHE}"
COURSE_SECRET = "not-needed-to-grade"   # the hidden split is already made; the secret stays home
if PROFILE == "folder":
    LOCAL_FOLDER = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "{ASSIGNMENT_FILES}",
                                 TRAIN_DIR)
'''


def _kit_files(root: Path) -> list[tuple[Path, str]]:
    """The kit's installable source: pyproject.toml and the autograder package."""
    files = [(root / "pyproject.toml", f"{KIT}/pyproject.toml")]
    for path in sorted((root / "autograder").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files.append((path, f"{KIT}/{path.relative_to(root).as_posix()}"))
    return files


def _tree(folder: Path, prefix: str) -> list[tuple[Path, str]]:
    return [(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
            for path in sorted(folder.rglob("*")) if path.is_file()]


def bundle_files(settings) -> list[tuple[Path, str]]:
    """(file on disk, name in the zip) for everything but the generated texts."""
    from autograder.course.config import REPO_ROOT
    from autograder.data.layout import MANIFEST

    source = settings.source_dir
    train, base, lab = source / settings.train_dir, source / settings.base_model_file, source / "lab_settings.json"
    needed = [train, base, lab, settings.hidden_test_dir, settings.reference_base,
              settings.profile_cache / MANIFEST]
    for path in needed:
        if not path.exists():
            raise BundleError(f"{path} is missing; run `labkit prepare` first")
    cache = f"{COURSE}/{CACHE}/{settings.profile}"
    assignment = f"{COURSE}/{ASSIGNMENT_FILES}"
    return [
        *_kit_files(REPO_ROOT),
        *_tree(train, f"{assignment}/{Path(settings.train_dir).as_posix()}"),
        (base, f"{assignment}/{Path(settings.base_model_file).as_posix()}"),
        (lab, f"{assignment}/lab_settings.json"),
        *_tree(settings.hidden_test_dir, f"{cache}/hidden_test"),
        (settings.reference_base, f"{cache}/{settings.reference_base.name}"),
        (settings.profile_cache / MANIFEST, f"{cache}/{MANIFEST}"),
    ]


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> str:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    data = text.encode()
    archive.writestr(info, data)
    return hashlib.sha256(data).hexdigest()


def _add_file(archive: zipfile.ZipFile, path: Path, name: str) -> str:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16
    data = path.read_bytes()
    archive.writestr(info, data)
    return hashlib.sha256(data).hexdigest()


def build_bundle(settings, out: str | Path, say=print) -> Path:
    """Write the autograder zip for the configured assignment; returns its path."""
    from autograder import __version__
    from autograder.grading.gradebook import source_sha256
    from autograder.course import plan as plans
    from autograder.authoring.prepare import prepare

    prepare(settings, say=lambda message: None)
    plan = plans.from_settings(settings)
    manual = {a: p for a, p in settings.points.items() if a not in plan.points_by_activity()}
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    digests = {}
    with zipfile.ZipFile(partial, "w") as archive:
        digests["setup.sh"] = _add_text(archive, "setup.sh", SETUP_SH, executable=True)
        digests["run_autograder"] = _add_text(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        digests[f"{COURSE}/course_config.py"] = _add_text(archive, f"{COURSE}/course_config.py",
                                                         bundled_config(settings))
        digests[f"{COURSE}/{PLAN_FILE}"] = _add_text(archive, f"{COURSE}/{PLAN_FILE}",
                                                    json.dumps(plan.to_dict(), indent=1) + "\n")
        for path, name in bundle_files(settings):
            digests[name] = _add_file(archive, path, name)
        manifest = {
            "kind": BUNDLE_KIND, "kit_version": __version__, "course_id": settings.course_id,
            "assignment": settings.assignment, "profile": settings.profile,
            "autograded_points": plan.total, "manual_points": sum(manual.values()),
            "points_by_activity": {str(a): p for a, p in sorted(plan.points_by_activity().items())},
            "manual_activities": sorted(manual), "plan_sha256": plan.sha256(),
            "source_sha256": source_sha256(settings),
            "hidden_images": sum(1 for name in digests if "/hidden_test/" in name),
            "files": digests,
        }
        _add_text(archive, "manifest.json", json.dumps(manifest, indent=1) + "\n")
    os.replace(partial, out)
    say(f"gradescope-bundle: {out} ({out.stat().st_size / 2**20:.1f} MB, {len(digests)} files, "
        f"{plan.total:g} autograded points; activity {', '.join(map(str, sorted(manual))) or '-'} graded "
        "by hand). It holds the hidden test split: keep it off the students' side.")
    return out


# --- grading inside the container ---------------------------------------------------------------

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


def results_json(report: dict, settings, plan, seconds: float, note: str = "",
                 visibility: str = VISIBLE) -> dict:
    """Gradescope's results.json from the pytest path's --grading-json report."""
    from autograder.course.vocabulary import ACTIVITY_TITLES

    tests, counters = [], {}
    for test in report.get("tests", []):
        activity = test["activity"]
        counters[activity] = counters.get(activity, 0) + 1
        tests.append({
            "name": test["name"],
            "number": f"{activity}.{counters[activity]}",
            "score": test["points"],
            "max_score": test["max_points"],
            "status": "passed" if test["passed"] else "failed",
            "output": test["output"] or ("ok" if test["passed"] else "failed"),
            "tags": [f"activity {activity}"],
            "visibility": AFTER_PUBLISHED if test["hidden"] else VISIBLE,
        })
    score = round(sum(t["score"] for t in tests), 4)
    maximum = round(sum(t["max_score"] for t in tests), 4)
    lines = [f"Autograded: {score:g} of {maximum:g} points."]
    manual = [a for a in settings.points if a not in plan.points_by_activity() and settings.points[a]]
    for activity in manual:
        lines.append(f"Activity {activity} ({ACTIVITY_TITLES[activity]}, {settings.points[activity]:g} "
                     "points) is graded by hand.")
    if report.get("problem"):
        lines.append(report["problem"])
    execution = report.get("execution") or {}
    if execution.get("message"):
        lines.append(f"While running your notebook: {execution['message']}.")
    if note:
        lines.append(note)
    lines.append("Some checks are hidden until grades are published.")
    return {
        "score": score,
        "execution_time": int(round(seconds)),
        "output": "\n".join(lines),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"assignment": settings.assignment, "plan_sha256": plan.sha256(),
                       "execution": execution},
    }


def failed_results(message: str, seconds: float, visibility: str = VISIBLE) -> dict:
    """results.json for a submission that could not be graded at all."""
    return {"score": 0.0, "execution_time": int(round(seconds)), "output": message, "visibility": visibility,
            "stdout_visibility": "hidden", "tests": []}


def write_results(root: Path, results: dict) -> Path:
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(partial, path)
    return path


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
    parser = argparse.ArgumentParser(prog="python -m autograder.integrations.gradescope", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("run", help="grade /autograder/submission and write results/results.json")
    grade.add_argument("--root", default=None, help=f"the autograder folder (default: ${ROOT_VARIABLE} or "
                                                    f"{DEFAULT_ROOT})")
    grade.add_argument("--visibility", choices=VISIBILITIES, default=VISIBLE,
                       help="visibility of the whole result (hidden checks stay after_published)")
    args = parser.parse_args(argv)
    run(args.root, args.visibility)
    return 0


def register(commands) -> None:
    """Add `gradescope-bundle` to labkit's subcommands."""
    bundle = commands.add_parser("gradescope-bundle", help="build the Gradescope autograder zip")
    bundle.add_argument("--out", default=None,
                        help="where to write the zip (default: grading/autograder.zip; it holds the "
                             "hidden test split, keep it private)")
    bundle.set_defaults(run=_bundle_command)


def _bundle_command(args) -> int:
    from autograder.course import config

    settings = config.load(args.config)
    out = Path(args.out) if args.out else settings.root / "grading" / "autograder.zip"
    try:
        build_bundle(settings, out)
    except BundleError as error:
        print(f"labkit gradescope-bundle: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
