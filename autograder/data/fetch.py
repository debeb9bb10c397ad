"""`labkit fetch`: download the files a profile needs, once, into the cache.

Each file is streamed to a temporary name with a progress bar, its sha256 is checked against the
published pin (or, when none is published, recorded on first download and re-checked on every later
use), and only then moved to its final name; archives are extracted the same way. A file is trusted
only when its checksum record matches both the file and the pin, so an interrupted or tampered
download is never used.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.course.files import file_sha256, write_text_atomic

FETCH_COMMAND = "labkit fetch"
RECORD_SUFFIX = ".sha256"
EXTRACTED_SUFFIX = ".extracted"


class FetchError(RuntimeError):
    """A download failed, or a file in the cache is missing or does not match its checksum."""


@dataclass(frozen=True)
class Download:
    """One file to fetch: where from, the name it gets in the cache, and its expected sha256."""

    url: str
    name: str
    sha256: str | None  # None: no published checksum; the first download's hash is recorded
    env_prefix: str  # LABKIT_<prefix>_URL / _SHA256 override url and sha256
    extract: bool = False

    @property
    def extracted_name(self) -> str:
        return self.name.split(".")[0]


def from_environment(prefix: str, url: str, sha256: str | None, **kwargs) -> Download:
    """A Download whose url and sha256 may be overridden by LABKIT_<prefix>_URL / _SHA256.

    An empty LABKIT_<prefix>_SHA256 means "no pin" (record the hash on first download)."""
    url = os.environ.get(f"LABKIT_{prefix}_URL") or url
    pin = os.environ.get(f"LABKIT_{prefix}_SHA256", sha256)
    name = kwargs.pop("name", None) or PurePosixPath(urllib.parse.unquote(
        urllib.parse.urlsplit(url).path)).name
    return Download(url=url, name=name, sha256=(pin or "").strip().lower() or None,
                    env_prefix=prefix, **kwargs)


def _record(path: Path) -> Path:
    return path.with_name(path.name + RECORD_SUFFIX)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def missing_message(what: str, folder: Path) -> str:
    return (f"{what} is not in the cache ({folder}). Run `{FETCH_COMMAND}` once on a machine with "
            f"network access (it downloads into the cache, verified by checksum), then try again.")


def trusted_file(download: Download, folder: Path) -> Path:
    """The cached file, after checking it against its record and pin; FetchError otherwise."""
    path = folder / download.name
    recorded = _read(_record(path))
    if not path.is_file() or recorded is None:
        raise FetchError(missing_message(download.name, folder))
    if download.sha256 and recorded != download.sha256:
        raise FetchError(
            f"{path} was fetched with sha256 {recorded}, but LABKIT_{download.env_prefix}_SHA256 "
            f"(or the kit's pin) expects {download.sha256}. Run `{FETCH_COMMAND}` again.")
    actual = file_sha256(path)
    if actual != recorded:
        raise FetchError(
            f"{path} has changed since it was fetched (sha256 {actual}, recorded {recorded}). "
            f"Delete it and run `{FETCH_COMMAND}` again.")
    return path


def extracted_folder(download: Download, folder: Path) -> Path:
    """The archive's extracted folder, if a finished extraction of the recorded archive made it."""
    target = folder / download.extracted_name
    marker = _read(folder / (download.extracted_name + EXTRACTED_SUFFIX))
    recorded = _read(_record(folder / download.name))
    if not target.is_dir() or marker is None or marker != recorded or (
            download.sha256 and marker != download.sha256):
        raise FetchError(missing_message(f"the extracted {download.name}", folder))
    return target


def _progress(total: int | None, name: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                leave=False, mininterval=0.5)


