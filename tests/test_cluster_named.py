"""Named clusters from CLUSTERS in course_config.py: the SLURM and PBS job scripts dask-jobqueue would
submit (no job is submitted: there is no batch system here), the configuration errors, the missing
packages, and a real LocalCluster. Fast: no grading, no notebooks."""
from __future__ import annotations

import re
import sys
import types

import pytest
from course_copies import write_config

from autograder.course import config
from autograder.grading.cluster import named

SLURM = {"queue": "grading", "account": "cs-231", "cores": 6, "memory": "12GB", "walltime": "00:45:00",
         "python": "/opt/labkit/venv/bin/python", "job_script_prologue": ["module load bubblewrap"],
         "local_directory": "/scratch/dask-worker-space", "jobs": 5, "course_files": "paths"}
PBS = {"queue": "workq", "cores": 4, "memory": "8GB", "walltime": "01:00:00", "jobs": 2}
WORKER_COMMAND = re.compile(r"^(?P<python>\S+) -m distributed\.cli\.dask_worker (?P<scheduler>tcp://\S+) (?P<args>.*)$",
                            re.M)


def settings_with(tmp_path, clusters) -> config.Settings:
    """The shipped course_config.py copied to tmp_path with CLUSTERS appended, loaded as the kit does."""
    return config.load(write_config(tmp_path, CLUSTERS=clusters))


def worker_command(script: str) -> re.Match:
    match = WORKER_COMMAND.search(script)
    assert match, f"no dask worker command in the job script:\n{script}"
    return match


def test_slurm_job_script_asks_for_what_course_config_says(tmp_path):
    script = named.job_script("slurm", settings_with(tmp_path, {"slurm": SLURM}))
    header = [line for line in script.splitlines() if line.startswith("#SBATCH")]
    for directive in ("-p grading", "-A cs-231", "--cpus-per-task=6", "--mem=12G", "-t 00:45:00"):
        assert f"#SBATCH {directive}" in header, f"#SBATCH {directive} missing from:\n{script}"
    command = worker_command(script)
    assert command["python"] == "/opt/labkit/venv/bin/python"      # the kit's venv on the compute nodes
    arguments = command["args"].split()
    # One worker process per job, one thread per submission graded at once.
    assert arguments[arguments.index("--nthreads") + 1] == "6"
    assert "--nworkers" not in arguments
    assert arguments[arguments.index("--local-directory") + 1] == "/scratch/dask-worker-space"
    assert script.index("module load bubblewrap") < command.start()   # the prologue runs first


def test_slurm_worker_uses_the_graders_python_by_default(tmp_path):
    entry = {key: value for key, value in SLURM.items() if key != "python"}
    script = named.job_script("slurm", settings_with(tmp_path, {"slurm": entry}))
    assert worker_command(script)["python"] == sys.executable


def test_slurm_scales_to_the_configured_jobs_or_to_jobs_given(tmp_path, monkeypatch):
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    asked = []   # scale() is recorded, never run: it would call sbatch

    def record_scale(self, n=None, **size):
        if size:                    # close() scales to 0 workers: nothing to record
            asked.append(size)

    monkeypatch.setattr(dask_jobqueue.SLURMCluster, "scale", record_scale)
    settings = settings_with(tmp_path, {"slurm": SLURM})
    for jobs in (None, 9):
        cluster = named.make_cluster("slurm", settings, jobs=jobs)
        try:
            assert isinstance(cluster, dask_jobqueue.SLURMCluster)
            assert cluster.scheduler_address.startswith("tcp://")
        finally:
            cluster.close()
    assert asked == [{"jobs": 5}, {"jobs": 9}]


def test_pbs_job_script(tmp_path):
    script = named.job_script("pbs", settings_with(tmp_path, {"pbs": PBS}))
    assert "#PBS -q workq" in script
    assert re.search(r"^#PBS -l select=1:ncpus=4:mem=\d+MB$", script, re.M), script
    assert "#PBS -l walltime=01:00:00" in script
    arguments = worker_command(script)["args"].split()
    assert arguments[arguments.index("--nthreads") + 1] == "4"


def test_an_argument_dask_jobqueue_does_not_know_is_named(tmp_path):
    settings = settings_with(tmp_path, {"slurm": {**SLURM, "partition": "grading"}})
    with pytest.raises(named.ClusterError, match=r"CLUSTERS\['slurm'\].*SLURMCluster.*partition"):
        named.job_script("slurm", settings)


BAD_CLUSTERS = [
    ("slurm", r"CLUSTERS must be a dict whose keys are among \['local', 'slurm', 'pbs', 'gateway'\], got 'slurm'"),
    ({"kubernetes": {}}, r"CLUSTERS must be a dict whose keys are among .*, got \{'kubernetes': \{\}\} instead"),
    ({"slurm": ["cores", 4]}, r"CLUSTERS\['slurm'\] must be a dict of settings"),
    ({"slurm": {**SLURM, "jobs": 0}}, r"CLUSTERS\['slurm'\]\['jobs'\] must be a whole number >= 1, got 0"),
    ({"local": {"workers": 1.5}}, r"CLUSTERS\['local'\]\['workers'\] must be a whole number >= 1, got 1.5"),
    ({"gateway": {"course_files": "nfs"}},
     r"CLUSTERS\['gateway'\]\['course_files'\] must be one of \['paths', 'bundle'\], got 'nfs'"),
]


