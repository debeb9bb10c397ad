"""`labkit`: the kit's one console script."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import config
from autograder.data.folder import FolderError
from autograder.data.fetch import FetchError
from autograder.sandbox import SandboxUnavailable


def _prepare(args) -> int:
    from autograder.authoring.prepare import prepare

    prepare(config.load(args.config), force=args.force)
    return 0


def _compare(args) -> int:
    from autograder.authoring.prepare import prepare
    from autograder.authoring.compare import compare

    settings = config.load(args.config)
    prepare(settings)
    result = compare(settings)
    print(f"compare: on {result['hidden_images']} hidden images, after {result['epochs']} epochs on "
          f"{result['train_images']} training images: transfer {result['transfer']:.3f}, "
          f"from scratch {result['scratch']:.3f}")
    return 0 if result["transfer"] > result["scratch"] else 1


def _fetch(args) -> int:
    from autograder.data.fetch import fetch

    fetch(config.load(args.config))
    return 0


def _sync_points(args) -> int:
    from autograder.course.vocabulary import sync_points_file

    settings = config.load(args.config)
    path = settings.source_dir / settings.notebook_name
    changes = sync_points_file(path, settings.points, write_back=not args.check)
    for line in changes:
        print(f"sync-points: {line}")
    if args.check:
        print("sync-points: notebook and course_config.py " + ("differ" if changes else "agree"))
        return 1 if changes else 0
    print(f"sync-points: {len(changes)} grade cell(s) updated in {path.name}")
    return 0


def _release(args) -> int:
    from autograder.authoring.release import ReleaseError, release

    try:
        release(config.load(args.config), clean=args.clean)
    except ReleaseError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1
    return 0


def _solutions(args) -> int:
    from autograder.authoring.solutions import build

    build(config.load(args.config), run=not args.no_run)
    return 0


def _check(args) -> int:
    from autograder.authoring.selfcheck import run

    return run(args.notebook, timeout=args.timeout)


def _gradescope_bundle(args) -> int:
    from autograder.integrations.gradescope import BundleError, build_bundle

    settings = config.load(args.config)
    out = Path(args.out) if args.out else settings.root / "grading" / "autograder.zip"
    try:
        build_bundle(settings, out)
    except BundleError as error:
        print(f"labkit gradescope-bundle: {error}", file=sys.stderr)
        return 1
    return 0


def _add_assignment_commands(commands) -> None:
    """sync-points, release, solutions and check: the notebook's own commands."""
    sync = commands.add_parser("sync-points", help="set the grade cells' points from POINTS in course_config.py")
    sync.add_argument("--check", action="store_true", help="only report; exit 1 if they differ")
    sync.set_defaults(run=_sync_points)
    release = commands.add_parser("release", help="generate release/<assignment>/ with nbgrader")
    release.add_argument("--clean", action="store_true",
                         help="first delete files that running the source notebook left next to it")
    release.set_defaults(run=_release)
    solutions = commands.add_parser("solutions", help="write and execute solutions/<assignment>/<assignment>.ipynb")
    solutions.add_argument("--no-run", action="store_true", help="write the notebook without executing it")
    solutions.set_defaults(run=_solutions)
    check = commands.add_parser("check", help="run a notebook and show a table of the checks, one row per activity")
    check.add_argument("notebook", help="the notebook to check (it runs in its own folder)")
    check.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    check.set_defaults(run=_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__)
    parser.add_argument("--config", help="course_config.py to use (default: $LABKIT_CONFIG or the repository's)")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="make the training folder, hidden split and pretrained base")
    prepare.add_argument("--force", action="store_true", help="redo even if everything is current")
    prepare.set_defaults(run=_prepare)
    fetch = commands.add_parser("fetch", help="download the profile's data and weights once into the cache")
    fetch.set_defaults(run=_fetch)
    compare = commands.add_parser("compare", help="hidden-split accuracy: transfer vs. the same model from scratch")
    compare.set_defaults(run=_compare)
    _add_assignment_commands(commands)
    from autograder.grading.commands import register as register_grading

    register_grading(commands)
    from autograder.comments import listing

    listing.register(commands)
    from autograder.integrations import classroom

    bundle = commands.add_parser("gradescope-bundle", help="build the Gradescope autograder zip")
    bundle.add_argument("--out", default=None,
                        help="where to write the zip (default: grading/autograder.zip; it holds the "
                             "hidden test split, keep it private)")
    bundle.set_defaults(run=_gradescope_bundle)
    classroom.register(commands)
    from autograder.grading import sandbox_check as check

    check.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except config.ConfigError as error:
        print(f"labkit: configuration error: {error}", file=sys.stderr)
        return 2
    except (FetchError, FolderError, SandboxUnavailable) as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
