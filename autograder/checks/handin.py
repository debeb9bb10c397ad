"""The hand-in: the saved model loads, and (hidden) it passes verification in a fresh process."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab, model_size
from autograder.checks.measured import Measured
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


def _grader_settings(settings):
    from autograder.course import config

    if settings is not None:
        return settings
    try:
        return config.load()
    except config.ConfigError as error:
        raise CheckFailed(10, "the course configuration (this check runs when your work is graded)",
                          str(error), "nothing to change in your notebook; the grader's set-up is missing") from None


_verified_cache: dict = {}


def _verified(path: Path, settings, timeout):
    """`autograder.judging.saved_model` in a fresh process, once per model file version (two checks share it)."""
    from autograder.checks import verifier

    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, str(settings.config_file), str(settings.cache_dir))
    except OSError:
        key = None
    if key in _verified_cache:
        return _verified_cache[key]
    timeout = timeout if timeout is not None else max(10.0, 0.8 * settings.cell_timeout)
    result = verifier.verify_in_subprocess(path, settings=settings, timeout=timeout)
    if key is not None and result.error is None:
        _verified_cache.clear()
        _verified_cache[key] = result
    return result


def _sized(path: Path, settings) -> None:
    """Refuse, before Keras builds it, a file that asks for more than the course allows (the judge
    runs this check outside the kernel, on the student's file)."""
    try:
        limit = settings.max_model_params if settings is not None else lab.load(HAND_IN).max_model_params
    except CheckFailed:   # no lab_settings.json: the kit's default
        limit = model_size.DEFAULT_MAX_PARAMS
    try:
        model_size.check(path, limit)
    except model_size.Unreadable as refusal:
        raise CheckFailed(HAND_IN, "a file that keras.models.load_model can read", str(refusal), SAVE_HINT) from None
    except model_size.TooLarge as refusal:
        raise CheckFailed(HAND_IN, f"a saved model of the lab's size in {path.name}", str(refusal),
                          "save `regularized_model`, built on the pretrained base with a small head") from None


def _loaded_with_notebook_code(path: Path, settings, timeout, refusal: str):
    """None when the file loads in the grader's sandbox with the notebook's own classes and functions
    (judging.saved_model measures it there; only the grader can); else the refusal as CheckFailed."""
    from autograder.course import config

    try:
        result = _verified(path, settings or config.load(), timeout)
    except config.ConfigError:   # the student's own server: no grader, no sandbox
        result = None
    if result is None or result.error:
        raise CheckFailed(HAND_IN, "a file that keras.models.load_model can read",
                          refusal if result is None else f"{refusal}; {result.error}", SAVE_HINT)
    return None


def _holds(loaded, model) -> bool:
    """The saved model is `model` as trained: the same weights, or for a model measured in the kernel
    (checks.measured), whose weights are not handed over, the same outputs on the probe images."""
    if isinstance(model, Measured):
        probe, _ = kt.probe_batch(lab.load(HAND_IN).image_shape, 2)
        try:
            return bool(np.allclose(model(probe), kt.predict(loaded, probe), atol=1e-5))
        except Exception:   # outputs of another shape, or none measured
            return False
    mine, saved = kt.weight_snapshot(model.weights), kt.weight_snapshot(loaded.weights)
    return len(mine) == len(saved) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(mine, saved))


BASE_MOVED = ("the pretrained base's weights unchanged in the saved model",
              "base weights (or BatchNorm statistics) that differ from the pretrained ones",
              "freeze the base (`base_model.trainable = False`) before compiling and fitting, call it with "
              "training=False, and do not reload or retrain it")


@check(HAND_IN, SAVE_HINT)
def saved_model(path=None, model=None, base_unchanged: bool = False, settings=None, timeout=None):
    """The saved model file exists and Keras loads it.

    With `model`: its weights equal the saved ones. With `base_unchanged=True` (hidden, grader side):
    the saved base equals the pretrained reference, judged in a fresh Python process."""
    import keras

    path = _model_path(path, settings)
    if not path.is_file():
        raise CheckFailed(HAND_IN, f"the saved model {path.name}", "no such file", SAVE_HINT)
    _sized(path, settings)
    try:
        loaded = keras.models.load_model(path, compile=False)
    except Exception as error:
        refusal = f"{type(error).__name__} while loading {path.name}"
        loaded = _loaded_with_notebook_code(path, settings, timeout, refusal)
    if model is not None and loaded is not None:
        kt.require_model(HAND_IN, model, "regularized_model", SAVE_HINT)
        if not _holds(loaded, model):
            raise CheckFailed(HAND_IN, f"{path.name} to hold `regularized_model` as trained",
                              "a saved model with other weights", "save again after the last fit")
    if base_unchanged:
        result = _verified(path, _grader_settings(settings), timeout)
        if result.error:
            raise CheckFailed(HAND_IN, "a saved model that can be verified", result.error, SAVE_HINT)
        if not result.base_matches_reference:
            raise CheckFailed(HAND_IN, *BASE_MOVED)
        return passed(HAND_IN, f"saved model {path.name} loads and its base is the pretrained one")
    return passed(HAND_IN, f"saved model {path.name} loads")


@check(10, SAVE_HINT)
def hidden_accuracy(path=None, timeout: float | None = None, settings=None, require_base: bool = False):
    """(Hidden) The saved model reaches the accuracy threshold on the hidden split, judged by
    `autograder.judging.saved_model` in a fresh Python process. Accuracy alone: a base that moved is activity
    5's (`require_base=True` adds it for a course that wants both in one check).

    Settings come from the course configuration (grader side); the default timeout stays inside
    nbgrader's cell timeout, so that a slow verification fails this check, not the whole cell."""
    settings = _grader_settings(settings)
    path = _model_path(path, settings)
    result = _verified(path, settings, timeout)
    if result.error:
        raise CheckFailed(10, "a saved model that can be verified", result.error, SAVE_HINT)
    if require_base and not result.base_matches_reference:
        raise CheckFailed(10, *BASE_MOVED)
    if result.accuracy is None or result.accuracy < result.threshold:
        raise CheckFailed(10, f"accuracy of at least {result.threshold:.2f} on the hidden test images",
                          f"{result.accuracy:.3f}", "train the regularized model for the configured epochs "
                          "with the frozen pretrained base; check your data loading and that the head has "
                          "one output per class")
    return passed(10, f"hidden test accuracy {result.accuracy:.3f} >= {result.threshold:.2f}"
                      + (" and pretrained base unchanged" if require_base else ""))
