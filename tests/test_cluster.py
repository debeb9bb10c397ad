"""`labkit grade --cluster` against a real Dask scheduler and two workers, as separate processes
over 127.0.0.1, on the small course built in code: the same grades.csv as the local path, a memory
bomb that ends only its own kernel, and a worker killed mid-batch that loses and duplicates nothing."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import grading_helpers as helpers
import psutil
import pytest

from autograder.course import config
from autograder.course.records import BAD_NOTEBOOK, KERNEL_DIED, MEMORY_LIMIT, MISSING_NOTEBOOK, OK
from autograder.grading import runner
from autograder.grading.cluster import bundle, dispatch

pytestmark = pytest.mark.slow
DASK = Path(sys.executable).parent / "dask"
EXPECTED = {"alice": OK, "carol": OK, "dave": KERNEL_DIED, "erin": MEMORY_LIMIT, "gina": BAD_NOTEBOOK,
            "lost": MISSING_NOTEBOOK, "sam": OK}
# a kernel that searches its filesystem for the course files (the bundle lies on the Dask worker's
# disk); finding any makes its answer wrong, so it loses the activity's
# points. (The folders leading to its own working copy exist, empty, so that it can be mounted.)
SNOOP = """import os
found = []
for folder, subfolders, files in os.walk('/'):
    subfolders[:] = [s for s in subfolders if os.path.join(folder, s) not in ('/proc', '/sys', '/dev', '/usr')
                     and s not in ('site-packages', 'lib', 'lib64', 'include', 'bin', 'share')]
    found += [os.path.join(folder, f) for f in files if f in ('course_config.py', 'template.db', 'scheduler.json')]
    found += [folder] if os.path.basename(folder) == 'hidden_test' else []
