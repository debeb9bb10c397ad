"""The class page's pictures: static PNG files beside the page, drawn with matplotlib, each with a
text alternative that gives its numbers. Colours are Okabe and Ito's (told apart by people with
colour-blindness), and never the only signal: bars also differ by hatching, points by marker shape,
and every series is named in a legend. No student id is drawn (ids may hold anything)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from autograder.course.files import atomic_path
from autograder.reporting.class_insight import ActivityStats
from autograder.reporting.class_models import Cost, Overfitting, ThresholdView

FULL, PARTIAL, NONE = "#009E73", "#E69F00", "#56595C"   # green, orange, grey
ABOVE, BELOW = "#0072B2", "#D55E00"                      # blue, vermilion


@dataclass(frozen=True)
class Picture:
    file: str          # the PNG's name, beside the page
    alt: str           # the text alternative, with the numbers


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, folder: Path, name: str) -> str:
    plt = _pyplot()
    figure.tight_layout()
    with atomic_path(folder / name) as partial:
        figure.savefig(partial, dpi=100, format="png")
    plt.close(figure)
    return name


def activities(stats: list[ActivityStats], folder: Path, name: str) -> Picture | None:
    """Per activity, the share of students with full, some and no points (stacked bars)."""
    if not stats:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 0.42 * len(stats) + 1.6))
    labels = [f"a{s.activity:02d} {s.title}" for s in stats][::-1]
    rows = stats[::-1]
    left = [0.0] * len(rows)
    for label, colour, hatch, count in (("full marks", FULL, "", lambda s: s.full),
                                        ("some points", PARTIAL, "//", lambda s: s.partial),
                                        ("no points", NONE, "xx", lambda s: s.zero)):
        shares = [count(s) / s.students * 100 for s in rows]
        axis.barh(labels, shares, left=left, color=colour, hatch=hatch, edgecolor="white", label=label)
        left = [a + b for a, b in zip(left, shares)]
    axis.set_xlim(0, 100)
    axis.set_xlabel("percent of students")
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    alt = (f"Stacked bars, one per activity, of the {stats[0].students} students' points: "
           + "; ".join(f"activity {s.activity}: {s.full} full marks, {s.partial} some points, {s.zero} none "
                       f"(mean {s.mean:.1f} of {s.maximum:g})" for s in stats) + ".")
    return Picture(_save(figure, folder, name), alt)


def accuracy(view: ThresholdView, folder: Path, name: str) -> Picture | None:
    """Each saved model's hidden accuracy as a point, the threshold as a line."""
    if not view.accuracies:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 2.8))
    ordered = sorted(view.accuracies.values())
    for label, colour, marker, keep in ((f"at or above {view.threshold:g}", ABOVE, "o", True),
                                        (f"below {view.threshold:g}", BELOW, "X", False)):
        points = [(a, i % 5) for i, a in enumerate(ordered) if (a >= view.threshold) == keep]
        if points:
            axis.scatter([a for a, _ in points], [y for _, y in points], color=colour, marker=marker, s=60,
                         label=f"{label} ({len(points)})", edgecolors="black", linewidths=0.5)
    axis.axvline(view.threshold, color="black", linestyle="--", linewidth=1.5, label=f"threshold {view.threshold:g}")
    widest = max(view.shifts, key=lambda s: s.margin).margin if view.shifts else 0.0
    axis.axvspan(view.threshold - widest, view.threshold + widest, color="#BBBBBB", alpha=0.35,
                 label=f"threshold \u00b1 {widest:g}")
    axis.set_yticks([])
    axis.set_xlabel("accuracy of the saved model on the hidden split")
    axis.legend(loc="upper left", fontsize=8, frameon=False, bbox_to_anchor=(1.0, 1.0))
    shifts = "; ".join(f"{len(s.would_pass)} would pass if it were {s.margin:g} lower, "
                       f"{len(s.would_fail)} would fail if it were {s.margin:g} higher" for s in view.shifts)
    alt = (f"Dot plot of the hidden-split accuracy of {len(ordered)} saved models: lowest {ordered[0]:.4f}, "
           f"median {statistics.median(ordered):.4f}, highest {ordered[-1]:.4f}; threshold {view.threshold:g}: "
           f"{len(view.above)} at or above it, {len(view.below)} below it; {shifts}.")
    return Picture(_save(figure, folder, name), alt)


def overfitting(rows: list[Overfitting], threshold: float, folder: Path, name: str) -> Picture | None:
    """The first model's train/validation gap against the saved model's hidden accuracy."""
    known = [r for r in rows if r.hidden is not None]
    if not known:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for label, colour, marker, keep in (("at or above the threshold", ABOVE, "o", True),
                                        ("below the threshold", BELOW, "X", False)):
        points = [r for r in known if (r.hidden >= threshold) == keep]
        if points:
            axis.scatter([r.gap for r in points], [r.hidden for r in points], color=colour, marker=marker, s=60,
                         edgecolors="black", linewidths=0.5, label=f"{label} ({len(points)})")
    axis.axhline(threshold, color="black", linestyle="--", linewidth=1.5, label=f"threshold {threshold:g}")
    axis.set_xlabel("first model: training minus validation accuracy (activity 8)")
    axis.set_ylabel("hidden-split accuracy")
    axis.legend(fontsize=8, frameon=False)
    gaps, hidden = [r.gap for r in known], [r.hidden for r in known]
    trend = ""
    if len(known) >= 3 and len(set(gaps)) > 1 and len(set(hidden)) > 1:
        trend = f"; correlation {statistics.correlation(gaps, hidden):+.2f}"
    alt = (f"Scatter plot of {len(known)} students: the first model's train/validation gap from {min(gaps):.3f} "
           f"to {max(gaps):.3f} (median {statistics.median(gaps):.3f}) against hidden accuracy from "
           f"{min(hidden):.4f} to {max(hidden):.4f}{trend}; "
           f"{sum(1 for h in hidden if h < threshold)} below the threshold {threshold:g}.")
    return Picture(_save(figure, folder, name), alt)


def cost(rows: list[Cost], memory_limit_mb: float, folder: Path, name: str) -> Picture | None:
    """Histograms of the grading time and the kernel's peak memory per student."""
    if not rows:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    seconds = [r.seconds for r in rows]
    memory = [r.peak_memory_mb for r in rows if r.peak_memory_mb]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.hist(seconds, bins=min(20, max(5, len(seconds))), color=ABOVE, edgecolor="white", hatch="//")
    left.set_xlabel("grading time per student (s)")
    left.set_ylabel("students")
    if memory:
        right.hist(memory, bins=min(20, max(5, len(memory))), color=FULL, edgecolor="white", hatch="..")
    right.axvline(memory_limit_mb, color="black", linestyle="--", linewidth=1.5, label=f"limit {memory_limit_mb:g} MB")
    right.set_xlabel("kernel's peak memory (MB)")
    right.legend(fontsize=8, frameon=False)
    for axis in (left, right):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    memory_text = (f"peak memory of {len(memory)} kernels from {min(memory):.0f} to {max(memory):.0f} MB "
                   f"(median {statistics.median(memory):.0f} MB)" if memory else "no peak memory recorded")
    alt = (f"Two histograms: grading time of {len(seconds)} students from {min(seconds):.1f} to "
           f"{max(seconds):.1f} s (median {statistics.median(seconds):.1f} s, {sum(seconds):.0f} s in all); "
           f"{memory_text}, against the limit of {memory_limit_mb:g} MB.")
    return Picture(_save(figure, folder, name), alt)
