"""Process-count and memory limits for one kernel by cgroup, where the machine lets the grader
make one (root, cgroup v1 controllers or a cgroup v2 tree that delegates them); else nothing.

The cgroup is made under the grader's own, so whatever limits the grader itself runs under still
hold. Everything the kernel starts stays in it (a double fork does not leave a cgroup), so the
limits count the whole sandbox. When no cgroup can be made, RLIMIT_NPROC (set inside the sandbox)
is the process limit and the grader's memory watcher is the only memory limit."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

CONTROLLERS = ("pids", "memory")
NAME_PREFIX = "labkit-sandbox-"


def _mounts() -> tuple[dict[str, Path], Path | None]:
    """cgroup v1 mount point per controller, and the cgroup v2 mount point (if any)."""
    v1, v2 = {}, None
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        if fields[2] == "cgroup":
            for option in fields[3].split(","):
                if option in CONTROLLERS:
                    v1[option] = Path(fields[1])
        elif fields[2] == "cgroup2":
            v2 = Path(fields[1])
    return v1, v2


def _own_paths() -> tuple[dict[str, str], str | None]:
    """This process's cgroup path per v1 controller, and its v2 path."""
    v1, v2 = {}, None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        number, controllers, path = line.split(":", 2)
        if number == "0" and not controllers:
            v2 = path
        for controller in controllers.split(","):
            if controller in CONTROLLERS:
                v1[controller] = path
    return v1, v2


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


class Cgroup:
    """The cgroups (one per v1 controller, or one v2 group) that hold one kernel."""

    def __init__(self, folders: list[Path], limited: list[str]):
        self.folders, self.limited = folders, limited   # limited: e.g. ["pids", "memory"]

    @property
    def procs_files(self) -> list[str]:
        """The files the kernel's first process writes its pid to."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def add(self, pid: int) -> None:
        """Move a running process into the groups; what it starts from then on stays in them."""
        for procs in self.procs_files:
            _write(Path(procs), str(pid))

    def oom_kills(self) -> int:
        """How many of the group's processes the kernel killed for going over the memory limit."""
        for folder in self.folders:
            for name in ("memory.oom_control", "memory.events"):   # cgroup v1, v2
                try:
                    lines = (folder / name).read_text().splitlines()
                except OSError:
                    continue
                for line in lines:
                    key, _, count = line.partition(" ")
                    if key == "oom_kill" and count.strip().isdigit():
                        return int(count)
        return 0

    def remove(self, wait: float = 3.0) -> None:
        """Remove the groups once the processes in them are gone (they die with the sandbox)."""
        deadline = time.monotonic() + wait
        for folder in self.folders:
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


def create(max_processes: int, memory_mb: int) -> Cgroup | None:
    """A cgroup with these limits (0: no such limit), or None when none can be made."""
    name = f"{NAME_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"   # the owner's pid: see sweep
    v1_mounts, v2_mount = _mounts()
    v1_paths, v2_path = _own_paths()
    group = Cgroup([], [])
    try:
        if max_processes and "pids" in v1_mounts and "pids" in v1_paths:
            folder = _make(group, v1_mounts["pids"], v1_paths["pids"], name)
            _write(folder / "pids.max", str(max_processes))
            group.limited.append("pids")
        if memory_mb and "memory" in v1_mounts and "memory" in v1_paths:
            folder = _make(group, v1_mounts["memory"], v1_paths["memory"], name)
            _write(folder / "memory.limit_in_bytes", str(memory_mb * 2**20))
            if (folder / "memory.memsw.limit_in_bytes").exists():  # memory plus swap, where accounted
                _write(folder / "memory.memsw.limit_in_bytes", str(memory_mb * 2**20))
            group.limited.append("memory")
        if not group.folders and v2_mount is not None and v2_path is not None:
            _v2(group, v2_mount, v2_path, name, max_processes, memory_mb)
    except OSError:  # not root, a read-only cgroup file system, controllers not delegated
        group.remove(wait=0)
        return None
    return group if group.limited else None


def _make(group: Cgroup, mount: Path, own: str, name: str) -> Path:
    folder = mount / own.lstrip("/") / name
    folder.mkdir()
    group.folders.append(folder)
    return folder


def _v2(group: Cgroup, mount: Path, own: str, name: str, max_processes: int, memory_mb: int) -> None:
    """A v2 group under the grader's own; that one must offer the controllers to its children."""
    parent = mount / own.lstrip("/")
    offered = (parent / "cgroup.controllers").read_text().split()
    wanted = [c for c in CONTROLLERS if c in offered and (memory_mb if c == "memory" else max_processes)]
    if not wanted:
        return
    _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    folder = _make(group, mount, own, name)
    if "pids" in wanted:
        _write(folder / "pids.max", str(max_processes))
    if "memory" in wanted:
        _write(folder / "memory.max", str(memory_mb * 2**20))
        if (folder / "memory.swap.max").exists():
            _write(folder / "memory.swap.max", "0")
    group.limited.extend(wanted)


def sweep(alive) -> list[str]:
    """Remove the kit's cgroups beside where this grader makes its own whose owner pid is not
    `alive` (a grader killed before it could remove them); a cgroup that still holds a process
    cannot be removed and stays."""
    v1_mounts, v2_mount = _mounts()
    v1_paths, v2_path = _own_paths()
    parents = {v1_mounts[c] / v1_paths[c].lstrip("/") for c in v1_mounts if c in v1_paths}
    if v2_mount is not None and v2_path is not None:
        parents.add(v2_mount / v2_path.lstrip("/"))
    removed = []
    for parent in parents:
        for folder in parent.glob(f"{NAME_PREFIX}*"):
            owner = folder.name[len(NAME_PREFIX):].split("-")[0]
            if not owner.isdigit() or alive(int(owner)):
                continue
            try:
                folder.rmdir()
                removed.append(str(folder))
            except OSError:
                continue
    return removed


def available() -> str:
    """What `create` would give here, in words (for `labkit sandbox-check`)."""
    group = create(64, 64)
    if group is None:
        return "no cgroup (process limit by RLIMIT_NPROC; memory by the grader's watcher only)"
    group.remove()
    return "cgroup: " + " and ".join(group.limited)
