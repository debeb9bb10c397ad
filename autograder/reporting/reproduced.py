"""The feedback's "your numbers and the regraded ones": the accuracies that activities 8 and 10 show
in the submitted notebook's outputs next to those of the grader's run of it.

The setup cell seeds every random choice, so a notebook run from the top gives the same numbers on
the student's server and at grading; when they differ, the submitted outputs are not those of the
code as submitted (cells edited after they ran, or run out of order). Informational only: points
never depend on what a notebook printed."""
from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from autograder.course.records import GradeResult
from autograder.course.vocabulary import activity_of

ACTIVITIES = (8, 10)
LABELS = ("training", "validation")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|.\x08")
_NUMBER = r"([01](?:\.\d+)?)\b"
# leftmost match first, so "validation accuracy" is never read as a training "accuracy"
_ACCURACY = re.compile(
    rf"{_NUMBER} \((train|validation)\)"                                   # the check's own line
    rf"|\bval(?:idation)?[_ ]acc(?:uracy)?\b[^0-9\n]{{0,12}}{_NUMBER}"      # val_accuracy: 0.85
    rf"|\b(?:train(?:ing)?[_ ])?acc(?:uracy)?\b[^0-9\n]{{0,12}}{_NUMBER}",  # accuracy: 0.90
    re.IGNORECASE)


@dataclass(frozen=True)
class Comparison:
    """One accuracy of one activity, as submitted and as regraded (None: not shown)."""

    activity: int
    label: str
    submitted: float | None
    regraded: float | None

    @property
    def differs(self) -> bool:
        return None not in (self.submitted, self.regraded) and abs(self.submitted - self.regraded) > 1e-9

    def to_dict(self) -> dict:
        return asdict(self)


def _text(cell) -> str:
    """What a code cell printed to stdout or showed as its value, without terminal control codes."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return _ANSI.sub("", "".join(parts))


def shown_accuracies(notebook_path: str | Path | None) -> dict[int, dict[str, float]]:
    """activity -> {"training"/"validation": the last accuracy its cells' outputs show}."""
    found: dict[int, dict[str, float]] = {activity: {} for activity in ACTIVITIES}
    if not notebook_path or not Path(notebook_path).is_file():
        return found
    try:
        cells = nbformat.read(notebook_path, as_version=4).cells
    except Exception:  # a notebook nbformat cannot read shows nothing
        return found
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or ""
        activity = activity_of(grade_id)
        # hidden cells run only at grading: the student's notebook has none to compare with
        if activity not in found or cell.get("cell_type") != "code" or "hidden" in grade_id:
            continue
        for match in _ACCURACY.finditer(_text(cell)):
            checked, which, validation, training = match.groups()
            if checked is not None:
                label = "training" if which.lower() == "train" else "validation"
                found[activity][label] = float(checked)
            elif validation is not None:
                found[activity]["validation"] = float(validation)
            else:
                found[activity]["training"] = float(training)
    return found


def compare(submitted_notebook, regraded_notebook) -> list[Comparison]:
    """Every accuracy of activities 8 and 10 that either notebook shows."""
    submitted, regraded = shown_accuracies(submitted_notebook), shown_accuracies(regraded_notebook)
    return [Comparison(activity, label, submitted[activity].get(label), regraded[activity].get(label))
            for activity in ACTIVITIES for label in LABELS
            if label in submitted[activity] or label in regraded[activity]]


def sentences(comparisons: list[Comparison]) -> list[str]:
    """One expected / found / hint sentence per activity whose numbers differ."""
    said = []
    for activity in ACTIVITIES:
        differing = [c for c in comparisons if c.activity == activity and c.differs]
        if differing:
            found = "; ".join(f"{c.label} accuracy {c.submitted:.4f} in your notebook, {c.regraded:.4f} when "
                              "regraded" for c in differing)
            said.append(f"Activity {activity}: expected the regraded run to show the accuracies of your "
                        f"submitted notebook, found {found}. The notebook seeds every random choice, so this "
                        "happens when cells were edited after they ran, or ran out of order. Try: Kernel > "
                        "Restart & Run All, then save and submit.")
    if comparisons and all(c.submitted is None for c in comparisons):
        said.append("Activities 8 and 10: expected the accuracies your notebook printed, found none in the "
                    "submitted notebook (it was saved without its outputs, or not run). Try: Kernel > "
                    "Restart & Run All before you save and submit, so that you see the numbers you quote "
                    "in activity 13.")
    return said


def section_html(result: GradeResult, submitted_notebook, comparisons: list[Comparison] | None = None) -> str:
    """The feedback's section; empty when neither notebook shows an accuracy and nothing was verified.
    `comparisons`: compare()'s, if already made."""
    if comparisons is None:
        comparisons = compare(submitted_notebook, result.autograded_notebook)
    hidden = (result.verify or {}).get("accuracy")
    if not comparisons and hidden is None:
        return ""

    def cell(value):
        return "&mdash;" if value is None else f"{value:.4f}"

    def same(comparison):
        if comparison.differs:
            return "<b>differs</b>"
        return "" if None in (comparison.submitted, comparison.regraded) else "yes"

    rows = [f"<tr><td>Activity {c.activity}</td><td>{c.label} accuracy</td><td>{cell(c.submitted)}</td>"
            f"<td>{cell(c.regraded)}</td><td>{same(c)}</td></tr>"
            for c in comparisons]
    if hidden is not None:
        threshold = (result.verify or {}).get("threshold")
        rows.append(f"<tr><td>Activity 10</td><td>hidden test accuracy of the saved model"
                    f"{'' if threshold is None else f' (at least {threshold:g} needed)'}</td>"
                    f"<td>&mdash;</td><td>{hidden:.4f}</td><td></td></tr>")
    notes = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in sentences(comparisons))
    return ('<div id="reproduced-accuracies" role="region" aria-label="Your numbers and the regraded ones" '
            'style="font-family:sans-serif;padding:0 12px;margin:12px">'
            "<h3>Your numbers and the regraded ones</h3>"
            "<p>Your notebook was run again from the top when it was graded. Its random choices are "
            "seeded, so the accuracies below match when the submitted outputs come from the code you "
            "submitted.</p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + '<table style="border-collapse:collapse" border="1" cellpadding="4"><tr><th scope="col">Activity</th>'
            '<th scope="col">Number</th><th scope="col">In your submitted notebook</th>'
            '<th scope="col">Regraded</th><th scope="col">Same number?</th></tr>'
            + "".join(rows) + "</table></div>")
