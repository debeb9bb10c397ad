"""A tiny pretrained-base stand-in for fast check and verify tests (BatchNorm included)."""
from __future__ import annotations

import keras

SHAPE = (12, 12, 1)


def make_base(shape=SHAPE, input_name: str | None = "pixels"):
    """Raw pixels in, an 8-d feature vector out, like the kit's bases but far smaller."""
    inputs = keras.Input(shape=shape, name=input_name)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(8, activation="relu", name="features")(x)
    return keras.Model(inputs, outputs, name="tiny_base")
