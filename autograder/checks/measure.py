"""Kernel side: measure a model that the grader cannot rebuild without the notebook's own code.

Runs in the sandboxed kernel, where the student's classes, `Lambda` functions and `train_step`
already run: no labels of the hidden split, nothing of the grader's. It writes plain numbers and
arrays only (see checks.measured for how the grader decides from them): outputs on the probe images
and on every image of the datasets handed over with the model, what one training step does to the
base, training- against inference-mode outputs and the penalty of the head, the compiled loss.
Each measurement that fails is left out; the check that needs it then says so."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab
from autograder.checks.measured import image_key
from autograder.sandbox import CAPTURE_FOLDER as FOLDER
from autograder.sandbox import run_state
from autograder.sandbox.capture import capture as _write


def _located_base(model, base_model):
    """The base inside `model`: the very `base_model`, or a part with its weights; else None."""
    keras = kt.keras()
    if not isinstance(base_model, keras.Model) or model is base_model:
        return None
    if kt.contains(model, base_model):
        return base_model
    return next((layer for layer in kt.sublayers(model) if isinstance(layer, keras.Model)
                 and kt.same_weights(layer, base_model)), None)


def _accepted_shape(model, probe) -> tuple:
    """For a model without a declared input (subclassed): the lab's image shape, if it takes it."""
    kt.predict(model, probe[:1])
    return tuple(probe.shape[1:])


def _images(namespace) -> list[np.ndarray]:
    """Every image batch of the datasets among the handed-over values (as the checks will see them)."""
    import tensorflow as tf

    found = []
    for value in namespace.values():
        if isinstance(value, tf.data.Dataset):
            for element in run_state.batches(value):
                if isinstance(element, tuple) and len(element) == 2 and np.asarray(element[0]).ndim == 4:
                    found.append(np.asarray(element[0]))
    return found


def _outputs(model, batches) -> tuple[list[str], list[np.ndarray]]:
    rows: dict = {}   # image key -> output row, in the order first seen
    for images in batches:
        outputs = kt.predict(model, images)
        for image, row in zip(images, outputs):
            rows.setdefault(image_key(image), np.asarray(row))
    return list(rows), list(rows.values())


def _try(record: dict, name: str, measure) -> None:
    try:
        record[name] = measure()
    except Exception:   # left out: the check that needs it says what it could not measure
        pass


def measure(model, names: dict, folder: Path, name: str) -> dict:
    """The capture entry of a model measured here, with its arrays written to folder/<name>.measured.npz.
    `names`: the other values handed over with it (base_model, class_names, the datasets)."""
    settings = lab.load(5)
    class_names = names.get("class_names")
    classes = len(class_names) if isinstance(class_names, (list, tuple)) and class_names else \
        len(lab.class_folders(5, settings))
    probe, labels = kt.probe_batch(settings.image_shape, classes)
    base_model = names.get("base_model")
    record: dict = {"kind": "measured", "class": type(model).__name__, "is_base": model is base_model}
    arrays: dict = {}
    _try(record, "input_shape", lambda: list(kt.input_shape(model) or _accepted_shape(model, probe)))
    _try(record, "trainable_count", lambda: len(model.trainable_weights))
    _try(record, "loss", lambda: kt.loss_info(model))
    _try(record, "iterations", lambda: int(np.asarray(model.optimizer.iterations)))
    try:
        keys, rows = _outputs(model, [probe, *_images(names)])
        record["keys"] = keys
        arrays.update({f"out_{index}": row for index, row in enumerate(rows)})
    except Exception:
        record["keys"] = []
    base = _located_base(model, base_model)
    record["base_inside"] = base is not None
    if base is not None:
        _try(record, "trainable_base", lambda: kt.trainable_base_weights(model, base))
        _try(record, "step_changed", lambda: kt.changed_by_training_step(model, base, probe, labels, classes))
        _try(record, "training_flag_explicit", lambda: kt.base_kept_in_inference(model, base, probe))
        _try(record, "regularizers", lambda: kt.regularizer_names(model, base))
        try:
            training, inference, penalty = kt.regularization_measures(model, base, probe)
            arrays.update(train_out=training, infer_out=inference)
            record["penalty"] = penalty
        except Exception:
            pass
    np.savez(folder / f"{name}.measured.npz", **arrays)
    record["file"] = f"{folder.name}/{name}.measured.npz"
    return record


def capture(grade_id: str, names, namespace: dict, root: str = FOLDER) -> None:
    """What the grader has the kernel run before a judged grade cell: the hand-over of `names`
    (sandbox.capture), with the models that need the notebook's code measured here."""
    _write(grade_id, names, namespace, root, measure=measure)
