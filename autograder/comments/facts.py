"""Each student's numbers for activity 13, taken from the hand-over that the grader judges.

Runs in a process forked before any student code (like the judge): models are rebuilt from the
captures and evaluated again on the split the notebook loaded where the data are graded, and class
names come from the grader's own training folder. Numbers the kernel typed (train_accuracy,
report) are never read; the histories are the records handed over with the fitted models."""
from __future__ import annotations

import math
import os
from pathlib import Path

# The grade cells whose captures hold what each fact needs, by the check they call.
FIRST_MODEL = "accuracies"                 # activity 8: the first model after fitting
FIRST_HISTORY = "compiled_and_fitted"      # activity 7: its history
REGULARIZED = "regularized_fitted"         # activity 10: the regularized model and its history
REPORT = "classification_report_matches"   # activity 12: the regularized model as reported on
TIE = 0.01   # classes whose f1-scores lie within this of the best (worst) are all "easiest" ("hardest")

# What each fact is called in the grader's and the student's checklist.
LABELS = {
    "first_train": "training accuracy of the first model (activity 8)",
    "first_val": "validation accuracy of the first model (activity 8)",
    "first_gap": "gap between them (activity 8)",
    "first_last_train": "training accuracy in the first model's last epoch",
    "first_last_val": "validation accuracy in the first model's last epoch",
    "regularized_train": "training accuracy of the regularized model",
    "regularized_val": "validation accuracy of the regularized model",
    "regularized_gap": "gap of the regularized model",
    "regularized_last_train": "training accuracy in the regularized model's last epoch",
    "regularized_last_val": "validation accuracy in the regularized model's last epoch",
    "regularized_last_gap": "gap in the regularized model's last epoch",
    "regularized_best_train": "training accuracy in the regularized model's best epoch",
    "regularized_best_val": "validation accuracy in the regularized model's best epoch",
    "report_accuracy": "accuracy in the classification report",
    "report_macro_f1": "macro-average f1-score in the report",
    "hidden_accuracy": "accuracy of the saved model on the hidden test images",
}
FIRST = ("first_train", "first_val", "first_gap", "first_last_train", "first_last_val")
REGULARIZED_FACTS = ("regularized_train", "regularized_val", "regularized_gap", "regularized_last_train",
                     "regularized_last_val", "regularized_last_gap", "regularized_best_train",
                     "regularized_best_val")


def _capture_of(plan, check: str) -> str | None:
    return next((p.grade_id for p in plan.properties if check in p.checks), None)


def _accuracy(model, dataset, facts: dict | None = None, count: str = "") -> float:
    from autograder.checks.training import labels_and_predictions

    truth, predicted = labels_and_predictions(model, dataset)
    if facts is not None and count:
        facts[count] = len(truth)   # one image of this split moves an accuracy by 1/len
    return float((truth == predicted).mean()) if len(truth) else math.nan


def _records(history) -> dict:
    """{'train': [...], 'val': [...]} accuracies per epoch of a handed-over History, else {}."""
    from autograder.checks import keras_tools as kt

    records = getattr(history, "history", None)
    if not isinstance(records, dict):
        return {}
    key = kt.accuracy_key(records)
    if key is None or f"val_{key}" not in records:
        return {}
    train, val = [float(v) for v in records[key]], [float(v) for v in records[f"val_{key}"]]
    return {"train": train, "val": val} if train and len(train) == len(val) else {}


def fitted(model) -> bool:
    """The model was fitted: it came with the records of its latest fit (see handoff.capture)."""
    import keras

    return isinstance(getattr(model, "history", None), keras.callbacks.History)


def _first_model(names: dict, split: dict, facts: dict) -> None:
    model = names.get("model")
    if model is None or not fitted(model):   # a model never fitted has no results to quote
        facts["missing"][FIRST_MODEL] = "the first model was never fitted (activity 7)"
        return
    facts["first_train"] = _accuracy(model, split["train_ds"])
    facts["first_val"] = _accuracy(model, split["val_ds"], facts, "val_images")
    facts["first_gap"] = facts["first_train"] - facts["first_val"]


def _first_history(names: dict, facts: dict) -> None:
    records = _records(names.get("history"))
    if records:
        facts["first_last_train"], facts["first_last_val"] = records["train"][-1], records["val"][-1]


def _regularized(names: dict, split: dict, facts: dict) -> None:
    model = names.get("regularized_model")
    if model is not None and fitted(model):
        facts["regularized_train"] = _accuracy(model, split["train_ds"])
        facts["regularized_val"] = _accuracy(model, split["val_ds"], facts, "val_images")
        facts["regularized_gap"] = facts["regularized_train"] - facts["regularized_val"]
    records = _records(names.get("regularized_history"))
    if records:
        best = max(range(len(records["val"])), key=lambda i: (records["val"][i], -i))  # first best epoch
        facts.update(regularized_last_train=records["train"][-1], regularized_last_val=records["val"][-1],
                     regularized_last_gap=records["train"][-1] - records["val"][-1],
                     regularized_best_train=records["train"][best], regularized_best_val=records["val"][best],
                     regularized_best_epoch=best + 1, regularized_epochs=len(records["val"]))


def _report(names: dict, split: dict, class_names: list[str], facts: dict) -> None:
    from sklearn.metrics import classification_report

    from autograder.checks.training import labels_and_predictions

    model = names.get("regularized_model")
    if model is None or not fitted(model) or not class_names:
        facts["missing"][REPORT] = "the regularized model was never fitted (activity 10)"
        return
    truth, predicted = labels_and_predictions(model, split["val_ds"])
    report = classification_report(truth, predicted, labels=list(range(len(class_names))),
                                   target_names=class_names, zero_division=0, output_dict=True)
    facts["classes"] = {name: {metric: float(report[name][metric]) for metric in
                               ("precision", "recall", "f1-score", "support")} for name in class_names}
    facts["report_accuracy"] = float(report["accuracy"])
    facts["report_macro_f1"] = float(report["macro avg"]["f1-score"])
    facts.update(ranked(facts["classes"]))


