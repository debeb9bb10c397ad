"""The hand-in: the saved model loads, and (hidden) it passes verification in a fresh process."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab
from autograder.checks.quiet import check
from autograder.checks.result import HAND_IN, CheckFailed, describe, passed

SAVE_HINT = "end the notebook with `regularized_model.save(SAVED_MODEL_FILE)` (the name in lab_settings.json)"


def _model_path(path, settings=None) -> Path:
    """The given path, else lab_settings.json's saved_model_file, else the course's (grader side)."""
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise CheckFailed(HAND_IN, "the path of the saved model", describe(path), SAVE_HINT)
        return Path(path).resolve()
    if settings is not None and not (Path.cwd() / lab.SETTINGS_FILE).is_file():
        return (Path.cwd() / settings.saved_model_file).resolve()  # a submission without the settings file
    return lab.load(HAND_IN).saved_model_file


@check(HAND_IN, SAVE_HINT)
def saved_model(path=None, model=None):
    """The saved model file exists and Keras loads it (with `model`: its weights equal the saved ones)."""
    import keras

    path = _model_path(path)
    if not path.is_file():
        raise CheckFailed(HAND_IN, f"the saved model {path.name}", "no such file", SAVE_HINT)
    try:
        loaded = keras.models.load_model(path, compile=False)
    except Exception as error:
        raise CheckFailed(HAND_IN, "a file that keras.models.load_model can read",
                          f"{type(error).__name__} while loading {path.name}", SAVE_HINT) from None
    if model is not None:
        kt.require_model(HAND_IN, model, "regularized_model", SAVE_HINT)
        mine, saved = kt.weight_snapshot(model.weights), kt.weight_snapshot(loaded.weights)
        if len(mine) != len(saved) or any(a.shape != b.shape or not np.array_equal(a, b)
                                          for a, b in zip(mine, saved)):
            raise CheckFailed(HAND_IN, f"{path.name} to hold `regularized_model` as trained",
                              "a saved model with other weights", "save again after the last fit")
    return passed(HAND_IN, f"saved model {path.name} loads")


def _student_message(result) -> tuple[str, str, str]:
    if result.error:
        return "a saved model that can be verified", result.error, SAVE_HINT
    if not result.base_matches_reference:
        return ("the pretrained base's weights unchanged in the saved model",
                "base weights that differ from the pretrained ones",
                "freeze the base (`base_model.trainable = False`) before compiling and fitting, and do not "
                "reload or retrain it")
    return (f"accuracy of at least {result.threshold:.2f} on the hidden test images",
            f"{result.accuracy:.3f}", "train the regularized model for the configured epochs with the "
            "frozen pretrained base; check your data loading and that the head has one output per class")


@check(10, SAVE_HINT)
def hidden_accuracy(path=None, timeout: float | None = None, settings=None):
    """(Hidden) The saved model reaches the accuracy threshold on the hidden split and its base equals
    the pretrained reference; judged by `autograder.verify` in a fresh Python process.

    Settings come from the course configuration (grader side); the default timeout stays inside
    nbgrader's cell timeout, so that a slow verification fails this check, not the whole cell."""
    from autograder import config
    from autograder import verify

    settings = settings or config.load()
    path = _model_path(path, settings)
    timeout = timeout if timeout is not None else max(10.0, 0.8 * settings.cell_timeout)
    result = verify.verify_in_subprocess(path, settings=settings, timeout=timeout)
    if not result.ok:
        raise CheckFailed(10, *_student_message(result))
    return passed(10, f"hidden test accuracy {result.accuracy:.3f} >= {result.threshold:.2f} "
                      "and pretrained base unchanged")
