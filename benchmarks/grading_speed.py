"""Benchmark: the kit's batch grader against plain sequential `nbgrader autograde`.

    .venv/bin/python benchmarks/grading_speed.py [--students 8] [--jobs 2] [--rounds 2] [--only-ratio] [--keep DIR]

For the same simulated submissions (the demo's class, repeated up to --students) in a temporary copy
of the course, it measures, side by side in one run:
  1. wall time of `nbgrader autograde <assignment>` (sequential, the repository's nbgrader config)
     and of `labkit grade --jobs N` (with its out-of-kernel verification), in --rounds rounds that
     alternate which of the two goes first, and the ratio of each round;
  2. wall time of `labkit grade --jobs N --no-verify`;
  3. per-submission overhead of the kit over bare execution of the same notebook (nbclient, one
     kernel, same folder contents), both run alone with one job;
  4. peak resident memory of each grading kernel (the kit's memory watcher);
  5. the sandbox's cost: the same submissions graded with one job, in the sandbox and with
     SANDBOX = False, alternating student by student so that both see the same machine.
Figures only; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import config  # noqa: E402
from autograder.demo.run import answers_from_source, make_release, simulated_class  # noqa: E402
from autograder.grading.runner import tools_on_path  # noqa: E402

BIN = Path(sys.executable).parent


def temporary_course(settings, folder: Path) -> Path:
    """A copy of the course (config, nbgrader config, source) whose cache is the repository's."""
    text = settings.config_file.read_text()
    text += f"\nCACHE_DIR = {str(settings.cache_dir)!r}\n"
    (folder / "course_config.py").write_text(text)
    (folder / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text().replace(
        "sys.path.insert(0, str(Path(__file__).resolve().parent))", f"sys.path.insert(0, {str(REPO)!r})"))
    shutil.copytree(settings.source_dir, folder / "source" / settings.assignment,
                    ignore=shutil.ignore_patterns(settings.saved_model_file, "transfer_model.png", ".ipynb_checkpoints"))
    return folder / "course_config.py"


CPU_SECONDS: list[float] = []   # busy CPU time of the whole machine while each `timed` command ran


def machine_cpu() -> float:
    """Busy CPU seconds of the machine so far: the kit's workers are forked by a server that is not
    this script's child, so per-process accounting would miss them; run on a quiet machine."""
    import psutil

    times = psutil.cpu_times()
    return times.user + times.system + getattr(times, "nice", 0) + getattr(times, "irq", 0) + \
        getattr(times, "softirq", 0)


def timed(command: list[str], cwd: Path, env: dict) -> float:
    started, cpu = time.perf_counter(), machine_cpu()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    CPU_SECONDS.append(machine_cpu() - cpu)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds


def cpu_note(wall: float) -> str:
    """CPU time of the command just run, and how many cores it kept busy on average."""
    cpu = CPU_SECONDS[-1]
    return f"CPU {cpu:.0f} s = {cpu / wall:.2f} cores busy on average"


def bare_execution(settings, notebook_path: Path, workdir: Path) -> float:
    """Run the notebook (outputs cleared) alone with nbclient in a folder with the assignment's files."""
    from nbclient import NotebookClient

    shutil.copytree(settings.source_dir, workdir, ignore=shutil.ignore_patterns("*.ipynb", settings.saved_model_file))
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(notebook, timeout=settings.cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}, allow_errors=True)
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def batch_states(out: Path) -> list[dict]:
    """The state file of every submission a `labkit grade --out out` graded."""
    return [json.loads(p.read_text()) for p in sorted((out / "state").glob("*.json"))]


def in_worker_overhead(out: Path) -> str:
    """Over a batch: the workers' time beyond their kernels' (sanitize, gradebook, feedback, verify)."""
    states = batch_states(out)
    kernel = sum(s["execution"]["seconds"] for s in states if s.get("execution"))
    worker = sum(s["seconds"] for s in states)
    return (f"{100 * (worker - kernel) / kernel:+.0f} % over kernel time "
            f"({(worker - kernel) / len(states):.1f} s per submission)")


def stage_table(out: Path) -> str:
    """Mean seconds per submission of each grading step (GradeResult.stages), the kernel's own time
    (inside nbgrader's autograde) shown apart."""
    steps: dict[str, list[float]] = {}
    for state in batch_states(out):
        kernel = (state.get("execution") or {}).get("seconds", 0.0)
        steps.setdefault("the kernel (the notebook's own work)", []).append(kernel)
        for step, seconds in (state.get("stages") or {}).items():
            if step.startswith("nbgrader autograde"):
                step, seconds = "nbgrader autograde beyond the kernel", seconds - kernel
            steps.setdefault(step, []).append(seconds)
        steps.setdefault("the whole worker", []).append(state["seconds"])
    return "\n".join(f"    {statistics.mean(values):6.2f} s  {step}" for step, values in steps.items())


