"""`labkit sandbox-check`: start one sandboxed kernel the way grading does and show what it reaches.

`show` says whether everything that must be out of reach is; something reachable (or a kernel that
cannot work in its folder) is a sandbox that does not hold, and a sandbox that cannot start here
raises SandboxUnavailable, whose message says why (autograder.cli turns both into exit status 1)."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

MARK = "LABKIT-PROBE "


@dataclass
class Row:
    what: str
    found: str
    ok: bool


@contextlib.contextmanager
def listener():
    """A TCP server on the host's loopback; yields (port, accepted) where accepted is a list that
    gets an entry for every connection that reached it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(True)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        server.close()


def run_in_kernel(code: str, cwd: Path, env: dict, config: dict | None = None, timeout: float = 120) -> str:
    """Start a `labkit-sandbox` kernel in `cwd`, run `code`, shut it down; its stdout."""
    from jupyter_client import KernelManager
    from traitlets.config import Config

    from autograder.sandbox import KERNEL_NAME, ensure_kernelspec

    ensure_kernelspec()
    km = KernelManager(kernel_name=KERNEL_NAME, config=Config(config or {}))
    km.start_kernel(cwd=str(cwd), env=env)
    try:
        client = km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=timeout)
            chunks = []
            reply = client.execute_interactive(code, timeout=timeout, store_history=False,
                                               output_hook=lambda msg: chunks.append(
                                                   msg["content"].get("text", "") if msg["msg_type"] == "stream"
                                                   else ""))
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the probe failed in the kernel: {reply['content'].get('evalue', '')}")
            return "".join(chunks)
        finally:
            client.stop_channels()
    finally:
        km.shutdown_kernel(now=False)


def allowed_in(folder: Path, bound: list[Path]) -> set[str]:
    """Names a sandbox shows in `folder`: the first step towards each bound path below it."""
    names = set()
    for path in bound:
        if folder in path.parents:
            names.add(path.relative_to(folder).parts[0])
    return names


