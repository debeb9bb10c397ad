"""A model the grader cannot rebuild without the student's own code, seen through what was measured.

A model that holds a class the notebook defined (a subclassed model or layer, a custom `train_step`)
or a `Lambda` layer cannot be loaded outside the kernel without running the student's code. Such a
model is measured where that code runs anyway, in the sandboxed kernel (autograder.checks.measure):
outputs on the images the checks use, what one training step does to the base, training- against
inference-mode outputs, the loss it was compiled with. The checks then decide from those numbers
here, in the grader's process, with the same rules as for a rebuilt model (keras_tools dispatches).

The numbers come from the student's code, so they are only as honest as that code; the decisions
that matter are also made from what no student code touches: the saved file's base weights read as
plain arrays (`base_moved`, set by the judge) and predictions scored against labels the kernel never
had (the hidden split, judged in a sandbox of its own)."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np

NOT_MEASURED = "images the notebook's model was not run on"


class NotMeasured(ValueError):
    """The checks asked for something the kernel did not measure."""


def image_key(image) -> str:
    """The key of one image in the table of measured outputs (its float32 pixels)."""
    return hashlib.sha1(np.ascontiguousarray(image, dtype="float32").tobytes()).hexdigest()


class Measured:
    """Answers the checks' questions about one measured model from its record (plain data) and
    arrays; never runs a model."""

    def __init__(self, record: dict, arrays: dict, base_moved: list[str] | None = None):
        self.record, self.type_name = record, record.get("class", "Model")
        self._outputs = {key: arrays[f"out_{index}"] for index, key in enumerate(record.get("keys", []))}
        self._arrays = arrays
        self.base_moved = list(base_moved or [])   # plain-array evidence from the saved file, if any
        self.history = None
        self.optimizer = SimpleNamespace(iterations=int(record.get("iterations", 0)))
        self.compiled = record.get("loss") is not None
        self.layers: list = []

    def __repr__(self) -> str:
        return f"<{self.type_name} (measured in the notebook)>"

    @property
    def input_shape(self):
        shape = self.record.get("input_shape")
        if shape is None:
            raise AttributeError("no input shape was measured")
        return (None, *shape)

    @property
    def weights(self):
        raise NotMeasured("the weights of a model built with the notebook's own classes or functions (they "
                          "are not handed over; the checks use its outputs and the saved files)")

    @property
    def trainable_weights(self) -> list:
        return [None] * int(self.record.get("trainable_count", 0))

    def __call__(self, images, training: bool = False):
        """The outputs measured for these images (inference mode)."""
        if training:
            raise NotMeasured("training-mode outputs other than the probe's")
        rows = []
        for image in np.asarray(images):
            row = self._outputs.get(image_key(image))
            if row is None:
                raise NotMeasured(NOT_MEASURED)
            rows.append(row)
        return np.stack(rows) if rows else np.zeros((0, 0), "float32")

    # ---- the answers keras_tools dispatches to ------------------------------------------------------

    def loss_info(self):
        loss = self.record.get("loss")
        return None if loss is None else (str(loss[0]), bool(loss[1]))

    def holds_base(self) -> bool:
        """The base (the very object, or a copy with its weights) is a part of this model."""
        return bool(self.record.get("base_inside"))

    def is_base(self) -> bool:
        return bool(self.record.get("is_base"))

    def trainable_base_weights(self) -> list[str]:
        return list(self.record.get("trainable_base", []))

    def changed_by_training_step(self) -> list[str]:
        """Base weights that one training step changed in the kernel, or else those the saved file
        shows changed (its base weights, read as plain arrays, differ from the shipped base)."""
        if "step_changed" not in self.record:
            raise NotMeasured("a training step")
        return list(self.record["step_changed"]) or self.base_moved

    def training_flag_explicit(self) -> bool:
        return bool(self.record.get("training_flag_explicit", True))

    def regularization(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(training-mode outputs, inference outputs, the head's added penalty) on the probe images."""
        if "train_out" not in self._arrays:
            raise NotMeasured("training-mode outputs")
        return self._arrays["train_out"], self._arrays["infer_out"], float(self.record.get("penalty", 0.0))

    def regularizer_names(self) -> list[str]:
        return list(self.record.get("regularizers", []))
