"""Submissions for the fair-rubric tests, built in code from the solved release notebook.

ACCEPTED: correct work written in another sensible style; each must earn full automatic points.
WRONG: one mistake each; each must lose the points of the activity that teaches that skill, and
no other. Every builder changes only the answer cells its style or mistake is about."""
from __future__ import annotations

import assignment_helpers as helpers
import model_styles
from assignment_helpers import edited, replaced

# ---- answer cells written in other styles ---------------------------------------------------------

TRANSFER_SEQUENTIAL = """
base_model.trainable = False
model = keras.Sequential([
    keras.Input(shape=base_model.input_shape[1:]),
    base_model,
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(len(class_names), activation="softmax"),
])
"""

TRANSFER_NO_TRAINING_FLAG = """
base_model.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:])
outputs = keras.layers.Dense(len(class_names), activation="softmax")(
    keras.layers.Dense(128, activation="relu")(base_model(inputs)))
model = keras.Model(inputs, outputs)
"""

TRANSFER_LAYER_LOOP = """
for layer in base_model.layers:
    layer.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:])
features = base_model(inputs, training=False)
outputs = keras.layers.Dense(len(class_names), activation="softmax")(
    keras.layers.Dense(128, activation="relu")(features))
model = keras.Model(inputs, outputs)
"""


def _regularized_head(*layers: str) -> str:
    """A functional regularized model whose head is `layers` (source snippets) then the classes."""
    body = "\n".join(f"x = {layer}(x)" for layer in layers)
    return f"""
inputs = keras.Input(shape=base_model.input_shape[1:])
x = base_model(inputs, training=False)
{body}
regularized_model = keras.Model(inputs, keras.layers.Dense(len(class_names), activation="softmax")(x))
"""


def _regularized_front(*layers: str) -> str:
    """A functional regularized model with `layers` on the images, before the base."""
    body = "\n".join(f"x = {layer}(x)" for layer in layers)
    return f"""
inputs = keras.Input(shape=base_model.input_shape[1:])
x = inputs
{body}
x = base_model(x, training=False)
x = keras.layers.Dense(128, activation="relu")(x)
regularized_model = keras.Model(inputs, keras.layers.Dense(len(class_names), activation="softmax")(x))
"""


DATASET_CATEGORICAL = """
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    settings["train_dir"], validation_split=settings["validation_split"], subset="both",
    seed=settings["seed"], image_size=tuple(settings["image_size"]), color_mode=settings["color_mode"],
    batch_size=settings["batch_size"], label_mode="categorical")
class_names = train_ds.class_names
"""

DATASET_TWO_CALLS_BATCH_16 = """
options = dict(validation_split=settings["validation_split"], seed=settings["seed"],
               image_size=tuple(settings["image_size"]), color_mode=settings["color_mode"], batch_size=16)
train_ds = keras.utils.image_dataset_from_directory(settings["train_dir"], subset="training", **options)
val_ds = keras.utils.image_dataset_from_directory(settings["train_dir"], subset="validation", **options)
class_names = train_ds.class_names
"""

DATASET_FOLDER_NAMES = """
import os

train_ds, val_ds = keras.utils.image_dataset_from_directory(
    settings["train_dir"], validation_split=settings["validation_split"], subset="both",
    seed=settings["seed"], image_size=tuple(settings["image_size"]), color_mode=settings["color_mode"],
    batch_size=settings["batch_size"])
class_names = sorted(entry.name for entry in os.scandir(settings["train_dir"]) if entry.is_dir())
"""

SAMPLE_FIGURE_PYPLOT = """
import matplotlib.pyplot as plt
import numpy as np

pairs = [(images.numpy(), labels.numpy()) for images, labels in train_ds]
images = np.concatenate([batch for batch, _ in pairs])
labels = np.concatenate([batch for _, batch in pairs])
labels = labels.argmax(axis=-1) if labels.ndim == 2 else labels

sample_figure = plt.figure(figsize=(10, 3))
for index, name in enumerate(class_names):
    plt.subplot(1, len(class_names), index + 1)
    plt.imshow(images[np.flatnonzero(labels == index)[0]].squeeze().astype("uint8"), cmap="gray")
    plt.title(name)
    plt.axis("off")
plt.show()

"""

CURVES_PYPLOT = """
curves = regularized_history.history
curves_figure = plt.figure(figsize=(10, 3.5))
plt.subplot(1, 2, 1)
plt.plot(curves["loss"], label="train")
plt.plot(curves["val_loss"], label="val")
plt.title("loss")
plt.legend()
plt.subplot(1, 2, 2)
plt.plot(curves["accuracy"], label="train")
plt.plot(curves["val_accuracy"], label="val")
plt.title("accuracy")
plt.legend()
plt.show()
"""

