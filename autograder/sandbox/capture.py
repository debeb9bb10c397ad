"""Kernel side: write the values a grade cell reads into a capture folder, one folder per cell.

Runs inside the student's kernel, so nothing here is trusted by the grader; it only has to be
faithful for honest notebooks. Each value becomes an entry of `values.json` (kind and plain data)
plus, for arrays and models, files beside it. Never raises: a value it cannot write is recorded
as such, and the judge fails the check that needed it with a message.

The grader imports this module before the notebook's first cell, and it binds the builtins and
modules it uses then, so that a notebook that later patches builtins, `json` or the kit's checks
does not garble the hand-over of its honest work. It knows each value by its real type and saves
models through Keras's own functions, never through a method the notebook's object could override
(`as_built`): a model whose `save` was replaced is handed over as the notebook built it."""
from __future__ import annotations

import json
import os
import shutil
import traceback
import types
from builtins import (  # noqa: A004
    all,
    any,
    bool,
    dict,
    enumerate,
    float,
    getattr,
    int,
    isinstance,
    len,
    list,
    next,
    repr,
    str,
    tuple,
    type,
)
from pathlib import Path, PurePath

from autograder.sandbox import CAPTURE_FOLDER as FOLDER
from autograder.sandbox import as_built
from autograder.sandbox.as_built import np, tf
from autograder.sandbox.capture_figures import figure as _figure
from autograder.sandbox.layers import sublayers
from autograder.sandbox.run_state import MAX_IMAGES
from autograder.sandbox.run_state import one_pass as _one_pass

_dumps = json.dumps
_ModuleType = types.ModuleType
_is, _type_name = as_built.is_a, as_built.type_name
_MODEL, _HISTORY, _DATASET, _FIGURE = as_built.MODEL, as_built.HISTORY, as_built.DATASET, as_built.FIGURE
MAX_FILE_BYTES = 50 * 2**20  # a diagram or other file named by a value
PLAIN = (type(None), bool, int, float, str)


def plain(value, depth: int = 0):
    """JSON for values made only of exact builtin types (a float subclass is not a float); else None."""
    if as_built.among(type(value), PLAIN):
        if type(value) is float and value != value:
            return {"float": "nan"}
        if type(value) is float and value in (float("inf"), float("-inf")):
            return {"float": "inf" if value > 0 else "-inf"}
        return {"value": value}
    if depth > 6:
        return None
    if as_built.among(type(value), (list, tuple)):
        items = [plain(item, depth + 1) for item in value]
        return None if any(item is None for item in items) else {type(value).__name__: items}
    if type(value) is dict and all(type(key) is str for key in value):
        items = {key: plain(item, depth + 1) for key, item in value.items()}
        return None if any(item is None for item in items.values()) else {"dict": items}
    return None


_written_datasets: dict = {}   # (root, id) -> (dataset, entry): a dataset is immutable, so it is written once


def _dataset(value, folder: Path, name: str) -> dict:
    """Every (images, labels) batch as arrays, with the element structure described; a dataset
    already written for an earlier cell is pointed to, not written again."""
    key = (str(folder.parent), id(value))   # one capture root per kernel; tests use several
    known = _written_datasets.get(key)
    if known is not None and known[0] is value:   # its file may have moved to the grader's store
        return known[1]
    entry = _dataset_entry(value, folder, name)
    if "file" in entry:
        _written_datasets[key] = (value, entry)
    return entry


def _dataset_entry(value, folder: Path, name: str) -> dict:
    spec = value.element_spec
    entry = {"kind": "dataset", "spec": repr(spec)}
    pair = (isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(s, tf.TensorSpec) for s in spec))
    if not pair:
        entry["structure"] = "other"
        return entry
    entry.update(structure="pair", ranks=[s.shape.rank for s in spec],
                 shapes=[[d for d in s.shape.as_list()] for s in spec], dtypes=[s.dtype.name for s in spec])
    kept = _one_pass(value, MAX_IMAGES)   # the pass the checks make too: the next epoch stays fit's
    if kept is None:
        entry["structure"] = "too large"
        return entry
    images, labels = [], []
    for batch_images, batch_labels in kept:
        images.append(batch_images)
        labels.append(batch_labels)
    arrays = {f"images_{i}": a for i, a in enumerate(images)} | {f"labels_{i}": a for i, a in enumerate(labels)}
    np.savez(folder / f"{name}.npz", **arrays)
    entry.update(file=f"{folder.name}/{name}.npz", batches=len(images))
    return entry


