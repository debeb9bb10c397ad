"""A graded class built from GradeResults alone (no notebook runs): every student's cells as the
source notebook grades them, with mistakes planted through the checks' own messages.

PLANTED holds three planted mistakes (a base left trainable, no regularization, a report made on a
shuffled validation set) and EXPECTED the students each group must name; `sixteen` is a class of 16
for the benchmark. Also: the grouping of grades.csv's `lost` column, counted here on its own terms so
that the class page can be checked against it."""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from autograder.checks.models import REGULARIZED_HINT
from autograder.checks.report import REPORT_HINT
from autograder.checks.result import CheckFailed
from autograder.course.records import OK, CellGrade, GradeResult
from autograder.course.vocabulary import activity_of
from autograder.grading.scores import score

FROZEN_HINT = "set `base_model.trainable = False` before compiling"


def grade_cells(settings) -> list[tuple[str, float, bool]]:
    """(grade_id, points, graded by hand) of every grade cell of the source notebook, in order."""
    notebook = nbformat.read(settings.source_dir / settings.notebook_name, as_version=4)
    found = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            found.append((meta["grade_id"], float(meta.get("points", 0)), cell.cell_type == "markdown"))
    return found


def unfrozen(weights: int) -> dict[str, str]:
    """The base left trainable: activity 5's visible check and its hidden one say so."""
    return {"a05_transfer_model_visible": str(CheckFailed(
                5, "a frozen base (no trainable weights inside `base_model`)",
                f"{weights} trainable base weights (e.g. conv0/kernel)", FROZEN_HINT)),
            "a05_frozen_hidden": str(CheckFailed(
                5, "the base's pretrained weights unchanged by all the training (a frozen base)",
                f"{weights} of 10 weight arrays changed (e.g. conv0/kernel)", FROZEN_HINT))}


def unregularized() -> dict[str, str]:
    return {"a09_regularized_visible": str(CheckFailed(
        9, "dropout, a weight penalty (L1/L2) or augmentation that acts during training",
        "a model that behaves the same in training and inference, with no penalty", REGULARIZED_HINT))}


def shuffled_report(accuracy: float, images: int = 20) -> dict[str, str]:
    """A report of labels and predictions from two passes over a shuffled val_ds: its numbers differ."""
    return {"a12_report_visible": str(CheckFailed(
        12, f"the report of `regularized_model` on val_ds (accuracy {accuracy:.2f} on {images} images)",
        "a report with other numbers or classes", REPORT_HINT))}


PLANTED = {
    "ada_unfrozen": unfrozen(6),
    "ben_unfrozen": unfrozen(4),
    "cy_no_regularization": unregularized(),
    "dee_no_regularization": unregularized(),
    "eve_shuffled_report": shuffled_report(0.85),
    "fay_shuffled_report": shuffled_report(0.80, 25),
    "gus_unfrozen_shuffled": {**unfrozen(6), **shuffled_report(0.90)},
    "hal_all_right": {},
}
# the group (grade cell) each planted mistake must show, and exactly who is in it
EXPECTED = {
    "a05_transfer_model_visible": {"ada_unfrozen", "ben_unfrozen", "gus_unfrozen_shuffled"},
    "a05_frozen_hidden": {"ada_unfrozen", "ben_unfrozen", "gus_unfrozen_shuffled"},
    "a09_regularized_visible": {"cy_no_regularization", "dee_no_regularization"},
    "a12_report_visible": {"eve_shuffled_report", "fay_shuffled_report", "gus_unfrozen_shuffled"},
}


ABOVE = "above"   # a hidden-split accuracy 10 points above the course's threshold