CURVES_EVERY_RECORD = """
curves_figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, values in regularized_history.history.items():
    axes[0 if "loss" in name else 1].plot(values, label=name)
for axis in axes:
    axis.legend()
plt.show()
"""

REPORT_ONE_HOT = """
from sklearn.metrics import classification_report

true_labels, predicted_labels = [], []
for images, labels in val_ds:
    true_labels.extend(np.argmax(labels.numpy(), axis=1))
    predicted_labels.extend(np.argmax(regularized_model(images, training=False).numpy(), axis=1))
report = classification_report(true_labels, predicted_labels, target_names=class_names, zero_division=0)
print(report)
"""

FIT_EARLY_STOPPING = """
stop_early = keras.callbacks.EarlyStopping(monitor="loss", min_delta=1.0, patience=2)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train_ds, validation_data=val_ds, epochs=settings["epochs"], callbacks=[stop_early],
                    verbose=2)
"""


def _compile_fit(name: str, history: str, epochs: str, loss: str, optimizer: str = '"adam"') -> str:
    return f"""
{name}.compile(optimizer={optimizer}, loss={loss}, metrics=["accuracy"])
{history} = {name}.fit(train_ds, validation_data=val_ds, epochs=settings["{epochs}"], verbose=2)
"""


def _logits(notebook, grade_id: str):
    """The cell's last Dense layer without its softmax: it outputs logits."""
    return edited(notebook, grade_id, 'activation="softmax",', "")


FROM_LOGITS = 'keras.losses.SparseCategoricalCrossentropy(from_logits=True)'


def from_logits(solved):
    """Linear outputs (logits) with a from_logits=True loss, in both models."""
    notebook = _logits(_logits(solved, "a05_transfer_model"), "a09_regularized")
    notebook = replaced(notebook, "a07_fit", _compile_fit("model", "history", "epochs", FROM_LOGITS))
    return replaced(notebook, "a10_regularized_fit",
                    _compile_fit("regularized_model", "regularized_history", "regularized_epochs", FROM_LOGITS))


def categorical_labels(solved):
    """One-hot labels (label_mode="categorical") with categorical_crossentropy, and what follows."""
    notebook = replaced(solved, "a02_dataset", DATASET_CATEGORICAL)
    notebook = replaced(notebook, "a03_sample_figure", SAMPLE_FIGURE_PYPLOT)
    loss = '"categorical_crossentropy"'
    notebook = replaced(notebook, "a07_fit", _compile_fit("model", "history", "epochs", loss))
    notebook = replaced(notebook, "a10_regularized_fit",
                        _compile_fit("regularized_model", "regularized_history", "regularized_epochs", loss))
    return replaced(notebook, "a12_report", REPORT_ONE_HOT)


def tf_keras_names(solved):
    """`tf.keras.` spelled out everywhere `keras.` was used (the same objects in Keras 3)."""
    notebook = solved
    for grade_id in ("a05_transfer_model", "a07_fit", "a09_regularized", "a10_regularized_fit"):
        cell = helpers.cell(notebook, grade_id)
        notebook = replaced(notebook, grade_id, cell.source.replace("keras.", "tf.keras."))
    return notebook


def _activity(grade_id: str, source: str):
    """A builder: the solved release with this answer cell written as `source`."""
    return lambda solved: replaced(solved, grade_id, source)