def where_the_time_goes(out: Path, limit_mb: float) -> None:
    """The batch's time beyond the kernels, step by step, and the kernels' peak memory."""
    print(f"in the batch, per worker: {in_worker_overhead(out)} with verify")
    print(f"where a worker's time goes, mean per submission:\n{stage_table(out)}")
    peaks = [s["execution"].get("peak_memory_mb", 0) for s in batch_states(out) if s.get("execution")]
    print(f"peak kernel memory: max {max(peaks):.0f} MB, median {statistics.median(peaks):.0f} MB "
          f"(limit {limit_mb} MB)")


def simulated_course(count: int, keep: str | None = None):
    """(work folder, course settings, environment, student -> notebook): a temporary copy of the
    course with `count` simulated submissions (the demo's class, repeated) under submitted/."""
    tools_on_path()
    settings = config.load()
    release_path = make_release(settings, say=lambda *_: None)
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    course_config = temporary_course(settings, folder)
    course = config.load(course_config)
    env = {**os.environ, "LABKIT_CONFIG": str(course_config), "MPLBACKEND": "Agg",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    release = nbformat.read(release_path, as_version=4)
    answers = answers_from_source(nbformat.read(settings.source_dir / settings.notebook_name, as_version=4))
    kinds = list(simulated_class(release, answers).items())
    students = {}
    for i in range(count):
        name, notebook = kinds[i % len(kinds)]
        students[f"{name}_{i:02d}"] = notebook
    for student, notebook in students.items():
        path = folder / "submitted" / student / course.assignment / course.notebook_name
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    return folder, course, env, students


def one_round(number: int, folder: Path, course, env: dict, submitted: Path, jobs: int) -> dict:
    """Both graders on the same submissions, nbgrader first in odd rounds and the kit first in even
    ones, so that neither always meets a warmer page cache or a busier machine."""
    seconds = {}

    def autograde() -> None:
        seconds["autograde"] = timed([str(BIN / "nbgrader"), "autograde", course.assignment, "--force"],
                                     folder, env)
        print(f"  nbgrader autograde (sequential):     {seconds['autograde']:7.1f} s   "
              f"{cpu_note(seconds['autograde'])}")
        seconds["feedback"] = timed([str(BIN / "nbgrader"), "generate_feedback", course.assignment, "--force"],
                                    folder, env)
        print(f"  + nbgrader generate_feedback:        {seconds['feedback']:7.1f} s")

    def kit() -> None:
        seconds["kit"] = timed([str(BIN / "labkit"), "grade", str(submitted), "--jobs", str(jobs), "--out",
                                str(folder / f"kit_round{number}"), "--quiet"], folder, env)
        print(f"  labkit grade --jobs {jobs} (with verify):  {seconds['kit']:7.1f} s   {cpu_note(seconds['kit'])}")

    order = (autograde, kit) if number % 2 else (kit, autograde)
    print(f"round {number}: {' then '.join(step.__name__ for step in order)}")
    for step in order:
        step()
    print(f"  ratio: {seconds['autograde'] / seconds['kit']:.2f}x faster than autograde, "
          f"{(seconds['autograde'] + seconds['feedback']) / seconds['kit']:.2f}x than autograde + feedback")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="keep the work folder here instead of a temporary one")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of both graders, in alternating order (default 2)")
    parser.add_argument("--only-ratio", action="store_true",
                        help="stop after the rounds: skip --no-verify, the one-submission overhead and "
                             "the sandbox's cost")
    args = parser.parse_args()
    folder, course, env, students = simulated_course(args.students, args.keep)
    submitted = folder / "submitted"
    print(f"{len(students)} submissions in {submitted}; machine: {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")

    timed([str(BIN / "nbgrader"), "generate_assignment", course.assignment, "--force"], folder, env)
    rounds = []
    for number in range(1, args.rounds + 1):
        rounds.append(one_round(number, folder, course, env, submitted, args.jobs))
    if len(rounds) > 1:
        ratios = [r["autograde"] / r["kit"] for r in rounds]
        print(f"over {len(rounds)} rounds: labkit grade --jobs {args.jobs} is "
              f"{statistics.mean(ratios):.2f}x faster than nbgrader autograde "
              f"(rounds: {', '.join(f'{r:.2f}x' for r in ratios)})")
    last = folder / f"kit_round{len(rounds)}"
    print(f"the last round, {last.name}:")
    where_the_time_goes(last, course.memory_limit_mb)
    if args.only_ratio:
        print(f"load average {os.getloadavg()[0]:.1f} at the end; work folder: {folder}")
        return 0
    kit_nv_s = timed([str(BIN / "labkit"), "grade", str(submitted), "--jobs", str(args.jobs), "--out",
                      str(folder / "kit_noverify"), "--quiet", "--no-verify"], folder, env)
    print(f"labkit grade --jobs {args.jobs} --no-verify:      {kit_nv_s:7.1f} s   "
          f"{rounds[-1]['autograde'] / kit_nv_s:.2f}x faster than the last round's autograde")
    print(f"  {cpu_note(kit_nv_s)}")

    print(f"in the batch without verify, per worker: {in_worker_overhead(folder / 'kit_noverify')}")

    # overhead: one solution submission, alone, kit vs bare nbclient execution of the notebook as
    # graded (nbgrader puts the hidden checks back, so the graded notebook is what runs)
    solo = folder / "solo" / "s01" / course.assignment
    solo.mkdir(parents=True)
    nbformat.write(students[next(iter(students))], solo / course.notebook_name)
    kit_one_s = timed([str(BIN / "labkit"), "grade", str(folder / "solo"), "--jobs", "1", "--out",
                       str(folder / "kit_solo"), "--quiet", "--no-verify"], folder, env)
    kit_one_v = timed([str(BIN / "labkit"), "grade", str(folder / "solo"), "--jobs", "1", "--out",
                       str(folder / "kit_solo_v"), "--quiet"], folder, env)
    graded = folder / "kit_solo" / "autograded" / "s01" / course.assignment / course.notebook_name
    os.environ.update(env)
    bare_s = bare_execution(course, graded, folder / "bare")
    worker = json.loads((folder / "kit_solo" / "state" / "s01.json").read_text())
    worker_v = json.loads((folder / "kit_solo_v" / "state" / "s01.json").read_text())
    print(f"one submission alone: bare execution of the graded notebook {bare_s:.1f} s "
          "(its hidden-split check starts its own verification process, as under plain nbgrader)")
    for label, wall, state in (("without verify", kit_one_s, worker), ("with verify", kit_one_v, worker_v)):
        kernel = state['execution']['seconds']
        print(f"  kit {label}: kernel {kernel:.1f} s, worker {state['seconds']:.1f} s "
              f"(overhead over bare {100 * (state['seconds'] - bare_s) / bare_s:+.0f} %, beyond its own kernel "
              f"{100 * (state['seconds'] - kernel) / kernel:+.0f} %), whole command {wall:.1f} s "
              f"(overhead {100 * (wall - bare_s) / bare_s:+.0f} %, includes start-up, gradebook template, report)")
    sandbox_cost(folder, course.config_file, submitted, env)
    print(f"load average {os.getloadavg()[0]:.1f} at the end; work folder: {folder}")
    return 0