def ranked(classes: dict) -> dict:
    """The easiest and hardest classes by f1-score (ties within TIE count alike)."""
    scores = {name: values["f1-score"] for name, values in classes.items()}
    if not scores:
        return {}
    best, worst = max(scores.values()), min(scores.values())
    return {"easiest": sorted(n for n, s in scores.items() if s >= best - TIE),
            "hardest": sorted(n for n, s in scores.items() if s <= worst + TIE)}


def derived(facts: dict) -> dict:
    """Facts that follow from others: whether regularization narrowed the gap."""
    if "first_gap" in facts and "regularized_gap" in facts:
        return {"gap_narrowed": facts["regularized_gap"] < facts["first_gap"]}
    return {}


ACCURACIES = ("first_train", "first_val", "first_last_train", "first_last_val", "regularized_train",
              "regularized_val", "regularized_last_train", "regularized_last_val", "regularized_best_train",
              "regularized_best_val", "report_accuracy", "report_macro_f1", "hidden_accuracy")
GAPS = ("first_gap", "regularized_gap", "regularized_last_gap")
COUNTS = ("regularized_best_epoch", "regularized_epochs", "val_images")
METRIC_KEYS = ("precision", "recall", "f1-score")


def _number(value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"a number from {low:g} to {high:g}, got {str(value)[:40]!r}")
    return float(value)


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise ValueError(f"a whole number, got {str(value)[:40]!r}")
    return value


def _classes(value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
        raise ValueError("class name -> scores")
    return {name: {**{metric: _number((scores or {}).get(metric), 0, 1) for metric in METRIC_KEYS},
                   "support": _number((scores or {}).get("support", 0), 0, 10**9)}
            for name, scores in value.items()}


def _names(value, allowed=None) -> list:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value) or (
            allowed is not None and not set(value) <= set(allowed)):
        raise ValueError("a list of class names")
    return list(value)


def usable(facts) -> dict:
    """The facts the pre-assessment can rely on: every value of the kind its name promises
    (accuracies from 0 to 1, gaps from -1 to 1, whole counts, class names), anything else left out
    and named in `missing`, so that a fact that is missing, damaged or absurd reads as missing."""
    if not isinstance(facts, dict):
        return {"missing": {"all": "no results" if facts is None else "results the grader cannot read"}}
    missing = facts.get("missing")
    kept: dict = {"missing": {str(k): str(v) for k, v in missing.items()} if isinstance(missing, dict) else {}}
    rules = {**dict.fromkeys(ACCURACIES, lambda v: _number(v, 0, 1)),
             **dict.fromkeys(GAPS, lambda v: _number(v, -1, 1)), **dict.fromkeys(COUNTS, _count),
             "classes": _classes, "class_names": _names}
    for key, rule in rules.items():
        if key in facts:
            try:
                kept[key] = rule(facts[key])
            except (ValueError, TypeError, AttributeError) as error:
                kept["missing"][key] = f"expected {error}"
    for key in ("easiest", "hardest"):
        if key in facts:
            try:
                kept[key] = _names(facts[key], kept.get("classes", {}))
            except ValueError:
                kept["missing"][key] = "expected the names of classes in the report"
    if isinstance(facts.get("gap_narrowed"), bool):
        kept.update(derived(kept))
    return kept


def collect(plan_dict: dict, capture_root: str, lab: str, max_params: int | None = None) -> dict:
    """The student's facts as plain JSON data; `missing` names what could not be found, and why. No
    model larger than `max_params` (MAX_MODEL_PARAMS; None: the default) is built. Meant for a fresh
    process: it changes the working folder to `lab`."""
    from autograder.checks import lab as lab_settings
    from autograder.course.plan import Plan
    from autograder.judging import rebuild

    plan = Plan.from_dict(plan_dict)
    os.chdir(lab)
    root = Path(capture_root)
    loaded_at = next((p.grade_id for p in plan.properties if "dataset_loaded" in p.checks), None)
    reference = rebuild.Reference(Path(lab), capture_root=root, loaded_at=loaded_at)
    if max_params is not None:
        reference.max_params = max_params
    settings = lab_settings.load(13, Path(lab))
    class_names = lab_settings.class_folders(13, settings)
    facts: dict = {"class_names": class_names, "missing": {}}
    split = None
    steps = ((FIRST_MODEL, lambda n: _first_model(n, split, facts)),
             (FIRST_HISTORY, lambda n: _first_history(n, facts)),
             (REGULARIZED, lambda n: _regularized(n, split, facts)),
             (REPORT, lambda n: _report(n, split, class_names, facts)))
    for check, step in steps:
        grade_id = _capture_of(plan, check)
        if grade_id is None or not (root / grade_id / "values.json").is_file():
            facts["missing"][check] = "the notebook never reached this activity"
            continue
        try:
            if split is None:
                split = {name: data for name, (data, _) in reference.agreed_split().items()}
            names, _ = rebuild.namespace(root, grade_id, reference)
            step(names)
        except Exception as error:  # a value the grader cannot rebuild leaves its facts unknown
            facts["missing"][check] = f"{type(error).__name__}: {str(error)[:200]}"
    facts.update(derived(facts))
    return {k: v for k, v in facts.items() if not (isinstance(v, float) and math.isnan(v))}
