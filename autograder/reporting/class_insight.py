"""What the class got wrong, per activity: points, full marks, and the reasons points were lost,
grouped by the check and the message that took them.

Every lost point is read from the same place as grades.csv's `lost` column (class_results.points_lost):
the grade cell and its message, "Activity N (title): expected E, found F. Try: H". Students who lost
points to the same cell for the same expectation share a group, whatever they were found to do
(the numbers in the expectation aside: "accuracy 0.85 on 20 images" is one group whatever the
numbers). A message of another form is grouped by its whole text, numbers aside."""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from autograder.course.records import GradeResult
from autograder.course.vocabulary import ACTIVITY_TITLES
from autograder.reporting.class_results import points_lost

_MESSAGE = re.compile(r"^(?:(?P<label>.*?): )?expected (?P<expected>.*?), found (?P<found>.*?)"
                      r"(?:\. Try: (?P<hint>.*))?$", re.DOTALL)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Reason:
    """One lost-points message, taken apart."""

    expected: str      # what the check expected (the whole message if it has no "expected")
    found: str = ""
    hint: str = ""
    plain: bool = False  # a message not in the form "expected ..., found ..."

    @property
    def key(self) -> str:
        """The expectation without its numbers: what a group of students has in common."""
        return " ".join(_NUMBER.sub("#", self.expected).split())


def reason(why: str) -> Reason:
    match = _MESSAGE.match(" ".join(why.split()))
    if match is None:
        return Reason(expected=" ".join(why.split()), plain=True)
    return Reason(expected=match["expected"], found=match["found"].rstrip("."), hint=(match["hint"] or "").strip())


def group_key(grade_id: str, why: str) -> str:
    """The key of the group a lost point belongs to: its grade cell and expectation."""
    return f"{grade_id}: {reason(why).key}"


@dataclass
class LossGroup:
    """Students who lost points to the same check for the same reason."""

    key: str
    activity: int | None
    grade_id: str
    expected: str                                   # as the first student's message says it
    hint: str = ""
    plain: bool = False                             # `expected` is the whole message
    students: list = field(default_factory=list)
    points: list = field(default_factory=list)      # points each student lost here
    found: Counter = field(default_factory=Counter)  # what the check found, and how often

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def points_each(self) -> str:
        low, high = min(self.points), max(self.points)
        return f"{low:g}" if low == high else f"{low:g} to {high:g}"

    @property
    def what(self) -> str:
        """"a05_transfer_model_visible expected a frozen base (...)", or the cell and its message."""
        return f"{self.grade_id}: {self.expected}" if self.plain else f"{self.grade_id} expected {self.expected}"


def loss_groups(results: list[GradeResult]) -> list[LossGroup]:
    """Every group of lost points in the class, the largest first (then by activity and cell)."""
    groups: dict[str, LossGroup] = {}
    for result in sorted(results, key=lambda r: r.student):
        for activity, points, grade_id, why in points_lost(result):
            taken = reason(why)
            key = f"{grade_id}: {taken.key}"
            group = groups.setdefault(key, LossGroup(key, activity, grade_id, taken.expected, taken.hint, taken.plain))
            if result.student not in group.students:
                group.students.append(result.student)
                group.points.append(points)
            if taken.found:
                group.found[taken.found] += 1
    return sorted(groups.values(), key=lambda g: (-g.count, g.activity or 0, g.grade_id, g.key))


@dataclass
class ActivityStats:
    """One activity across the class."""

    activity: int
    title: str
    maximum: float
    mean: float
    full: int                  # students with full marks
    students: int
    distribution: list         # (points, students) from the fewest points up
    groups: list = field(default_factory=list)   # LossGroup, the largest first

    @property
    def full_share(self) -> float:
        return self.full / self.students if self.students else 0.0

    @property
    def zero(self) -> int:
        return sum(count for points, count in self.distribution if points == 0)

    @property
    def partial(self) -> int:
        return self.students - self.full - self.zero


def activity_stats(results: list[GradeResult], settings, groups: list[LossGroup] | None = None) -> list[ActivityStats]:
    """Mean, full marks and the distribution of points per activity; activities worth nothing are left out."""
    groups = loss_groups(results) if groups is None else groups
    found = []
    for activity in sorted(settings.points):
        maximum = max((float(r.max_points.get(str(activity), 0.0)) for r in results), default=0.0)
        maximum = maximum or float(settings.points[activity] if results else 0)
        if not maximum or not results:
            continue
        scores = [r.activity_points(activity) for r in results]
        found.append(ActivityStats(
            activity=activity, title=ACTIVITY_TITLES.get(activity, ""), maximum=maximum,
            mean=statistics.mean(scores), full=sum(1 for s in scores if s >= maximum), students=len(scores),
            distribution=sorted(Counter(scores).items()),
            groups=[g for g in groups if g.activity == activity]))
    return found
