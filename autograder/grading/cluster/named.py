"""Named clusters from CLUSTERS in course_config.py: `labkit grade --cluster local|slurm|pbs|gateway`."""
from __future__ import annotations

import importlib
import os
import signal
import threading

from autograder.course.config import CLUSTER_KINDS

KINDS = CLUSTER_KINDS                      # ("local", "slurm", "pbs", "gateway"), validated in config
JOBQUEUE_CLASSES = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}
OWN_KEYS = ("jobs", "workers", "course_files")   # the kit's keys; everything else goes to Dask
GATEWAY_CLIENT_KEYS = ("address", "proxy_address", "public_address", "auth")   # for Gateway(...)
PACKAGES = {  # import name -> (package, what to install)
    "distributed": ("distributed", "'dask[distributed]'"),
    "dask_jobqueue": ("dask-jobqueue", "dask-jobqueue"),
    "dask_gateway": ("dask-gateway", "dask-gateway"),
}


class ClusterError(RuntimeError):
    """A cluster cannot be made from the configuration or the installed packages."""


def _require(module: str, name: str):
    """Import a Dask deployment package lazily, so that a plain `labkit grade` needs none of them."""
    ctrl_c = signal.getsignal(signal.SIGINT)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package, install = PACKAGES[module]
        raise ClusterError(f"labkit grade --cluster {name} needs the {package} package: "
                           f"pip install {install}") from exc
    finally:
        # dask_jobqueue's runner module replaces the SIGINT handler when imported (sys.exit on
        # Ctrl-C); labkit keeps its own, which stops a batch cleanly
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, ctrl_c)


def _entry(name: str, settings) -> dict:
    """A copy of CLUSTERS[name] (the settings stay frozen); `local` works without an entry."""
    if name not in KINDS:
        raise ClusterError(f"--cluster must be one of {list(KINDS)} or a scheduler address like "
                           f"tcp://host:8786, got {name!r} instead.")
    if name not in settings.clusters and name != "local":
        raise ClusterError(f"CLUSTERS in {settings.config_file} has no {name!r} entry (it has "
                           f"{sorted(settings.clusters)}); add one, see docs/cluster/{name}.md.")
    return dict(settings.clusters.get(name, {}))


def course_files(name: str, settings) -> str:
    """How the workers reach the course files: "paths" (a shared filesystem) or "bundle" (sent once
    per worker); default "bundle" for gateway (Kubernetes pods share no filesystem), else "paths"."""
    entry = _entry(name, settings)
    return entry.get("course_files", "bundle" if name == "gateway" else "paths")


def make_cluster(name: str, settings, jobs: int | None = None):
    """A started Dask cluster for CLUSTERS[name]. `jobs` (labkit grade --jobs) overrides the entry's
    size: workers for local and gateway, batch jobs for slurm and pbs."""
    entry = _entry(name, settings)
    size = {key: entry.pop(key, None) for key in OWN_KEYS}
    if name == "local":
        return _local(entry, jobs or size["workers"] or os.cpu_count() or 1)
    if name == "gateway":
        return _gateway(entry, jobs or size["workers"] or 1)
    cluster = _jobqueue(name, entry)
    cluster.scale(jobs=jobs or size["jobs"] or 1)   # submits the batch jobs
    return cluster


def job_script(name: str, settings) -> str:
    """The batch script dask-jobqueue submits for each job of CLUSTERS[name] (slurm or pbs); no job
    is submitted (that happens on scale)."""
    if name not in JOBQUEUE_CLASSES:
        raise ClusterError(f"job scripts exist for {list(JOBQUEUE_CLASSES)} only, got {name!r} instead.")
    entry = _entry(name, settings)
    for key in OWN_KEYS:
        entry.pop(key, None)
    cluster = _jobqueue(name, entry)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def _local(entry: dict, workers: int):
    distributed = _require("distributed", "local")
    # One thread per worker process: each task starts its own grading process anyway.
    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0", **entry}
    return distributed.LocalCluster(n_workers=workers, **options)


def _jobqueue(name: str, entry: dict):
    """A SLURMCluster or PBSCluster; constructing it starts only the scheduler, here, and no job."""
    jobqueue = _require("dask_jobqueue", name)
    cls = getattr(jobqueue, JOBQUEUE_CLASSES[name])
    # One worker process per job whose threads each run one task; a task waits on its own fresh
    # grading process, so `cores` is how many submissions one job grades at once.
    entry.setdefault("processes", 1)
    # A random dashboard port: login nodes are shared, and the kit prints the link it gets.
    entry["scheduler_options"] = {"dashboard_address": ":0", **entry.get("scheduler_options", {})}
    try:
        return cls(**entry)
    except (TypeError, ValueError) as exc:
        raise ClusterError(f"CLUSTERS[{name!r}] in course_config.py was not accepted by dask-jobqueue's "
                           f"{cls.__name__}: {exc}\nUse the names of its arguments (queue, account, cores, "
                           f"memory, walltime, ...) or set them in ~/.config/dask/jobqueue.yaml.") from exc


def _gateway(entry: dict, workers: int):
    dask_gateway = _require("dask_gateway", "gateway")
    client_options = {key: entry.pop(key) for key in GATEWAY_CLIENT_KEYS if key in entry}
    gateway = dask_gateway.Gateway(**client_options)
    try:
        cluster = gateway.new_cluster(**entry)   # the rest are the hub's cluster options
    finally:
        gateway.close()   # the cluster keeps a client of its own
    cluster.scale(workers)
    return cluster
