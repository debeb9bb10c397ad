"""The course files a Dask worker grades with, for workers that do not share the grader's filesystem.

One gzip'd tar, named by its sha256: course_config.py, the assignment's source and release folders,
the profile's grader-only cache (reference base, hidden split; never the raw downloads) and the
template gradebook. The grader sends it once to each worker; a worker unpacks it once into its own
local directory, under the hash, and every later task there finds it. The hidden split travels only
inside it, and the grading sandbox keeps it from the kernel as it does on the grader's machine.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

CONFIG = "course/course_config.py"
CACHE = "cache"
TEMPLATE = "template.db"
_unpacking = threading.Lock()   # two tasks on one worker unpack a bundle once


@dataclass(frozen=True)
class CoursePaths:
    """Where a worker finds the course: the config, the cache and the template gradebook."""

    config_file: str
    cache_dir: str
    template_db: str


def paths_on_shared_filesystem(settings, template_db: Path) -> CoursePaths:
    """The grader's own paths, for workers that see the same filesystem (HPC)."""
    return CoursePaths(str(settings.config_file), str(settings.cache_dir), str(template_db))


def build(settings, template_db: Path) -> tuple[bytes, str]:
    """The bundle's bytes and their sha256 (the same course gives the same bytes, so the same hash)."""
    members = [(settings.config_file, CONFIG),
               (settings.source_dir, f"course/source/{settings.assignment}"),
               (settings.release_dir, f"course/release/{settings.assignment}"),
               (settings.profile_cache, f"{CACHE}/{settings.profile}"),
               (template_db, TEMPLATE)]
    buffer = io.BytesIO()
    # mtime=0 and sorted names: the hash depends on the contents alone
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        for path, name in members:
            for file, arcname in _files(Path(path), name):
                info = archive.gettarinfo(str(file), arcname)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with open(file, "rb") as handle:
                    archive.addfile(info, handle)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def _files(path: Path, name: str):
    """(file, name in the bundle) for a file or every regular file under a folder, sorted; the
    cache's downloads (the raw archives a profile was made from) are not needed to grade."""
    if path.is_file():
        yield path, name
        return
    if not path.is_dir():
        return
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if file.is_file() and not file.is_symlink() and relative.parts[0] != "downloads":
            yield file, f"{name}/{relative.as_posix()}"


def unpacked(data: bytes, sha256: str, base: Path) -> CoursePaths:
    """The bundle unpacked under `base`/<sha256>, once: a later call finds it there."""
    target = Path(base) / sha256
    with _unpacking:
        if not (target / ".complete").is_file():
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValueError(f"expected a course bundle with sha256 {sha256}, found other bytes")
            staging = Path(base) / f".{sha256}.{uuid.uuid4().hex}"
            staging.mkdir(parents=True, mode=0o700)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                archive.extractall(staging, members=safe_members(archive))
            (staging / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
    return CoursePaths(str(target / CONFIG), str(target / CACHE), str(target / TEMPLATE))


def safe_members(archive: tarfile.TarFile):
    """Regular files and folders with plain relative names only (tarfile's `data` filter is newer
    than some Python 3.11 releases the kit supports)."""
    for member in archive.getmembers():
        parts = Path(member.name).parts
        if (member.isfile() or member.isdir()) and not Path(member.name).is_absolute() and ".." not in parts:
            yield member