def result(settings, student: str, failures: dict[str, str], accuracy: float | str | None = ABOVE,
           seconds: float = 40.0, peak_memory_mb: float = 800.0, status: str = OK, message: str = "",
           comment: dict | None = None) -> GradeResult:
    """One student's result: every autograded cell passed but those in `failures` (grade_id ->
    message); activity 13 waits for a hand grade."""
    cells = []
    for grade_id, points, by_hand in grade_cells(settings):
        failed = grade_id in failures
        cells.append(CellGrade(grade_id, activity_of(grade_id), 0.0 if failed or by_hand else points, points,
                               passed=not failed and not by_hand, needs_manual_grade=by_hand,
                               error=failures.get(grade_id, "")).to_dict())
    if accuracy == ABOVE:
        accuracy = round(settings.accuracy_threshold + 0.10, 4)
    verify = {"status": "not run"} if accuracy is None else {
        "status": "verified" if accuracy >= settings.accuracy_threshold else "failed", "accuracy": accuracy,
        "threshold": settings.accuracy_threshold, "ok": accuracy >= settings.accuracy_threshold}
    graded = GradeResult(student=student, status=status, message=message, cells=cells, verify=verify,
                         execution={"status": status, "peak_memory_mb": peak_memory_mb, "seconds": seconds * 0.7},
                         sandboxed=True, seconds=seconds, comment=comment or {})
    score(graded, settings)
    return graded


def planted_class(settings) -> list[GradeResult]:
    # around the course's threshold: two just below it, one just above, the others well clear
    offsets = [0.11, -0.01, 0.01, 0.15, 0.10, 0.05, -0.02, 0.13]
    threshold = settings.accuracy_threshold
    return [result(settings, student, failures, accuracy=round(threshold + offset, 4), seconds=30 + 3 * i,
                   peak_memory_mb=700 + 20 * i)
            for i, ((student, failures), offset) in enumerate(zip(PLANTED.items(), offsets))]


def sixteen(settings) -> list[GradeResult]:
    """A class of 16: the planted mistakes twice over, with activity-13 comments and the facts
    they are checked against."""
    from comment_samples import ANA, BEN, good_comment

    found = []
    for i in range(16):
        student, failures = list(PLANTED.items())[i % len(PLANTED)]
        facts = dict(ANA if i % 2 else BEN)
        comment = {"grade_id": "a13_comment_answer", "text": good_comment(facts), "facts": facts}
        accuracy = round(settings.accuracy_threshold - 0.05 + 0.012 * i, 4)
        found.append(result(settings, f"{student}_{i:02d}", failures, accuracy=accuracy,
                            seconds=35 + 2.5 * i, peak_memory_mb=650 + 15 * i, comment=comment))
    return found


# ---- grades.csv's `lost` column, grouped on its own terms ------------------------------------------

LOST_ENTRY = re.compile(r"^a(\d+) -([\d.]+) (\S+): (.*)$", re.DOTALL)


def groups_from_csv(path: Path) -> dict[str, set[str]]:
    """grade cell + what it expected (numbers aside) -> the students who lost points to it, read
    from grades.csv: the same grouping the class page promises, done here independently."""
    groups: dict[str, set[str]] = defaultdict(set)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            for entry in filter(None, row["lost"].split(" | ")):
                match = LOST_ENTRY.match(entry)
                assert match, entry
                grade_id, why = match.group(3), " ".join(match.group(4).split())
                _, said, rest = why.partition(": expected ")
                if not said and why.startswith("expected "):
                    said, rest = "expected", why[len("expected "):]
                expected = rest.partition(", found ")[0] if said and ", found " in rest else why
                groups[f"{grade_id}: {' '.join(re.sub(r'[0-9.]*[0-9]', '#', expected).split())}"].add(row["student"])
    return dict(groups)


# ---- the class page, read as a browser's parser reads it ------------------------------------------

class PageReader(HTMLParser):
    """Every start tag with its attributes, the groups (rows with data-group) with the students
    named in them, and the page's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.groups: dict[str, dict] = {}
        self.text: list[str] = []
        self._group: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "tr" and "data-group" in attributes:
            self._group = {"count": int(attributes["data-count"]), "students": [], "text": []}
            self.groups[attributes["data-group"]] = self._group
        elif self._group is not None and "data-student" in attributes:
            self._group["students"].append(attributes["data-student"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._group = None

    def handle_data(self, data):
        self.text.append(data)
        if self._group is not None:
            self._group["text"].append(data)


def read_page(path: Path) -> PageReader:
    reader = PageReader()
    reader.feed(Path(path).read_text(encoding="utf-8"))
    reader.close()
    return reader
