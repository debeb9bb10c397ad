"""Activities 7, 8 and 10: compiling, fitting and the accuracies (recomputed, never trusted)."""
from __future__ import annotations

import math

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed
from autograder.sandbox import run_state

COMPILE_HINT = ("compile with optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'], "
                "then `history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS)`")
ACCURACY_HINT = ("compute them with `model.evaluate(train_ds)` and `model.evaluate(val_ds)` and keep them as "
                 "plain Python floats: `train_accuracy = float(...)`")


def _check_compiled(activity, model, name, image_shape):
    from autograder.checks.models import check_loss_matches_outputs

    info = kt.loss_info(model)
    if info is None:
        raise CheckFailed(activity, f"`{name}` to be compiled", "a model that was never compiled", COMPILE_HINT)
    loss, _ = info
    if not any(known in loss for known in kt.CLASSIFICATION_LOSSES):
        raise CheckFailed(activity, "a classification loss (sparse_categorical_crossentropy)",
                          f"the loss {loss}", COMPILE_HINT)
    images, _ = kt.probe_batch(image_shape, 2)
    outputs = kt.predict(model, images)
    check_loss_matches_outputs(activity, model, outputs)


def _check_history(activity: int, history, model, epochs: int, name: str, model_name: str) -> dict:
    """A real History from `model.fit` on this model, `epochs` long, with loss/accuracy and val_ keys."""
    import keras as k
    fit_hint = f"keep what fit returns: `{name} = {model_name}.fit(train_ds, validation_data=val_ds, epochs=...)`"
    if isinstance(history, dict):
        raise CheckFailed(activity, f"`{name}` to be the History object returned by fit",
                          "a dict (a History's .history, or one made by hand)", fit_hint)
    if not isinstance(history, k.callbacks.History):
        raise CheckFailed(activity, f"`{name}` to be a keras History", describe(history), fit_hint)
    if history.model is not model or getattr(model, "history", None) is not history:
        raise CheckFailed(activity, f"`{name}` to come from the latest `{model_name}.fit(...)`",
                          f"a History that does not belong to `{model_name}`'s latest fit", fit_hint)
    records = getattr(history, "history", None)
    if not isinstance(records, dict) or not records:
        raise CheckFailed(activity, f"`{name}.history` to hold the per-epoch records",
                          "no records", fit_hint)
    accuracy = kt.accuracy_key(records)
    missing = [key for key in ("loss", "val_loss") if key not in records]
    if accuracy is None:
        missing.append("accuracy")
    elif f"val_{accuracy}" not in records:
        missing.append(f"val_{accuracy}")
    if missing:
        raise CheckFailed(activity, "loss, accuracy, val_loss and val_accuracy in the history",
                          f"keys {sorted(records)} (missing {missing})",
                          "compile with metrics=['accuracy'] and pass validation_data=val_ds to fit")
    ran = len(history.epoch)
    asked = (getattr(history, "params", None) or {}).get("epochs", ran)
    # a callback such as EarlyStopping may end a fit of `epochs` epochs sooner; that is fine
    if asked != epochs or not 1 <= ran <= epochs or any(len(values) != ran for values in records.values()):
        raise CheckFailed(activity, f"one fit of {epochs} epochs (lab_settings.json)",
                          f"a fit of {asked} epochs" + (f" that ran {ran}" if ran != asked else ""),
                          f"call fit once with epochs={epochs}")
    if not all(np.all(np.isfinite(values)) for values in records.values()):
        raise CheckFailed(activity, "finite losses and accuracies", "NaN or infinite values",
                          "lower the learning rate and check that the images are raw pixels")
    iterations = int(np.asarray(model.optimizer.iterations)) if getattr(model, "optimizer", None) else 0
    if iterations < ran:
        raise CheckFailed(activity, f"`{model_name}` to have been trained for {ran} epochs",
                          f"{iterations} optimizer steps", fit_hint)
    return records


@check(7, COMPILE_HINT)
def compiled_and_fitted(model, history):
    """A classification loss, an accuracy metric, and a real History of the configured length."""
    model = kt.require_model(7, model, "model", COMPILE_HINT)
    settings = lab.load(7)
    _check_compiled(7, model, "model", settings.image_shape)
    records = _check_history(7, history, model, settings.epochs, "history", "model")
    return passed(7, f"model compiled and fitted for {_epochs_run(records, settings.epochs)}")


