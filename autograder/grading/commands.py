"""The `grade` and `demo` subcommands of `labkit` (registered by autograder.cli)."""
from __future__ import annotations

import argparse
import sys

from autograder.course import config


def _grade(args) -> int:
    from rich.console import Console

    from autograder.grading.cluster.named import ClusterError
    from autograder.reporting import class_results as report
    from autograder.grading.gradebook import TemplateError
    from autograder.grading.submissions import InputError
    from autograder.grading.runner import grade_class

    settings = config.load(args.config)
    console = Console()
    try:
        batch = grade_class(settings, args.submissions, out=args.out, jobs=args.jobs, force=args.force,
                            verify=not args.no_verify, progress=not args.quiet, console=console,
                            cluster=args.cluster, course_files=args.course_files)
    except (InputError, TemplateError, ClusterError) as error:
        print(f"labkit grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("labkit grade: interrupted; finished students are saved, run the same command again to "
              "resume.", file=sys.stderr)
        return 130
    for table in report.class_tables(batch.results, settings):
        console.print(table)
    console.print(f"grades: {batch.csv}\nfeedback: {batch.out / 'feedback'}\nplot: {batch.plot}\n"
                  f"gradebook: {batch.out / 'gradebook.db'}  ({len(batch.graded)} graded, "
                  f"{len(batch.skipped)} already done, {batch.seconds:.0f} s)")
    return 0


def _demo(args) -> int:
    from autograder.demo.run import run_demo

    return run_demo(config.load(args.config), jobs=args.jobs, out=args.out)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `grade` and `demo` to labkit's subcommands."""
    grade = commands.add_parser(
        "grade", help="grade a class's submissions in parallel, with limits, feedback and letter grades",
        description="SUBMISSIONS: nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb folders, "
                    "a folder of <student>.ipynb files, or a zip of either.")
    grade.add_argument("submissions", metavar="SUBMISSIONS")
    grade.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (default: cores)")
    grade.add_argument("--force", action="store_true", help="regrade students that are already finished")
    grade.add_argument("--out", default=None, help="output folder (default: grading/<assignment>/)")
    grade.add_argument("--no-verify", action="store_true", help="skip checking saved models outside the kernel")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--cluster", metavar="ADDRESS|NAME", default=None,
                       help="grade on a Dask cluster: a scheduler address (tcp://host:8786) or a name from "
                            "CLUSTERS in course_config.py (local, slurm, pbs, gateway); see docs/cluster/")
    grade.add_argument("--course-files", choices=("paths", "bundle"), default=None,
                       help="with --cluster: workers read the course from the shared filesystem (paths), or "
                            "get it as one hashed bundle (default for an address and gateway)")
    grade.set_defaults(run=_grade)
    demo = commands.add_parser("demo", help="the assignment's whole life on the configured profile")
    demo.add_argument("--jobs", "-j", type=int, default=2, help="parallel workers (default: 2)")
    demo.add_argument("--out", default=None, help="output folder (default: demo_output/)")
    demo.set_defaults(run=_demo)
