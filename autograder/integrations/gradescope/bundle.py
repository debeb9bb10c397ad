"""Build the autograder zip for the configured assignment: the scripts, the kit's source, the course
(its config pointed at the bundled cache, the grading plan, the assignment's files, the hidden test
split and the reference base) and a manifest with every file's sha256."""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from autograder.course.files import atomic_path
from autograder.integrations.gradescope.layout import (
    ASSIGNMENT_FILES,
    BUNDLE_KIND,
    CACHE,
    CONTAINER_MB,
    COURSE,
    KIT,
    MEASURED_MB,
    MEASURED_PROFILE,
    PLAN_FILE,
)
from autograder.integrations.gradescope.scripts import RUN_AUTOGRADER, SETUP_SH

# one fixed time stamp, so that the same course gives the same zip
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class BundleError(RuntimeError):
    """The autograder zip cannot be built (missing assets, for example)."""


def memory_note(profile: str) -> str:
    """What the run needs in Gradescope's container, as measured (for the config, the manifest, the log)."""
    parts = ", ".join(f"the {name} {mb} MB" for name, mb in MEASURED_MB.items())
    if profile != MEASURED_PROFILE:
        return (f"Memory: measured on the {MEASURED_PROFILE!r} profile only ({parts} at most, within Gradescope's "
                f"default {CONTAINER_MB} MB container); the {profile!r} profile may need more (MobileNetV2 on "
                "photos does): if submissions stop at the memory limit or with a dead kernel, raise the "
                "container's memory in the assignment's autograder settings.")
    return (f"Memory, measured on this profile with the solution: {parts} at most (resident); the whole run "
            f"gets every point in Gradescope's default {CONTAINER_MB} MB container.")


def bundled_config(settings) -> str:
    """The course's course_config.py, pointed at the bundled cache and assignment files."""
    import textwrap

    from autograder.integrations.classroom import without_secret

    text = without_secret(Path(settings.config_file).read_text())
    note = textwrap.fill(memory_note(settings.profile), 100, initial_indent="# ", subsequent_indent="# ")
    return text + f'''

# --- set by `labkit gradescope-bundle`: paths inside the autograder zip ---------------------
{note}
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


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> str:
    """Store `data` as `name`; returns its sha256 for the manifest."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)
    return hashlib.sha256(data).hexdigest()


def build_bundle(settings, out: str | Path, say=print) -> Path:
    """Write the autograder zip for the configured assignment; returns its path."""
    from autograder import __version__
    from autograder.authoring.prepare import prepare
    from autograder.course import plan as plans
    from autograder.grading.gradebook import source_sha256

    prepare(settings, say=lambda message: None)
    plan = plans.from_settings(settings)
    manual = {a: p for a, p in settings.points.items() if a not in plan.points_by_activity()}
    out = Path(out).resolve()
    digests = {}
    with atomic_path(out) as partial, zipfile.ZipFile(partial, "w") as archive:
        digests["setup.sh"] = _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        digests["run_autograder"] = _add(archive, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        digests[f"{COURSE}/course_config.py"] = _add(archive, f"{COURSE}/course_config.py",
                                                    bundled_config(settings).encode())
        digests[f"{COURSE}/{PLAN_FILE}"] = _add(archive, f"{COURSE}/{PLAN_FILE}",
                                               (json.dumps(plan.to_dict(), indent=1) + "\n").encode())
        for path, name in bundle_files(settings):
            digests[name] = _add(archive, name, path.read_bytes())
        manifest = {
            "kind": BUNDLE_KIND, "kit_version": __version__, "course_id": settings.course_id,
            "assignment": settings.assignment, "profile": settings.profile,
            "autograded_points": plan.total, "manual_points": sum(manual.values()),
            "points_by_activity": {str(a): p for a, p in sorted(plan.points_by_activity().items())},
            "manual_activities": sorted(manual), "plan_sha256": plan.sha256(),
            "source_sha256": source_sha256(settings),
            "hidden_images": sum(1 for name in digests if "/hidden_test/" in name),
            "memory_mb": {"container": CONTAINER_MB, "measured_profile": MEASURED_PROFILE,
                          "measured_peaks": MEASURED_MB},
            "files": digests,
        }
        _add(archive, "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
    say(f"gradescope-bundle: {out} ({out.stat().st_size / 2**20:.1f} MB, {len(digests)} files, "
        f"{plan.total:g} autograded points; activity {', '.join(map(str, sorted(manual))) or '-'} graded "
        "by hand). It holds the hidden test split: keep it off the students' side.")
    say(f"gradescope-bundle: {memory_note(settings.profile)}")
    return out
