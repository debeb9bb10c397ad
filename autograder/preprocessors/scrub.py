"""After the kernel has ended: leave only real folders and regular files in its working copy.

The grader writes the autograded notebook into the working copy and reads the saved model and the
capture from it; a symbolic link planted there would send those writes or reads anywhere the grader
can reach (another student's gradebook, the course's). A FIFO would block the grader, and a hard
link could tie a file there to one elsewhere. The working copy is the grader's own copy, so what is
removed here was made by the notebook."""
from __future__ import annotations

import os
import stat
from pathlib import Path


def scrub(folder: str | Path) -> list[str]:
    """Remove every link, special file and multiply-linked file under `folder`; their relative paths."""
    folder = Path(folder)
    removed, pending = [], [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
            elif not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                try:
                    os.unlink(entry.path)
                    removed.append(str(Path(entry.path).relative_to(folder)))
                except OSError:
                    pass
    return sorted(removed)
