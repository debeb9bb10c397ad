"""GitHub Classroom: the autograding workflow for the assignment's template repository.

    labkit classroom [--out classroom] [--kit "labkit-transfer-learning @ git+https://..."]

writes, under the output folder, what goes into the template repository next to the released
notebook and its files:
  .github/workflows/classroom.yml    one `autograding-command-grader` step per autograded activity,
                                     each running the pytest entry point with `--activity N` and
                                     worth that activity's points, then the grading reporter
  .github/classroom/grading_plan.json   the graded cells (from the source notebook)
  .github/classroom/course_config.py    the course's settings, secret left out
  .github/classroom/grader.json         a checksum of the hidden split's file names
The notebook runs once per push: the first step runs it and keeps the outcomes in a cache file,
the other steps read them. The hidden test split is rebuilt on the runner from the course secret
(organization secret LABKIT_SECRET) by `python -m autograder.integrations.classroom grader-data`."""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
from pathlib import Path

WORKFLOW = Path(".github/workflows/classroom.yml")
CLASSROOM_CONFIG = Path(".github/classroom")
PLAN_FILE = CLASSROOM_CONFIG / "grading_plan.json"
COURSE_CONFIG = CLASSROOM_CONFIG / "course_config.py"
GRADER_FILE = CLASSROOM_CONFIG / "grader.json"
GRADING_CACHE = "/tmp/labkit/grading-cache.json"
RUNNER_CACHE = "/tmp/labkit/cache"
DEFAULT_KIT = "labkit-transfer-learning @ git+https://github.com/YOUR-ORGANIZATION/YOUR-KIT-REPOSITORY.git"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
SECRET_PLACEHOLDER = "set-LABKIT_SECRET-as-an-organization-secret"


class ClassroomError(RuntimeError):
    """The Classroom files cannot be made for this course as configured."""


def step_id(activity: int) -> str:
    return f"activity-{activity:02d}"


def activity_points(settings, plan) -> dict[int, float]:
    """Points per autograded activity: the grade cells' points, which must match course_config.py."""
    points = plan.points_by_activity()
    differ = {a: (p, settings.points[a]) for a, p in points.items() if abs(p - settings.points[a]) > 1e-9}
    if differ:
        first = next(iter(differ))
        raise ClassroomError(f"activity {first}'s grade cells are worth {differ[first][0]:g} points but "
                             f"POINTS[{first}] is {differ[first][1]:g}; run `labkit sync-points` first")
    return dict(sorted(points.items()))


def test_command(settings, activity: int) -> str:
    """The command one step runs: the pytest entry point for one activity."""
    return (f"python -m pytest -p no:cacheprovider --pyargs autograder.integrations.pytest "
            f"--notebook {settings.notebook_name} --grading-plan {PLAN_FILE.as_posix()} "
            f"--grading-cache {GRADING_CACHE} --activity {activity} -q --color=no")


def workflow(settings, plan, kit: str = DEFAULT_KIT) -> dict:
    """The workflow as a dict (written as YAML)."""
    from autograder.course.vocabulary import ACTIVITY_TITLES

    minutes = math.ceil((settings.notebook_timeout + 300) / 60)
    steps = [
        {"name": "Check out the submission", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": "3.12"}},
        {"name": "Install the course kit",
         # bubblewrap: the grading sandbox, which needs the user namespaces Ubuntu 24.04 restricts
         "run": "sudo apt-get install -y -qq graphviz bubblewrap\n"
                "sudo sysctl -q -w kernel.apparmor_restrict_unprivileged_userns=0 || true\n"
                f"python -m pip install -q {json.dumps(kit)}"},
        {"name": "Rebuild the hidden test split", "run": "python -m autograder.integrations.classroom grader-data"},
    ]
    for activity, points in activity_points(settings, plan).items():
        title = f"Activity {activity} ({ACTIVITY_TITLES[activity]})"
        steps.append({
            "name": title, "id": step_id(activity), "uses": COMMAND_GRADER,
            "with": {"test-name": title, "command": test_command(settings, activity),
                     "timeout": minutes, "max-score": int(points) if float(points).is_integer() else points},
        })
    ids = [step_id(a) for a in activity_points(settings, plan)]
    steps.append({
        "name": "Autograding Reporter", "uses": REPORTER,
        "env": {f"{i.upper()}_RESULTS": "${{steps.%s.outputs.result}}" % i for i in ids},
        "with": {"runners": ",".join(ids)},
    })
    return {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "runs-on": "ubuntu-latest",
            "if": "github.actor != 'github-classroom[bot]'",
            "env": {"LABKIT_CONFIG": COURSE_CONFIG.as_posix(), "LABKIT_SECRET": "${{ secrets.LABKIT_SECRET }}",
                    "LABKIT_CACHE": RUNNER_CACHE, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"},
            "steps": steps,
        }},
    }


def classroom_config(settings) -> str:
    """course_config.py for the runner: the course's, with the cache on the runner and no secret."""
    text = without_secret(Path(settings.config_file).read_text())
    return text + f'''

# --- set by `labkit classroom`: the secret comes from $LABKIT_SECRET (an organization secret) ---
CACHE_DIR = "{RUNNER_CACHE}"
COURSE_SECRET = "{SECRET_PLACEHOLDER}"
'''


