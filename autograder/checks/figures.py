"""Activities 3, 6 and 11: figures are inspected through their axes and artists."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from autograder.checks.keras_tools import accuracy_key
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed

SAMPLE_HINT = ("make a grid with plt.subplots, show one image per axes with ax.imshow(...) and title it "
               "with ax.set_title(class_names[label]); keep the figure: `sample_figure = fig`")
DIAGRAM_HINT = ("save the diagram with keras.utils.plot_model(model, to_file='model.png', show_shapes=True) "
                "and set `architecture_diagram = 'model.png'`")
CURVES_HINT = ("plot history.history['loss'] and ['val_loss'] on one axes and ['accuracy'] and "
               "['val_accuracy'] on another, straight from the History; keep `curves_figure = fig`")


def _require_figure(activity, value, name, hint):
    from matplotlib.figure import Figure

    if not isinstance(value, Figure):
        raise CheckFailed(activity, f"`{name}` to be a matplotlib Figure", describe(value), hint)
    return value


def _titles(ax) -> str:
    return " ".join(ax.get_title(loc) for loc in ("center", "left", "right"))


def _names_in(title: str, class_names) -> set[str]:
    """Class names that appear in a title as whole words."""
    return {name for name in class_names
            if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", title)}


def _shows_picture(image) -> bool:
    array = np.asarray(image.get_array())
    return array.ndim >= 2 and array.size > 0 and float(np.ptp(array)) > 0


@check(3, SAMPLE_HINT)
def sample_figure(sample_figure, class_names):
    """A Figure with at least one non-blank image per class, each axes titled by its class."""
    figure = _require_figure(3, sample_figure, "sample_figure", SAMPLE_HINT)
    if not isinstance(class_names, (list, tuple)) or not class_names:
        raise CheckFailed(3, "`class_names` from activity 2", describe(class_names),
                          "run activity 2 first")
    shown: dict[str, int] = {name: 0 for name in class_names}
    images_total = 0
    for ax in figure.get_axes():
        pictures = [image for image in ax.get_images() if _shows_picture(image)]
        images_total += len(pictures)
        if pictures:
            for name in _names_in(_titles(ax), class_names):
                shown[name] += len(pictures)
    if images_total == 0:
        raise CheckFailed(3, "images drawn with imshow", "a figure without any image", SAMPLE_HINT)
    missing = [name for name, count in shown.items() if count == 0]
    if missing:
        raise CheckFailed(3, f"at least one image titled with each of the {len(class_names)} class names",
                          f"{images_total} images and no titled image of {missing}",
                          "draw images until every class is shown and title each axes with its class name")
    return passed(3, f"sample figure shows all {len(class_names)} classes ({images_total} images)")


@check(6, DIAGRAM_HINT)
def architecture_diagram(architecture_diagram):
    """The path of a readable, non-trivial PNG image."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(architecture_diagram, (str, os.PathLike)):
        raise CheckFailed(6, "`architecture_diagram` to be the path of a PNG file",
                          describe(architecture_diagram), DIAGRAM_HINT)
    path = Path(architecture_diagram)
    if not path.is_file():
        raise CheckFailed(6, "an existing PNG file", f"no file at {str(path)!r}", DIAGRAM_HINT)
    try:
        with Image.open(path) as image:
            image.verify()  # checks the file's structure
        with Image.open(path) as image:
            image.load()
            kind, (width, height) = image.format, image.size
            extrema = image.convert("L").getextrema()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise CheckFailed(6, "a readable PNG image", f"a file that is not an image ({error})",
                          DIAGRAM_HINT) from None
    if kind != "PNG":
        raise CheckFailed(6, "a PNG image", f"a {kind} image", DIAGRAM_HINT)
    if width < 50 or height < 50 or extrema[0] == extrema[1]:
        raise CheckFailed(6, "a diagram of the layers (at least 50 x 50 pixels, not blank)",
                          f"a {width} x {height} image{' of one colour' if extrema[0] == extrema[1] else ''}",
                          DIAGRAM_HINT)
    return passed(6, f"architecture diagram {path.name} ({width} x {height} PNG)")


def _history_records(history) -> dict:
    import keras

    if isinstance(history, keras.callbacks.History):
        return history.history
    raise CheckFailed(11, "the History returned by fit (the notebook passes it for you)",
                      describe(history), "run activities 7 and 10 before this one")


def _lines_matching(figure, values) -> int:
    """Number of Line2D artists whose y-data equal `values`."""
    expected = np.asarray(values, dtype=float)
    count = 0
    for ax in figure.get_axes():
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.shape == expected.shape and np.allclose(y, expected, rtol=1e-5, atol=1e-7):
                count += 1
    return count


@check(11, CURVES_HINT)
def curves_figure(curves_figure, history):
    """A Figure with a line for each of loss, val_loss, accuracy and val_accuracy that the history
    holds, equal to the history's lists. A record the fit did not make (no validation data, no
    accuracy metric) is the fit's mistake, graded in activity 10, so its curve is not asked for here."""
    figure = _require_figure(11, curves_figure, "curves_figure", CURVES_HINT)
    records = _history_records(history)
    accuracy = accuracy_key(records) or "accuracy"
    wanted = [key for key in ("loss", "val_loss", accuracy, f"val_{accuracy}") if key in records]
    if not wanted:
        raise CheckFailed(11, "a history with loss and accuracy records", f"a history with {sorted(records)}",
                          "run activity 10 (compile with metrics=['accuracy'], fit with validation_data)")
    missing = [key for key in wanted if _lines_matching(figure, records[key]) == 0]
    if missing:
        lines = sum(len(ax.get_lines()) for ax in figure.get_axes())
        raise CheckFailed(11, f"one line for each of {wanted}, drawn from the history",
                          f"{lines} lines and none with the values of {missing}", CURVES_HINT)
    absent = [key for key in ("loss", "val_loss", "accuracy", "val_accuracy")
              if key.replace("accuracy", accuracy) not in records]
    note = (f"; the history has no {', '.join(absent)} records (that is activity 10's fit), so those curves "
            "were not asked for" if absent else "")
    return passed(11, f"curves of {', '.join(wanted)} match the history" + note)