@pytest.mark.parametrize("clusters, message", BAD_CLUSTERS, ids=[str(i) for i in range(len(BAD_CLUSTERS))])
def test_bad_clusters_name_the_setting(tmp_path, clusters, message):
    with pytest.raises(config.ConfigError, match=message):
        settings_with(tmp_path, clusters)


def test_unknown_and_unconfigured_names(tmp_path):
    settings = settings_with(tmp_path, {"local": {"workers": 2}})
    with pytest.raises(named.ClusterError, match=r"one of \['local', 'slurm', 'pbs', 'gateway'\] or a scheduler "
                                                 r"address like tcp://host:8786, got 'kubernetes'"):
        named.make_cluster("kubernetes", settings)
    with pytest.raises(named.ClusterError, match=r"has no 'slurm' entry \(it has \['local'\]\); add one"):
        named.make_cluster("slurm", settings)
    with pytest.raises(named.ClusterError, match=r"job scripts exist for \['slurm', 'pbs'\] only"):
        named.job_script("local", settings)


@pytest.mark.parametrize("module, name, fix", [
    ("dask_gateway", "gateway", "labkit grade --cluster gateway needs the dask-gateway package: pip install dask-gateway"),
    ("dask_jobqueue", "slurm", "labkit grade --cluster slurm needs the dask-jobqueue package: pip install dask-jobqueue"),
])
def test_a_missing_package_says_what_to_install(tmp_path, monkeypatch, module, name, fix):
    settings = settings_with(tmp_path, {"slurm": SLURM, "gateway": {"address": "http://gateway.test"}})
    monkeypatch.setitem(sys.modules, module, None)   # import fails, whether or not it is installed
    with pytest.raises(named.ClusterError, match=re.escape(fix)):
        named.make_cluster(name, settings)


def test_gateway_gets_its_address_and_the_hubs_cluster_options(tmp_path, monkeypatch):
    calls = {}

    class FakeCluster:
        def scale(self, workers):
            calls["scale"] = workers

    class FakeGateway:
        def __init__(self, **options):
            calls["gateway"] = options

        def new_cluster(self, **options):
            calls["new_cluster"] = options
            return FakeCluster()

        def close(self):
            calls["closed"] = True

    monkeypatch.setitem(sys.modules, "dask_gateway", types.SimpleNamespace(Gateway=FakeGateway))
    entry = {"address": "https://hub.test/services/dask-gateway", "auth": "jupyterhub",
             "image": "registry.test/labkit-worker:1", "worker_cores": 2, "workers": 8}
    settings = settings_with(tmp_path, {"gateway": entry})
    assert isinstance(named.make_cluster("gateway", settings), FakeCluster)
    assert calls["gateway"] == {"address": "https://hub.test/services/dask-gateway", "auth": "jupyterhub"}
    assert calls["new_cluster"] == {"image": "registry.test/labkit-worker:1", "worker_cores": 2}
    assert calls["scale"] == 8
    named.make_cluster("gateway", settings, jobs=3)
    assert calls["scale"] == 3
    assert settings.clusters["gateway"] == entry   # the loaded settings are not consumed


def test_course_files_default_by_kind(tmp_path):
    settings = settings_with(tmp_path, {"slurm": SLURM, "pbs": PBS, "gateway": {"workers": 2}})
    assert [named.course_files(name, settings) for name in named.KINDS] == ["paths", "paths", "paths", "bundle"]
    settings = settings_with(tmp_path, {"gateway": {"course_files": "paths"}})
    assert named.course_files("gateway", settings) == "paths"


def test_shipped_examples_are_valid_once_uncommented(tmp_path):
    text = (config.REPO_ROOT / "course_config.py").read_text()
    start = text.index("CLUSTERS = {")
    end = text.index("\n}\n", start)
    uncommented = re.sub(r"^    # ", "    ", text[start:end], flags=re.M)
    (tmp_path / "course_config.py").write_text(text[:start] + uncommented + text[end:])
    settings = config.load(tmp_path / "course_config.py")
    assert list(settings.clusters) == list(named.KINDS)
    assert "#SBATCH -p normal" in named.job_script("slurm", settings)
    assert "#PBS -q workq" in named.job_script("pbs", settings)
    assert named.course_files("gateway", settings) == "bundle"


def workers_threads(cluster) -> list[int]:
    """Threads of each worker, as the scheduler sees them through a real client."""
    import distributed

    with distributed.Client(cluster) as client:
        return [worker["nthreads"] for worker in client.scheduler_info()["workers"].values()]


def test_local_starts_single_threaded_workers_and_closes(tmp_path):
    pytest.importorskip("distributed")
    settings = settings_with(tmp_path, {"local": {"workers": 2}})
    for jobs, expected in ((None, [1, 1]), (1, [1])):   # the entry's workers, then --jobs 1
        cluster = named.make_cluster("local", settings, jobs=jobs)
        try:
            assert cluster.dashboard_link.startswith("http")
            assert workers_threads(cluster) == expected
        finally:
            cluster.close()
        assert cluster.status.name == "closed"


def test_importing_dask_jobqueue_leaves_ctrl_c_to_labkit(tmp_path, monkeypatch):
    """dask_jobqueue replaces the SIGINT handler when first imported; the kit puts its own back."""
    import signal

    for module in [m for m in sys.modules if m == "dask_jobqueue" or m.startswith("dask_jobqueue.")]:
        monkeypatch.delitem(sys.modules, module)   # so that this import runs the package's code again
    before = signal.getsignal(signal.SIGINT)
    named.job_script("slurm", settings_with(tmp_path, {"slurm": SLURM}))
    assert signal.getsignal(signal.SIGINT) is before