def without_secret(config_text: str) -> str:
    """The course_config.py text without its COURSE_SECRET line (it must not reach students)."""
    return re.sub(r"^COURSE_SECRET\s*=.*$", "# COURSE_SECRET: kept off this copy", config_text, flags=re.M)


def listing_sha256(folder: Path) -> str:
    """A checksum of the file names under `folder` (which images, not how they were encoded)."""
    import hashlib

    from autograder.data import layout

    return hashlib.sha256("\n".join(layout.listing(folder)).encode()).hexdigest()


def grader_facts(settings) -> dict:
    """What the runner checks its rebuilt hidden split against (names only: no image leaks)."""
    from autograder.data.layout import read_manifest

    manifest = read_manifest(settings) or {}
    if not manifest.get("class_names") or not settings.hidden_test_dir.is_dir():
        raise ClassroomError("the course is not prepared; run `labkit prepare` first")
    return {"profile": settings.profile, "class_names": manifest["class_names"],
            "hidden_images": len(list(settings.hidden_test_dir.rglob("*.*"))),
            "hidden_listing_sha256": listing_sha256(settings.hidden_test_dir)}


def _block_strings(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


try:
    import yaml

    class _BlockDumper(yaml.SafeDumper):
        """Multi-line strings (the `run:` scripts) as literal blocks."""

    _BlockDumper.add_representer(str, _block_strings)
except ImportError:  # PyYAML comes with nbgrader's dependencies; only `write` needs it
    _BlockDumper = None


def write(settings, out: str | Path, kit: str = DEFAULT_KIT, say=print) -> list[Path]:
    """Write the Classroom files under `out`; returns the paths written."""
    import yaml

    from autograder.course import plan as plans

    if settings.profile == "folder":
        raise ClassroomError("GitHub Classroom cannot rebuild the hidden split of PROFILE 'folder' (the "
                             "images stay on your machine); grade with Gradescope or `labkit grade`")
    plan = plans.from_settings(settings)
    out = Path(out)
    files = {
        WORKFLOW: "# Written by `labkit classroom` from course_config.py; edit that file and run it again.\n"
                  + yaml.dump(workflow(settings, plan, kit), Dumper=_BlockDumper, sort_keys=False, width=120),
        PLAN_FILE: json.dumps(plan.to_dict(), indent=1) + "\n",
        COURSE_CONFIG: classroom_config(settings),
        GRADER_FILE: json.dumps(grader_facts(settings), indent=1) + "\n",
    }
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    total = sum(activity_points(settings, plan).values())
    say(f"classroom: wrote {len(written)} files under {out} ({total:g} autograded points in "
        f"{len(activity_points(settings, plan))} steps). Copy them into the template repository next to "
        f"{settings.notebook_name}, and set the organization secret LABKIT_SECRET.")
    return written


# --- on the runner ------------------------------------------------------------------------------

def grader_data(settings, folder: str | Path = ".", facts_file: str | Path = GRADER_FILE) -> dict:
    """Rebuild the hidden test split from the course secret, check it against grader.json, and take
    the repository's pretrained base as the reference that the saved model's base must equal."""
    from autograder.authoring.prepare import profile_module
    from autograder.data import layout
    from autograder.data.bases import load_base, weights_checksum
    from autograder.data.layout import MANIFEST

    facts = json.loads(Path(facts_file).read_text())
    module = profile_module(settings)
    if getattr(module, "downloads", None):
        from autograder.data.fetch import fetch

        fetch(settings)
    _, hidden = layout.split(module.labelled_images(settings), settings.train_per_class,
                             settings.hidden_test_size, settings.seed, settings.course_secret)
    layout.write_class_folders(hidden, settings.hidden_test_dir)
    if listing_sha256(settings.hidden_test_dir) != facts["hidden_listing_sha256"]:
        shutil.rmtree(settings.hidden_test_dir, ignore_errors=True)
        raise ClassroomError("the rebuilt hidden test split differs from the course's: set the "
                             "organization secret LABKIT_SECRET to the course's COURSE_SECRET")
    base = Path(folder) / settings.base_model_file
    settings.reference_base.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base, settings.reference_base)
    manifest = {"class_names": facts["class_names"],
                "base_weights_sha256": weights_checksum(load_base(settings.reference_base))}
    (settings.profile_cache / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.integrations.classroom", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("grader-data", help="rebuild the hidden split on the runner (needs LABKIT_SECRET)")
    data.add_argument("--folder", default=".", help="the assignment folder (default: the repository root)")
    data.add_argument("--facts", default=str(GRADER_FILE), help="grader.json written by `labkit classroom`")
    args = parser.parse_args(argv)
    from autograder.course import config

    try:
        manifest = grader_data(config.load(), args.folder, args.facts)
    except (ClassroomError, OSError, ValueError) as error:
        print(f"grader-data: {error}", file=sys.stderr)
        return 1
    print(f"grader-data: hidden test split ready ({len(manifest['class_names'])} classes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
