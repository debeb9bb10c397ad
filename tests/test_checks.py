"""The grade-cell checks: one passing case per check and the failing cases, tricks included.

Everything is built in code: a lab folder with three classes of small synthetic images, a tiny
"pretrained" base with BatchNorm, and models trained for two epochs (module-scoped)."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.metrics import classification_report  # noqa: E402
from tiny_models import SHAPE, make_base  # noqa: E402

from autograder import checks  # noqa: E402
from autograder.checks import CheckFailed, CheckResult  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Keras' notes on the tests' own fits

CLASSES = ["alpha", "beta", "gamma"]
PER_CLASS = 8
LEVELS = (40, 130, 220)  # each class is a brightness level, so a tiny head can learn it
SETTINGS = {
    "assignment": "transfer_learning", "profile": "digits", "image_size": [12, 12], "channels": 1,
    "color_mode": "grayscale", "batch_size": 8, "seed": 7, "validation_split": 0.25, "epochs": 2,
    "regularized_epochs": 2, "train_dir": "data/train", "base_model_file": "base.keras",
    "saved_model_file": "regularized_model.keras",
}


def write_images(folder, count=PER_CLASS, seed=0):
    rng = np.random.default_rng(seed)
    for name, level in zip(CLASSES, LEVELS):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            pixels = np.clip(rng.normal(level, 12, size=SHAPE[:2]), 0, 255).astype("uint8")
            Image.fromarray(pixels, mode="L").save(folder / name / f"{index:02d}.png")


def head_model(base, *, training=False, units=len(CLASSES), activation="softmax", augment=None, extra=()):
    """Functional transfer model: [augment] -> base(training=...) -> [extra layers] -> Dense."""
    inputs = keras.Input(shape=SHAPE)
    x = augment(inputs) if augment is not None else inputs
    x = base(x, training=training) if training is not None else base(x)
    for layer in extra:
        x = layer(x)
    outputs = keras.layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, outputs)


def frozen_model(lab_dir, **kwargs):
    base = keras.models.load_model(lab_dir / SETTINGS["base_model_file"])
    base.trainable = False
    return base, head_model(base, **kwargs)


def compile_(model, loss="sparse_categorical_crossentropy"):
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    return model


def load_datasets(lab_dir, **overrides):
    options = dict(validation_split=0.25, seed=SETTINGS["seed"], image_size=(12, 12),
                   color_mode="grayscale", batch_size=8, verbose=False)
    options.update(overrides)
    seeds = options.pop("seeds", (options["seed"], options["seed"]))
    train = keras.utils.image_dataset_from_directory(lab_dir / "data/train", subset="training",
                                                     **{**options, "seed": seeds[0]})
    val = keras.utils.image_dataset_from_directory(lab_dir / "data/train", subset="validation",
                                                   **{**options, "seed": seeds[1]})
    return train, val


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    (folder / "lab_settings.json").write_text(json.dumps(SETTINGS))
    write_images(folder / "data/train")
    keras.utils.set_random_seed(0)
    make_base().save(folder / SETTINGS["base_model_file"])
    return folder


@pytest.fixture(autouse=True)
def in_lab(lab_dir, monkeypatch):
    # Checks read lab_settings.json from the current folder, as in the student's notebook.
    monkeypatch.chdir(lab_dir)


@pytest.fixture(scope="module")
def data(lab_dir):
    train, val = load_datasets(lab_dir)
    return SimpleNamespace(train=train, val=val, class_names=train.class_names)


@pytest.fixture(scope="module")
def trained(lab_dir, data):
    keras.utils.set_random_seed(1)
    base, model = frozen_model(lab_dir)
    compile_(model)
    history = model.fit(data.train, validation_data=data.val, epochs=2, verbose=0)
    regularized_model = compile_(head_model(base, augment=keras.layers.RandomFlip("horizontal"),
                                            extra=(keras.layers.Dropout(0.5),)))
    regularized_history = regularized_model.fit(data.train, validation_data=data.val, epochs=2, verbose=0)
    return SimpleNamespace(base=base, model=model, history=history, regularized_model=regularized_model,
                           regularized_history=regularized_history)


def fails(check, *args, match=None, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    message = str(info.value)
    assert message.startswith(("Activity ", "Hand-in")) and "expected" in message and "Try:" in message
    if match:
        assert match in message, message
    return message


# --- results and messages ----------------------------------------------------------------------

def test_check_failed_is_an_assertion_error_with_a_student_message():
    error = CheckFailed(5, "a frozen base", "3 trainable weights", "set base_model.trainable = False")
    assert isinstance(error, AssertionError)
    assert str(error) == ("Activity 5 (build the transfer model): expected a frozen base, found 3 trainable "
                          "weights. Try: set base_model.trainable = False")
    assert error.to_result().to_dict() == {"passed": False, "activity": 5, "message": str(error)}


def test_a_passing_check_prints_one_line_to_stdout_and_nothing_to_stderr(capfd):
    result = checks.imports(tf, keras)
    out, err = capfd.readouterr()
    assert isinstance(result, CheckResult) and result.passed and result.activity == 1
    assert out.strip() == result.message and out.count("\n") == 1 and out.startswith("Activity 1: ")
    assert err == ""
    assert result.to_dict() == {"passed": True, "activity": 1, "message": result.message}


def test_a_failing_check_writes_nothing_to_stderr(capfd, trained):
    with pytest.raises(CheckFailed):
        checks.transfer_model(trained.model, "not a model", CLASSES)
    assert capfd.readouterr().err == ""


# --- activity 1 --------------------------------------------------------------------------------

def test_imports_accepts_tf_keras_as_keras():
    assert checks.imports(tf, tf.keras).passed


@pytest.mark.parametrize("tf_value, keras_value", [(None, keras), ("tensorflow", keras), (np, keras),
                                                   (tf, None), (tf, np)])
def test_imports_rejects_what_is_not_tensorflow_and_keras(tf_value, keras_value):
    fails(checks.imports, tf_value, keras_value)


# --- activity 2 --------------------------------------------------------------------------------

def test_dataset_loaded_passes(data):
    assert checks.dataset_loaded(data.train, data.val, data.class_names).passed


def test_dataset_loaded_rejects_wrong_types(data):
    fails(checks.dataset_loaded, None, data.val, data.class_names, match="tf.data.Dataset")
    fails(checks.dataset_loaded, [1, 2], data.val, data.class_names, match="tf.data.Dataset")
    fails(checks.dataset_loaded, data.train, data.val, "alpha beta gamma", match="class_names")


def test_dataset_loaded_rejects_wrong_class_names(data):
    fails(checks.dataset_loaded, data.train, data.val, list(reversed(data.class_names)), match="class names")


def test_dataset_loaded_rejects_unbatched_or_resized_images(lab_dir, data):
    fails(checks.dataset_loaded, data.train.unbatch(), data.val, data.class_names, match="shape")
    train, val = load_datasets(lab_dir, image_size=(10, 10))
    fails(checks.dataset_loaded, train, val, data.class_names, match="(batch, 12, 12, 1)")


def test_dataset_loaded_accepts_one_hot_labels_and_rejects_other_label_shapes(lab_dir, data):
    train, val = load_datasets(lab_dir, label_mode="categorical")
    assert checks.dataset_loaded(train, val, data.class_names).passed
    pairs = train.map(lambda images, labels: (images, labels[:, :2]))  # one-hot rows of the wrong width
    fails(checks.dataset_loaded, pairs, val, data.class_names, match="one-hot rows of 3")
    floats = train.map(lambda images, labels: (images, tf.cast(tf.argmax(labels, axis=-1), "float32")))
    fails(checks.dataset_loaded, floats, val, data.class_names, match="one-hot rows of 3")


def test_dataset_loaded_rejects_rescaled_pixels(data):
    scale = lambda images, labels: (images / 255.0, labels)  # noqa: E731
    fails(checks.dataset_loaded, data.train.map(scale), data.val.map(scale), data.class_names,
          match="raw pixel values")


def test_dataset_loaded_rejects_wrong_split_and_mismatched_seeds(lab_dir, data):
    fails(checks.dataset_loaded, data.train, data.train, data.class_names, match="18 training and 6 validation")
    train, val = load_datasets(lab_dir, seeds=(1, 2))
    fails(checks.dataset_loaded, train, val, data.class_names, match="same seed")


def test_checks_explain_a_missing_lab_settings_file(tmp_path, monkeypatch, data):
    monkeypatch.chdir(tmp_path)
    fails(checks.dataset_loaded, data.train, data.val, data.class_names, match="lab_settings.json")


# --- activity 3 --------------------------------------------------------------------------------

def sample_grid(class_names, blank=False, titled=True):
    figure, axes = plt.subplots(1, len(class_names))
    for index, (ax, name) in enumerate(zip(axes, class_names)):
        pixels = np.zeros(SHAPE[:2]) if blank else np.random.default_rng(index).random(SHAPE[:2])
        ax.imshow(pixels, cmap="gray")
        if titled:
            ax.set_title(f"Class: {name}")
    return figure


def test_sample_figure_passes():
    figure = sample_grid(CLASSES)
    assert checks.sample_figure(figure, CLASSES).passed
    plt.close(figure)


def test_sample_figure_rejects_wrong_types():
    fails(checks.sample_figure, None, CLASSES, match="matplotlib Figure")
    fails(checks.sample_figure, plt, CLASSES, match="matplotlib Figure")


def test_sample_figure_rejects_a_missing_class_untitled_or_blank_images():
    fails(checks.sample_figure, sample_grid(CLASSES[:2]), CLASSES, match="gamma")
    fails(checks.sample_figure, sample_grid(CLASSES, titled=False), CLASSES, match="no titled image")
    fails(checks.sample_figure, sample_grid(CLASSES, blank=True), CLASSES, match="without any image")
    lines, ax = plt.subplots()
    ax.plot([1, 2, 3])
    ax.set_title("alpha beta gamma")
    fails(checks.sample_figure, lines, CLASSES, match="without any image")
    plt.close("all")


def test_sample_figure_does_not_take_a_class_name_inside_another_word():
    figure = sample_grid(["alphabet", "beta", "gamma"])
    fails(checks.sample_figure, figure, CLASSES, match="alpha")
    plt.close(figure)


# --- activity 4 --------------------------------------------------------------------------------

def test_base_pretrained_passes(lab_dir):
    assert checks.base_pretrained(keras.models.load_model(lab_dir / "base.keras")).passed


def test_base_pretrained_rejects_random_or_retrained_weights(lab_dir):
    fails(checks.base_pretrained, make_base(), match="differ")  # same architecture, fresh weights
    base = keras.models.load_model(lab_dir / "base.keras")
    moving_mean = base.get_layer("bn").moving_mean
    moving_mean.assign(moving_mean.numpy() + 1e-3)  # what one training step in training mode does
    fails(checks.base_pretrained, base, match="bn/moving_mean")


def test_base_pretrained_rejects_other_models_and_types():
    other = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(3)])
    fails(checks.base_pretrained, other, match="architecture")
    fails(checks.base_pretrained, "base.keras", match="keras.Model")
    small = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    fails(checks.base_pretrained, small, match="input shape")


# --- activity 5 --------------------------------------------------------------------------------

def test_transfer_model_passes_before_compiling_and_after_training(lab_dir, trained):
    base, model = frozen_model(lab_dir)
    assert checks.transfer_model(model, base, CLASSES).passed
    before = [w.numpy().copy() for w in trained.model.variables]
    iterations = int(trained.model.optimizer.iterations.numpy())
    assert checks.transfer_model(trained.model, trained.base, CLASSES).passed
    # the behavioural training step leaves no trace on the student's model or optimizer
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, trained.model.variables))
    assert int(trained.model.optimizer.iterations.numpy()) == iterations


def test_transfer_model_accepts_logits_with_from_logits_loss(lab_dir):
    base, model = frozen_model(lab_dir, activation=None)
    compile_(model, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert checks.transfer_model(model, base, CLASSES).passed


def test_transfer_model_rejects_wrong_types(lab_dir, trained):
    fails(checks.transfer_model, None, trained.base, CLASSES, match="keras.Model")
    fails(checks.transfer_model, trained.model, "base", CLASSES, match="keras.Model")
    fails(checks.transfer_model, trained.model, trained.base, None, match="class_names")


def test_transfer_model_rejects_an_unfrozen_base(lab_dir):
    base = keras.models.load_model(lab_dir / "base.keras")
    fails(checks.transfer_model, head_model(base), base, CLASSES, match="trainable base weights")


def test_transfer_model_rejects_freezing_only_the_outer_model(lab_dir):
    base = keras.models.load_model(lab_dir / "base.keras")
    model = head_model(base)
    model.trainable = False
    fails(checks.transfer_model, model, base, CLASSES, match="not `model`")


def test_transfer_model_catches_trainable_false_after_compile_without_recompiling(lab_dir, data, capfd):
    base = keras.models.load_model(lab_dir / "base.keras")
    model = compile_(head_model(base))
    model.fit(data.train, epochs=1, verbose=0)
    base.trainable = False  # the flags now say "frozen", but fit would reuse the old train function
    assert not any(id(w) in {id(v) for v in base.weights} for w in model.trainable_weights)
    fails(checks.transfer_model, model, base, CLASSES, match="training step changes")
    fails(checks.transfer_model, model, base, CLASSES, train_ds=data.train, match="training step changes")
    fails(checks.transfer_model, model, base, CLASSES, train_ds="train_ds", match="dataset from activity 2")
    compile_(model)  # recompiling makes the flag count
    assert checks.transfer_model(model, base, CLASSES, train_ds=data.train).passed
    assert capfd.readouterr().err == ""  # retracing notices stay off stderr


def test_transfer_model_accepts_a_frozen_base_without_training_false_with_a_tip(lab_dir):
    # a frozen BatchNormalization layer runs in inference mode whatever `training` says (Keras 3)
    base, model = frozen_model(lab_dir, training=None)
    assert "tip: `base_model(inputs, training=False)`" in checks.transfer_model(model, base, CLASSES).message
    sequential = keras.Sequential([keras.Input(SHAPE), base, keras.layers.Dense(3, activation="softmax")])
    assert "tip:" in checks.transfer_model(sequential, base, CLASSES).message
    base, model = frozen_model(lab_dir)
    assert "tip:" not in checks.transfer_model(model, base, CLASSES).message


def test_transfer_model_accepts_freezing_every_layer_in_a_loop(lab_dir):
    base = keras.models.load_model(lab_dir / "base.keras")
    for layer in base.layers:
        layer.trainable = False
    assert checks.transfer_model(head_model(base), base, CLASSES).passed


def test_transfer_model_rejects_a_model_without_the_pretrained_base(lab_dir):
    base = keras.models.load_model(lab_dir / "base.keras")
    other, model = frozen_model(lab_dir)
    assert checks.transfer_model(model, base, CLASSES).passed  # a second load of the same base is the base
    other.weights[0].assign(other.weights[0].numpy() + 1.0)
    fails(checks.transfer_model, model, base, CLASSES, match="inside `model`")
    fails(checks.transfer_model, base, base, CLASSES, match="the base itself")


def test_transfer_model_rejects_wrong_outputs_and_activation(lab_dir):
    base, model = frozen_model(lab_dir, units=2)
    fails(checks.transfer_model, model, base, CLASSES, match="3 numbers per image")
    base, model = frozen_model(lab_dir, activation="sigmoid")
    fails(checks.transfer_model, model, base, CLASSES, match="sigmoid")
    # the loss that reads the outputs is activity 7's: a mismatch there costs nothing here
    base, model = frozen_model(lab_dir, activation=None)
    assert checks.transfer_model(compile_(model), base, CLASSES).passed
    base, model = frozen_model(lab_dir)
    compile_(model, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert checks.transfer_model(model, base, CLASSES).passed


# --- activity 6 --------------------------------------------------------------------------------

def test_architecture_diagram_passes(tmp_path):
    figure, ax = plt.subplots(figsize=(2, 3))
    ax.plot([0, 1], [1, 0])
    figure.savefig(tmp_path / "model.png")
    plt.close(figure)
    assert checks.architecture_diagram(str(tmp_path / "model.png")).passed
    assert checks.architecture_diagram(tmp_path / "model.png").passed


def test_architecture_diagram_rejects_missing_broken_and_trivial_files(tmp_path):
    fails(checks.architecture_diagram, None, match="path of a PNG")
    fails(checks.architecture_diagram, str(tmp_path / "nothing.png"), match="no file")
    (tmp_path / "text.png").write_text("not an image")
    fails(checks.architecture_diagram, str(tmp_path / "text.png"), match="not an image")
    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    fails(checks.architecture_diagram, str(tmp_path / "blank.png"), match="one colour")
    Image.fromarray(np.eye(10, dtype="uint8") * 255).save(tmp_path / "tiny.png")
    fails(checks.architecture_diagram, str(tmp_path / "tiny.png"), match="10 x 10")
    Image.fromarray(np.eye(100, dtype="uint8") * 255).save(tmp_path / "photo.jpg")
    fails(checks.architecture_diagram, str(tmp_path / "photo.jpg"), match="JPEG")


# --- activity 7 --------------------------------------------------------------------------------

def test_compiled_and_fitted_passes(trained):
    assert checks.compiled_and_fitted(trained.model, trained.history).passed


def test_compiled_and_fitted_rejects_a_dict_or_a_fake_history(trained):
    fails(checks.compiled_and_fitted, trained.model, trained.history.history, match="a dict")
    fails(checks.compiled_and_fitted, trained.model, None, match="keras History")
    other = keras.callbacks.History()
    other.set_model(trained.regularized_model)
    other.history, other.epoch = dict(trained.history.history), [0, 1]
    fails(checks.compiled_and_fitted, trained.model, other, match="latest `model.fit")
    forged = keras.callbacks.History()
    forged.set_model(trained.model)  # .model is right, but fit never produced it
    forged.history, forged.epoch = dict(trained.history.history), [0, 1]
    fails(checks.compiled_and_fitted, trained.model, forged, match="latest `model.fit")


def test_compiled_and_fitted_rejects_an_unfitted_or_uncompiled_model(lab_dir, trained):
    _, model = frozen_model(lab_dir)
    fails(checks.compiled_and_fitted, model, trained.history, match="never compiled")
    compile_(model)
    fails(checks.compiled_and_fitted, model, trained.history, match="latest `model.fit")
    fails(checks.compiled_and_fitted, "model", trained.history, match="keras.Model")


def test_compiled_and_fitted_rejects_a_regression_loss_wrong_epochs_and_no_validation(lab_dir, data):
    _, model = frozen_model(lab_dir)
    compile_(model, loss="mse")
    fails(checks.compiled_and_fitted, model, None, match="classification loss")
    _, model = frozen_model(lab_dir)
    history = compile_(model).fit(data.train, validation_data=data.val, epochs=1, verbose=0)
    fails(checks.compiled_and_fitted, model, history, match="2 epochs")
    history = model.fit(data.train, epochs=2, verbose=0)
    fails(checks.compiled_and_fitted, model, history, match="val_loss")
    _, logits = frozen_model(lab_dir, activation=None)
    history = compile_(logits).fit(data.train, validation_data=data.val, epochs=2, verbose=0)
    fails(checks.compiled_and_fitted, logits, history, match="from_logits=True")
    _, softmax = frozen_model(lab_dir)
    compile_(softmax, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = softmax.fit(data.train, validation_data=data.val, epochs=2, verbose=0)
    fails(checks.compiled_and_fitted, softmax, history, match="from_logits=False")


def test_compiled_and_fitted_accepts_early_stopping_and_leaves_a_sigmoid_to_activity_5(lab_dir, data):
    _, model = frozen_model(lab_dir)
    # what EarlyStopping does when it stops: ask fit to end after this epoch
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", True))
    history = compile_(model).fit(data.train, validation_data=data.val, epochs=2, callbacks=[stop], verbose=0)
    assert len(history.epoch) == 1
    assert "1 of 2 epochs (stopped early" in checks.compiled_and_fitted(model, history).message
    _, sigmoid = frozen_model(lab_dir, activation="sigmoid")
    history = compile_(sigmoid).fit(data.train, validation_data=data.val, epochs=2, verbose=0)
    assert checks.compiled_and_fitted(sigmoid, history).passed


# --- activity 8 --------------------------------------------------------------------------------

def evaluated(model, dataset) -> float:
    return float(model.evaluate(dataset, verbose=0, return_dict=True)["accuracy"])


def test_accuracies_pass_when_recomputed_values_match(trained, data):
    train_accuracy, val_accuracy = evaluated(trained.model, data.train), evaluated(trained.model, data.val)
    assert checks.accuracies(train_accuracy, val_accuracy, trained.model, data.train, data.val).passed
    # the last epoch's records of fit are real measurements too
    last = float(trained.history.history["accuracy"][-1])
    assert checks.accuracies(last, val_accuracy, trained.model, data.train, data.val).passed


def test_accuracies_reject_float_subclasses_and_numpy_scalars(trained, data):
    class Always(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    val_accuracy = evaluated(trained.model, data.val)
    fails(checks.accuracies, Always(0.5), val_accuracy, trained.model, data.train, data.val, match="plain Python float")
    fails(checks.accuracies, np.float64(val_accuracy), val_accuracy, trained.model, data.train, data.val,
          match="plain Python float")
    fails(checks.accuracies, "0.9", val_accuracy, trained.model, data.train, data.val, match="plain Python float")
    fails(checks.accuracies, 1.5, val_accuracy, trained.model, data.train, data.val, match="between 0 and 1")


def test_accuracies_reject_typed_in_numbers_and_wrong_inputs(trained, data):
    train_accuracy, val_accuracy = evaluated(trained.model, data.train), evaluated(trained.model, data.val)
    typed = 0.35 if val_accuracy > 0.6 else 0.95
    fails(checks.accuracies, train_accuracy, typed, trained.model, data.train, data.val, match="val_accuracy")
    nearly = round(train_accuracy + (0.004 if train_accuracy < 0.5 else -0.004), 3)  # close, not the model's
    fails(checks.accuracies, nearly, val_accuracy, trained.model, data.train, data.val, match="train_accuracy")
    fails(checks.accuracies, train_accuracy, val_accuracy, None, data.train, data.val, match="keras.Model")
    fails(checks.accuracies, train_accuracy, val_accuracy, trained.model, None, data.val, match="train_ds")


# --- activity 9 --------------------------------------------------------------------------------

def test_regularized_passes_with_dropout_and_augmentation(trained):
    assert checks.regularized(trained.regularized_model, trained.base).passed


@pytest.mark.parametrize("kind", ["augmentation", "dropout", "l2"])
def test_regularized_accepts_each_kind_alone(lab_dir, kind):
    options = {"augmentation": dict(augment=keras.layers.RandomFlip("horizontal")),
               "dropout": dict(extra=(keras.layers.Dropout(0.4),)),
               "l2": dict(extra=(keras.layers.Dense(8, kernel_regularizer=keras.regularizers.L2(1e-2)),))}
    base, model = frozen_model(lab_dir, **options[kind])
    assert checks.regularized(model, base).passed


def test_regularized_rejects_no_or_inactive_regularization(lab_dir):
    base, model = frozen_model(lab_dir)
    fails(checks.regularized, model, base, match="behaves the same")
    base, model = frozen_model(lab_dir, extra=(keras.layers.Dropout(0.0),))
    fails(checks.regularized, model, base, match="no effect")


def test_regularized_leaves_an_unfrozen_base_to_activity_5_and_rejects_wrong_types(lab_dir):
    base = keras.models.load_model(lab_dir / "base.keras")
    result = checks.regularized(head_model(base, extra=(keras.layers.Dropout(0.5),)), base)
    assert result.passed and "counts in activity 5" in result.message
    # a base in training mode differs between training and inference by itself: that is no regularization
    fails(checks.regularized, head_model(base), base, match="behaves the same")
    fails(checks.regularized, None, base, match="keras.Model")


@pytest.mark.parametrize("layer", [keras.layers.GaussianNoise(0.5), keras.layers.ActivityRegularization(l1=1e-3),
                                   keras.layers.Dense(8, kernel_regularizer=keras.regularizers.L1L2(1e-4, 1e-4))])
def test_regularized_judges_behaviour_not_layer_names(lab_dir, layer):
    base, model = frozen_model(lab_dir, extra=(layer,))
    assert checks.regularized(model, base).passed


def test_base_unchanged_passes_for_a_frozen_base_and_fails_once_it_moved(trained, lab_dir):
    assert checks.base_unchanged(trained.base).passed
    base = keras.models.load_model(lab_dir / "base.keras")
    base.weights[-1].assign(base.weights[-1].numpy() + 1e-3)  # a BatchNorm statistic moved by training
    fails(checks.base_unchanged, base, match="changed")


# --- activity 10 -------------------------------------------------------------------------------

def test_regularized_fitted_passes(trained):
    assert checks.regularized_fitted(trained.regularized_history, trained.regularized_model).passed


def test_regularized_fitted_rejects_the_other_models_history(trained):
    fails(checks.regularized_fitted, trained.history, trained.regularized_model, match="regularized_model")
    fails(checks.regularized_fitted, trained.regularized_history.history, trained.regularized_model,
          match="a dict")


# --- activity 11 -------------------------------------------------------------------------------

def curves(records, keys=("loss", "val_loss", "accuracy", "val_accuracy"), shift=0.0):
    figure, (losses, accuracy) = plt.subplots(1, 2)
    for key in keys:
        ax = losses if "loss" in key else accuracy
        ax.plot(range(1, len(records[key]) + 1), np.asarray(records[key]) + shift, label=key)
        ax.legend()
    return figure


def test_curves_figure_passes(trained):
    figure = curves(trained.regularized_history.history)
    assert checks.curves_figure(figure, trained.regularized_history).passed
    plt.close(figure)


def test_curves_figure_asks_only_for_the_records_the_fit_made(lab_dir, data):
    # no validation data in fit is activity 10's mistake: activity 11 plots what there is
    _, model = frozen_model(lab_dir)
    history = compile_(model).fit(data.train, epochs=2, verbose=0)
    result = checks.curves_figure(curves(history.history, keys=("loss", "accuracy")), history)
    assert result.passed and "no val_loss, val_accuracy records" in result.message
    fails(checks.curves_figure, curves(history.history, keys=("loss",)), history, match="accuracy")
    plt.close("all")


def test_curves_figure_rejects_missing_or_made_up_lines(trained):
    records = trained.regularized_history.history
    fails(checks.curves_figure, curves(records, keys=("loss", "accuracy")), trained.regularized_history,
          match="val_loss")
    fails(checks.curves_figure, curves(records, keys=("loss", "val_loss", "accuracy")),
          trained.regularized_history, match="val_accuracy")
    fails(checks.curves_figure, curves(records, shift=0.01), trained.regularized_history, match="none with")
    fails(checks.curves_figure, curves(trained.history.history), trained.regularized_history, match="none with")
    fails(checks.curves_figure, None, trained.regularized_history, match="matplotlib Figure")
    fails(checks.curves_figure, curves(records), records, match="History")
    plt.close("all")


# --- activity 12 -------------------------------------------------------------------------------

def predictions(model, dataset):
    truth, predicted = [], []
    for images, labels in dataset:
        truth.extend(labels.numpy())
        predicted.extend(model.predict(images, verbose=0).argmax(axis=1))
    return truth, predicted


def test_classification_report_passes_as_text_dict_or_other_digits(trained, data):
    truth, predicted = predictions(trained.regularized_model, data.val)
    for options in ({}, {"output_dict": True}, {"digits": 3}):
        report = classification_report(truth, predicted, labels=[0, 1, 2], target_names=CLASSES,
                                       zero_division=0, **options)
        assert checks.classification_report_matches(report, trained.regularized_model, data.val, CLASSES).passed


def test_classification_report_rejects_typed_in_or_foreign_reports(trained, data):
    truth, predicted = predictions(trained.regularized_model, data.val)
    wrong = [(p + 1) % 3 for p in predicted]  # numbers that this model does not produce
    typed = classification_report(truth, wrong, labels=[0, 1, 2], target_names=CLASSES, zero_division=0)
    fails(checks.classification_report_matches, typed, trained.regularized_model, data.val, CLASSES,
          match="other numbers")
    as_dict = classification_report(truth, wrong, labels=[0, 1, 2], target_names=CLASSES, zero_division=0,
                                    output_dict=True)
    fails(checks.classification_report_matches, as_dict, trained.regularized_model, data.val, CLASSES,
          match="differs")
    fails(checks.classification_report_matches, None, trained.regularized_model, data.val, CLASSES,
          match="classification_report returns")
    fails(checks.classification_report_matches, "", trained.regularized_model, None, CLASSES,
          match="validation dataset")
    fails(checks.classification_report_matches, "", "model", data.val, CLASSES, match="keras.Model")


# --- hand-in -----------------------------------------------------------------------------------

def test_saved_model_passes_at_the_configured_path(lab_dir, trained):
    trained.regularized_model.save(lab_dir / "regularized_model.keras")
    assert checks.saved_model().passed
    assert checks.saved_model(model=trained.regularized_model).passed


def test_saved_model_rejects_missing_corrupt_or_stale_files(tmp_path, lab_dir, trained):
    fails(checks.saved_model, tmp_path / "missing.keras", match="no such file")
    (tmp_path / "corrupt.keras").write_bytes(b"PK\x03\x04 not really a zip")
    fails(checks.saved_model, tmp_path / "corrupt.keras", match="load_model can read")
    trained.model.save(tmp_path / "other.keras")
    fails(checks.saved_model, tmp_path / "other.keras", model=trained.regularized_model, match="other weights")
    fails(checks.saved_model, 42, match="path of the saved model")


# --- every check, wrong inputs -----------------------------------------------------------------

ARITY = [(checks.imports, 2), (checks.dataset_loaded, 3), (checks.sample_figure, 2), (checks.base_pretrained, 1),
         (checks.transfer_model, 3), (checks.architecture_diagram, 1), (checks.compiled_and_fitted, 2),
         (checks.accuracies, 5), (checks.regularized, 2), (checks.regularized_fitted, 2),
         (checks.curves_figure, 2), (checks.classification_report_matches, 4), (checks.saved_model, 1),
         (checks.hidden_accuracy, 1)]
DEFAULT_IS_NONE = (checks.saved_model, checks.hidden_accuracy)  # None means "the configured file"


@pytest.mark.parametrize("check, arity, bad", [
    (check, arity, bad) for check, arity in ARITY for bad in (None, "no_such_file.png", {"loss": [1.0]}, 3)
    if not (bad is None and check in DEFAULT_IS_NONE)])
def test_wrong_inputs_give_a_check_failure_never_a_raw_error(check, arity, bad):
    fails(check, *([bad] * arity))
