"""`labkit`: the kit's one console script."""
from __future__ import annotations

import argparse
import sys

from autograder import config
from autograder.data.folder import FolderError
from autograder.fetch import FetchError


def _prepare(args) -> int:
    from autograder.prepare import prepare

    prepare(config.load(args.config), force=args.force)
    return 0


def _fetch(args) -> int:
    from autograder.fetch import fetch

    fetch(config.load(args.config))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__)
    parser.add_argument("--config", help="course_config.py to use (default: $LABKIT_CONFIG or the repository's)")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="make the training folder, hidden split and pretrained base")
    prepare.add_argument("--force", action="store_true", help="redo even if everything is current")
    prepare.set_defaults(run=_prepare)
    fetch = commands.add_parser("fetch", help="download the profile's data and weights once into the cache")
    fetch.set_defaults(run=_fetch)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except config.ConfigError as error:
        print(f"labkit: configuration error: {error}", file=sys.stderr)
        return 2
    except (FetchError, FolderError) as error:
        print(f"labkit: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
