"""The class page: one static HTML file per assignment in the grading folder,
class_report/<assignment>.html, with its pictures beside it. No server: open it in a browser.

`labkit grade` writes it with the class's other outputs, from the results it already holds;
`labkit report` writes it again from the state files a grading run left (results_in)."""
from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from autograder.comments.listing import results_in  # noqa: F401  (labkit report reads the state files)
from autograder.course.files import write_text_atomic
from autograder.course.records import GradeResult
from autograder.reporting import class_attention, class_insight, class_models, class_plots, class_template

FOLDER = "class_report"
TOP_GROUPS = 5


def page_path(out: Path, settings) -> Path:
    return Path(out) / FOLDER / f"{settings.assignment}.html"


def feedback_links(results: list[GradeResult], settings, out: Path):
    """student -> the page's relative link to their feedback page, for pages that exist."""
    links = {}
    for result in results:
        target = Path(out) / "feedback" / result.student / settings.assignment / f"{settings.assignment}.html"
        if target.is_file():
            links[result.student] = "../feedback/" + "/".join(
                quote(part) for part in (result.student, settings.assignment, target.name))
    return links.get


def pictures(folder: Path, settings, stats, threshold, overfitting, costs) -> dict:
    prefix = settings.assignment
    return {
        "activities": class_plots.activities(stats, folder, f"{prefix}_activities.png"),
        "accuracy": class_plots.accuracy(threshold, folder, f"{prefix}_accuracy.png"),
        "overfitting": class_plots.overfitting(overfitting, threshold.threshold, folder, f"{prefix}_overfitting.png"),
        "cost": class_plots.cost(costs, settings.memory_limit_mb, folder, f"{prefix}_cost.png"),
    }


def letters_line(results: list[GradeResult], settings) -> str:
    counts = Counter(r.letter for r in results)
    return ", ".join(f"{letter} {counts[letter]}" for letter in [*settings.letter_grades, settings.fail_grade]
                     if counts[letter])


def write(results: list[GradeResult], settings, out: Path, assessments: dict | None = None,
          source: str = "this grading run", draw: bool = True) -> Path:
    """Write the class page of `results` into `out`/class_report/ and return its path.
    `assessments`: activity 13's pre-assessments, if already made; `draw`: False leaves the pictures out."""
    out = Path(out)
    target = page_path(out, settings)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    results = sorted(results, key=lambda r: r.student)
    groups = class_insight.loss_groups(results)
    stats = class_insight.activity_stats(results, settings, groups)
    threshold = class_models.threshold_view(results, settings)
    overfitting = class_models.overfitting(results)
    costs = class_models.costs(results)
    comments = class_attention.comment_view(results, settings, assessments)
    drawn = pictures(folder, settings, stats, threshold, overfitting, costs) if draw else dict.fromkeys(
        ("activities", "accuracy", "overfitting", "cost"))
    percents = [r.percent for r in results] or [0.0]
    memory = [c.peak_memory_mb for c in costs if c.peak_memory_mb]
    page = class_template.render(
        assignment=settings.assignment, results=results, mean=statistics.mean(percents),
        median=statistics.median(percents), letters=letters_line(results, settings),
        written=time.strftime("%Y-%m-%d %H:%M"), source=source, csv="../grades.csv",
        plot="../grade_distribution.png", link=feedback_links(results, settings, out),
        attention=class_attention.attention(results, threshold, comments), near=class_models.NEAR,
        activities=stats, groups=groups, top_groups=groups[:TOP_GROUPS],
        group_ids={group.key: index for index, group in enumerate(groups, start=1)},
        pictures=drawn, threshold=threshold, overfitting=overfitting,
        statuses=class_models.statuses(results), costs=costs,
        time_spread=class_models.spread([c.seconds for c in costs]), memory_spread=class_models.spread(memory),
        memory_limit=settings.memory_limit_mb, comments=comments)
    write_text_atomic(target, page)
    return target
