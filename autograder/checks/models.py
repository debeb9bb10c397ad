"""Activities 4, 5 and 9: the pretrained base, the transfer model and the regularized model."""
from __future__ import annotations

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed

BASE_HINT = ("load it with `base_model = keras.models.load_model(settings[\"base_model_file\"])` "
             "and do not train it")
TRANSFER_HINT = ("freeze the base (`base_model.trainable = False`), then build `inputs = keras.Input(shape)`, "
                 "`x = base_model(inputs, training=False)`, a Dense head with one unit per class, "
                 "`model = keras.Model(inputs, outputs)`")
REGULARIZED_HINT = ("build a new model around the same frozen base with Dropout, an L2 kernel_regularizer "
                    "and/or augmentation layers (RandomFlip, RandomRotation, ...) in the head")
DROPOUT_LIKE = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout")
AUGMENTATION = ("RandAugment", "AugMix", "MixUp", "CutMix", "Solarization")  # besides every Random*

_shipped_cache: dict = {}


def _shipped_base(path):
    """The shipped pretrained base, loaded once per file version."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _shipped_cache:
        from autograder.models import load_base

        _shipped_cache.clear()
        _shipped_cache[key] = kt.weight_snapshot(load_base(path).weights)
    return _shipped_cache[key]


def _check_input_shape(activity, model, name, image_shape):
    shape = kt.input_shape(model)
    if shape != tuple(image_shape):
        raise CheckFailed(activity, f"`{name}` to take images of shape {tuple(image_shape)}",
                          f"input shape {shape}", f"use keras.Input(shape={tuple(image_shape)})")


@check(4, BASE_HINT)
def base_pretrained(base_model):
    """`base_model` has exactly the weights of the shipped pretrained base and the right input."""
    base = kt.require_model(4, base_model, "base_model", BASE_HINT)
    settings = lab.load(4)
    if not settings.base_model_file.is_file():
        raise CheckFailed(4, f"the pretrained base file {settings.base_model_file.name}",
                          "no such file next to the notebook", "restore it from the assignment you were given")
    _check_input_shape(4, base, "base_model", settings.image_shape)
    shipped = _shipped_base(settings.base_model_file)
    mine = kt.weight_snapshot(base.weights)
    if [a.shape for a in mine] != [a.shape for a in shipped]:
        raise CheckFailed(4, f"the architecture of the pretrained base ({len(shipped)} weight arrays)",
                          f"a model with {len(mine)} weight arrays of other shapes", BASE_HINT)
    differing = [w.path for w, a, b in zip(base.weights, mine, shipped) if not np.array_equal(a, b)]
    if differing:
        raise CheckFailed(4, "the pretrained weights, unchanged",
                          f"{len(differing)} of {len(shipped)} weight arrays that differ (e.g. {differing[0]}): "
                          "random or retrained weights", BASE_HINT)
    return passed(4, f"pretrained base with {len(shipped)} weight arrays equal to the shipped ones")


def _require_classes(activity, class_names):
    if not isinstance(class_names, (list, tuple)) or not class_names:
        raise CheckFailed(activity, "`class_names` from activity 2", describe(class_names), "run activity 2 first")
    return list(class_names)


def _check_contains_base(activity, model, name, base):
    if model is base:
        raise CheckFailed(activity, f"`{name}` to be a new model around `base_model`",
                          "the base itself", TRANSFER_HINT)
    if not kt.contains(model, base):
        raise CheckFailed(activity, f"`base_model` inside `{name}`",
                          "a model that does not use this `base_model` object", TRANSFER_HINT)


def check_activation_matches_loss(activity, model, outputs, classes):
    """A softmax output with a probability loss, or raw logits with from_logits=True."""
    probabilities = kt.are_probabilities(outputs)
    if not probabilities and np.all((outputs >= 0) & (outputs <= 1)):
        raise CheckFailed(activity, "a softmax output (or raw logits with a from_logits=True loss)",
                          "outputs in [0, 1] that do not sum to 1 (sigmoid?)",
                          f"use keras.layers.Dense({classes}, activation='softmax')")
    info = kt.loss_info(model)
    if info is not None:
        loss, from_logits = info
        if probabilities and from_logits:
            raise CheckFailed(activity, "a loss with from_logits=False for a softmax output",
                              f"{loss} with from_logits=True", "drop from_logits=True, or drop the softmax")
        if not probabilities and not from_logits:
            raise CheckFailed(activity, "a softmax output, or from_logits=True in the loss for raw logits",
                              f"raw outputs (no softmax) with {loss} expecting probabilities",
                              "add activation='softmax' to the last Dense layer, or compile with "
                              "keras.losses.SparseCategoricalCrossentropy(from_logits=True)")
    return probabilities


def _check_outputs(activity, model, name, images, classes):
    """One output per class; activation consistent with the compiled loss, if any."""
    outputs = kt.predict(model, images)
    if outputs.ndim != 2 or outputs.shape[1] != classes:
        raise CheckFailed(activity, f"`{name}` to output {classes} numbers per image (one per class)",
                          f"outputs of shape {outputs.shape[1:]}", f"end with keras.layers.Dense({classes}, ...)")
    return check_activation_matches_loss(activity, model, outputs, classes)


def _first_batch(activity, train_ds):
    """One batch of the student's own data, so that a training step replays exactly what fit does."""
    import tensorflow as tf

    if train_ds is None:
        return None
    if not isinstance(train_ds, tf.data.Dataset):
        raise CheckFailed(activity, "`train_ds` to be the dataset from activity 2", describe(train_ds),
                          "run activity 2 first")
    for batch in train_ds.take(1):
        return tuple(np.asarray(part) for part in batch)
    return None


