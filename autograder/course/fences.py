"""Fences around the grader's steps, so that nothing one student submits stops the class.

A step the grader takes once per student (an activity-13 suggestion, a grades.csv row, a feedback
page) runs through `per_student`: if it raises for one student, that student gets a note saying
which step failed and what to try, the caller gets a stand-in, and the step goes on for the others.
A step without which a student has no grade runs under `required`, whose failure the worker turns
into that student's grading error. KeyboardInterrupt and SystemExit are not Exceptions: they pass."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

RERUN = "nothing to change in the notebook; your instructor can run `labkit grade` again for you"


@dataclass(frozen=True)
class Stage:
    """A step the grader takes for one student, as the student and the instructor are told of it."""

    what: str                  # "the activity-13 suggestion for the comment"
    activity: int | None = None
    instead: str = "the rest was graded as usual"   # what the student gets without it

    def note(self, error: BaseException) -> str:
        """Expected, found and what to try, for the student's notes."""
        where = f"Activity {self.activity}" if self.activity else "Grading"
        return (f"{where}: expected the grader to finish {self.what}, found an error on the grader's side "
                f"({describe(error)}); {self.instead}. Try: {RERUN}")


def describe(error: BaseException) -> str:
    """'KeyError: 'first_train'' on one line, at most 200 characters of the message."""
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def add_note(result, message: str) -> None:
    """Append to `result.notes`, whatever a damaged record holds there."""
    notes = getattr(result, "notes", None)
    result.notes = [*(notes if isinstance(notes, list) else [notes] if notes else []), message]


def per_student(stage: Stage, result, fn, *args, fallback=None, problems: list | None = None, **kwargs):
    """`fn(*args, **kwargs)` for one student's `result` (None: a step for the whole class). When it
    raises, the stage's note goes to the result's notes (and to `problems`, by student) and
    `fallback` is returned instead (called with the note when it is callable)."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:   # the point of the fence; KeyboardInterrupt is a BaseException
        message = stage.note(error)
        if result is not None:
            add_note(result, message)
        if problems is not None:
            problems.append(f"{getattr(result, 'student', 'the class')}: {message}")
        return fallback(message) if callable(fallback) else fallback


def failed_steps(notes) -> list[str]:
    """The grader's steps that the notes say failed (Stage.note), in order."""
    found = (re.search(r"expected the grader to finish (.+?), found an error on the grader's side", str(note))
             for note in (notes if isinstance(notes, list) else []))
    return [match.group(1) for match in found if match]


class StageFailed(Exception):
    """A required stage failed: the student has no grade from this run."""

    def __init__(self, stage: Stage, error: BaseException):
        super().__init__(stage.note(error))
        self.stage, self.error = stage, error


@contextmanager
def required(stage: Stage) -> Iterator[None]:
    """A stage without which there is no grade: any Exception in it is raised as StageFailed."""
    try:
        yield
    except StageFailed:
        raise
    except Exception as error:
        raise StageFailed(stage, error) from error
