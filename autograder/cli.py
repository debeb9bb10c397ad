"""`labkit`: the kit's one console script.

Every subcommand is one row of COMMANDS (name, help, arguments, handler); the handlers import their
rooms only when they run, so `labkit -h` stays quick. Exit status, the same for every subcommand:
  0    OK           done, and every check it ran passed
  1    FELL_SHORT   the work fell short: a check said no (check, compare, sync-points --check,
                    sandbox-check); data, sandbox, course files, grades.csv, a roster or LMS user ids
                    missing or unusable (FetchError, FolderError, SandboxUnavailable, ReleaseError,
                    TemplateError, BundleError, ClassroomError, ExportError and its PassbackError); no
                    graded comments for `comments`; a graded student not in the roster; a score refused
  2    BAD_REQUEST  the request is wrong and nothing was done: the command line (argparse's own
                    status), course_config.py (ConfigError), check's NOTEBOOK (NotebookMissing),
                    grade's SUBMISSIONS (InputError) and --cluster (ClusterError)
  130  INTERRUPTED  Ctrl-C (128 + SIGINT, as shells report it); `grade` resumes where it stopped
Errors of these kinds print one line, `labkit <command>: <message>`, on stderr; any other error is a
bug and shows Python's traceback."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder.course import config

# 2 is what argparse exits with for a bad command line, so it stands for every request refused
# before any work; 130 is what a shell shows for a process ended by Ctrl-C.
OK, FELL_SHORT, BAD_REQUEST, INTERRUPTED = 0, 1, 2, 130


def error_kinds() -> tuple[tuple[type[Exception], int, str], ...]:
    """(error kind, exit status, label before its message); the first kind that matches decides.
    Imported only once a command has failed: some of these modules import nbgrader."""
    from autograder.authoring.release import ReleaseError
    from autograder.authoring.selfcheck import NotebookMissing
    from autograder.data.fetch import FetchError
    from autograder.data.folder import FolderError
    from autograder.grading.cluster.named import ClusterError
    from autograder.grading.gradebook import TemplateError
    from autograder.grading.submissions import InputError
    from autograder.integrations.classroom import ClassroomError
    from autograder.integrations.gradescope.bundle import BundleError
    from autograder.integrations.lms.export import ExportError
    from autograder.sandbox import SandboxUnavailable

    return ((config.ConfigError, BAD_REQUEST, "configuration error: "), (InputError, BAD_REQUEST, ""),
            (NotebookMissing, BAD_REQUEST, ""),
            (ClusterError, BAD_REQUEST, ""), (FetchError, FELL_SHORT, ""), (FolderError, FELL_SHORT, ""),
            (SandboxUnavailable, FELL_SHORT, ""), (ReleaseError, FELL_SHORT, ""), (TemplateError, FELL_SHORT, ""),
            (BundleError, FELL_SHORT, ""), (ClassroomError, FELL_SHORT, ""), (ExportError, FELL_SHORT, ""))


@dataclass(frozen=True)
class Argument:
    flags: tuple[str, ...]
    options: dict


def arg(*flags: str, **options) -> Argument:
    """One argument, spelled as for argparse's add_argument."""
    return Argument(flags, options)


