"""What every check returns or raises: a small result record and a student-facing failure."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from autograder.course.vocabulary import ACTIVITY_TITLES, HAND_IN, activity_label  # noqa: F401


class CheckFailed(AssertionError):
    """A property of the student's work does not hold; the message says what to change.

    An AssertionError, so that nbgrader marks the grade cell as failed."""

    def __init__(self, activity: int, expected: str, found: str, hint: str):
        self.activity = activity
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(f"{activity_label(activity)}: expected {expected}, found {found}. Try: {hint}")

    def to_result(self) -> "CheckResult":
        return CheckResult(passed=False, activity=self.activity, message=str(self))


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check (otter-grader style)."""

    passed: bool
    activity: int
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def describe(value) -> str:
    """A short description of what the student passed, for messages."""
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, (str, int, float, bool)):
        text = repr(value)
        return f"{kind} {text[:60]}{'...' if len(text) > 60 else ''}"
    return f"an object of type {kind}"


def passed(activity: int, prop: str) -> CheckResult:
    """Print one short line to stdout (never stderr) and return the result."""
    label = "Hand-in" if activity == HAND_IN else f"Activity {activity}"
    message = f"{label}: {prop} ok"
    print(message, flush=True)
    return CheckResult(passed=True, activity=activity, message=message)
