"""Activities 1 and 2: the libraries and the datasets."""
from __future__ import annotations

import hashlib
import types

import numpy as np

from autograder.checks import lab
from autograder.checks.quiet import check
from autograder.checks.result import CheckFailed, describe, passed
from autograder.sandbox import run_state

LOAD_HINT = ("load both subsets with keras.utils.image_dataset_from_directory(TRAIN_DIR, "
             "validation_split=..., subset='training' / 'validation', seed=SEED, image_size=..., "
             "color_mode=..., batch_size=...) using the values in lab_settings.json")


def _module_named(activity, value, name, wanted):
    if not isinstance(value, types.ModuleType):
        raise CheckFailed(activity, f"`{name}` to be the {wanted} module", describe(value),
                          f"import it at the top of the notebook, e.g. `import {wanted}`")
    return value


@check(1, "import tensorflow as tf and import keras")
def imports(tf, keras):
    """`tf` is TensorFlow and `keras` is Keras 3 (the one TensorFlow uses)."""
    _module_named(1, tf, "tf", "tensorflow")
    _module_named(1, keras, "keras", "keras")
    if not tf.__name__.startswith("tensorflow") or not hasattr(tf, "data"):
        raise CheckFailed(1, "`tf` to be TensorFlow", f"the module {tf.__name__}", "`import tensorflow as tf`")
    if "keras" not in keras.__name__ or not hasattr(keras, "Model") or not hasattr(keras, "layers"):
        raise CheckFailed(1, "`keras` to be Keras", f"the module {keras.__name__}", "`import keras`")
    version = str(getattr(keras, "__version__", "0"))
    if int(version.split(".")[0]) < 3:
        raise CheckFailed(1, "Keras 3 or newer", f"Keras {version}", "`import keras` (not tf_keras)")
    return passed(1, f"TensorFlow {tf.__version__} and Keras {version} imported")


def _require_dataset(activity, value, name):
    import tensorflow as tf

    if not isinstance(value, tf.data.Dataset):
        raise CheckFailed(activity, f"`{name}` to be a tf.data.Dataset", describe(value), LOAD_HINT)
    return value


def _check_element_spec(value, name, image_shape, classes):
    import tensorflow as tf

    spec = value.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2
            and all(isinstance(part, tf.TensorSpec) for part in spec)):
        raise CheckFailed(2, f"`{name}` to yield (images, labels) pairs", f"elements {spec}", LOAD_HINT)
    images, labels = spec
    if images.shape.rank != 4 or tuple(images.shape[1:]) != tuple(image_shape):
        raise CheckFailed(2, f"batches of images of shape (batch, {', '.join(map(str, image_shape))})",
                          f"image batches of shape {tuple(images.shape)}",
                          "pass image_size and color_mode from lab_settings.json and keep batching on")
    if not (images.dtype.is_floating or images.dtype == tf.uint8):
        raise CheckFailed(2, "float32 or uint8 images", f"{images.dtype.name} images", LOAD_HINT)
    integers = labels.shape.rank == 1 and labels.dtype.is_integer
    one_hot = labels.shape.rank == 2 and labels.dtype.is_floating and labels.shape[-1] == classes
    if not (integers or one_hot):
        raise CheckFailed(2, f"class labels, one per image: integers, or one-hot rows of {classes}",
                          f"labels of type {labels.dtype.name} and shape {tuple(labels.shape)}",
                          "keep label_mode='int' (the default) in image_dataset_from_directory, "
                          "or use label_mode='categorical' with categorical_crossentropy")


def _check_class_names(class_names, folders):
    if not isinstance(class_names, (list, tuple)) or not all(isinstance(c, str) for c in class_names):
        raise CheckFailed(2, "`class_names` to be a list of class names (strings)", describe(class_names),
                          "use `class_names = train_ds.class_names` right after loading")
    if list(class_names) != folders:
        raise CheckFailed(2, f"the {len(folders)} class names {folders} (the training folder's sub-folders)",
                          f"{list(class_names)}", "use `class_names = train_ds.class_names` right after loading")


def _contents(dataset) -> tuple[list[str], float]:
    """Fingerprints of every image in one pass, and the largest pixel value seen."""
    fingerprints, largest = [], 0.0
    for images, _ in run_state.batches(dataset):  # the kernel's one pass: the next epoch stays fit's
        batch = np.asarray(images)
        largest = max(largest, float(batch.max(initial=0)))
        fingerprints.extend(hashlib.sha1(np.ascontiguousarray(image, dtype="float32").tobytes()).hexdigest()
                            for image in batch)
    return fingerprints, largest


def _check_split(train_prints, val_prints, settings):
    total = lab.image_count(settings)
    expected_val = int(settings.validation_split * total)  # Keras' own rounding
    expected_train = total - expected_val
    if (len(train_prints), len(val_prints)) != (expected_train, expected_val):
        raise CheckFailed(2, f"{expected_train} training and {expected_val} validation images "
                          f"(validation_split={settings.validation_split} of {total})",
                          f"{len(train_prints)} and {len(val_prints)}",
                          "use subset='training' for train_ds and subset='validation' for val_ds, "
                          "with the same validation_split and seed")
    shared = len(set(train_prints) & set(val_prints))
    if shared > max(1, len(val_prints) // 10):
        raise CheckFailed(2, "validation images that are not also training images",
                          f"{shared} of {len(val_prints)} validation images also in train_ds",
                          "pass the same seed to both image_dataset_from_directory calls")


@check(2, LOAD_HINT)
def dataset_loaded(train_ds, val_ds, class_names):
    """Batched (image, integer label) datasets of the configured shape, the right classes and split."""
    settings = lab.load(2)
    folders = lab.class_folders(2, settings)
    for value, name in ((train_ds, "train_ds"), (val_ds, "val_ds")):
        _require_dataset(2, value, name)
        _check_element_spec(value, name, settings.image_shape, len(folders))
    _check_class_names(class_names, folders)
    train_prints, train_max = _contents(train_ds)
    val_prints, val_max = _contents(val_ds)
    _check_split(train_prints, val_prints, settings)
    if max(train_max, val_max) <= 1.0:
        raise CheckFailed(2, "raw pixel values from 0 to 255 (the base rescales them itself)",
                          f"values no larger than {max(train_max, val_max):g}",
                          "do not rescale the images when loading them")
    return passed(2, f"{len(class_names)} classes, {len(train_prints)} training and "
                     f"{len(val_prints)} validation images")