def _download(download: Download, folder: Path, say) -> None:
    """Stream the url to a temporary file, check its hash, then give it its final name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / download.name
    partial = folder / f".{download.name}.partial-{os.getpid()}"
    digest = hashlib.sha256()
    say(f"fetch: downloading {download.url}")
    try:
        with urllib.request.urlopen(download.url, timeout=60) as response, open(partial, "wb") as out:
            length = response.headers.get("Content-Length")
            with _progress(int(length) if length else None, download.name) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
        actual = digest.hexdigest()
        if download.sha256 and actual != download.sha256:
            raise FetchError(
                f"the download from {download.url} has sha256 {actual}, expected {download.sha256}; "
                f"it was discarded. Try `{FETCH_COMMAND}` again; if it keeps failing, the file at that "
                f"address has changed (set LABKIT_{download.env_prefix}_URL to a trusted copy).")
        # Old record first, then the file, then the new record: a crash in between leaves a
        # record that does not match the file, which is never trusted.
        _record(target).unlink(missing_ok=True)
        os.replace(partial, target)
        write_text_atomic(_record(target), actual + "\n")
    except OSError as error:  # URLError is an OSError
        raise FetchError(f"could not download {download.url}: {error}. Check the network (or "
                         f"LABKIT_{download.env_prefix}_URL) and run `{FETCH_COMMAND}` again.") from error
    finally:
        partial.unlink(missing_ok=True)
    if not download.sha256:
        say(f"fetch: no published sha256 for {download.name}; recorded {actual} and will re-check "
            f"it on every use (pin it with LABKIT_{download.env_prefix}_SHA256).")


def _extract(download: Download, folder: Path, say) -> None:
    """Unpack the archive next to it under a temporary name, then rename it into place."""
    archive = folder / download.name
    target = folder / download.extracted_name
    marker = folder / (download.extracted_name + EXTRACTED_SUFFIX)
    partial = folder / f".{download.extracted_name}.partial-{os.getpid()}"
    marker.unlink(missing_ok=True)
    shutil.rmtree(partial, ignore_errors=True)
    say(f"fetch: extracting {download.name} ...")
    try:
        with tarfile.open(archive) as tar:
            # The "data" filter refuses absolute paths, links out of the folder and device files.
            tar.extractall(partial, filter="data")
        entries = [p for p in partial.iterdir() if not p.name.startswith(".")]
        # Archives usually hold one top folder (flower_photos/); use its contents directly.
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else partial
        if target.exists():
            shutil.rmtree(target)
        os.replace(root, target)
    except (tarfile.TarError, OSError) as error:
        raise FetchError(f"could not extract {archive}: {error}. Delete it and run "
                         f"`{FETCH_COMMAND}` again.") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    write_text_atomic(marker, _read(_record(archive)) + "\n")


def fetch_one(download: Download, folder: Path, say=print) -> bool:
    """Make one file (and its extraction) present and verified; True if anything was done."""
    try:
        trusted_file(download, folder)
        fetched = False
    except FetchError:
        _download(download, folder, say)
        fetched = True
    if download.extract:
        try:
            extracted_folder(download, folder)
        except FetchError:
            _extract(download, folder, say)
            fetched = True
    return fetched


def fetch(settings, say=print) -> list[Path]:
    """Fetch every file the configured profile needs; a second run does nothing and says so."""
    module = importlib.import_module(f"autograder.data.{settings.profile}")
    wanted = module.downloads(settings) if hasattr(module, "downloads") else []
    if not wanted:
        say(f"fetch: profile {settings.profile!r} needs no downloads (nothing to do).")
        return []
    folder = downloads_dir(settings)
    done = [fetch_one(download, folder, say) for download in wanted]
    if not any(done):
        say(f"fetch: already fetched and verified in {folder} (nothing to do).")
    else:
        say(f"fetch: done; files are in {folder}.")
    return [folder / download.name for download in wanted]


def downloads_dir(settings) -> Path:
    """Where fetched files live. Shared by profiles (the folder profile reuses MobileNetV2)."""
    return settings.cache_dir / "flowers" / "downloads"
