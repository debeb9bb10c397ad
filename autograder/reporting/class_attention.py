"""Activity 13 across the class (suggested scores, clear or to read, copy groups) and the students
to look at first: grading errors, copy flags, hidden accuracies near the threshold, and numbers the
submitted notebook shows that its regraded run does not give."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from autograder.comments import copies, publish
from autograder.course.records import REGRADE, GradeResult
from autograder.reporting.class_models import ThresholdView, number

BIG_DIFFERENCE = 0.02   # submitted and regraded accuracies further apart than this are worth a look


@dataclass
class CopyGroup:
    """Comments that are near-copies of each other (or of a reference text), linked in a chain."""

    students: list
    references: list            # "the posted solution", "the activity's own text"
    similarity: float           # the highest similarity within the group


@dataclass
class CommentView:
    assessed: int = 0
    clear: list = field(default_factory=list)             # students
    to_read: list = field(default_factory=list)           # (student, [why])
    suggested: list = field(default_factory=list)         # (score, students), highest first
    without_suggestion: list = field(default_factory=list)
    copy_groups: list = field(default_factory=list)


def copy_groups(results: list[GradeResult], settings) -> list[CopyGroup]:
    """Students whose comments are near-copies (copies.NEAR_COPY), joined when any two are."""
    comments = {r.student: (r.comment or {}).get("text", "") for r in results if (r.comment or {}).get("grade_id")}
    near = copies.similarities(comments, publish.reference_texts(settings)) if comments else {}
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    best: dict[str, float] = {}
    for student, found in near.items():
        for copy in found:
            parent[root(student)] = root(copy.other)
    for student, found in near.items():
        top = root(student)
        best[top] = max([best.get(top, 0.0), *(c.similarity for c in found)])
    members: dict[str, list] = {}
    for name in list(parent):
        members.setdefault(root(name), []).append(name)
    groups = [CopyGroup(sorted(n for n in names if n in comments), sorted(n for n in names if n not in comments),
                      best.get(top, 0.0)) for top, names in members.items()]
    return sorted((g for g in groups if g.students), key=lambda g: (-len(g.students), g.students))


def comment_view(results: list[GradeResult], settings, assessments: dict | None = None) -> CommentView:
    """`assessments`: publish.review_class's, if already made."""
    assessments = publish.review_class(results, settings) if assessments is None else assessments
    view = CommentView(assessed=len(assessments))
    scores: dict[float, list] = {}
    for student, found in sorted(assessments.items()):
        if found.clear:
            view.clear.append(student)
        else:
            view.to_read.append((student, list(found.doubts) or ["no suggestion could be made"]))
        if found.suggested is None:
            view.without_suggestion.append(student)
        else:
            scores.setdefault(found.suggested, []).append(student)
    view.suggested = sorted(scores.items(), reverse=True)
    view.copy_groups = copy_groups(results, settings)
    return view


def differences(result: GradeResult, big: float = BIG_DIFFERENCE) -> list[str]:
    """The accuracies of activities 8 and 10 that the submitted notebook shows and the regraded run does not."""
    said = []
    for comparison in result.reproduced or []:
        submitted, regraded = number(comparison.get("submitted")), number(comparison.get("regraded"))
        if submitted is not None and regraded is not None and abs(submitted - regraded) > big:
            said.append(f"activity {comparison.get('activity')}: {comparison.get('label')} accuracy "
                        f"{submitted:.4f} in the submitted notebook, {regraded:.4f} regraded")
    return said


@dataclass
class Attention:
    student: str
    reasons: list       # (kind, sentence)


KINDS = ("grading error", "copy", "near the threshold", "submitted and regraded differ")


def attention(results: list[GradeResult], threshold: ThresholdView, comments: CommentView) -> list[Attention]:
    """Students to look at first, in the order of KINDS of their most pressing reason, then by id."""
    reasons: dict[str, list] = {}
    for result in results:
        if result.status in REGRADE:
            reasons.setdefault(result.student, []).append(
                ("grading error", f"{result.status}: {result.message or 'no message'}"))
    for group in comments.copy_groups:
        for student in group.students:
            others = [s for s in group.students if s != student] + group.references
            reasons.setdefault(student, []).append(
                ("copy", f"activity 13 comment is a near-copy of {', '.join(others)}"))
    for student in threshold.near:
        accuracy = threshold.accuracies[student]
        reasons.setdefault(student, []).append(
            ("near the threshold", f"hidden accuracy {accuracy:.4f}, {accuracy - threshold.threshold:+.4f} "
                                   f"from the threshold {threshold.threshold:g}"))
    for result in results:
        for sentence in differences(result):
            reasons.setdefault(result.student, []).append(("submitted and regraded differ", sentence))
    found = [Attention(student, sorted(said, key=lambda r: KINDS.index(r[0]))) for student, said in reasons.items()]
    return sorted(found, key=lambda a: (KINDS.index(a.reasons[0][0]), a.student))


def kinds_count(found: list[Attention]) -> Counter:
    return Counter(kind for item in found for kind in {k for k, _ in item.reasons})
