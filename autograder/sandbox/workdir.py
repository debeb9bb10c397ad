"""The kernel's working folder: refused if it would expose the machine, lent to the kernel's uid.

When the grader is root the kernel runs as another uid, which must be able to write its working
folder (the grader's private copy of the submission). `lend` gives the folder tree to that uid and
remembers the owners; `take_back` returns everything, including what the kernel created, once the
kernel has ended. Links are never followed: a submission may carry a symlink to any file."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


class UnsafeFolder(ValueError):
    """The folder asked for as the kernel's working folder holds things the kernel must not see."""


def _protected() -> list[Path]:
    """Folders a working folder must not be, nor contain."""
    import autograder

    places = [Path.home(), Path(sys.prefix), Path(sys.base_prefix), Path(autograder.__file__).parent,
              Path(tempfile.gettempdir()), Path("/tmp"), *map(Path, ("/usr", "/etc", "/var", "/root", "/home",
                                                                    "/srv", "/opt", "/boot", "/run"))]
    return [place.resolve() for place in places]


def check(folder: str | os.PathLike) -> Path:
    """The resolved folder, or UnsafeFolder when it is, or contains, one of the protected places."""
    path = Path(folder).resolve()
    if not path.is_dir():
        raise UnsafeFolder(f"the kernel's working folder {path} is not a folder")
    for place in _protected():
        if path == place or path in place.parents:
            raise UnsafeFolder(f"refusing {path} as a sandboxed kernel's working folder: it is or contains "
                               f"{place}; grade in a folder of its own")
    return path


def lend(folder: Path, uid: int, gid: int) -> dict[str, tuple[int, int]]:
    """Make the tree under `folder` the kernel uid's; the owners it had, by path."""
    owners = {}
    for path in _walk(folder):
        info = os.lstat(path)
        if (info.st_uid, info.st_gid) != (uid, gid):
            owners[path] = (info.st_uid, info.st_gid)
            os.chown(path, uid, gid, follow_symlinks=False)
    return owners


def take_back(folder: Path, uid: int, owners: dict[str, tuple[int, int]]) -> None:
    """After the kernel: the lent entries get their owners back, new ones the folder's owner."""
    default = owners.get(str(folder))
    if default is None:
        return
    for path in _walk(folder):
        try:
            if os.lstat(path).st_uid == uid:
                os.chown(path, *owners.get(path, default), follow_symlinks=False)
        except OSError:
            continue


def _walk(folder: Path):
    """The folder and every entry below it, without following links."""
    yield str(folder)
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in (*dirs, *files):
            yield os.path.join(root, name)

