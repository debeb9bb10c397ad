"""`labkit`: one table of subcommands and one table of exit statuses, the same for every
subcommand, and both written down where users read them."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from autograder import cli
from autograder.course import config
from autograder.data.fetch import FetchError
from autograder.grading.submissions import InputError

README = Path(__file__).resolve().parent.parent / "README.md"
STATUSES = {"OK": cli.OK, "FELL_SHORT": cli.FELL_SHORT, "BAD_REQUEST": cli.BAD_REQUEST,
            "INTERRUPTED": cli.INTERRUPTED}


def command(run, on_interrupt: str = "") -> cli.Command:
    return cli.Command("try", "a command for the test", run, on_interrupt=on_interrupt)


def raising(error: BaseException):
    def run(args):
        raise error
    return run


def test_every_subcommand_is_one_row_with_help():
    names = [c.name for c in cli.COMMANDS]
    assert len(names) == len(set(names)) and all(c.help for c in cli.COMMANDS)
    shown = cli.build_parser().format_help()
    assert all(re.search(rf"^\s+{name}\s", shown, re.M) for name in names)


@pytest.mark.parametrize("error, status", [
    (config.ConfigError("SEED must be a whole number >= 0, got -1 instead."), cli.BAD_REQUEST),
    (InputError("SUBMISSIONS must be an existing folder or zip file"), cli.BAD_REQUEST),
    (FetchError("run `labkit fetch` first"), cli.FELL_SHORT),
])
def test_an_error_kind_has_one_status_and_one_line(error, status, capsys):
    assert cli.exit_status(command(raising(error)), argparse.Namespace()) == status
    err = capsys.readouterr().err
    assert err.startswith("labkit try: ") and err.endswith(f"{error}\n") and err.count("\n") == 1


def test_a_verdict_is_ok_or_fell_short():
    assert cli.exit_status(command(lambda args: True), argparse.Namespace()) == cli.OK
    assert cli.exit_status(command(lambda args: False), argparse.Namespace()) == cli.FELL_SHORT


def test_an_interrupt_exits_130_and_says_what_is_kept(capsys):
    status = cli.exit_status(command(raising(KeyboardInterrupt()), on_interrupt="run it again to resume."),
                             argparse.Namespace())
    assert status == cli.INTERRUPTED == 130 and "interrupted; run it again to resume." in capsys.readouterr().err


def test_an_unknown_error_is_a_bug_and_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError):
        cli.exit_status(command(raising(ZeroDivisionError())), argparse.Namespace())


def test_a_missing_configuration_file_exits_2(tmp_path, capsys):
    assert cli.main(["--config", str(tmp_path / "course_config.py"), "prepare"]) == cli.BAD_REQUEST
    assert "labkit prepare: configuration error: course configuration file not found" in capsys.readouterr().err


def test_the_statuses_and_error_kinds_are_written_down():
    for name, status in STATUSES.items():
        assert re.search(rf"^\s+{status}\s+{name}\s", cli.__doc__, re.M), name
        assert re.search(rf"^\| {status} \| ", README.read_text(), re.M), status
    for kind, status, _ in cli.error_kinds():
        assert issubclass(kind, Exception) and status in (cli.FELL_SHORT, cli.BAD_REQUEST)
        assert kind.__name__ in cli.__doc__, kind