def _model(value, folder: Path, name: str) -> dict:
    """The model as a Keras file, and the records of its latest fit (checks compare with them).
    Saved by Keras's own function, inside `as_built.hidden` (see capture)."""
    as_built.save(value, folder / f"{name}.keras")
    own = as_built.instance_dict(value)
    entry = {"kind": "model", "file": f"{folder.name}/{name}.keras",
             "compiled": own.get("compiled") is True, "class": _type_name(value)}
    latest = own.get("history")
    if _is(latest, _HISTORY):
        try:
            entry["history"] = _history(latest)
        except ValueError:
            pass   # records that are not plain data: the model is handed over without them
    return entry


def _history(value) -> dict:
    records, epochs, params = as_built.history_parts(value)
    return {"kind": "history", "history": plain(records), "epoch": epochs,
            "params": plain(params) or {"dict": {}}}


def _file_named(value, folder: Path, name: str) -> dict | None:
    """Besides a str or path value: a copy of the regular file it names (the diagram, for instance)."""
    try:
        path = Path(os.fspath(value))
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        target = folder / f"{name}.files" / path.name   # the file's own name, for messages
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
        return {"file": f"{folder.name}/{name}.files/{path.name}"}
    except (OSError, TypeError, ValueError):
        return None


def describe(value, folder: Path, name: str) -> dict:
    """The entry for one value; files it needs are written into `folder`. Kinds go by the value's
    real type (`isinstance` would ask the object's own `__class__`)."""
    if _is(value, _ModuleType):
        name_and_version = [as_built.instance_dict(value).get(key) for key in ("__name__", "__version__")]
        name, version = [text if type(text) is str else "" for text in name_and_version]
        return {"kind": "module", "name": name, "version": version}
    data = plain(value)
    if data is not None:
        entry = {"kind": "plain", "data": data}
        if type(value) is str and len(value) < 4096:
            entry.update(_file_named(value, folder, name) or {})
        return entry
    if _is(value, PurePath):
        return {"kind": "path", "path": os.fspath(value), **(_file_named(value, folder, name) or {})}
    if _is(value, _MODEL):
        return _model(value, folder, name)
    if _is(value, _HISTORY):
        return _history(value)
    if _is(value, _DATASET):
        return _dataset(value, folder, name)
    if _is(value, _FIGURE):
        return _figure(value, folder, name)
    return {"kind": "other", "type": _type_name(value)}


def _relations(names, namespace) -> dict:
    """Which captured model holds which other captured model (its index among the sublayers), and
    which captured History belongs to which captured model: identities the checks test."""
    models = {n: namespace[n] for n in names if as_built.claims(namespace.get(n), _MODEL)}   # measured ones too
    inside, owners = {}, {}
    for outer, model in models.items():
        layers = sublayers(model)
        for inner, other in models.items():
            index = next((i for i, layer in enumerate(layers) if layer is other), None)
            if inner != outer and index is not None:
                inside.setdefault(inner, [outer, index])
    for name in names:
        value = namespace.get(name)
        if _is(value, _HISTORY):
            for outer, model in models.items():
                if as_built.instance_dict(value).get("_model") is model:
                    owners[name] = {"model": outer, "latest": as_built.instance_dict(model).get("history") is value}
    return {"inside": inside, "history_of": owners}