@dataclass(frozen=True)
class Command:
    """One subcommand. Its handler returns True when the work passed, False when it fell short, and
    raises one of error_kinds() when it cannot be done."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], bool]
    arguments: tuple[Argument, ...] = ()
    description: str | None = None
    on_interrupt: str = ""     # what an interrupted run leaves behind, if it is worth saying


# --- handlers: each loads the settings and calls its room ------------------------------------------

def _prepare(args) -> bool:
    from autograder.authoring.prepare import prepare

    prepare(config.load(args.config), force=args.force)
    return True


def _fetch(args) -> bool:
    from autograder.data.fetch import fetch

    fetch(config.load(args.config))
    return True


def _compare(args) -> bool:
    from autograder.authoring.compare import run

    return run(config.load(args.config))


def _sync_points(args) -> bool:
    from autograder.course.vocabulary import sync_points_and_say

    return sync_points_and_say(config.load(args.config), check=args.check)


def _release(args) -> bool:
    from autograder.authoring.release import release

    release(config.load(args.config), clean=args.clean)
    return True


def _solutions(args) -> bool:
    from autograder.authoring.solutions import build

    build(config.load(args.config), run=not args.no_run)
    return True


def _check(args) -> bool:
    from autograder.authoring.selfcheck import run

    return run(args.notebook, timeout=args.timeout) == 0


def _grade(args) -> bool:
    from rich.console import Console

    from autograder.grading.runner import grade_class
    from autograder.reporting import class_results

    settings, console = config.load(args.config), Console()
    batch = grade_class(settings, args.submissions, out=args.out, jobs=args.jobs, force=args.force,
                        verify=not args.no_verify, progress=not args.quiet, console=console,
                        cluster=args.cluster, course_files=args.course_files)
    for table in class_results.class_tables(batch.results, settings, page=batch.page):
        console.print(table)
    console.print(f"grades: {batch.csv}\nfeedback: {batch.out / 'feedback'}\nplot: {batch.plot}\n"
                  f"class page: {batch.page}\n"
                  f"gradebook: {batch.out / 'gradebook.db'}  ({len(batch.graded)} graded, "
                  f"{len(batch.skipped)} already done, {batch.seconds:.0f} s)")
    return True


def _report(args) -> bool:
    from autograder.grading.class_report import write_from_folder

    return write_from_folder(config.load(args.config), out=args.out) is not None


def _demo(args) -> bool:
    from autograder.demo.run import run_demo

    return run_demo(config.load(args.config), jobs=args.jobs, out=args.out) == 0


def _comments(args) -> bool:
    from autograder.comments.listing import show

    return show(config.load(args.config), out=args.out, full=args.full, only=args.only)


def _gradescope_bundle(args) -> bool:
    from autograder.integrations.gradescope import build_bundle

    settings = config.load(args.config)
    build_bundle(settings, Path(args.out) if args.out else settings.root / "grading" / "autograder.zip")
    return True


def _classroom(args) -> bool:
    from autograder.integrations.classroom import write

    settings = config.load(args.config)
    write(settings, Path(args.out) if args.out else settings.root / "classroom",
          **({} if args.kit is None else {"kit": args.kit}))   # None: the kit's own default requirement
    return True


def _lms(args) -> bool:
    """`export` and `passback`: run(settings, args) of their module in integrations/lms/."""
    from importlib import import_module

    return import_module(f"autograder.integrations.lms.{args.command}").run(config.load(args.config), args)


def _sandbox_check(args) -> bool:
    from autograder.grading.sandbox_check import show

    return show(config.load(args.config), bwrap=args.bwrap)


COMMANDS = (
    Command("prepare", "make the training folder, hidden split and pretrained base", _prepare,
            (arg("--force", action="store_true", help="redo even if everything is current"),)),
    Command("fetch", "download the profile's data and weights once into the cache", _fetch),
    Command("compare", "hidden-split accuracy: transfer vs. the same model from scratch", _compare),
    Command("sync-points", "set the grade cells' points from POINTS in course_config.py", _sync_points,
            (arg("--check", action="store_true", help="only report; exit 1 if they differ"),)),
    Command("release", "generate release/<assignment>/ with nbgrader", _release,
            (arg("--clean", action="store_true",
                 help="first delete files that running the source notebook left next to it"),)),
    Command("solutions", "write and execute solutions/<assignment>/<assignment>.ipynb", _solutions,
            (arg("--no-run", action="store_true", help="write the notebook without executing it"),)),
    Command("check", "run a notebook and show a table of the checks, one row per activity", _check,
            (arg("notebook", help="the notebook to check (it runs in its own folder)"),
             arg("--timeout", type=int, default=300, help="seconds allowed per cell"))),
    Command("grade", "grade a class's submissions in parallel, with limits, feedback and letter grades", _grade,
            (arg("submissions", metavar="SUBMISSIONS"),
             arg("--jobs", "-j", type=int, default=None, help="parallel workers (default: cores)"),
             arg("--force", action="store_true", help="regrade students that are already finished"),
             arg("--out", default=None, help="output folder (default: grading/<assignment>/)"),
             arg("--no-verify", action="store_true", help="skip checking saved models outside the kernel"),
             arg("--quiet", action="store_true", help="no progress bar"),
             arg("--cluster", metavar="ADDRESS|NAME", default=None,
                 help="grade on a Dask cluster: a scheduler address (tcp://host:8786) or a name from "
                      "CLUSTERS in course_config.py (local, slurm, pbs, gateway); see docs/cluster/"),
             arg("--course-files", choices=config.COURSE_FILES, default=None,
                 help="with --cluster: workers read the course from the shared filesystem (paths), or "
                      "get it as one hashed bundle (default for an address and gateway)")),
            description="SUBMISSIONS: nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb folders, "
                        "a folder of <student>.ipynb files, or a zip of either.",
            on_interrupt="finished students are saved, run the same command again to resume."),
    Command("report", "write the class page (what the class got wrong, models, cost, activity 13) from a "
            "grading run's folder", _report,
            (arg("--out", default=None, help="the grading output folder (default: grading/<assignment>/)"),),
            description="Writes <out>/class_report/<assignment>.html from the state files that `labkit grade` "
                        "left there (it also writes the page at the end of every run); open it in a browser."),
    Command("demo", "the assignment's whole life on the configured profile", _demo,
            (arg("--jobs", "-j", type=int, default=2, help="parallel workers (default: 2)"),
             arg("--out", default=None, help="output folder (default: demo_output/)"))),
    Command("comments", "activity 13: the comments sorted by the suggested score, with each student's results "
            "beside the text", _comments,
            (arg("--out", default=None, help="the grading output folder (default: grading/<assignment>/)"),
             arg("--only", choices=("all", "clear", "read"), default="all",
                 help="only the clear cases, or only those to read"),
             arg("--full", action="store_true", help="whole comments, not their first words"))),
    Command("gradescope-bundle", "build the Gradescope autograder zip", _gradescope_bundle,
            (arg("--out", default=None, help="where to write the zip (default: grading/autograder.zip; it holds "
                 "the hidden test split, keep it private)"),)),
    Command("classroom", "write the GitHub Classroom autograding workflow", _classroom,
            (arg("--out", default=None, help="output folder (default: classroom/ in the course)"),
             arg("--kit", default=None, help="pip requirement that installs this kit on the runner"))),
    Command("export", "grades.csv (after late penalties) as the file Canvas or Moodle imports, matched to the "
            "LMS's roster (exit 1 if a graded student has no roster row)", _lms,
            (arg("--to", choices=("canvas", "moodle", "csv"), required=True, help="the LMS's import format"),
             arg("--roster", default=None, help="the roster CSV exported from the LMS (default: ROSTER)"),
             arg("--grades", default=None, help="grades.csv to export (default: grading/<assignment>/grades.csv)"),
             arg("--out", default=None, help="the file to write (default: <assignment>_<to>.csv beside grades.csv)"),
             arg("--all", action="store_true", help="also grades that are not final (grading error, not "
                 "sandboxed, waiting for a hand grade)"))),
    Command("passback", "send each score (after late penalties), a comment and the feedback link to the LMS over "
            "LTI 1.3 (exit 1 if a student could not be sent)", _lms,
            (arg("--users", default=None, help="CSV student,lms_user_id (default: LTI['users'], written by the hub)"),
             arg("--grades", default=None, help="grades.csv to send (default: grading/<assignment>/grades.csv)"),
             arg("--dry-run", action="store_true", help="show what would be sent; send nothing"),
             arg("--all", action="store_true", help="also students whose grade is not final"),
             arg("--jwk", action="store_true", help="print the tool's public key set for the LMS, and stop"))),
    Command("sandbox-check", "start one sandboxed grading kernel and show what it can and cannot reach (exit 1 "
            "if something must not be reachable)", _sandbox_check,
            (arg("--bwrap", default="bwrap", help="the bubblewrap executable (default: bwrap)"),)),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="course_config.py to use (default: $LABKIT_CONFIG or the repository's)")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(command.name, help=command.help, description=command.description)
        for argument in command.arguments:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(command_row=command)
    return parser


def exit_status(command: Command, args: argparse.Namespace) -> int:
    """Run one command; say on stderr why it stopped, if it did, and return its exit status."""
    try:
        return OK if command.run(args) else FELL_SHORT
    except KeyboardInterrupt:
        print(f"labkit {command.name}: interrupted" + (f"; {command.on_interrupt}" if command.on_interrupt
                                                       else "."), file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        for kind, status, label in error_kinds():
            if isinstance(error, kind):
                print(f"labkit {command.name}: {label}{error}", file=sys.stderr)
                return status
        raise


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return exit_status(args.command_row, args)


if __name__ == "__main__":
    sys.exit(main())
