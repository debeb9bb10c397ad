"""The hand-over from the kernel to the judge: what the kernel writes, what the grader copies, and
what the judge rebuilds and decides, all in this process on a tiny lab (no notebook kernel)."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import classification_report  # noqa: E402
from test_checks import compile_, frozen_model, lab_dir, load_datasets  # noqa: E402,F401  (lab_dir: a fixture)

from autograder import checks  # noqa: E402
from autograder.course.plan import GradedProperty  # noqa: E402
from autograder.course.records import CellGrade, GradeResult  # noqa: E402
from autograder.grading.scores import out_of_bounds  # noqa: E402
from autograder.judging import judge, rebuild, safe_copy  # noqa: E402
from autograder.preprocessors import scrub  # noqa: E402
from autograder.sandbox import capture

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def lab(lab_dir):
    """test_checks' tiny lab: three classes of synthetic images and a tiny pretrained base."""
    return lab_dir


@pytest.fixture(scope="module")
def notebook(lab):
    """The names an honest notebook leaves behind, made the lab's way."""
    with contextlib.chdir(lab):
        return honest_names(lab)


def honest_names(lab):
    train_ds, val_ds = load_datasets(lab)
    class_names = train_ds.class_names
    keras.utils.set_random_seed(1)
    base_model, model = frozen_model(lab)
    compile_(model)
    history = model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=0)
    _, train_accuracy = model.evaluate(train_ds, verbose=0)
    _, val_accuracy = model.evaluate(val_ds, verbose=0)
    truth, predicted = checks.training.labels_and_predictions(model, val_ds)
    report = classification_report(truth, predicted, labels=list(range(3)), target_names=class_names,
                                   zero_division=0)
    figure, axes = plt.subplots(1, 3)
    for axis, (images, labels) in zip(axes, [next(iter(train_ds.unbatch().filter(lambda x, y: y == i).batch(1)))
                                            for i in range(3)]):
        axis.imshow(images[0].numpy().squeeze())
        axis.set_title(class_names[int(labels[0])])
    keras.utils.plot_model(model, to_file=str(lab / "diagram.png"), show_shapes=True, dpi=50)
    return {"tf": tf, "keras": keras, "train_ds": train_ds, "val_ds": val_ds, "class_names": class_names,
            "base_model": base_model, "model": model, "history": history, "sample_figure": figure,
            "train_accuracy": float(train_accuracy), "val_accuracy": float(val_accuracy), "report": report,
            "architecture_diagram": "diagram.png"}


CELLS = {
    "a01": (1, "checks.imports(tf, keras)"),
    "a02": (2, "checks.dataset_loaded(train_ds, val_ds, class_names)"),
    "a03": (3, "checks.sample_figure(sample_figure, class_names)"),
    "a05": (5, "checks.base_pretrained(base_model)\nchecks.transfer_model(model, base_model, class_names)"),
    "a06": (6, "checks.architecture_diagram(architecture_diagram)"),
    "a07": (7, "checks.compiled_and_fitted(model, history)"),
    "a08": (8, "checks.accuracies(train_accuracy, val_accuracy, model, train_ds, val_ds)"),
    "a12": (12, "checks.classification_report_matches(report, model, val_ds, class_names)"),
}


def prop(grade_id: str) -> GradedProperty:
    from autograder.course.plan import _calls

    activity, source = CELLS[grade_id]
    called, names = _calls(grade_id, source)
    return GradedProperty(grade_id, activity, 1.0, source, called, names)


def judged(lab, root: Path, namespace: dict, grade_id: str):
    """Capture as the kernel does, copy as the grader does, then judge the cell."""
    with contextlib.chdir(lab):
        capture.capture(grade_id, prop(grade_id).names, namespace, str(root / "kernel"))
        safe_copy.copy_tree(root / "kernel", root / "grader")
        return judge.judge_cell(prop(grade_id), root / "grader", rebuild.Reference(lab))


@pytest.mark.parametrize("grade_id", sorted(CELLS))
def test_an_honest_notebooks_values_pass_every_check_when_rebuilt_outside(lab, notebook, tmp_path, grade_id):
    outcome = judged(lab, tmp_path, notebook, grade_id)
    assert outcome.passed, outcome.message
    assert f"Activity {CELLS[grade_id][0]}:" in outcome.message


