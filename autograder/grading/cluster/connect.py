"""The Dask client for `labkit grade --cluster`: a scheduler address, or a cluster named in course_config.py."""
from __future__ import annotations

import contextlib
import importlib.util

from autograder.grading.cluster.named import ClusterError


def is_address(spec: str) -> bool:
    return "://" in spec


@contextlib.contextmanager
def client_for(spec: str, settings, jobs: int | None, console):
    """Yield (client, course files default: "paths" or "bundle"); the cluster is closed after, if
    the kit started it. A bare address gets a bundle unless told otherwise: it always works."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("labkit grade --cluster needs Dask distributed: "
                           "pip install 'labkit-transfer-learning[cluster]'") from None
    cluster = None
    if is_address(spec):
        try:
            client = Client(spec, timeout="30s")
        except OSError as error:
            raise ClusterError(f"could not reach the Dask scheduler at {spec} ({error}); check the address, "
                               "and that `dask scheduler` runs there and its port is open to this machine") from None
        files = "bundle"
    else:
        from autograder.grading.cluster import named

        cluster = named.make_cluster(spec, settings, jobs)
        client = Client(cluster)
        files = named.course_files(spec, settings)
    try:
        console.print(f"Dask cluster: {client.scheduler.address}, dashboard {client.dashboard_link}")
        if not client.scheduler_info()["workers"]:   # a batch system's jobs may wait in its queue
            console.print("Waiting for the first Dask worker to join (Ctrl-C to stop)...")
            client.wait_for_workers(1)
        check_workers(client, settings)
        yield client, files
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def kit_fingerprint() -> str:
    """The sha256 of the kit's own source files: a worker with other source would grade otherwise."""
    import hashlib
    from pathlib import Path

    import autograder

    digest = hashlib.sha256()
    package = Path(autograder.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def check_workers(client, settings, fingerprint: str | None = None) -> None:
    """The workers there now run the grader's copy of the kit and, when grading is sandboxed, can
    start a sandbox; otherwise stop before any student is graded, naming the worker and the fix.
    Workers that join later (a batch system's queue) are checked by their first task."""
    answers = client.run(_worker_check, settings.sandbox, fingerprint or kit_fingerprint())
    problems = [f"{worker}: {problem}" for worker, problem in answers.items() if problem]
    if problems:
        raise ClusterError("the Dask workers cannot grade:\n  " + "\n  ".join(problems))


def _worker_check(sandboxed: bool, fingerprint: str) -> str:
    """'' when this worker can grade, else why not (runs on each worker)."""
    if importlib.util.find_spec("autograder") is None:
        return ("the kit is not installed in this worker's Python; install it there "
                "(pip install the kit's folder) or start the worker from the kit's venv")
    from autograder.grading.cluster.connect import kit_fingerprint

    if kit_fingerprint() != fingerprint:
        return ("expected the grader's copy of the kit, found other source files (another version, or "
                "local changes); install the same version on the workers and restart them")
    if sandboxed:
        from autograder.sandbox import SandboxUnavailable, preflight

        try:
            preflight()
        except SandboxUnavailable as error:
            return str(error)
    return ""