def sandbox_cost(folder: Path, course_config: Path, submitted: Path, env: dict) -> None:
    """Per-submission worker time in the sandbox and without it, one student at a time, alternating."""
    plain_config = folder / "no_sandbox" / "course_config.py"
    plain_config.parent.mkdir()
    plain_config.write_text(course_config.read_text() + "\nSANDBOX = False\n")  # later assignments win
    for extra in ("nbgrader_config.py", "source"):
        (plain_config.parent / extra).symlink_to(folder / extra)
    seconds = {"sandbox": [], "no sandbox": []}
    for index, student in enumerate(sorted(p.name for p in submitted.iterdir())):
        one = folder / "one_by_one" / student
        one.mkdir(parents=True)
        (one / student).symlink_to(submitted / student)
        order = [("sandbox", course_config), ("no sandbox", plain_config)]
        for label, config_file in (order if index % 2 == 0 else order[::-1]):
            out = folder / f"kit_{label.replace(' ', '_')}" / student
            timed([str(BIN / "labkit"), "grade", str(one), "--jobs", "1", "--out", str(out), "--quiet"], folder,
                  {**env, "LABKIT_CONFIG": str(config_file)})
            seconds[label].append(json.loads((out / "state" / f"{student}.json").read_text())["seconds"])
    with_sandbox, without = statistics.mean(seconds["sandbox"]), statistics.mean(seconds["no sandbox"])
    print(f"sandbox cost, one job, {len(seconds['sandbox'])} submissions alternating: "
          f"{with_sandbox:.1f} s per submission in the sandbox, {without:.1f} s without "
          f"({100 * (with_sandbox - without) / without:+.1f} %; goal: at most +5 %)")


if __name__ == "__main__":
    sys.exit(main())