@check(10, "`regularized_history = regularized_model.fit(train_ds, validation_data=val_ds, epochs=...)`")
def regularized_fitted(regularized_history, regularized_model):
    """A real History of `regularized_model`, configured length, with validation records."""
    model = kt.require_model(10, regularized_model, "regularized_model", COMPILE_HINT)
    settings = lab.load(10)
    _check_compiled(10, model, "regularized_model", settings.image_shape)
    records = _check_history(10, regularized_history, model, settings.regularized_epochs, "regularized_history",
                             "regularized_model")
    return passed(10, f"regularized model fitted for {_epochs_run(records, settings.regularized_epochs)}")


def _epochs_run(records: dict, epochs: int) -> str:
    ran = len(records["loss"])
    return f"{epochs} epochs" if ran == epochs else f"{ran} of {epochs} epochs (stopped early by a callback)"


def _require_plain_float(value, name):
    # exact type: a float subclass or a NumPy scalar could pretend to be any number
    if type(value) is not float:
        raise CheckFailed(8, f"`{name}` to be a plain Python float", describe(value), ACCURACY_HINT)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise CheckFailed(8, f"`{name}` between 0 and 1", repr(value), ACCURACY_HINT)
    return value


def labels_and_predictions(model, dataset) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted class indices, taken in the same pass so that shuffling cannot mix them."""
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"expected a tf.data.Dataset, got {type(dataset).__name__}")
    truth, predicted = [], []
    for images, labels in run_state.batches(dataset):  # the kernel's one pass (see run_state)
        outputs = kt.predict(model, images)
        labels = np.asarray(labels)
        truth.append(labels.argmax(axis=-1) if labels.ndim == 2 else labels.reshape(-1))
        predicted.append(outputs.argmax(axis=-1))
    return np.concatenate(truth).astype(int), np.concatenate(predicted).astype(int)


def _recomputed_accuracy(model, dataset, name):
    import tensorflow as tf
    from sklearn.metrics import accuracy_score

    if not isinstance(dataset, tf.data.Dataset):
        raise CheckFailed(8, f"`{name}` to be the dataset from activity 2", describe(dataset), "run activity 2")
    truth, predicted = labels_and_predictions(model, dataset)
    return float(accuracy_score(truth, predicted))


def _matches(reported, recomputed, history_value, tolerance):
    close = abs(reported - recomputed) <= tolerance
    # the last epoch's record from fit is a real measurement too
    recorded = history_value is not None and abs(reported - history_value) <= 1e-6
    return close or recorded


def _last_record(model, key):
    history = getattr(model, "history", None)
    records = getattr(history, "history", None)
    if isinstance(records, dict):
        accuracy = kt.accuracy_key([k.removeprefix("val_") for k in records]) or "accuracy"
        values = records.get(f"val_{accuracy}" if key == "val" else accuracy)
        if values:
            return float(values[-1])
    return None


@check(8, ACCURACY_HINT)
def accuracies(train_accuracy, val_accuracy, model, train_ds, val_ds, tolerance: float = 1e-3):
    """Plain floats equal (within `tolerance`) to the accuracies recomputed from the model.

    The recomputation is exact up to float32 rounding, so the tolerance only has to absorb that;
    a number rounded and typed in by hand is usually further off."""
    _require_plain_float(train_accuracy, "train_accuracy")
    _require_plain_float(val_accuracy, "val_accuracy")
    model = kt.require_model(8, model, "model", ACCURACY_HINT)
    for reported, dataset, name, key in ((train_accuracy, train_ds, "train_accuracy", "train"),
                                         (val_accuracy, val_ds, "val_accuracy", "val")):
        recomputed = _recomputed_accuracy(model, dataset, name.replace("accuracy", "ds"))
        if not _matches(reported, recomputed, _last_record(model, key), tolerance):
            raise CheckFailed(8, f"`{name}` to be the model's accuracy on {name.replace('accuracy', 'ds')} "
                              f"({recomputed:.4f}, within {tolerance})", f"{reported:.4f}", ACCURACY_HINT)
    return passed(8, f"accuracies {train_accuracy:.3f} (train) and {val_accuracy:.3f} (validation) recomputed")