def _needs_code(value, strange: list) -> bool:
    """A model the grader cannot load without the notebook's code: it holds a class the notebook
    defined, a Lambda layer, or it was compiled with a loss function the notebook wrote."""
    loss = as_built.instance_dict(value).get("loss")
    own_loss = type(loss) is types.FunctionType and not str(getattr(loss, "__module__", "")).startswith(
        ("keras", "tensorflow"))
    return bool(strange) or own_loss or any(_is(layer, as_built.LAMBDA) for layer in sublayers(value))


def _examined(names, namespace, measuring: bool) -> tuple[dict, list, list]:
    """(name -> why it is not handed over, instance dicts to guard while the values are written,
    models to measure here instead): what saving a model or History reaches must be made of classes
    that existed before the notebook ran; a dataset's pipeline is guarded too."""
    refused, guarded, measured = {}, [], []
    for name in names:
        value = namespace.get(name)
        if as_built.claims(value, _MODEL) or as_built.claims(value, _HISTORY):
            model = as_built.claims(value, _MODEL)
            # a History is handed over as its records alone (plain data, checked as such), whatever
            # class its model is of; a model of the notebook's classes is measured where there is a way
            dicts, strange = as_built.reach([value], strict=model or not measuring)
            if measuring and model and _needs_code(value, strange):
                measured.append(name)
                continue
            if strange:
                refused[name] = "ValueError: it holds " + ", ".join(sorted(set(strange))[:3])
            guarded.extend(dicts)
        elif _is(value, _DATASET):
            guarded.extend(as_built.reach([value], as_built.DATASET_ROOMS, strict=False)[0])
    return refused, guarded, measured


def _measured(measure, value, names, namespace, folder: Path, name: str) -> dict:
    """The entry of a model measured in the kernel (checks.measure), with its latest fit's records."""
    entry = measure(value, {n: namespace[n] for n in names if n in namespace and n != name}, folder, name)
    latest = as_built.instance_dict(value).get("history")
    if _is(latest, _HISTORY):
        try:
            entry["history"] = _history(latest)
        except ValueError:
            pass
    return entry


_measure = None   # checks.measure.measure, as it was when the grader bound it (use_measure)


def use_measure(function) -> None:
    """Bind how a model that needs the notebook's code is handed over (checks.measure.measure; the
    grader calls this before the notebook's first cell, so later patches of the kit do not reach it)."""
    global _measure
    _measure = function


def capture(grade_id: str, names, namespace: dict, root: str = FOLDER, measure=None) -> None:
    """Write `names` from `namespace` into root/grade_id/ (values.json last, so it marks completion).
    Every "file" in an entry is relative to `root`. While they are written, no instance of what they
    reach has a method of its own (`as_built.hidden`); the instances are as they were afterwards.
    `measure`: how to hand over a model that needs the notebook's code (default: the one bound by
    use_measure; none: such a model is not handed over)."""
    measure = measure or _measure
    folder = Path(root) / grade_id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    values = {}
    refused, guarded, measured = _examined([n for n in names if n in namespace], namespace, measure is not None)
    for name in measured:   # first, and unguarded: measuring runs the notebook's own code
        try:
            values[name] = _measured(measure, namespace[name], names, namespace, folder, name)
        except Exception as error:
            values[name] = {"kind": "unreadable", "type": _type_name(namespace[name]),
                            "error": f"{_type_name(error)}: {str(error)[:300]}"}
    with as_built.hidden(guarded):
        for name in names:
            if name in measured:
                continue
            if name not in namespace:
                values[name] = {"kind": "missing"}
                continue
            if name in refused:
                values[name] = {"kind": "unreadable", "type": _type_name(namespace[name]), "error": refused[name]}
                continue
            try:
                values[name] = describe(namespace[name], folder, name)
            except Exception as error:  # recorded; the judge says what could not be handed over
                values[name] = {"kind": "unreadable", "type": _type_name(namespace[name]),
                                "error": f"{_type_name(error)}: {str(error)[:300]}",
                                "trace": traceback.format_exc(limit=3)[-1000:]}
        try:
            relations = _relations(names, namespace)
        except Exception:
            relations = {}
    (folder / "values.json").write_text(_dumps({"grade_id": grade_id, "values": values,
                                                "relations": relations}))
