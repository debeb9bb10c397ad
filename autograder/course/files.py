"""File helpers every room uses: the sha256 of a file, and the one way the kit writes a file so that
a reader never sees it half-written. No heavy imports, so the light entry points can use it."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(target: str | Path, keep_suffix: bool = False) -> Iterator[Path]:
    """A partial file next to `target` to write into: when the block ends it replaces `target` in one
    step; when the block fails it is removed and `target` is left as it was. The partial's name starts
    with a dot and ends in ".partial-<pid>", so nbgrader (".*.partial-*") and a reader globbing
    "*.json" skip one that a killed process left; `keep_suffix` ends it in the target's suffix
    instead, for writers that choose the format by it (Keras)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    ending = f".partial-{os.getpid()}" + (target.suffix if keep_suffix else "")
    partial = target.with_name(f".{target.stem if keep_suffix else target.name}{ending}")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        if partial.exists() or partial.is_symlink():
            partial.unlink()


def write_text_atomic(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(target) as partial:
        partial.write_text(text, encoding=encoding)
    return Path(target)


def write_json_atomic(target: str | Path, data, indent: int | None = None) -> Path:
    return write_text_atomic(target, json.dumps(data, indent=indent))


def copy_atomic(source: str | Path, target: str | Path) -> Path:
    with atomic_path(target) as partial:
        shutil.copyfile(source, partial)
    return Path(target)
