"""Small helpers that look at Keras models behaviourally (what they do, not only their flags)."""
from __future__ import annotations

import re

import numpy as np

from autograder.checks.measured import Measured
from autograder.checks.result import CheckFailed, describe
from autograder.sandbox.layers import sublayers  # noqa: F401  (one definition for checks and hand-over)

DROPOUT_LIKE = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout")
AUGMENTATION = ("RandAugment", "AugMix", "MixUp", "CutMix", "Solarization")  # besides every Random*
CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy",
                         "categorical_focal_crossentropy")
ACCURACY_KEYS = ("accuracy", "sparse_categorical_accuracy", "categorical_accuracy", "acc")


def keras():
    import keras as _keras

    return _keras


def require_model(activity: int, value, name: str, hint: str):
    """`value` must be a keras.Model (or one measured in the kernel: checks.measured)."""
    if not isinstance(value, (keras().Model, Measured)):
        raise CheckFailed(activity, f"`{name}` to be a keras.Model", describe(value), hint)
    return value


def contains(model, layer) -> bool:
    return any(child is layer for child in sublayers(model))


def same_weights(layer, base) -> bool:
    mine, theirs = layer.weights, base.weights
    return (len(mine) == len(theirs) and
            all(a.shape == b.shape and np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(mine, theirs)))


def head_layers(model, base) -> list:
    """Layers of `model` that are not the base and not inside it."""
    inside_base = {id(layer) for layer in sublayers(base)} | {id(base)}
    return [layer for layer in sublayers(model) if id(layer) not in inside_base]


def probe_batch(image_shape, classes: int, size: int = 8, seed: int = 0):
    """A small batch of raw-pixel images (0-255, float32) and integer labels, reproducible."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(size, *image_shape)).astype("float32")
    labels = np.arange(size) % max(classes, 1)
    return images, labels.astype("int64")


def input_shape(model):
    """The model's input shape without the batch axis, or None if it has no single input."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError, RuntimeError):
        return None
    if isinstance(shape, list):
        return None
    return tuple(shape[1:])


def predict(model, images) -> np.ndarray:
    output = model(images, training=False)
    if isinstance(output, (list, tuple, dict)):
        raise TypeError("the model has several outputs")
    return np.asarray(output)


