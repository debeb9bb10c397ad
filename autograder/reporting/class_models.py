"""The class's models and what grading them cost: hidden-split accuracy against the threshold (how
many students the threshold decides, how many a few points either way would change), the first
model's train/validation gap against the hidden accuracy, statuses, grading time and peak memory."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from autograder.course.records import OK, STATUSES, GradeResult

MARGINS = (0.01, 0.02, 0.05)   # "a few points either way" of the threshold
NEAR = 0.02                    # an accuracy this close to the threshold is worth a look
EPSILON = 1e-9                 # 0.75 - 0.73 is 0.020000000000000018 in floating point


def number(value) -> float | None:
    """A finite float, or None (facts hold NaN for a split with no images)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def hidden_accuracy(result: GradeResult) -> float | None:
    """The saved model's accuracy on the hidden split, as the grader's verification measured it."""
    return number((result.verify or {}).get("accuracy"))


@dataclass
class Shift:
    """What moving the threshold by `margin` would change."""

    margin: float
    would_pass: list     # below the threshold now, at or above it if it were `margin` lower
    would_fail: list     # at or above it now, below it if it were `margin` higher


@dataclass
class ThresholdView:
    threshold: float
    accuracies: dict                 # student -> hidden accuracy, for every model that was measured
    unmeasured: dict                 # student -> verification status, for every model that was not
    shifts: list = field(default_factory=list)

    @property
    def below(self) -> list:
        return sorted(s for s, a in self.accuracies.items() if a < self.threshold)

    @property
    def above(self) -> list:
        return sorted(s for s, a in self.accuracies.items() if a >= self.threshold)

    @property
    def near(self) -> list:
        return sorted(s for s, a in self.accuracies.items() if abs(a - self.threshold) <= NEAR + EPSILON)


def threshold_view(results: list[GradeResult], settings) -> ThresholdView:
    accuracies = {r.student: a for r in results if (a := hidden_accuracy(r)) is not None}
    unmeasured = {r.student: (r.verify or {}).get("status", "not run") for r in results
                  if r.student not in accuracies}
    threshold = float(settings.accuracy_threshold)
    view = ThresholdView(threshold, accuracies, unmeasured)
    for margin in MARGINS:
        view.shifts.append(Shift(
            margin,
            would_pass=sorted(s for s, a in accuracies.items() if threshold - margin - EPSILON <= a < threshold),
            would_fail=sorted(s for s, a in accuracies.items() if threshold <= a < threshold + margin - EPSILON)))
    return view


@dataclass
class Overfitting:
    """One student's first model (activity 8) and regularized model against the hidden accuracy."""

    student: str
    train: float
    validation: float
    gap: float
    regularized_gap: float | None
    hidden: float | None


def overfitting(results: list[GradeResult]) -> list[Overfitting]:
    """Every student whose first model's accuracies are known, the largest gap first."""
    found = []
    for result in results:
        facts = (result.comment or {}).get("facts") or {}
        train, validation = number(facts.get("first_train")), number(facts.get("first_val"))
        if train is None or validation is None:
            continue
        found.append(Overfitting(result.student, train, validation, train - validation,
                                 number(facts.get("regularized_gap")), hidden_accuracy(result)))
    return sorted(found, key=lambda o: (-o.gap, o.student))


@dataclass
class Cost:
    student: str
    status: str
    seconds: float
    peak_memory_mb: float | None


def costs(results: list[GradeResult]) -> list[Cost]:
    """Grading time and the kernel's peak memory per student, the slowest first."""
    found = [Cost(r.student, r.status, float(r.seconds or 0.0),
                  number((r.execution or {}).get("peak_memory_mb")) or None) for r in results]
    return sorted(found, key=lambda c: (-c.seconds, c.student))


def spread(values: list[float]) -> str:
    """"median 41.2, largest 57.8" (or "none")."""
    if not values:
        return "none"
    return f"median {statistics.median(values):.1f}, largest {max(values):.1f}"


def statuses(results: list[GradeResult]) -> list[tuple[str, list]]:
    """(status, students) for every status some student has, in the order of STATUSES."""
    by_status: dict[str, list] = {}
    for result in sorted(results, key=lambda r: r.student):
        by_status.setdefault(result.status, []).append(result.student)
    order = [*STATUSES, *sorted(set(by_status) - set(STATUSES))]
    return [(status, by_status[status]) for status in order if status in by_status]


def not_ok(results: list[GradeResult]) -> int:
    return sum(1 for r in results if r.status != OK)