def _check_frozen(activity, model, name, base, images, labels, classes, batch=None):
    """Only the head trains; a real training step leaves every base weight unchanged."""
    trainable_in_base = kt.trainable_base_weights(model, base)
    if trainable_in_base:
        raise CheckFailed(activity, "a frozen base (no trainable weights inside `base_model`)",
                          f"{len(trainable_in_base)} trainable base weights (e.g. {trainable_in_base[0]})",
                          "set `base_model.trainable = False` before compiling")
    if not model.trainable_weights:
        raise CheckFailed(activity, f"trainable weights in the new head of `{name}`",
                          "no trainable weights at all",
                          f"freeze `base_model` only (`base_model.trainable = False`), not `{name}`")
    changed = kt.changed_by_training_step(model, base, images, labels, classes, batch)
    if changed:
        raise CheckFailed(activity, "base weights (BatchNorm statistics included) unchanged by a training step",
                          f"{len(changed)} base weights that a training step changes (e.g. {', '.join(changed[:3])})",
                          "set `base_model.trainable = False` and then compile again: a change to "
                          "`trainable` after compile only counts once you recompile")


def _check_inference_mode(activity, model, base, images):
    flags = kt.base_call_training_flags(model, base)
    if flags:
        if any(flag is not False for flag in flags):
            raise CheckFailed(activity, "`base_model` called with training=False",
                              f"a call with training={[f for f in flags if f is not False][0]}",
                              "write `x = base_model(inputs, training=False)` so its BatchNorm layers "
                              "keep running in inference mode, even after a later unfreeze")
    elif kt.base_runs_in_training_mode(model, base, images):
        raise CheckFailed(activity, "`base_model` called in inference mode (training=False)",
                          "a base whose BatchNorm layers would update in training",
                          "build the model with the functional API and call `base_model(inputs, training=False)`")


@check(5, TRANSFER_HINT)
def transfer_model(model, base_model, class_names, train_ds=None):
    """`model` wraps the frozen `base_model` (called in inference mode) with a trainable head.

    With `train_ds`, the behavioural training step uses one batch of it (same dtypes as fit)."""
    model = kt.require_model(5, model, "model", TRANSFER_HINT)
    base = kt.require_model(5, base_model, "base_model", TRANSFER_HINT)
    classes = len(_require_classes(5, class_names))
    _check_frozen_transfer(5, model, "model", base, classes, lab.load(5), train_ds)
    return passed(5, f"transfer model (frozen base in inference mode, head with {classes} outputs)")


def _check_frozen_transfer(activity, model, name, base, classes, settings, train_ds):
    """The base inside the model, right input and outputs, frozen and in inference mode; returns
    the probe images for further checks."""
    _check_contains_base(activity, model, name, base)
    _check_input_shape(activity, model, name, settings.image_shape)
    images, labels = kt.probe_batch(settings.image_shape, classes)
    _check_outputs(activity, model, name, images, classes)
    _check_frozen(activity, model, name, base, images, labels, classes, _first_batch(activity, train_ds))
    _check_inference_mode(activity, model, base, images)
    return images


def _regularizers(model, base) -> list[str]:
    """Names of the dropout/noise, weight-penalty and augmentation layers outside the base."""
    found = []
    for layer in kt.head_layers(model, base):
        kind = type(layer).__name__
        penalties = [attr for attr in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
                     if getattr(layer, attr, None) is not None]
        if kind in DROPOUT_LIKE or kind in AUGMENTATION or kind.startswith("Random") or penalties:
            found.append(f"{kind}({layer.name})")
    return found


def _regularization_active(model, images) -> bool:
    """Training-mode output differs from inference output, or a weight penalty is non-zero."""
    variables = list(model.variables)
    saved = kt.weight_snapshot(variables)  # seed generators advance in training mode
    try:
        training = np.asarray(model(images, training=True))
        inference = np.asarray(model(images, training=False))
        penalty = float(sum(np.sum(np.asarray(loss)) for loss in model.losses))
    finally:
        kt.restore(variables, saved)
    return penalty > 0 or not np.allclose(training, inference)


@check(9, REGULARIZED_HINT)
def regularized(regularized_model, base_model, class_names=None, train_ds=None):
    """Same frozen base, plus dropout, an L2 penalty or augmentation that is active in training."""
    model = kt.require_model(9, regularized_model, "regularized_model", REGULARIZED_HINT)
    base = kt.require_model(9, base_model, "base_model", REGULARIZED_HINT)
    settings = lab.load(9)
    classes = len(_require_classes(9, class_names) if class_names is not None
                  else lab.class_folders(9, settings))
    images = _check_frozen_transfer(9, model, "regularized_model", base, classes, settings, train_ds)
    found = _regularizers(model, base)
    if not found:
        raise CheckFailed(9, "Dropout, an L2 kernel_regularizer or augmentation layers outside the base",
                          "none of them", REGULARIZED_HINT)
    if not _regularization_active(model, images):
        raise CheckFailed(9, "regularization that acts during training",
                          f"{', '.join(found)} with no effect (rate 0 or a zero penalty?)",
                          "use a Dropout rate such as 0.3 or keras.regularizers.L2(1e-3)")
    return passed(9, f"regularized model ({', '.join(found)}) with the base still frozen")