def are_probabilities(outputs: np.ndarray) -> bool:
    """True when each row looks like a softmax output (in [0, 1], summing to 1)."""
    return bool(np.all(outputs >= -1e-6) and np.all(outputs <= 1 + 1e-6)
                and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def loss_info(model):
    """(loss name in snake_case, from_logits) of a compiled model; None when not compiled."""
    if isinstance(model, Measured):
        return model.loss_info()
    if not getattr(model, "compiled", False):
        return None
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss.lower(), False
    if isinstance(loss, keras().losses.Loss):
        config = loss.get_config()
        return _snake(type(loss).__name__), bool(config.get("from_logits", False))
    if callable(loss):
        return getattr(loss, "__name__", type(loss).__name__).lower(), False
    return repr(loss), False


def weight_snapshot(variables) -> list:
    return [np.array(v.numpy(), copy=True) for v in variables]


def restore(variables, values) -> None:
    for variable, value in zip(variables, values):
        variable.assign(value)


def _one_hot(labels, classes):
    return np.eye(classes, dtype="float32")[labels]


def _replay_batches(images, labels, classes, batch=None):
    """(images, labels) in the dtypes a student's pipeline may have used, the lab's own first.

    A traced train function is reused only for inputs of the dtypes it was traced with; other
    dtypes retrace it with the current `trainable` flags, which would hide a stale trace."""
    if batch is not None:  # the student's own data: exactly the dtypes fit traced with
        return [batch]
    return [(images, labels.astype("int32")), (images, labels.astype("int64")),
            (images.astype("uint8"), labels.astype("int32")), (images, _one_hot(labels, classes))]


def _compiled_step(model, batch) -> None:
    """One step of the model's cached train function, the very one that `fit` would call."""
    import tensorflow as tf

    model.train_function(iter(tf.data.Dataset.from_tensors(tuple(batch))))


def _manual_step(model, images, labels, classes):
    """One gradient step on the currently trainable variables (what a first `fit` would trace)."""
    import tensorflow as tf

    info = loss_info(model)
    with tf.GradientTape() as tape:
        outputs = model(images, training=True)
        if info is not None:
            try:
                loss = model.compute_loss(x=images, y=labels, y_pred=outputs, training=True)
            except Exception:
                loss = model.compute_loss(x=images, y=_one_hot(labels, classes), y_pred=outputs,
                                          training=True)
        else:
            from_logits = not are_probabilities(np.asarray(outputs))
            loss = tf.reduce_mean(keras().losses.sparse_categorical_crossentropy(
                labels, outputs, from_logits=from_logits)) + sum(model.losses)
    variables = model.trainable_variables
    for variable, gradient in zip(variables, tape.gradient(loss, variables)):
        if gradient is not None:
            variable.assign_sub(0.05 * tf.convert_to_tensor(gradient))


def changed_by_training_step(model, base, images, labels, classes: int, batch=None) -> list[str]:
    """Paths of the base's weights (BatchNorm statistics included) that one training step changes.

    The model, its optimizer and its metrics are restored afterwards. A model that has already
    been trained is stepped through its cached train function, as `fit` would do, so that
    `trainable = False` set after `compile` without recompiling is caught."""
    if isinstance(model, Measured):
        return model.changed_by_training_step()
    model_variables = list(model.variables)
    saved = weight_snapshot(model_variables)
    base_before = weight_snapshot(base.weights)
    optimizer = getattr(model, "optimizer", None)
    traced = getattr(model, "train_function", None) is not None and optimizer is not None
    optimizer_variables = list(optimizer.variables) if traced else []
    optimizer_saved = weight_snapshot(optimizer_variables)

    def changed_after(step) -> list[str]:
        try:
            step()
            after = weight_snapshot(base.weights)
        finally:
            restore(model_variables, saved)
            restore(optimizer_variables, optimizer_saved)
        return [w.path for w, a, b in zip(base.weights, base_before, after) if not np.array_equal(a, b)]

    if traced:
        ran = False
        try:
            for candidate in _replay_batches(images, labels, classes, batch):
                try:
                    changed = changed_after(lambda: _compiled_step(model, candidate))
                except Exception:  # labels or dtypes this model's loss does not take
                    continue
                ran = True
                if changed:
                    return changed
        finally:
            model.reset_metrics()
        if ran:
            return []
    return changed_after(lambda: _manual_step(model, images, labels, classes))


def trainable_base_weights(model, base) -> list[str]:
    if isinstance(model, Measured):
        return model.trainable_base_weights()
    base_ids = {id(w) for w in base.weights}
    return [w.path for w in model.trainable_weights if id(w) in base_ids]


def base_call_training_flags(model, base) -> list | None:
    """The `training=` argument of each call of `base` recorded in a functional model's graph.

    Keras 3 functional models pass the outer `training` value down to every layer, overriding a
    recorded `training=False` (keras-team/keras#20285), so this is read from the graph (what the
    student wrote) rather than observed; None for models without a readable graph."""
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if not isinstance(nodes_by_depth, dict):
        return None
    try:
        return [node.arguments.kwargs.get("training")
                for nodes in nodes_by_depth.values() for node in nodes
                if getattr(node, "operation", None) is base]
    except AttributeError:  # another Keras version's graph internals
        return None


def base_kept_in_inference(model, base, images) -> bool:
    """Whether the base is called with training=False (read from the graph where there is one)."""
    if isinstance(model, Measured):
        return model.training_flag_explicit()
    flags = base_call_training_flags(model, base)
    if flags is not None:
        return bool(flags) and all(flag is False for flag in flags)
    return not base_runs_in_training_mode(model, base, images)


def base_runs_in_training_mode(model, base, images) -> bool:
    """For models without a graph: with the base made trainable, does a training-mode forward pass
    move the base's BatchNorm statistics? (Only an explicit `training=False` call prevents it.)"""
    flags = [(layer, layer.trainable) for layer in [base, *sublayers(base)]]
    saved = weight_snapshot(base.weights)
    try:
        base.trainable = True
        model(images, training=True)
        after = weight_snapshot(base.weights)
    finally:
        restore(base.weights, saved)
        for layer, trainable in flags:  # outer first, so inner flags win as before
            layer.trainable = trainable
    return any(not np.array_equal(a, b) for a, b in zip(saved, after))


def accuracy_key(keys) -> str | None:
    for key in ACCURACY_KEYS:
        if key in keys:
            return key
    return None


def regularization_measures(model, base, images) -> tuple[np.ndarray, np.ndarray, float]:
    """(training-mode outputs, inference outputs, the penalty the head adds to the loss) on `images`,
    with the base held in inference mode; the model's variables and flags as they were afterwards."""
    if isinstance(model, Measured):
        return model.regularization()
    variables = list(model.variables)
    saved = weight_snapshot(variables)  # seed generators advance in training mode
    flags = [(layer, layer.trainable) for layer in [base, *sublayers(base)]]
    try:
        base.trainable = False  # a base left trainable would differ in training mode by itself
        training = np.asarray(model(images, training=True))
        penalty = float(sum(np.sum(np.asarray(loss)) for loss in model.losses)
                        - sum(np.sum(np.asarray(loss)) for loss in base.losses))
        inference = np.asarray(model(images, training=False))
    finally:
        restore(variables, saved)
        for layer, trainable in flags:  # outer first, so inner flags win as before
            layer.trainable = trainable
    return training, inference, penalty


def regularizer_names(model, base) -> list[str]:
    """Names of the dropout/noise, weight-penalty and augmentation layers outside the base (for
    messages only: what decides is the behaviour, regularization_measures)."""
    if isinstance(model, Measured):
        return model.regularizer_names()
    found = []
    for layer in head_layers(model, base):
        kind = type(layer).__name__
        penalties = [attr for attr in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
                     if getattr(layer, attr, None) is not None]
        if kind in DROPOUT_LIKE or kind in AUGMENTATION or kind.startswith("Random") or penalties:
            found.append(f"{kind}({layer.name})")
    return found