def test_rebuilt_values_keep_the_identities_the_checks_test(lab, notebook, tmp_path, monkeypatch):
    monkeypatch.chdir(lab)
    capture.capture("cell", ("model", "base_model", "history"), notebook, str(tmp_path))
    names, foreign = rebuild.namespace(tmp_path, "cell", rebuild.Reference(lab))
    assert foreign == []
    assert any(layer is names["base_model"] for layer in names["model"].layers)
    assert names["history"].model is names["model"] and names["model"].history is names["history"]
    assert names["model"].compiled and not names["base_model"].trainable


def test_typed_or_numpy_accuracies_fail_outside_as_they_do_inside(lab, notebook, tmp_path):
    typed = {**notebook, "train_accuracy": 1.0, "val_accuracy": 1.0}
    outcome = judged(lab, tmp_path / "typed", typed, "a08")
    assert not outcome.passed and "Activity 8" in outcome.message and "found 1.0000" in outcome.message
    numpy_value = {**notebook, "train_accuracy": np.float32(notebook["train_accuracy"])}
    outcome = judged(lab, tmp_path / "numpy", numpy_value, "a08")
    assert not outcome.passed and "plain Python float" in outcome.message and "float32" in outcome.message


def test_forged_datasets_are_replaced_by_the_grader_split_or_fail_where_the_data_are_graded(lab, notebook,
                                                                                         tmp_path):
    train_ds, val_ds = notebook["train_ds"], notebook["val_ds"]
    forged_val = val_ds.map(lambda images, labels: (images * 0 + 255.0, labels))
    outcome = judged(lab, tmp_path / "a02", {**notebook, "val_ds": forged_val}, "a02")
    assert not outcome.passed and "not in it" in outcome.message
    # a perfect score on forged validation images: judged on the grader's own split instead
    forged = {**notebook, "val_ds": forged_val, "val_accuracy": 1.0}
    outcome = judged(lab, tmp_path / "a08", forged, "a08")
    assert not outcome.passed and "val_accuracy" in outcome.message


