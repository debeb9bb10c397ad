"""Activity 13's facts come from the hand-over as the grader judges it: models evaluated again on
the split the notebook loaded, class names from the grader's training folder; numbers and reports
the kernel typed are never read. On test_checks' tiny lab, in this process (no notebook kernel)."""
from __future__ import annotations

import contextlib
import shutil

import numpy as np
import pytest
from test_checks import lab_dir  # noqa: F401  (a fixture)
from test_handoff import honest_names

from autograder import checks
from autograder.comments import facts as student_facts
from autograder.course.plan import GradedProperty, Plan, _calls
from autograder.sandbox import capture

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CELLS = {
    "a02_data": (2, "checks.dataset_loaded(train_ds, val_ds, class_names)"),
    "a07_fit": (7, "checks.compiled_and_fitted(model, history)"),
    "a08_acc": (8, "checks.accuracies(train_accuracy, val_accuracy, model, train_ds, val_ds)"),
    "a10_reg": (10, "checks.regularized_fitted(regularized_history, regularized_model)"),
    "a12_rep": (12, "checks.classification_report_matches(report, regularized_model, val_ds, class_names)"),
}


def plan() -> Plan:
    properties = []
    for grade_id, (activity, source) in CELLS.items():
        called, names = _calls(grade_id, source)
        properties.append(GradedProperty(grade_id, activity, 1.0, source, called, names))
    return Plan("lab", tuple(properties))


@pytest.fixture(scope="module")
def handed_over(lab_dir, tmp_path_factory):
    """Captures of an honest run whose typed accuracies and report are forged afterwards."""
    root = tmp_path_factory.mktemp("capture")
    with contextlib.chdir(lab_dir):
        names = honest_names(lab_dir)
        names.update(regularized_model=names["model"], regularized_history=names["history"],
                     train_accuracy=1.0, val_accuracy=1.0, report="everything perfect")
        for grade_id in CELLS:
            capture.capture(grade_id, plan().by_id()[grade_id].names, names, str(root))
    return root, names


def collected(lab, root):
    with contextlib.chdir(lab):
        return student_facts.collect(plan().to_dict(), str(root), str(lab))


def test_facts_are_recomputed_from_the_handed_over_models_not_read_from_typed_numbers(lab_dir, handed_over):
    from sklearn.metrics import classification_report

    root, names = handed_over
    found = collected(lab_dir, root)
    truth = {}
    for split in ("train_ds", "val_ds"):
        labels, predicted = checks.training.labels_and_predictions(names["model"], names[split])
        truth[split] = float(np.mean(labels == predicted))
    assert found["first_train"] == pytest.approx(truth["train_ds"]) != 1.0
    assert found["first_val"] == pytest.approx(truth["val_ds"])
    assert found["first_gap"] == pytest.approx(truth["train_ds"] - truth["val_ds"])
    assert found["val_images"] == sum(len(labels) for _, labels in names["val_ds"])
    records = names["history"].history
    assert found["first_last_val"] == pytest.approx(records["val_accuracy"][-1])
    best = int(np.argmax(records["val_accuracy"]))
    assert (found["regularized_best_epoch"], found["regularized_best_val"]) == (best + 1, pytest.approx(
        records["val_accuracy"][best]))
    labels, predicted = checks.training.labels_and_predictions(names["model"], names["val_ds"])
    report = classification_report(labels, predicted, labels=[0, 1, 2], target_names=names["class_names"],
                                   zero_division=0, output_dict=True)
    f1 = {name: report[name]["f1-score"] for name in names["class_names"]}
    assert found["class_names"] == sorted(f1)
    assert found["hardest"] == sorted(n for n, v in f1.items() if v <= min(f1.values()) + student_facts.TIE)
    assert found["easiest"] == sorted(n for n, v in f1.items() if v >= max(f1.values()) - student_facts.TIE)
    assert found["missing"] == {}


def test_an_activity_the_notebook_never_reached_leaves_its_facts_missing_with_the_reason(lab_dir, handed_over,
                                                                                         tmp_path):
    root, _ = handed_over
    partial = tmp_path / "capture"
    shutil.copytree(root, partial)
    shutil.rmtree(partial / "a12_rep")
    found = collected(lab_dir, partial)
    assert "easiest" not in found and "first_train" in found
    assert found["missing"] == {student_facts.REPORT: "the notebook never reached this activity"}
