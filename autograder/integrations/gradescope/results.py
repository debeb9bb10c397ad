"""Gradescope's results.json: from the pytest path's --grading-json report, or for a submission that
could not be graded at all; one test per grade cell, hidden checks shown after grades are published."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.course.files import write_text_atomic

VISIBLE, AFTER_PUBLISHED = "visible", "after_published"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def results_json(report: dict, settings, plan, seconds: float, note: str = "",
                 visibility: str = VISIBLE) -> dict:
    """Gradescope's results.json from the pytest path's --grading-json report."""
    from autograder.course.vocabulary import ACTIVITY_TITLES

    tests, counters = [], {}
    for test in report.get("tests", []):
        activity = test["activity"]
        counters[activity] = counters.get(activity, 0) + 1
        tests.append({
            "name": test["name"],
            "number": f"{activity}.{counters[activity]}",
            "score": test["points"],
            "max_score": test["max_points"],
            "status": "passed" if test["passed"] else "failed",
            "output": test["output"] or ("ok" if test["passed"] else "failed"),
            "tags": [f"activity {activity}"],
            "visibility": AFTER_PUBLISHED if test["hidden"] else VISIBLE,
        })
    score = round(sum(t["score"] for t in tests), 4)
    maximum = round(sum(t["max_score"] for t in tests), 4)
    lines = [f"Autograded: {score:g} of {maximum:g} points."]
    manual = [a for a in settings.points if a not in plan.points_by_activity() and settings.points[a]]
    for activity in manual:
        lines.append(f"Activity {activity} ({ACTIVITY_TITLES[activity]}, {settings.points[activity]:g} "
                     "points) is graded by hand.")
    if report.get("problem"):
        lines.append(report["problem"])
    execution = report.get("execution") or {}
    if execution.get("message"):
        lines.append(f"While running your notebook: {execution['message']}.")
    if note:
        lines.append(note)
    lines.append("Some checks are hidden until grades are published.")
    return {
        "score": score,
        "execution_time": int(round(seconds)),
        "output": "\n".join(lines),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"assignment": settings.assignment, "plan_sha256": plan.sha256(),
                       "execution": execution},
    }


def failed_results(message: str, seconds: float, visibility: str = VISIBLE) -> dict:
    """results.json for a submission that could not be graded at all."""
    return {"score": 0.0, "execution_time": int(round(seconds)), "output": message, "visibility": visibility,
            "stdout_visibility": "hidden", "tests": []}


def write_results(root: Path, results: dict) -> Path:
    """results/results.json under `root`, written whole or not at all (Gradescope reads it after us)."""
    return write_text_atomic(root / "results" / "results.json", json.dumps(results, indent=1) + "\n")