def test_a_cell_the_kernel_never_reached_or_a_missing_name_fails_naming_the_activity(lab, notebook, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.chdir(lab)
    (tmp_path / "grader").mkdir()
    outcome = judge.judge_cell(prop("a07"), tmp_path / "grader", rebuild.Reference(lab))
    assert not outcome.passed and outcome.message.startswith("Activity 7") and "never reached" in outcome.message
    without = {k: v for k, v in notebook.items() if k != "history"}
    outcome = judged(lab, tmp_path / "missing", without, "a07")
    assert not outcome.passed and "`history`" in outcome.message and "activity 7" in outcome.message


def test_a_broken_capture_fails_the_cell_and_never_raises(lab, notebook, tmp_path, monkeypatch):
    monkeypatch.chdir(lab)
    capture.capture("a07", prop("a07").names, notebook, str(tmp_path))
    entry = json.loads((tmp_path / "a07" / "values.json").read_text())
    (tmp_path / entry["values"]["model"]["file"]).write_bytes(b"not a keras file")
    outcome = judge.judge_cell(prop("a07"), tmp_path, rebuild.Reference(lab))
    assert not outcome.passed and "Activity 7" in outcome.message


def test_safe_copy_reads_no_link_and_no_special_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("grader only")
    source = tmp_path / "working"
    (source / "cell").mkdir(parents=True)
    (source / "cell" / "values.json").write_text("{}")
    (source / "cell" / "model.keras").symlink_to(secret)
    (source / "linked_folder").symlink_to(tmp_path)
    os.mkfifo(source / "cell" / "pipe")
    skipped = safe_copy.copy_tree(source, tmp_path / "copy")
    assert sorted(skipped) == ["cell/model.keras", "cell/pipe", "linked_folder"]
    assert sorted(p.name for p in (tmp_path / "copy").rglob("*")) == ["cell", "values.json"]
    assert safe_copy.copy_file(source / "cell" / "model.keras", tmp_path / "model.keras") is False
    assert not (tmp_path / "model.keras").exists()


def test_scrub_leaves_only_real_folders_and_regular_files(tmp_path):
    outside = tmp_path / "gradebook.db"
    outside.write_text("grades")
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "sub" / "kept.txt").write_text("mine")
    (work / "notebook.ipynb").symlink_to(outside)
    (work / "sub" / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(work / "fifo")
    os.link(outside, work / "hard.db")
    removed = scrub.scrub(work)
    assert removed == ["fifo", "hard.db", "notebook.ipynb", "sub/dangling"]
    assert (work / "sub" / "kept.txt").read_text() == "mine" and outside.read_text() == "grades"


def test_points_above_a_cells_maximum_or_on_an_unknown_cell_are_a_grading_error():
    maxima = {"a01_visible": 1.0, "a02_visible": 8.0}

    def result(*cells):
        graded = GradeResult(student="s", status="ok", cells=[c.to_dict() for c in cells])
        graded.total = sum(c.points for c in cells)
        return graded

    fine = result(CellGrade("a01_visible", 1, 1.0, 1.0, True), CellGrade("a02_visible", 2, 0.0, 8.0, False))
    assert out_of_bounds(fine, maxima) == ""
    assert "99" in out_of_bounds(result(CellGrade("a01_visible", 1, 99.0, 99.0, True)), maxima)
    assert "not a grade cell" in out_of_bounds(result(CellGrade("extra", 1, 1.0, 1.0, True)), maxima)
    assert "-1" in out_of_bounds(result(CellGrade("a02_visible", 2, -1.0, 8.0, False)), maxima)


def test_a_later_cell_is_judged_on_the_split_the_notebook_loaded_where_the_data_are_graded(lab, notebook,
                                                                                          tmp_path):
    """A forged subset (only the images the model gets right) with a typed 1.0 at activity 8."""
    model, val_ds = notebook["model"], notebook["val_ds"]
    truth, predicted = checks.training.labels_and_predictions(model, val_ds)
    images = np.concatenate([np.asarray(x) for x, _ in val_ds.unbatch().batch(10**6)])
    labels = np.concatenate([np.asarray(y) for _, y in val_ds.unbatch().batch(10**6)])
    right = [i for i, image in enumerate(images)
             if int(np.argmax(model(image[None], training=False))) == int(labels[i])]
    subset = tf.data.Dataset.from_tensor_slices((images[right], labels[right])).batch(8)
    with contextlib.chdir(lab):
        capture.capture("a02", prop("a02").names, notebook, str(tmp_path / "kernel"))
        forged = {**notebook, "val_ds": subset, "val_accuracy": 1.0,
                  "train_accuracy": notebook["train_accuracy"]}
        capture.capture("a08", prop("a08").names, forged, str(tmp_path / "kernel"))
        safe_copy.copy_tree(tmp_path / "kernel", tmp_path / "grader")
        reference = rebuild.Reference(lab, capture_root=tmp_path / "grader", loaded_at="a02")
        outcome = judge.judge_cell(prop("a08"), tmp_path / "grader", reference)
    assert len(right) < len(images), "the tiny model should miss at least one validation image"
    assert not outcome.passed and "`val_accuracy`" in outcome.message


def test_an_entry_pointing_outside_the_hand_over_is_refused(lab, notebook, tmp_path, monkeypatch):
    monkeypatch.chdir(lab)
    (tmp_path / "secret.npz").write_bytes(b"grader's")
    capture.capture("a07", prop("a07").names, notebook, str(tmp_path / "grader"))
    values = tmp_path / "grader" / "a07" / "values.json"
    record = json.loads(values.read_text())
    record["values"]["model"]["file"] = "../secret.npz"
    values.write_text(json.dumps(record))
    outcome = judge.judge_cell(prop("a07"), tmp_path / "grader", rebuild.Reference(lab))
    assert not outcome.passed and "outside the hand-over" in outcome.message


def test_the_hand_over_keeps_working_when_the_notebook_patches_the_checks_and_json(lab, notebook, tmp_path,
                                                                                 monkeypatch):
    from autograder.checks import keras_tools

    monkeypatch.chdir(lab)
    monkeypatch.setattr(keras_tools, "sublayers", lambda layer: None)
    monkeypatch.setattr(json, "dumps", lambda *args, **kwargs: "{}")
    capture.capture("a05", prop("a05").names, notebook, str(tmp_path))
    monkeypatch.undo()
    record = json.loads((tmp_path / "a05" / "values.json").read_text())
    assert record["values"]["model"]["kind"] == "model" and record["values"]["class_names"]["kind"] == "plain"
    assert record["relations"]["inside"]["base_model"][0] == "model"


def test_accuracies_read_from_the_fits_records_pass_outside_as_they_do_inside(lab, notebook, tmp_path,
                                                                             monkeypatch):
    records = notebook["history"].history
    from_history = {**notebook, "train_accuracy": float(records["accuracy"][-1]),
                    "val_accuracy": float(records["val_accuracy"][-1])}
    monkeypatch.chdir(lab)
    checks.accuracies(from_history["train_accuracy"], from_history["val_accuracy"], notebook["model"],
                      notebook["train_ds"], notebook["val_ds"])   # the notebook's own check accepts them
    outcome = judged(lab, tmp_path, from_history, "a08")
    assert outcome.passed, outcome.message
