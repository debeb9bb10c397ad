"""The disk limit on what a grading kernel writes into its folder: measured as the disk holds it,
stopped past DISK_LIMIT_MB with its own status, trimmed back, and never copied after the kernel."""
from __future__ import annotations

import csv
import os
import threading
import time
from pathlib import Path

import pytest

import grading_helpers as helpers
from autograder.course import config
from autograder.course.records import DISK_LIMIT, OK
from autograder.grading import runner
from autograder.sandbox.disk_watcher import DiskWatcher, measure

MB = 2**20
# 10 GB in files of 900 MB (each under the sandbox's 1 GB per-file limit), written with real blocks
WRITER = ("block = b'\\1' * 2**20\n"
          "for n in range(12):\n"
          "    with open(f'junk{n}.bin', 'wb') as out:\n"
          "        for _ in range(900):\n"
          "            out.write(block)\n")


def write(path: Path, megabytes: int) -> None:
    path.write_bytes(b"\1" * (megabytes * MB))


def test_the_folder_is_measured_as_the_disk_holds_it(tmp_path):
    write(tmp_path / "data.bin", 3)
    os.link(tmp_path / "data.bin", tmp_path / "same.bin")        # one inode: counted once
    (tmp_path / "elsewhere").symlink_to("/usr")                   # never followed
    with open(tmp_path / "sparse.bin", "wb") as sparse:           # 500 MB long, nothing written
        sparse.truncate(500 * MB)
    usage = measure(str(tmp_path))
    assert 3 * MB <= usage.bytes < 4 * MB
    assert usage.entries == 4


def test_a_writer_is_stopped_and_only_what_it_wrote_goes(tmp_path):
    write(tmp_path / "released.bin", 8)          # there before the kernel: counts for nothing
    stopped = threading.Event()
    watcher = DiskWatcher(str(tmp_path), 5, stopped.set, interval=0.02)
    with watcher:
        write(tmp_path / "model.keras", 1)
        for n in range(40):
            if stopped.is_set():
                break
            write(tmp_path / f"junk{n}.bin", 2)
            time.sleep(0.01)
    assert stopped.is_set() and watcher.exceeded == "more than 5 MB"
    assert n < 39, "the writer was not stopped"
    removed = watcher.trim()
    assert removed and all(name.startswith("junk") for name in removed)
    assert (tmp_path / "released.bin").is_file() and (tmp_path / "model.keras").is_file()
    assert measure(str(tmp_path)).bytes - watcher.baseline.bytes <= 5 * MB


def test_many_small_files_are_a_limit_too(tmp_path):
    stopped = threading.Event()
    watcher = DiskWatcher(str(tmp_path), 100, stopped.set, max_files=50)
    (tmp_path / "deep").mkdir()
    for n in range(80):
        (tmp_path / "deep" / f"f{n}").write_text("x")
    assert watcher.check() and "files" in watcher.exceeded and stopped.is_set()
    watcher.trim()
    assert list(tmp_path.iterdir()) == []


def test_within_the_limit_nothing_happens(tmp_path):
    stopped = threading.Event()
    with DiskWatcher(str(tmp_path), 5, stopped.set, interval=0.02) as watcher:
        write(tmp_path / "model.keras", 2)
    assert not stopped.is_set() and not watcher.exceeded and watcher.trim() == []
    assert watcher.peak_bytes >= 2 * MB


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("disk")
    config_file = helpers.make_course(root / "course", CELL_TIMEOUT=60, NOTEBOOK_TIMEOUT=120)
    release = helpers.generate_release(config_file)
    return {"root": root, "settings": config.load(config_file), "release": release}


def grade(course, name: str, students: dict):
    folder = course["root"] / name
    for student, notebook in students.items():
        helpers.write_submission(folder / "submitted", student, notebook)
    batch = runner.grade_class(course["settings"], folder / "submitted", out=folder / "out", jobs=2,
                               progress=False)
    with open(batch.csv, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return batch, rows


def allocated(folder: Path) -> int:
    return measure(str(folder)).bytes


def test_a_ten_gigabyte_writer_costs_only_itself_and_leaves_no_files(course):
    release = course["release"]
    honest = {"alice": helpers.solved(release), "carol": helpers.solved(release, a02_squares="squares = [1, 2]")}
    _, without = grade(course, "without", honest)
    writer = helpers.solved(release, a02_squares=WRITER + helpers.SOLUTIONS["a02_squares"])
    batch, rows = grade(course, "with", {**honest, "writer": writer})
    result = next(r for r in batch.results if r.student == "writer")
    assert result.status == DISK_LIMIT, (result.status, result.message)
    assert "into its folder" in result.message and "activity 2" in result.message
    assert result.execution["written_mb"] < 4000, "the writer was stopped well before 10 GB"
    assert result.points["1"] == 2 and result.points["2"] == 0          # what ran before still counts
    assert any("removed the largest" in note for note in result.notes)
    page = Path(result.feedback_html).read_text()
    assert "1024 MB of files" in page
    for student in honest:   # the others: the same rows as in a class without the writer
        assert rows[student] == without[student] and rows[student]["status"] == OK
    # what the batch leaves on the disk is its results: no copy of the writer's files anywhere
    out = course["root"] / "with" / "out"
    large = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_size > 5 * MB]
    assert large == []
    assert allocated(out) < allocated(course["root"] / "without" / "out") + 20 * MB


def test_the_feedback_step_copies_no_file_the_kernel_wrote(course, tmp_path):
    from autograder.grading import local_workers, worker
    from autograder.grading.batch import Batch
    from autograder.grading.submissions import discover

    settings = course["settings"]
    keeper = helpers.solved(course["release"], a01_add=(
        "open('kept.bin', 'wb').write(b'\\1' * 30 * 2**20)\n" + helpers.SOLUTIONS["a01_add"]))
    helpers.write_submission(tmp_path / "submitted", "keeper", keeper)
    runner.tools_on_path()   # nbgrader runs alembic to make the gradebook
    batch = Batch(settings, tmp_path / "out", 1, False, False)
    batch.scratch.mkdir(parents=True)
    batch.prepare_gradebooks()
    [submission] = discover(tmp_path / "submitted", settings.assignment, settings.notebook_name, batch.scratch)
    task = local_workers.task_for(batch, submission, tmp_path / "tasks", batch.out, tmp_path / "course")
    result = worker.grade(task)
    assert result.status == OK and result.total == helpers.MAX_TOTAL
    copies = sorted(p.relative_to(tmp_path / "course") for p in (tmp_path / "course").rglob("kept.bin"))
    assert copies == [Path("autograded", "keeper", helpers.ASSIGNMENT, "kept.bin")]   # the kernel's own only
    assert (tmp_path / "course" / "feedback" / "keeper" / helpers.ASSIGNMENT / f"{helpers.ASSIGNMENT}.html").is_file()
