"""Judge side: rebuild the values a grade cell reads from its capture folder, as real objects.

Models are loaded with Keras' safe mode, arrays with allow_pickle=False, everything else from
JSON; a model file is sized before Keras builds it (model_size). The rebuilt objects have the
identities the checks test (the base inside the model, the History of the model's latest fit), so
the grade cell's own checks run on them unchanged."""
from __future__ import annotations

import hashlib
import json
import math
import types
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checks import model_size
from autograder.judging import measured_models


class Unreadable:
    """A value the kernel could not hand over (a model that cannot be saved, for example)."""

    def __init__(self, type_name: str, error: str):
        self.type_name, self.error = type_name, error


def stand_in(type_name: str):
    """An object whose type has the given name, so that messages describe it as the kernel's was."""
    safe = type_name if type_name.isidentifier() else "object"
    return type(safe, (), {"__repr__": lambda self: f"<{safe}>"})()


def decode_plain(data):
    """The inverse of capture.plain."""
    (kind, value), = data.items()
    if kind == "value":
        return value
    if kind == "float":
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[value]
    if kind == "list":
        return [decode_plain(item) for item in value]
    if kind == "tuple":
        return tuple(decode_plain(item) for item in value)
    if kind == "dict":
        return {key: decode_plain(item) for key, item in value.items()}
    raise ValueError(f"unknown plain kind {kind!r}")


def fingerprint(image, label) -> str:
    import numpy as np

    digest = hashlib.sha1(np.ascontiguousarray(image, dtype="float32").tobytes())
    digest.update(str(int(label)).encode())
    return digest.hexdigest()


def dataset_prints(dataset) -> tuple:
    """The sorted fingerprints of every (image, label) of a dataset of (images, labels) batches
    (one-hot labels read as class indices); () for anything else."""
    import numpy as np
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        return ()
    found = []
    try:
        for images, labels in dataset:
            images, labels = np.asarray(images), np.asarray(labels)
            labels = labels.argmax(axis=-1) if labels.ndim > 1 else labels
            found.extend(fingerprint(image, label) for image, label in zip(images, labels.reshape(-1)))
    except (TypeError, ValueError, tf.errors.OpError):
        return ()
    return tuple(sorted(found))


@dataclass
class Reference:
    """Grader-side data: the training folder's images (as the lab loads them), the lab's split, and
    the split the notebook loaded where the data are graded (`loaded_at`, a grade cell's capture)."""

    lab_folder: Path
    capture_root: Path | None = None
    loaded_at: str | None = None
    max_params: int = model_size.DEFAULT_MAX_PARAMS   # the course's MAX_MODEL_PARAMS
    _prints: set | None = None
    _split: tuple | None = None
    _agreed: dict | None = None
    notes: list = field(default_factory=list)

    def agreed_split(self) -> dict:
        """name -> (dataset, fingerprints) that later cells are judged on: the notebook's own split as
        captured where the data are graded, if it holds the training folder's images; else the lab's.
        A later cell whose train_ds or val_ds differs (a forged subset, say) is judged on this one."""
        if self._agreed is None:
            chosen = None
            if self.capture_root is not None and self.loaded_at:
                try:
                    names, foreign = namespace(self.capture_root, self.loaded_at, self)
                    if not foreign and all(dataset_prints(names.get(n)) for n in ("train_ds", "val_ds")):
                        chosen = (names["train_ds"], names["val_ds"])
                except Exception:  # no usable capture there: the lab's split
                    chosen = None
            chosen = chosen or self.split()
            self._agreed = {name: (data, dataset_prints(data)) for name, data in zip(("train_ds", "val_ds"), chosen)}
        return self._agreed

    def settings(self):
        from autograder.checks import lab

        return lab.load(2, self.lab_folder)

    def _load(self, **options):
        import keras

        s = self.settings()
        return keras.utils.image_dataset_from_directory(
            s.train_dir, image_size=s.image_size, color_mode=s.color_mode, batch_size=s.batch_size,
            seed=s.seed, verbose=False, **options)

    def prints(self) -> set:
        """Fingerprints of every (image, label) of the training folder."""
        import numpy as np

        if self._prints is None:
            self._prints = {fingerprint(image, label) for images, labels in self._load(shuffle=False)
                            for image, label in zip(np.asarray(images), np.asarray(labels))}
        return self._prints

    def split(self) -> tuple:
        """(train_ds, val_ds) as the lab sheet loads them."""
        if self._split is None:
            s = self.settings()
            self._split = tuple(self._load(validation_split=s.validation_split, subset="both"))
        return self._split


def inside(root: Path, relative) -> Path:
    """root/relative, refused when the kernel's entry points anywhere outside the capture."""
    path = (root / str(relative)).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"a file outside the hand-over ({relative!r})")
    return path


