"""Split labelled images into the students' training folder and the hidden test split, and write
them as folders of class folders, atomically (a half-written folder is never left under its name)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from autograder.course.files import file_sha256

# An image is either an array to encode as PNG or an existing file to copy.
Image = np.ndarray | Path
Labelled = dict[str, list[tuple[str, Image]]]


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def split(classes: Labelled, train_per_class: int, hidden_size: int, seed: int, secret: str
          ) -> tuple[Labelled, Labelled]:
    """Train: `train_per_class` images per class chosen by the seed. Hidden: up to `hidden_size` of
    the rest, chosen with the course secret so that the public data does not reveal them."""
    train: Labelled = {}
    rest: list[tuple[str, str, Image]] = []
    for name in sorted(classes):
        items = sorted(classes[name], key=lambda item: item[0])
        if len(items) <= train_per_class:
            raise ValueError(
                f"class {name!r} has {len(items)} images; it needs more than TRAIN_PER_CLASS "
                f"({train_per_class}) so that some are left for the hidden test split."
            )
        order = _rng("train", seed, name).permutation(len(items))
        train[name] = [items[i] for i in order[:train_per_class]]
        rest.extend((name, *items[i]) for i in order[train_per_class:])
    rest.sort(key=lambda item: (item[0], item[1]))
    chosen = _rng("hidden", seed, secret).permutation(len(rest))[: min(hidden_size, len(rest))]
    hidden: Labelled = {}
    for i in sorted(chosen):
        name, file_name, image = rest[i]
        hidden.setdefault(name, []).append((file_name, image))
    return train, hidden


def _write_image(image: Image, target: Path) -> None:
    if isinstance(image, Path):
        shutil.copyfile(image, target)
    else:
        from PIL import Image as PILImage

        PILImage.fromarray(image).save(target)


def write_class_folders(classes: Labelled, destination: Path) -> None:
    """Write {class: [(file name, image)]} under `destination`, replacing it in one rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    for stale in destination.parent.glob(f".{destination.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted run
    partial = destination.parent / f".{destination.name}.partial-{os.getpid()}"
    for name, items in classes.items():
        (partial / name).mkdir(parents=True)
        for file_name, image in items:
            _write_image(image, partial / name / file_name)
    if destination.exists():
        shutil.rmtree(destination)
    os.replace(partial, destination)


def listing(folder: Path) -> list[str]:
    """Sorted relative paths of every file under `folder` (class/file)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def folder_fingerprint(folder: Path) -> str:
    """A checksum of a folder's file names and contents."""
    digest = hashlib.sha256()
    for relative in listing(folder):
        digest.update(relative.encode() + b"\0" + file_sha256(folder / relative).encode())
    return digest.hexdigest()


MANIFEST = "manifest.json"   # in the profile's cache: what `labkit prepare` made, and from what


def read_manifest(settings) -> dict | None:
    """The manifest of the last finished `labkit prepare`, or None."""
    path = settings.profile_cache / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