squares = found or [i * i for i in range(5)]
"""


def build_submissions(release: Path, folder: Path) -> None:
    write = lambda student, notebook: helpers.write_submission(folder, student, notebook)  # noqa: E731
    write("alice", helpers.solved(release))
    write("carol", helpers.solved(release, a02_squares="squares = [1, 2]"))
    write("dave", helpers.solved(release, a02_squares="import os\nos._exit(1)"))
    write("erin", helpers.solved(release, a02_squares="hog = []\nwhile True:\n    hog.append(b'x' * 2**25)"))
    write("gina", b'{"cells": [ this is not json')
    write("sam", helpers.solved(release, a02_squares=SNOOP))
    (folder / "lost" / helpers.ASSIGNMENT).mkdir(parents=True)
    (folder / "lost" / helpers.ASSIGNMENT / "notes.txt").write_text("I forgot the notebook")
    (folder / "alice" / helpers.ASSIGNMENT / "data.txt").write_text("a file beside the notebook")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    config_file = helpers.make_course(root / "course")
    release = helpers.generate_release(config_file)
    submitted = root / "course" / "submitted"
    build_submissions(release, submitted)
    settings = config.load(config_file)
    # no saved models in this course: verifying them would only say, with a path, that the split is missing
    local = runner.grade_class(settings, submitted, out=root / "local", jobs=2, progress=False, verify=False)
    return {"root": root, "settings": settings, "submitted": submitted, "local": local}


class LoopbackCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, as an admin would start them."""

    def __init__(self, folder: Path):
        self.folder, self.workers = folder, {}
        self.scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                                   "--dashboard-address", "127.0.0.1:0",
                                                   "--scheduler-file", str(self.scheduler_file)])
        self._wait(lambda: self.scheduler_file.is_file(), "the scheduler's file")
        self.address = json.loads(self.scheduler_file.read_text())["address"]

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen([str(DASK), *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)

    def add_worker(self, name: str, nanny: bool) -> None:
        """Under a nanny (as deployed: the worker process is daemonic), or without one: then the PID
        is the worker itself, which the test can kill with nothing to restart it."""
        self.workers[name] = self._start(name, ["worker", "--scheduler-file", str(self.scheduler_file),
                                                "--nthreads", "1", "--nanny" if nanny else "--no-nanny",
                                                "--host", "127.0.0.1", "--local-directory", str(self.folder / name),
                                                "--name", name, "--no-dashboard"])

    def wait_for_workers(self, client, count: int) -> None:
        self._wait(lambda: len(client.scheduler_info()["workers"]) == count, f"{count} workers")

    @staticmethod
    def _wait(condition, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
            time.sleep(0.2)

    def close(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    loopback = LoopbackCluster(tmp_path_factory.mktemp("dask"))
    loopback.add_worker("worker-a", nanny=False)
    loopback.add_worker("worker-b", nanny=True)
    observer = Client(loopback.address, timeout="30s")
    loopback.wait_for_workers(observer, 2)
    loopback.observer = observer
    yield loopback
    observer.close()
    loopback.close()


def by_status(batch) -> dict[str, tuple[str, float]]:
    return {r.student: (r.status, r.total) for r in batch.results}


def rows(csv_path: Path) -> dict[str, dict]:
    import csv

    with open(csv_path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_a_batch_on_the_cluster_equals_the_local_batch(course, cluster):
    assert by_status(course["local"])["sam"] == (OK, helpers.MAX_TOTAL)   # nothing of the course in sight
    pids = {name: process.pid for name, process in cluster.workers.items()}
    worker_pids = cluster.observer.run(os.getpid)   # under worker-b's nanny too: restarted, it would differ
    batch = runner.grade_class(course["settings"], course["submitted"], out=course["root"] / "on-cluster",
                               progress=False, verify=False,
                               cluster=cluster.address)   # an address: the course as a bundle
    assert {r.student: r.status for r in batch.results} == EXPECTED
    assert rows(batch.csv) == rows(course["local"].csv)
    for result in batch.results:   # written here by the grader's process, at the grader's paths
        page = Path(result.feedback_html)
        assert page.is_file() and page.is_relative_to(batch.out), result.student
    assert (batch.out / "autograded" / "alice" / helpers.ASSIGNMENT / f"{helpers.ASSIGNMENT}.ipynb").is_file()
    assert (batch.out / "logs" / "alice.log").is_file()
    # the memory bomb ended its own kernel: both Dask workers are the processes they were
    info = cluster.observer.scheduler_info()["workers"].values()
    assert sorted(w["name"] for w in info) == ["worker-a", "worker-b"]
    assert all(process.poll() is None for process in cluster.workers.values())
    assert {name: process.pid for name, process in cluster.workers.items()} == pids
    assert cluster.observer.run(os.getpid) == worker_pids


def test_workers_on_a_shared_filesystem_read_the_course_by_its_paths(course, cluster, tmp_path):
    chosen = tmp_path / "submitted"
    for student in ("alice", "carol"):
        (chosen / student).parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(course["submitted"] / student, chosen / student)
    batch = runner.grade_class(course["settings"], chosen, out=tmp_path / "out", progress=False, verify=False,
                               cluster=cluster.address, course_files="paths")
    local = rows(course["local"].csv)
    assert rows(batch.csv) == {student: local[student] for student in ("alice", "carol")}


def test_the_bundle_carries_the_course_and_never_the_raw_downloads(course, tmp_path):
    settings = course["settings"]
    downloads = settings.profile_cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    (downloads / "archive.tgz").write_bytes(b"raw")
    (settings.profile_cache / "hidden_test").mkdir(exist_ok=True)
    (settings.profile_cache / "hidden_test" / "0.png").write_bytes(b"hidden")
    template = tmp_path / "template.db"
    template.write_bytes(b"template")
    data, sha = bundle.build(settings, template)
    assert bundle.build(settings, template) == (data, sha)   # the same course, the same hash
    paths = bundle.unpacked(data, sha, tmp_path / "worker")
    assert Path(paths.config_file).read_text() == settings.config_file.read_text()
    assert (Path(paths.cache_dir) / settings.profile / "hidden_test" / "0.png").read_bytes() == b"hidden"
    assert not (Path(paths.cache_dir) / settings.profile / "downloads").exists()
    assert (Path(paths.config_file).parent / "release" / helpers.ASSIGNMENT / f"{helpers.ASSIGNMENT}.ipynb").is_file()
    assert Path(paths.template_db).read_bytes() == b"template"
    assert bundle.unpacked(b"other", sha, tmp_path / "worker") == paths   # found, not unpacked again
    with pytest.raises(ValueError, match="sha256"):
        bundle.unpacked(b"other", "0" * 64, tmp_path / "worker")


def test_a_request_in_bundle_mode_names_no_path_of_the_grader(course):
    batch = runner.Batch(course["settings"], course["root"] / "unused", 1, False, True)
    batch.source_sha = "s"
    from autograder.grading.submissions import discover

    found = {s.student: s for s in discover(course["submitted"], helpers.ASSIGNMENT,
                                            f"{helpers.ASSIGNMENT}.ipynb", course["root"] / "scratch")}
    request = dispatch.request_for(batch, found["alice"], {"bundle_sha256": "x"}, send_bytes=True)
    assert request["notebook_bytes"] == Path(found["alice"].notebook).read_bytes()
    assert request["folder_tar"]
    text = repr({k: v for k, v in request.items() if k not in ("notebook_bytes", "folder_tar")})
    assert str(course["root"]) not in text


def test_a_cluster_whose_workers_are_still_queued_is_waited_for(course, tmp_path):
    from io import StringIO

    from rich.console import Console

    from autograder.grading.cluster import connect

    empty = LoopbackCluster(tmp_path)
    try:
        threading.Timer(3, empty.add_worker, ("late", True)).start()   # a batch job that starts later
        said = StringIO()
        with connect.client_for(empty.address, course["settings"], None, Console(file=said)) as (client, files):
            assert len(client.scheduler_info()["workers"]) == 1
        assert "Waiting for the first Dask worker" in said.getvalue() and files == "bundle"
    finally:
        empty.close()


def test_workers_with_another_copy_of_the_kit_are_refused_before_anyone_is_graded(course, cluster):
    from autograder.grading.cluster import connect
    from autograder.grading.cluster.named import ClusterError

    connect.check_workers(cluster.observer, course["settings"])   # the same copy: accepted
    with pytest.raises(ClusterError) as refused:
        connect.check_workers(cluster.observer, course["settings"], fingerprint="0" * 64)
    assert refused.value.args[0].count("other source files") == 2   # each worker named, with the fix
    assert "install the same version" in str(refused.value)


def grading_processes(cluster) -> set[psutil.Process]:
    """What the Dask workers run below their own children (warm server, resource tracker): the
    grading processes, their judges and kernels."""
    found = set()
    for pid in cluster.observer.run(os.getpid).values():
        for child in psutil.Process(pid).children():
            found.update(child.children(recursive=True))
    return found


def test_a_batch_stopped_on_the_grader_stops_its_grading_on_the_workers(cluster, tmp_path):
    from autograder.grading.submissions import discover

    config_file = helpers.make_course(tmp_path / "course", CELL_TIMEOUT=300, NOTEBOOK_TIMEOUT=300)
    release = helpers.generate_release(config_file)
    helpers.write_submission(tmp_path / "submitted", "slow", helpers.solved(
        release, a02_squares="import time\ntime.sleep(300)\nsquares = [i * i for i in range(5)]"))
    settings = config.load(config_file)
    batch = runner.Batch(settings, tmp_path / "out", 1, False, False)
    batch.scratch.mkdir(parents=True)
    batch.prepare_gradebooks()
    queue = discover(tmp_path / "submitted", helpers.ASSIGNMENT, f"{helpers.ASSIGNMENT}.ipynb", tmp_path / "x")
    before, stop, outcome = grading_processes(cluster), threading.Event(), {}

    def grade():
        try:
            dispatch.run(batch, queue, lambda result: None, stop, cluster.observer, "bundle")
        except KeyboardInterrupt:
            outcome["interrupted"] = True
    grading = threading.Thread(target=grade)
    grading.start()
    deadline = time.monotonic() + 120
    while len(grading_processes(cluster) - before) < 3:   # worker, judge, kernel: the notebook runs
        assert time.monotonic() < deadline, "the slow notebook never started"
        time.sleep(0.2)
    time.sleep(2)
    started = grading_processes(cluster) - before
    stop.set()   # what Ctrl-C does in labkit grade
    grading.join(30)
    assert outcome == {"interrupted": True}
    gone, alive = psutil.wait_procs(list(started), timeout=20)   # not the 300 s the notebook asks for
    assert alive == []
    assert not (tmp_path / "out" / "state" / "slow.json").exists()   # unfinished: graded by the next run


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(course, cluster, tmp_path):
    """Last in this module: it leaves one worker."""
    out = tmp_path / "out"
    outcome = {}
    grading = threading.Thread(target=lambda: outcome.update(batch=runner.grade_class(
        course["settings"], course["submitted"], out=out, progress=False, verify=False,
        cluster=cluster.address)))
    grading.start()
    victim = cluster.workers["worker-a"]
    deadline = time.monotonic() + 120
    address = next(a for a, w in cluster.observer.scheduler_info()["workers"].items() if w["name"] == "worker-a")
    while not cluster.observer.processing().get(address):   # a task of the batch runs on it
        assert time.monotonic() < deadline and grading.is_alive(), "no task reached worker-a"
        time.sleep(0.1)
    time.sleep(1.5)   # its grading process has started
    children = psutil.Process(victim.pid).children(recursive=True)
    assert children, "worker-a was grading: its warm server and grading process are its children"
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    grading.join(600)
    assert not grading.is_alive()
    batch = outcome["batch"]
    assert {r.student: r.status for r in batch.results} == EXPECTED
    assert rows(batch.csv) == rows(course["local"].csv)
    assert sorted(p.stem for p in (out / "state").glob("*.json")) == sorted(EXPECTED)
    with sqlite3.connect(out / "gradebook.db") as db:
        counts = db.execute("select student.id, count(*) from submitted_assignment join student "
                            "on student.id = submitted_assignment.student_id group by student.id").fetchall()
    assert sorted(counts) == sorted((student, 1) for student in EXPECTED)
    # what the lost worker was running ends with it
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert alive == [], [p.info if hasattr(p, "info") else p.pid for p in alive]


class _Lost:
    """A finished Dask future whose worker was lost on every try."""

    def result(self):
        from distributed.scheduler import KilledWorker

        raise KilledWorker("labkit-grade-alice", "tcp://127.0.0.1:1", None)


def test_a_submission_whose_worker_is_lost_every_try_gets_its_own_status_and_is_graded_next_run(course, tmp_path):
    from autograder.course.records import WORKER_LOST
    from autograder.grading.submissions import discover

    batch = runner.Batch(course["settings"], tmp_path, 1, False, False)
    batch.scratch.mkdir(parents=True)
    batch.prepare_gradebooks()
    alice = next(s for s in discover(course["submitted"], helpers.ASSIGNMENT, f"{helpers.ASSIGNMENT}.ipynb",
                                     tmp_path / "scratch") if s.student == "alice")
    result = dispatch.finish(batch, _Lost(), alice)
    assert (result.status, result.total) == (WORKER_LOST, 0)
    assert "lost" in result.message and "labkit grade again" in result.message
    batch.record(result, alice)
    assert batch.finished(alice) is None   # the next run grades alice again


def test_a_worker_that_joins_later_with_another_copy_of_the_kit_refuses_its_task():
    from autograder.grading.cluster import task

    with pytest.raises(RuntimeError, match="another copy of the kit"):
        task.grade({"student": "alice", "kit": "0" * 64})
