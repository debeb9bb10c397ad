"""Activity 12: the classification report is recomputed from the model and compared."""
from __future__ import annotations

import math

from autograder.checks import keras_tools as kt
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed
from autograder.checks.training import labels_and_predictions

REPORT_HINT = ("collect labels and predictions in one pass over val_ds, then "
               "`report = classification_report(y_true, y_pred, target_names=class_names, zero_division=0)`")


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _close(mine, theirs) -> bool:
    """Recursive comparison of output_dict=True reports."""
    if isinstance(mine, dict):
        return isinstance(theirs, dict) and set(mine) == set(theirs) and all(
            _close(mine[key], theirs[key]) for key in mine)
    try:
        return math.isclose(float(mine), float(theirs), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _first_difference(mine: dict, theirs) -> str:
    if not isinstance(theirs, dict):
        return "a report of another shape"
    for row, values in mine.items():
        if row not in theirs:
            return f"no row {row!r}"
        if not _close(values, theirs[row]):
            return f"row {row!r} differs ({theirs[row]} instead of {values})"
    return "extra rows"


@check(12, REPORT_HINT)
def classification_report_matches(report, regularized_model, val_ds, class_names):
    """`report` equals scikit-learn's report recomputed for `regularized_model` on `val_ds`."""
    from sklearn.metrics import classification_report

    model = kt.require_model(12, regularized_model, "regularized_model", REPORT_HINT)
    if not isinstance(class_names, (list, tuple)) or not class_names:
        raise CheckFailed(12, "`class_names` from activity 2", describe(class_names), "run activity 2 first")
    if type(report) not in (str, dict):
        raise CheckFailed(12, "`report` to be the text (or dict) that classification_report returns",
                          describe(report), REPORT_HINT)
    import tensorflow as tf

    if not isinstance(val_ds, tf.data.Dataset):
        raise CheckFailed(12, "`val_ds` to be the validation dataset from activity 2", describe(val_ds),
                          "run activity 2 first")
    truth, predicted = labels_and_predictions(model, val_ds)
    common = dict(labels=list(range(len(class_names))), target_names=list(class_names), zero_division=0)
    if isinstance(report, dict):
        mine = classification_report(truth, predicted, output_dict=True, **common)
        if not _close(mine, report):
            raise CheckFailed(12, "the report of `regularized_model` on val_ds",
                              _first_difference(mine, report), REPORT_HINT)
    else:
        # any number of digits is fine; the numbers must be the model's own
        if not any(_normalised(classification_report(truth, predicted, digits=digits, **common))
                   == _normalised(report) for digits in range(1, 7)):
            mine = classification_report(truth, predicted, output_dict=True, **common)
            raise CheckFailed(12, f"the report of `regularized_model` on val_ds (accuracy "
                              f"{mine['accuracy']:.2f} on {len(truth)} images)",
                              "a report with other numbers or classes", REPORT_HINT)
    return passed(12, "classification report recomputed and equal")
