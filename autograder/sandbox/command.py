"""The bubblewrap command line that runs a kernel command in the sandbox."""
from __future__ import annotations

import functools
import shlex
import site
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# /etc entries programs need (the dynamic linker, fonts for matplotlib and graphviz, time zone,
# alternatives behind some /usr/bin links); the rest of /etc stays out.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "timezone", "nsswitch.conf",
       "alternatives", "mime.types")
MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")   # links into /usr on merged-/usr systems
MOUNTED = {Path(p) for p in ("/", "/usr", "/proc", "/dev", "/tmp")}   # mounted before any bind
HOST_TREES = {Path(p) for p in ("/usr", "/proc", "/dev")}   # their folders exist: nothing to make
MAX_FILE_MB = 1024     # RLIMIT_FSIZE: no single file larger (a saved model is a few MB)
FILTER_FD = 3          # the descriptor bubblewrap reads the seccomp filter from


@dataclass
class Layout:
    """Everything one sandbox is made of."""

    uid: int                       # the kernel's uid (inside the user namespace when not root)
    cwd: Path                      # the working folder, bound read-write
    sockets: Path                  # the ZMQ sockets and connection file, bound read-write
    etc: Path                      # host folder holding the generated passwd, group and hosts
    env: dict                      # the kernel's whole environment
    as_root: bool                  # grader is root: no user namespace, drop to `uid` with setpriv
    bwrap: str = "bwrap"
    max_processes: int = 512
    tmp_mb: int = 1024             # size of the private /tmp (and of /dev/shm)
    cgroup_procs: list = field(default_factory=list)   # cgroup.procs files to join first
    seccomp: Path | None = None    # the compiled seccomp filter (autograder.sandbox.syscalls), outside the sandbox


def readonly_paths() -> list[Path]:
    """The Python installation (venv and base) and the kit's package: nothing else of the host's."""
    import autograder

    wanted = [Path(sys.base_prefix), Path(sys.prefix), Path(autograder.__file__).parent]
    if site.ENABLE_USER_SITE and site.USER_SITE and Path(site.USER_SITE).is_dir():
        wanted.append(Path(site.USER_SITE))
    paths = []
    for path in wanted:
        for variant in dict.fromkeys((path.absolute(), path.resolve())):
            if Path("/usr") not in (variant, *variant.parents) and variant not in paths:
                paths.append(variant)
    return paths


def etc_files(uid: int) -> dict[str, str]:
    """The generated /etc/passwd, /etc/group and /etc/hosts: the kernel's uid has a name, HOME /tmp."""
    users = [("root", 0, "/root"), ("nobody", 65534, "/nonexistent")]
    if uid not in (0, 65534):
        users.append(("student", uid, "/tmp"))
    return {
        "passwd": "".join(f"{name}:x:{n}:{n}:{name}:{home}:/usr/sbin/nologin\n" for name, n, home in users),
        "group": "".join(f"{name}:x:{n}:\n" for name, n, _ in users),
        "hosts": "127.0.0.1 localhost\n::1 localhost\n",
    }


@functools.lru_cache(maxsize=8)
def supports(bwrap: str) -> frozenset:
    """The options of ours that this bubblewrap knows (--size came in 0.7, --disable-userns in 0.8)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(option for option in ("--size", "--disable-userns") if option in text)


def build(layout: Layout, kernel_cmd: list[str]) -> list[str]:
    """The command: join the cgroups, bwrap with the namespaces and mounts, limits, drop to the uid."""
    known = supports(layout.bwrap)
    args = [layout.bwrap]
    if layout.as_root:
        # no user namespace: as root it would map root to root only, and setpriv could not drop
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        # --unshare-all only tries the user namespace; --disable-userns needs it for certain
        args += ["--unshare-all", "--unshare-user", "--uid", str(layout.uid), "--gid", str(layout.uid)]
        args += ["--disable-userns"] if "--disable-userns" in known else []
    args += ["--die-with-parent", "--new-session", "--hostname", "labkit-sandbox", "--clearenv"]
    args += ["--seccomp", str(FILTER_FD)] if layout.seccomp else []
    for name, value in sorted(layout.env.items()):
        args += ["--setenv", name, value]
    args += _system_mounts(layout, known)
    made = set()
    for path in readonly_paths():
        args += _bind("--ro-bind", path.resolve(), path, made)
    for name in ETC:
        if Path("/etc", name).exists():
            args += _bind("--ro-bind", Path("/etc", name), Path("/etc", name), made)
    for name in etc_files(layout.uid):
        args += _bind("--ro-bind", layout.etc / name, Path("/etc", name), made)
    # after --tmpfs /tmp, so that these show through it when they live under /tmp
    args += _bind("--bind", layout.sockets, layout.sockets, made)
    args += _bind("--bind", layout.cwd, layout.cwd, made)
    # the sandbox's own root (the folders bubblewrap made for the mounts) read-only: in a user
    # namespace the kernel's uid would own them
    args += ["--remount-ro", "/", "--chdir", str(layout.cwd), "--"]
    args += ["prlimit", f"--nproc={layout.max_processes}", "--core=0",
             f"--fsize={MAX_FILE_MB * 2**20}", "--"]
    if layout.as_root:
        args += ["setpriv", f"--reuid={layout.uid}", f"--regid={layout.uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    args += list(kernel_cmd)
    # a shell first: it opens the filter for bubblewrap (which reads and closes it) and joins the
    # cgroups, so that everything after it is inside them
    prelude = [f"exec {FILTER_FD}< {shlex.quote(str(layout.seccomp))}"] if layout.seccomp else []
    prelude += [f"echo $$ > {shlex.quote(path)}" for path in layout.cgroup_procs]
    if prelude:
        args = ["/bin/sh", "-c", " && ".join(prelude) + ' && exec "$@"', "labkit-sandbox", *args]
    return args


def _bind(option: str, source: Path, dest: Path, made: set) -> list[str]:
    """A bind, after the folders leading to it: bubblewrap would make those mode 0700, which the
    kernel's uid could not pass through."""
    args = []
    for parent in reversed(dest.parents):
        if parent in made or parent in MOUNTED or HOST_TREES & set(parent.parents):
            continue
        made.add(parent)
        args += ["--perms", "0755", "--dir", str(parent)]
    return [*args, option, str(source), str(dest)]


def _system_mounts(layout: Layout, known: frozenset) -> list[str]:
    """/usr read-only (and its /bin, /lib links), a fresh /proc and /dev, private /tmp and /dev/shm."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in MERGED:
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", str(path.readlink()), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    size = ["--size", str(layout.tmp_mb * 2**20)] if "--size" in known else []
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", *size, "--tmpfs", "/dev/shm"]
    args += ["--perms", "1777", *size, "--tmpfs", "/tmp"]
    return args
