"""The Linux accounts of the hub check: made with a mark in their comment field, and removed (with
their homes and processes) only when they carry it, so that an account this check did not make is
never touched.

    python accounts.py create grader-dl-transfer-lab instructor1 student1 ...
    python accounts.py remove
"""
from __future__ import annotations

import pwd
import subprocess
import sys

MARK = "labkit hub check"


def ours() -> list[str]:
    return [entry.pw_name for entry in pwd.getpwall() if entry.pw_gecos == MARK]


def create(names: list[str]) -> None:
    """Make each account with a home (Debian's default mode); refuse if one exists without the mark."""
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", MARK, name],
                           check=True, timeout=60)
            continue
        if entry.pw_gecos != MARK:
            raise SystemExit(f"account {name} already exists and was not made by the hub check; "
                             "run the check on a machine without it (it would be changed and removed)")


def remove() -> list[str]:
    """Stop the marked accounts' processes, then delete the accounts and their homes."""
    names = ours()
    for name in names:
        subprocess.run(["pkill", "-KILL", "-u", name], timeout=30)
    for name in names:
        subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)
    return names


if __name__ == "__main__":
    if sys.argv[1:2] == ["create"]:
        create(sys.argv[2:])
    elif sys.argv[1:2] == ["remove"]:
        print("removed:", " ".join(remove()) or "none")
    else:
        raise SystemExit(__doc__)
