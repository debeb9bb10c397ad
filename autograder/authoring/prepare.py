"""`labkit prepare`: lay out the students' training folder, the grader-only hidden test split and
the pretrained base for the configured profile. Idempotent and atomic."""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import time
from pathlib import Path

from autograder import __version__
from autograder.course.files import (
    atomic_path,
    copy_atomic,
    file_sha256,
    write_text_atomic,
)
from autograder.data import layout
from autograder.data.bases import BASE_RECIPE
from autograder.data.layout import MANIFEST, read_manifest  # noqa: F401  (prepare writes it)


def profile_module(settings):
    """The module that supplies a profile's images and base (`labelled_images`, `build_base`)."""
    return importlib.import_module(f"autograder.data.{settings.profile}")


def fingerprint(settings) -> dict:
    """Everything that changes what prepare makes; a different fingerprint means redo."""
    return {
        "kit": __version__,
        "base_recipe": BASE_RECIPE,
        "profile": settings.profile,
        "local_folder": str(settings.local_folder) if settings.local_folder else None,
        "image_shape": list(settings.image_shape),
        "train_per_class": settings.train_per_class,
        "hidden_test_size": settings.hidden_test_size,
        "seed": settings.seed,
        "pretrain_epochs": settings.epochs["pretrain"],
        "secret_sha256": hashlib.sha256(settings.course_secret.encode()).hexdigest(),
        "inputs_sha256": inputs_signature(settings),
    }


def inputs_signature(settings) -> str:
    """A cheap checksum of what the profile reads: the instructor's folder (names, sizes, times)
    and the recorded hashes of fetched files, so changing either makes prepare redo its work."""
    from autograder.data.fetch import RECORD_SUFFIX, downloads_dir

    digest = hashlib.sha256()
    if settings.local_folder:
        for path in sorted(settings.local_folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(settings.local_folder)}|{stat.st_size}|"
                              f"{stat.st_mtime_ns}\n".encode())
    for download in getattr(profile_module(settings), "downloads", lambda _: [])(settings):
        record = downloads_dir(settings) / (download.name + RECORD_SUFFIX)
        digest.update(record.read_bytes() if record.is_file() else b"missing")
    return digest.hexdigest()


def _assets(settings) -> dict[str, Path]:
    source = settings.source_dir
    return {"train": source / settings.train_dir, "base": source / settings.base_model_file,
            "settings": source / "lab_settings.json"}


def is_current(settings, manifest: dict | None = None) -> bool:
    """True when the cache and the assignment's assets match the manifest of a finished run."""
    manifest = manifest if manifest is not None else read_manifest(settings)
    if not manifest or manifest.get("fingerprint") != fingerprint(settings):
        return False
    assets = _assets(settings)
    try:
        return (
            layout.folder_fingerprint(settings.hidden_test_dir) == manifest["hidden_fingerprint"]
            and layout.folder_fingerprint(assets["train"]) == manifest["train_fingerprint"]
            and file_sha256(settings.reference_base) == manifest["base_file_sha256"]
            and file_sha256(assets["base"]) == manifest["base_file_sha256"]
            and json.loads(assets["settings"].read_text()) == settings.student_view()
        )
    except (OSError, ValueError, KeyError):
        return False


def prepare(settings, force: bool = False, say=print) -> dict:
    """Make (or confirm) the profile's data and base; return the manifest."""
    manifest = read_manifest(settings)
    if not force and is_current(settings, manifest):
        say(f"prepare: already done for profile {settings.profile!r} (nothing to do).")
        return manifest
    started = time.perf_counter()
    cache = settings.profile_cache
    cache.mkdir(parents=True, exist_ok=True)
    if settings.cache_dir.stat().st_uid == os.getuid():  # the hidden split is the grader's alone
        settings.cache_dir.chmod(0o700)
    # Drop the old manifest first: if this run is interrupted, nothing half-made is trusted.
    (cache / MANIFEST).unlink(missing_ok=True)
    module = profile_module(settings)

    say(f"prepare: reading the {settings.profile!r} images ...")
    train, hidden = layout.split(module.labelled_images(settings), settings.train_per_class,
                                 settings.hidden_test_size, settings.seed, settings.course_secret)
    assets = _assets(settings)
    layout.write_class_folders(hidden, settings.hidden_test_dir)
    layout.write_class_folders(train, assets["train"])
    say(f"prepare: training folder {sum(map(len, train.values()))} images, "
        f"hidden test split {sum(map(len, hidden.values()))} images (grader only).")

    say("prepare: building the pretrained base ...")
    from autograder.data.bases import weights_checksum

    base, facts = module.build_base(settings)
    with atomic_path(settings.reference_base, keep_suffix=True) as partial:
        base.save(partial)
    copy_atomic(settings.reference_base, assets["base"])
    write_text_atomic(assets["settings"], json.dumps(settings.student_view(), indent=2) + "\n")

    manifest = {
        "fingerprint": fingerprint(settings),
        "class_names": sorted(train),
        "train_count": sum(map(len, train.values())),
        "hidden_count": sum(map(len, hidden.values())),
        "train_fingerprint": layout.folder_fingerprint(assets["train"]),
        "hidden_fingerprint": layout.folder_fingerprint(settings.hidden_test_dir),
        "hidden_files": layout.listing(settings.hidden_test_dir),
        "base_weights_sha256": weights_checksum(base),
        "base_file_sha256": file_sha256(settings.reference_base),
        **facts,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_text_atomic(cache / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    say(f"prepare: done in {manifest['seconds']} s; base weights sha256 "
        f"{manifest['base_weights_sha256'][:12]}...")
    return manifest