def check(settings, bwrap: str = "bwrap") -> list[Row]:
    """Start the kernel, probe, and judge every finding; the rows of the table."""
    from jupyter_core.paths import jupyter_runtime_dir

    from autograder.preprocessors.limited_execute import LimitedExecute
    from autograder.sandbox import cgroups, command, environment, leftovers, syscalls

    hard_mb = LimitedExecute(memory_limit_mb=settings.memory_limit_mb).hard_memory_mb()
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="labkit-check-") as scratch, listener() as (port, accepted):
        scratch = Path(scratch)
        work = scratch / "work"
        work.mkdir()
        witness = scratch / "host-file.txt"
        witness.write_text("a file of the host's /tmp\n")
        home = Path.home()
        places = {"the cache (CACHE_DIR)": settings.cache_dir, "the hidden split": settings.hidden_test_dir,
                  "course_config.py": settings.config_file, "the gradebook": settings.root / "gradebook.db",
                  "the repository": settings.root, "the grader's home": home,
                  "the Jupyter runtime dir": Path(jupyter_runtime_dir()),
                  "a file in the host's /tmp": witness, "/etc": Path("/etc")}
        writes = [folder / f"labkit-probe-{tag}.txt" for folder in
                  (settings.root, home, scratch, settings.cache_dir, Path("/tmp"), Path(sys.prefix), Path("/usr"))]
        targets = {"paths": {label: str(path) for label, path in places.items()},
                   "writes": [str(path) for path in writes], "port": port, "host_pid": os.getpid(),
                   "host_cmdline": Path(f"/proc/{os.getpid()}/cmdline").read_bytes().decode(errors="replace")}
        code = ("import json\nfrom autograder.sandbox.reach import probe\n"
                f"print({MARK!r} + json.dumps(probe(json.loads({json.dumps(targets)!r}))))")
        env = {**os.environ, "LABKIT_CONFIG": str(settings.config_file), "LABKIT_CACHE": str(settings.cache_dir),
               environment.RUN_MARK: f"sandbox-check-{tag}"}
        config = {"SandboxProvisioner": {"bwrap": bwrap, "memory_limit_mb": hard_mb}}
        output = run_in_kernel(code, work, env, config)
        found = json.loads(next(line[len(MARK):] for line in output.splitlines() if line.startswith(MARK)))
        written_on_host = [path for path in writes if path.exists()]
        for path in written_on_host:
            path.unlink()   # the probe's own file, named with this run's tag
        in_work = (work / "labkit-probe.txt").is_file()
        host_tmp = set(os.listdir("/tmp"))
    bound = [*command.readonly_paths(), work]
    rows = [Row("network", f"connecting to 127.0.0.1:{port} (a server this check opened): {found['network']}; "
                f"interfaces: {', '.join(found['interfaces']) or 'none'}",
                not accepted and found["network"] != "connected"),
            Row("environment", "LABKIT_* and tokens: " + (", ".join(found["env"]) or "none"), not found["env"])]
    for label, path in places.items():
        seen = found["paths"][label]
        if path.is_dir() or isinstance(seen, list):
            extra = sorted(set(seen or []) - allowed_in(path, bound) - (set(command.ETC) | set(command.etc_files(0))
                                                                         if label == "/etc" else set()))
            text = ("not there" if seen is None else
                    f"only what the kernel needs ({', '.join(seen) or 'empty'})" if not extra else
                    f"VISIBLE: {', '.join(extra[:6])}{' ...' if len(extra) > 6 else ''}")
            rows.append(Row(label, f"{path}: {text}", not extra))
        else:
            rows.append(Row(label, f"{path}: {'not there' if seen is None else 'VISIBLE, ' + seen}", seen is None))
    # the folders on the way to what the sandbox binds on purpose (a kit checked out under /tmp, say)
    on_the_way = {Path(p).relative_to("/tmp").parts[0] for p in bound
                  if Path(p).is_relative_to("/tmp") and Path(p) != Path("/tmp")}
    leaked_tmp = sorted((set(found["tmp"]) & host_tmp) - {scratch.name} - on_the_way
                        - {n for n in found["tmp"] if n.startswith("lk-")})
    rows.append(Row("other paths under the host's /tmp",
                    "none visible" if not leaked_tmp else "VISIBLE: " + ", ".join(leaked_tmp[:6]), not leaked_tmp))
    rows.append(Row("writing outside its working folder",
                    f"tried {len(writes)} places (repository, home, cache, /tmp, the venv, /usr, the folder "
                    "above): " + ("none written on the host" if not written_on_host else
                                  "WRITTEN: " + ", ".join(map(str, written_on_host))), not written_on_host))
    rows.append(Row("writing its working folder", "works" if in_work else "FAILS: grading would break", in_work))
    root_inside = found["uid"] == 0 or found["capabilities"].strip("0") != ""
    rows.append(Row("uid", f"uid {found['uid']}, gid {found['gid']}, capabilities {found['capabilities']}",
                    not root_inside))
    rows.append(Row("pid namespace", f"kernel is pid {found['pid']}, sees {found['processes']} processes; the "
                    f"grader's process {'is VISIBLE' if found['host_pid_visible'] else 'is not visible'}",
                    not found["host_pid_visible"]))
    soft = found["nproc"][0]
    limited = cgroups.available()
    rows.append(Row("process limit", f"RLIMIT_NPROC {'unlimited' if soft < 0 else soft}; {limited}",
                    soft >= 0 or "pids" in limited))
    rows.append(Row("memory limit", (f"hard limit {hard_mb} MB by cgroup" if "memory" in limited else
                                     "no cgroup here: the grader's memory watcher only")
                    + f"; the watcher stops the kernel at {settings.memory_limit_mb} MB", True))
    refused = {name: said for name, said in found["system_calls"].items() if said != "allowed"}
    allowed = sorted(set(found["system_calls"]) - set(refused))
    rows.append(Row("system calls", f"seccomp filter ({syscalls.describe()}); tried from inside: "
                    + ("all refused" if not allowed else "ALLOWED: " + ", ".join(allowed)), not allowed))
    rows.append(Row("disk limit", f"the kernel is stopped past {settings.disk_limit_mb} MB written into its "
                    "folder (polled), then the largest files it wrote are removed; 1 GB per file", True))
    swept = leftovers.last_sweep
    rows.append(Row("leftovers of killed graders", (f"removed at start: {len(swept)} ({', '.join(swept[:3])})"
                                                    if swept else "none found at start"), True))
    return rows


def table(rows: list[Row]):
    from rich.table import Table

    out = Table(title="What a sandboxed grading kernel can reach")
    out.add_column("what")
    out.add_column("from inside the kernel")
    out.add_column("verdict")
    for row in rows:
        out.add_row(row.what, row.found, "[green]ok[/]" if row.ok else "[red]REACHABLE[/]")
    return out


def show(settings, bwrap: str = "bwrap") -> bool:
    """Print the table of what a sandboxed kernel reaches; True when the sandbox holds. Raises
    SandboxUnavailable (with the cause and the fix) when it cannot start here."""
    from rich.console import Console

    from autograder.sandbox import preflight

    console = Console()
    if not settings.sandbox:
        console.print("[yellow]SANDBOX = False in course_config.py: grading kernels are NOT sandboxed. "
                      "Below is what they would get with SANDBOX = True.[/]")
    preflight(bwrap)
    rows = check(settings, bwrap=bwrap)
    console.print(table(rows))
    bad = [row.what for row in rows if not row.ok]
    console.print(f"[red]reachable: {', '.join(bad)}[/]" if bad else "[green]the sandbox holds[/]")
    return not bad