# name -> (what the student did, builder from the solved release)
ACCEPTED = {
    "sequential_regularized": ("activity 9 as a Sequential model with augmentation, L2 and dropout",
                               helpers.variant_sequential_regularized),
    "sequential_transfer": ("activity 5 as a Sequential model",
                            _activity("a05_transfer_model", TRANSFER_SEQUENTIAL)),
    "no_training_flag": ("activity 5 calls the frozen base without training=False",
                         _activity("a05_transfer_model", TRANSFER_NO_TRAINING_FLAG)),
    "freeze_layer_loop": ("activity 5 freezes the base with a loop over its layers",
                          _activity("a05_transfer_model", TRANSFER_LAYER_LOOP)),
    "dropout_only": ("activity 9 regularized by dropout alone",
                     _activity("a09_regularized", _regularized_head(
                         "keras.layers.Dropout(0.4)", 'keras.layers.Dense(128, activation="relu")'))),
    "l2_only": ("activity 9 regularized by an L2 penalty alone",
                _activity("a09_regularized", _regularized_head(
                    'keras.layers.Dense(128, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-3))'))),
    "l1_only": ("activity 9 regularized by an L1 penalty alone",
                _activity("a09_regularized", _regularized_head(
                    'keras.layers.Dense(128, activation="relu", kernel_regularizer=keras.regularizers.L1(1e-5))'))),
    "l1l2_only": ("activity 9 regularized by an L1L2 penalty alone",
                  _activity("a09_regularized", _regularized_head(
                      'keras.layers.Dense(128, activation="relu", '
                      'kernel_regularizer=keras.regularizers.L1L2(l1=1e-5, l2=1e-4))'))),
    "augmentation_only": ("activity 9 regularized by augmentation layers alone",
                          _activity("a09_regularized", _regularized_front(
                              "keras.layers.RandomRotation(0.05)", "keras.layers.RandomZoom(0.1)"))),
    "gaussian_noise": ("activity 9 regularized by GaussianNoise on the features",
                       _activity("a09_regularized", _regularized_head(
                           "keras.layers.GaussianNoise(0.5)", 'keras.layers.Dense(128, activation="relu")'))),
    "spatial_dropout": ("activity 9 regularized by SpatialDropout2D on the images",
                        _activity("a09_regularized", _regularized_front(
                            "keras.layers.SpatialDropout2D(0.1)"))),
    "head_batch_norm": ("activity 9 with BatchNormalization and dropout in the head",
                        _activity("a09_regularized", _regularized_head(
                            'keras.layers.Dense(128, activation="relu")', "keras.layers.BatchNormalization()",
                            "keras.layers.Dropout(0.3)"))),
    "from_logits": ("linear outputs with SparseCategoricalCrossentropy(from_logits=True)", from_logits),
    "categorical_labels": ("label_mode='categorical' with categorical_crossentropy", categorical_labels),
    "early_stopping": ("activity 7 fits with an EarlyStopping callback (a shorter history)",
                       _activity("a07_fit", FIT_EARLY_STOPPING)),
    "tf_keras_names": ("tf.keras names instead of keras", tf_keras_names),
    "two_calls_batch_16": ("activity 2 with two subset calls and a batch size of 16",
                           _activity("a02_dataset", DATASET_TWO_CALLS_BATCH_16)),
    "class_names_from_folder": ("class names taken from the folder listing",
                                _activity("a02_dataset", DATASET_FOLDER_NAMES)),
    "pyplot_figures": ("figures drawn with plt.figure() and plt.subplot",
                       lambda s: replaced(replaced(s, "a03_sample_figure", SAMPLE_FIGURE_PYPLOT),
                                          "a11_curves", CURVES_PYPLOT)),
    "other_optimizer": ("RMSprop and a loss object instead of strings",
                        _activity("a07_fit", _compile_fit(
                            "model", "history", "epochs", "keras.losses.SparseCategoricalCrossentropy()",
                            "keras.optimizers.RMSprop(learning_rate=1e-3)"))),
}

# ---- one mistake each ------------------------------------------------------------------------------

SIGMOID_TRANSFER = """
base_model.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:])
features = base_model(inputs, training=False)
outputs = keras.layers.Dense(len(class_names), activation="sigmoid")(features)
model = keras.Model(inputs, outputs)
"""

# name -> (the mistake, builder, {activity: points lost}); every other activity keeps full marks
WRONG = {
    "not_frozen": ("the base is never frozen", helpers.variant_not_frozen, {5: 12}),
    "sigmoid_output": ("activity 5 ends in a sigmoid (not one probability per class)",
                       _activity("a05_transfer_model", SIGMOID_TRANSFER), {5: 12}),
    "no_regularization": ("activity 9 without any regularization", helpers.variant_no_regularization,
                          {9: 12}),
    "dropout_rate_zero": ("activity 9 with dropout of rate 0 only",
                          _activity("a09_regularized", _regularized_head(
                              "keras.layers.Dropout(0.0)", 'keras.layers.Dense(128, activation="relu")')),
                          {9: 12}),
    "no_validation_in_fit": ("activity 7 fits without validation data",
                             lambda s: edited(s, "a07_fit", "validation_data=val_ds, ", ""), {7: 8}),
    "raw_outputs_probability_loss": ("activity 7 compiles logits with a loss that expects probabilities",
                                     lambda s: _logits(s, "a05_transfer_model"), {7: 8}),
    # its curves plot every record the history holds, so activity 11 is judged on what there is
    "regularized_without_validation": ("activity 10 fits without validation data",
                                       lambda s: replaced(edited(s, "a10_regularized_fit", "validation_data=val_ds, ", ""),
                                                          "a11_curves", CURVES_EVERY_RECORD),
                                       {10: 3}),
    "typed_accuracies": ("activity 8 types the accuracies in", helpers.variant_typed_accuracies, {8: 6}),
    "report_missing": ("activity 12 left out", helpers.variant_report_missing, {12: 8}),
}

# every style the Keras guides teach, judged through what the kernel measured where it needs the notebook's code
ACCEPTED.update(model_styles.ACCEPTED)
WRONG.update(model_styles.WRONG)
