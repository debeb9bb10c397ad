"""Activities 4, 5 and 9: the pretrained base, the transfer model and the regularized model."""
from __future__ import annotations

import numpy as np

from autograder.checks import keras_tools as kt
from autograder.checks import lab
from autograder.checks.measured import Measured
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed

BASE_HINT = ("load it with `base_model = keras.models.load_model(settings[\"base_model_file\"])` "
             "and do not train it")
TRANSFER_HINT = ("freeze the base (`base_model.trainable = False`), then build `inputs = keras.Input(shape)`, "
                 "`x = base_model(inputs, training=False)`, a Dense head with one unit per class, "
                 "`model = keras.Model(inputs, outputs)`")
REGULARIZED_HINT = ("build a new model around the same frozen base with Dropout, an L2 kernel_regularizer "
                    "and/or augmentation layers (RandomFlip, RandomRotation, ...)")

_shipped_cache: dict = {}


def _shipped_base(path):
    """The shipped pretrained base, loaded once per file version."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _shipped_cache:
        from autograder.data.bases import load_base

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
    differing, shipped = _differing_from_shipped(base, settings)
    if differing is None:
        raise CheckFailed(4, f"the architecture of the pretrained base ({shipped} weight arrays)",
                          f"a model with {len(base.weights)} weight arrays of other shapes", BASE_HINT)
    if differing:
        raise CheckFailed(4, "the pretrained weights, unchanged",
                          f"{len(differing)} of {shipped} weight arrays that differ (e.g. {differing[0]}): "
                          "random or retrained weights", BASE_HINT)
    return passed(4, f"pretrained base with {shipped} weight arrays equal to the shipped ones")


def _differing_from_shipped(base, settings) -> tuple[list[str] | None, int]:
    """(paths of the base's weights that differ from the shipped pretrained base, None when the
    shapes differ; the number of the shipped base's weight arrays)."""
    shipped = _shipped_base(settings.base_model_file)
    mine = kt.weight_snapshot(base.weights)
    if [a.shape for a in mine] != [a.shape for a in shipped]:
        return None, len(shipped)
    return [w.path for w, a, b in zip(base.weights, mine, shipped) if not np.array_equal(a, b)], len(shipped)


def _require_classes(activity, class_names):
    if not isinstance(class_names, (list, tuple)) or not class_names:
        raise CheckFailed(activity, "`class_names` from activity 2", describe(class_names), "run activity 2 first")
    return list(class_names)


def _find_base(activity, model, name, base):
    """The pretrained base inside `model`: the `base_model` object itself, or another copy of it
    (loaded again, with the same weights); a model built around some other network fails."""
    if model is base or (isinstance(model, Measured) and model.is_base()):
        raise CheckFailed(activity, f"`{name}` to be a new model around `base_model`",
                          "the base itself", TRANSFER_HINT)
    if isinstance(model, Measured):   # the kernel looked for the base, by identity or weights
        if model.holds_base():
            return base
        raise CheckFailed(activity, f"the pretrained `base_model` inside `{name}`",
                          "a model without it (no part with the base's weights)", TRANSFER_HINT)
    if kt.contains(model, base):
        return base
    keras = kt.keras()
    copies = [layer for layer in kt.sublayers(model)
              if isinstance(layer, keras.Model) and layer is not model and kt.same_weights(layer, base)]
    if not copies:
        raise CheckFailed(activity, f"the pretrained `base_model` inside `{name}`",
                          "a model without it (no part with the base's weights)", TRANSFER_HINT)
    return copies[0]


def check_output_activation(activity, outputs, classes):
    """One score per class that is either a probability row (softmax) or raw logits; True for softmax.

    Outputs in [0, 1] that do not sum to 1 are a sigmoid, which is the model's mistake (activities
    5 and 9), whatever loss it is compiled with later."""
    probabilities = kt.are_probabilities(outputs)
    if not probabilities and np.all((outputs >= 0) & (outputs <= 1)):
        raise CheckFailed(activity, "a softmax output (or raw logits with a from_logits=True loss)",
                          "outputs in [0, 1] that do not sum to 1 (sigmoid?)",
                          f"use keras.layers.Dense({classes}, activation='softmax')")
    return probabilities


def check_loss_matches_outputs(activity, model, outputs):
    """The compiled loss reads the outputs as they are: probabilities with from_logits=False, raw
    logits with from_logits=True. A sigmoid output is left to the activity that built the model."""
    info = kt.loss_info(model)
    probabilities = kt.are_probabilities(outputs)
    sigmoid_like = not probabilities and np.all((outputs >= 0) & (outputs <= 1))
    if info is None or sigmoid_like:
        return
    loss, from_logits = info
    if probabilities and from_logits:
        raise CheckFailed(activity, "a loss with from_logits=False for a softmax output",
                          f"{loss} with from_logits=True", "drop from_logits=True, or drop the softmax")
    if not probabilities and not from_logits:
        raise CheckFailed(activity, "a softmax output, or from_logits=True in the loss for raw logits",
                          f"raw outputs (no softmax) with {loss} expecting probabilities",
                          "compile with keras.losses.SparseCategoricalCrossentropy(from_logits=True), "
                          "or add activation='softmax' to the last Dense layer")


def _check_outputs(activity, model, name, images, classes):
    """One output per class, softmax or logits (the loss that reads them is graded with the fit)."""
    outputs = kt.predict(model, images)
    if outputs.ndim != 2 or outputs.shape[1] != classes:
        raise CheckFailed(activity, f"`{name}` to output {classes} numbers per image (one per class)",
                          f"outputs of shape {outputs.shape[1:]}", f"end with keras.layers.Dense({classes}, ...)")
    return check_output_activation(activity, outputs, classes)


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


def _training_flag_hint(model, base, images) -> str:
    """A tip (never a reason to take points) when the base would run in training mode once it is
    unfrozen: a frozen BatchNormalization layer runs in inference mode whatever `training` says,
    so this only matters for fine-tuning later."""
    if kt.base_kept_in_inference(model, base, images):
        return ""
    return ("; tip: `base_model(inputs, training=False)` keeps its BatchNorm layers in inference mode "
            "even if you unfreeze the base later to fine-tune it")


@check(5, TRANSFER_HINT)
def transfer_model(model, base_model, class_names, train_ds=None):
    """`model` wraps the frozen `base_model` with a trainable head, one output per class.

    Frozen is judged by what a real training step does to the base's weights and BatchNorm
    statistics. With `train_ds`, that step uses one batch of it (same dtypes as fit)."""
    model = kt.require_model(5, model, "model", TRANSFER_HINT)
    base_model = kt.require_model(5, base_model, "base_model", TRANSFER_HINT)
    classes = len(_require_classes(5, class_names))
    settings = lab.load(5)
    base = _find_base(5, model, "model", base_model)
    images, labels = _check_model_shape(5, model, "model", classes, settings)
    _check_frozen(5, model, "model", base, images, labels, classes, _first_batch(5, train_ds))
    return passed(5, f"transfer model (frozen base, head with {classes} outputs)"
                     + _training_flag_hint(model, base, images))


def _check_model_shape(activity, model, name, classes, settings):
    """The right input and one output per class; returns the probe batch for further checks."""
    _check_input_shape(activity, model, name, settings.image_shape)
    images, labels = kt.probe_batch(settings.image_shape, classes)
    _check_outputs(activity, model, name, images, classes)
    return images, labels


@check(5, "freeze the base (`base_model.trainable = False`) before compiling and fitting")
def base_unchanged(base_model):
    """(Hidden) After all the training, `base_model` still holds the shipped pretrained weights
    (BatchNorm statistics included): a frozen base. Whether it was the pretrained one to begin
    with is activity 4's check."""
    base = kt.require_model(5, base_model, "base_model", TRANSFER_HINT)
    differing, shipped = _differing_from_shipped(base, lab.load(5))
    if differing is None:
        raise CheckFailed(5, "`base_model` to be the pretrained base", "a network of another architecture",
                          BASE_HINT)
    if differing:
        raise CheckFailed(5, "the base's pretrained weights unchanged by all the training (a frozen base)",
                          f"{len(differing)} of {shipped} weight arrays changed (e.g. {differing[0]})",
                          "set `base_model.trainable = False` before compiling, and compile again after "
                          "changing it")
    return passed(5, "the base still holds its pretrained weights after all the training")


def _head_is_regularized(model, base, images) -> tuple[bool, list[str]]:
    """(acts in training, names of the head's regularizing layers) judged by behaviour: with the
    base held in inference mode, the training-mode output differs from the inference output
    (dropout, noise, augmentation), or the head adds a positive penalty to the loss (L1/L2)."""
    training, inference, penalty = kt.regularization_measures(model, base, images)
    return penalty > 1e-12 or not np.allclose(training, inference), kt.regularizer_names(model, base)


@check(9, REGULARIZED_HINT)
def regularized(regularized_model, base_model, class_names=None, train_ds=None):
    """A new model around the pretrained base, one output per class, with regularization that acts
    in training (dropout, noise, a weight penalty or augmentation). Freezing is activity 5's."""
    model = kt.require_model(9, regularized_model, "regularized_model", REGULARIZED_HINT)
    base_model = kt.require_model(9, base_model, "base_model", REGULARIZED_HINT)
    settings = lab.load(9)
    classes = len(_require_classes(9, class_names) if class_names is not None
                  else lab.class_folders(9, settings))
    base = _find_base(9, model, "regularized_model", base_model)
    images, _ = _check_model_shape(9, model, "regularized_model", classes, settings)
    active, found = _head_is_regularized(model, base, images)
    if not active:
        raise CheckFailed(9, "dropout, a weight penalty (L1/L2) or augmentation that acts during training",
                          f"{', '.join(found)} with no effect (rate 0 or a zero penalty?)" if found
                          else "a model that behaves the same in training and inference, with no penalty",
                          REGULARIZED_HINT)
    note = ""
    if kt.trainable_base_weights(model, base):
        note = ("; note: its base is not frozen, which counts in activity 5 (the base must come out of "
                "training unchanged), not here")
    return passed(9, f"regularized model ({', '.join(found) or 'regularization in the head'})" + note)
