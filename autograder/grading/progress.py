"""The batch's progress display: a rich bar with the ETA and live counts of finished and failed."""
from __future__ import annotations

from autograder.course.records import GradeResult


class Progress:
    """Entered, it gives the callback each finished result goes to; silent when not enabled."""

    def __init__(self, console, total: int, enabled: bool):
        self.console, self.total, self.enabled = console, total, enabled
        self.ok = self.failed = 0

    def __enter__(self):
        if not self.enabled:
            return lambda result: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[green]ok {task.fields[ok]}[/] [red]failed {task.fields[failed]}[/]"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=self.console)
        self.bar.__enter__()
        self.task = self.bar.add_task("grading", total=self.total, ok=0, failed=0)
        return self.advance

    def advance(self, result: GradeResult) -> None:
        if result.failed:
            self.failed += 1
        else:
            self.ok += 1
        self.bar.update(self.task, advance=1, ok=self.ok, failed=self.failed)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
