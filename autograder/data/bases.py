"""Pretrained bases: every base takes raw pixels (0-255) and returns one feature vector per image,
so the notebook's code is the same for every profile."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from autograder.course.seeding import seed_everything
from autograder.data import fetch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ notices off stderr

# Bump when the base's architecture or pretraining changes, so `prepare` rebuilds stale caches.
BASE_RECIPE = 4


def _keras():
    import keras

    return keras


def digits_base(image_shape: tuple[int, int, int], name: str = "digits_base"):
    """The small CNN base of the embedded default (BatchNorm included, so freezing matters)."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=image_shape, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    # A third block halves the features again (3 x 3 x 64 = 576): a small head on them learns new
    # digits from a few images, while the same architecture trained from scratch does not (measured
    # with `labkit compare`).
    for index, filters in enumerate((24, 48, 64)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
        x = layers.ReLU(name=f"relu{index}")(x)
        x = layers.MaxPooling2D(name=f"pool{index}")(x)
    # Flattened convolutional features transfer to new digits far better than a dense layer
    # trained for the old ones (measured with `labkit compare`).
    outputs = layers.Flatten(name="features")(x)
    return keras.Model(inputs, outputs, name=name)


def pretrain_digits_base(images, labels, image_shape, seed: int, epochs: int):
    """Train the base plus a temporary 5-way head on digits 0-4; return (base, held-out accuracy)."""
    import numpy as np
    import tensorflow as tf

    keras = _keras()
    seed_everything(seed)
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    pixels = images[..., None].astype("float32")
    if pixels.shape[1:3] != tuple(image_shape[:2]):
        pixels = tf.image.resize(pixels, image_shape[:2]).numpy()
    held_out = len(images) // 5
    base = digits_base(image_shape)
    classifier = keras.Sequential([
        keras.Input(shape=image_shape),
        # Small shifts and turns while pretraining make the features less tied to digits 0-4.
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", name="pretrain_shift"),
        keras.layers.RandomRotation(0.05, fill_mode="constant", name="pretrain_turn"),
        base,
        keras.layers.Dropout(0.3, name="pretrain_dropout"),
        keras.layers.Dense(len(np.unique(labels)), activation="softmax", name="pretrain_head"),
    ])
    classifier.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    classifier.fit(pixels[held_out:], labels[held_out:], epochs=epochs, batch_size=64, verbose=0,
                   shuffle=True)
    _, accuracy = classifier.evaluate(pixels[:held_out], labels[:held_out], verbose=0)
    return base, float(accuracy)


def weight_arrays(model) -> list:
    """All weights of a model as NumPy arrays, BatchNorm statistics included, in a fixed order."""
    return [w.numpy() if hasattr(w, "numpy") else w for w in model.weights]


def weights_checksum(model) -> str:
    """sha256 over every weight array's shape and bytes: equal iff the weights are identical."""
    import numpy as np

    digest = hashlib.sha256()
    for array in weight_arrays(model):
        array = np.ascontiguousarray(array)
        digest.update(str(array.shape).encode() + str(array.dtype).encode() + array.tobytes())
    return digest.hexdigest()


def load_base(path: Path):
    """Load a saved base without compiling it."""
    return _keras().models.load_model(path, compile=False)


# MobileNetV2 with ImageNet weights: the flowers profile, and colour images in any folder.
MOBILENET_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5")
MOBILENET_ROWS = (96, 128, 160, 192, 224)  # the input sizes keras-applications publishes weights for
# No checksum is published for these files (keras loads them without one). Fill in known pins by
# rows; until then the first download's hash is recorded and re-checked on every use.
MOBILENET_SHA256: dict[int, str] = {}
MOBILENET_MIN_SIZE = 32


def mobilenet_rows(image_size: tuple[int, int]) -> int:
    """The published weights closest to the configured size (224 unless square and published),
    as keras.applications does; the convolution weights fit any input size."""
    rows, cols = image_size
    return rows if rows == cols and rows in MOBILENET_ROWS else 224


def mobilenet_download(settings) -> fetch.Download:
    rows = mobilenet_rows(settings.image_size)
    return fetch.from_environment("MOBILENET", MOBILENET_URL.format(rows=rows),
                                  MOBILENET_SHA256.get(rows))


def check_mobilenet_shape(settings, profile: str) -> None:
    if settings.channels != 3:
        raise ValueError(f"PROFILE {profile!r} needs CHANNELS = 3 (MobileNetV2 takes RGB images), "
                         f"got {settings.channels} instead.")
    if min(settings.image_size) < MOBILENET_MIN_SIZE:
        raise ValueError(f"IMAGE_SIZE must be at least ({MOBILENET_MIN_SIZE}, {MOBILENET_MIN_SIZE}) "
                         f"for MobileNetV2, got {settings.image_size} instead.")


def mobilenet_base(settings):
    """MobileNetV2 (ImageNet weights from the cache, no top, average pooling) behind a layer that
    maps raw 0-255 pixels to [-1, 1], so it takes raw pixels like every other base."""
    import keras

    check_mobilenet_shape(settings, settings.profile)
    download = mobilenet_download(settings)
    weights = fetch.trusted_file(download, fetch.downloads_dir(settings))
    try:
        mobilenet = keras.applications.MobileNetV2(
            input_shape=settings.image_shape, include_top=False, weights=str(weights), pooling="avg")
    except (OSError, ValueError, KeyError) as error:
        raise fetch.FetchError(
            f"could not load MobileNetV2 weights from {weights}: {error}. The file must be the "
            f"keras-applications 'no_top' .h5 file for alpha 1.0; delete it and run "
            f"`{fetch.FETCH_COMMAND}` again.") from error
    inputs = keras.Input(shape=settings.image_shape, name="pixels")
    scaled = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="to_mobilenet_range")(inputs)
    base = keras.Model(inputs, mobilenet(scaled), name="mobilenet_v2_base")
    facts = {"pretrain_task": "ImageNet (MobileNetV2, alpha 1.0)",
             "pretrained_weights_file": weights.name,
             "pretrained_weights_sha256": fetch.file_sha256(weights)}
    return base, facts