def _arrays(root: Path, entry: dict):
    import numpy as np

    with np.load(inside(root, entry["file"]), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def dataset(root: Path, entry: dict, reference: Reference | None):
    """A tf.data.Dataset with the captured batches; (dataset, from_training_folder)."""
    import numpy as np
    import tensorflow as tf

    if entry.get("structure") != "pair":
        return tf.data.Dataset.from_tensor_slices(np.zeros(1, "float32")), False
    arrays = _arrays(root, entry)
    count = entry.get("batches", 0)
    images = [arrays[f"images_{i}"] for i in range(count)]
    labels = [arrays[f"labels_{i}"] for i in range(count)]
    if entry["ranks"][0] == 4 and images:
        all_images, all_labels = np.concatenate(images), np.concatenate(labels)
        rebuilt = tf.data.Dataset.from_tensor_slices((all_images, all_labels)).batch(len(images[0]))
    elif images:
        all_images, all_labels = np.stack(images), np.stack(labels)
        rebuilt = tf.data.Dataset.from_tensor_slices((all_images, all_labels))
    else:
        empty_shape = [0, *[d or 1 for d in entry["shapes"][0][1:]]]
        all_images, all_labels = np.zeros(empty_shape, "float32"), np.zeros([0], "int32")
        rebuilt = tf.data.Dataset.from_tensor_slices((all_images, all_labels)).batch(1)
    genuine = True
    if reference is not None:
        prints = dataset_prints(rebuilt) if all_images.ndim == 4 else ()
        genuine = bool(prints) and set(prints) <= reference.prints()
    return rebuilt, genuine


def figure(root: Path, entry: dict):
    """A matplotlib Figure with the captured axes, titles, images and lines."""
    from matplotlib.figure import Figure

    arrays = _arrays(root, entry)
    rebuilt = Figure()
    for index, axis_entry in enumerate(entry["axes"]):
        ax = rebuilt.add_subplot(max(1, len(entry["axes"])), 1, index + 1)
        for loc, title in axis_entry["titles"].items():
            if title:
                ax.set_title(title, loc=loc)
        for key in axis_entry["images"]:
            ax.imshow(arrays[key])
        for line in axis_entry["lines"]:
            ax.plot(arrays[line["x"]], arrays[line["y"]], label=line["label"])
    return rebuilt


def model(root: Path, entry: dict, max_params: int = model_size.DEFAULT_MAX_PARAMS):
    """The saved model, compiled as it was when the kernel saved it (safe mode: no code runs);
    model_size.Refused, before anything is built, for a file that asks for more than the course allows."""
    import keras

    path = inside(root, entry["file"])
    model_size.check(path, max_params)
    loaded = None
    if entry.get("compiled"):
        try:
            loaded = keras.models.load_model(path, compile=True, safe_mode=True)
        except Exception:  # a loss or metric the judge cannot rebuild: judge the model uncompiled
            loaded = None
    return _with_history(loaded or keras.models.load_model(path, compile=False, safe_mode=True), entry)


def _with_history(rebuilt, entry: dict):
    """As in the kernel, the model knows its latest fit."""
    if entry.get("history"):
        latest = history(entry["history"])
        latest.set_model(rebuilt)
        rebuilt.history = latest
    return rebuilt


def history(entry: dict):
    import keras

    rebuilt = keras.callbacks.History()
    rebuilt.history = decode_plain(entry["history"]) if entry.get("history") else {}
    rebuilt.epoch = list(entry.get("epoch", []))
    rebuilt.params = decode_plain(entry["params"]) if entry.get("params") else {}
    return rebuilt


def module(entry: dict):
    """The judge's own TensorFlow or Keras module when the kernel's was one of them, else a stand-in."""
    import importlib

    name = entry.get("name", "")
    if name.split(".")[0] in ("tensorflow", "keras"):
        try:
            return importlib.import_module(name)
        except ImportError:
            pass
    stand = types.ModuleType(name or "module")
    stand.__version__ = entry.get("version", "")
    return stand


def value(root: Path, entry: dict, reference: Reference | None):
    """(value, genuine data flag) for one entry; raises for a value that cannot be rebuilt."""
    kind = entry["kind"]
    if kind == "plain":
        data = decode_plain(entry["data"])
        if isinstance(data, str) and entry.get("file"):
            return str(inside(root, entry["file"])), True   # the file it names, as the kernel saw it
        return data, True
    if kind == "path":
        return inside(root, entry["file"]) if entry.get("file") else Path(entry["path"]), True
    if kind == "module":
        return module(entry), True
    if kind == "model":
        return model(root, entry, reference.max_params if reference else model_size.DEFAULT_MAX_PARAMS), True
    if kind == "measured":   # needs the notebook's code: the kernel measured it (checks.measured)
        return _with_history(measured_models.rebuild(root, entry, reference, inside), entry), True
    if kind == "history":
        return history(entry), True
    if kind == "dataset":
        return dataset(root, entry, reference)
    if kind == "figure":
        return figure(root, entry), True
    if kind == "unreadable":
        return Unreadable(entry.get("type", "object"), entry.get("error", "")), True
    return stand_in(entry.get("type", "object")), True


def namespace(root: Path, grade_id: str, reference: Reference | None) -> tuple[dict, list[str]]:
    """The rebuilt names of one grade cell, and the names whose data are not the training folder's."""
    from autograder.checks.keras_tools import sublayers

    record = json.loads(inside(root, f"{grade_id}/values.json").read_text())
    names, foreign = {}, []
    for name, entry in record["values"].items():
        if entry.get("kind") == "missing":
            continue
        names[name], genuine = value(root, entry, reference)
        if not genuine:
            foreign.append(name)
    relations = record.get("relations") or {}
    for inner, (outer, index) in (relations.get("inside") or {}).items():
        layers = sublayers(names.get(outer)) if outer in names else []
        if isinstance(index, int) and 0 <= index < len(layers):
            names[inner] = layers[index]   # the very object inside the model, as in the kernel
    for name, owner in (relations.get("history_of") or {}).items():
        if name in names and owner.get("model") in names:
            names[name].set_model(names[owner["model"]])
            if owner.get("latest"):
                names[owner["model"]].history = names[name]
    return names, foreign
