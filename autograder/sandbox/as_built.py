"""Kernel side: a value handed over as the notebook built it, never as its own methods describe it.

A student's object can override what it owns: a method set on the instance (`save`, `get_config`,
a variable's `numpy` or `__array__`), or, on a class the notebook defined, a property or
`__class__`. So the hand-over
- knows a value by its real type (`type(value)` and that type's MRO), never by `isinstance`, which
  asks the object's `__class__`;
- accepts only classes that existed before the notebook's first cell (Keras's, TensorFlow's, ...):
  a model that holds an object of a class the notebook defined is not saved (the kernel measures
  it instead, checks.measure);
- saves with `keras.saving.save_model` as bound here, never with the model's own `save`, and while
  it saves, hides every entry of an instance's `__dict__` that shadows a method of its type, on the
  model and on everything the save reaches (layers, variables, optimizer, ...). They are put back
  afterwards, in their order, so the notebook's objects end as they were.

The grader imports this module (through `capture`) before the notebook's first cell, so the
classes and functions bound here are the libraries' own. A notebook that rewrites Keras's classes
or modules themselves, or the kit's modules in its kernel, is beyond what this module can see."""
from __future__ import annotations

import contextlib
import os
import types
from builtins import (  # noqa: A004
    any, bool, bytes, callable, complex, dict, float, frozenset, getattr, hasattr, id, int, len, list, set, str,
    tuple, type, ValueError,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as the notebook's first cell: TensorFlow's notices off stderr

import keras  # noqa: E402
import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.trackable import data_structures  # noqa: E402

MODEL, HISTORY, LAMBDA = keras.Model, keras.callbacks.History, keras.layers.Lambda
DATASET, FIGURE, VARIABLE = tf.data.Dataset, matplotlib.figure.Figure, tf.Variable
_save_model = keras.saving.save_model
_mro = type.__dict__["__mro__"].__get__
_namespace = type.__dict__["__dict__"].__get__        # a class's own attributes, past its metaclass
_module_of = type.__dict__["__module__"].__get__
_name_of = type.__dict__["__name__"].__get__         # the class's own name, whatever its metaclass says
_subclasses = type.__dict__["__subclasses__"]
_instance = object.__getattribute__
_get, _pop, _clear, _update, _items = dict.get, dict.pop, dict.clear, dict.update, dict.items
_proxy_items = types.MappingProxyType.items
_FunctionType = types.FunctionType
_CONTAINERS = (list, tuple, set, frozenset)
_MAPPINGS = (dict, getattr(data_structures, "_DictWrapper", dict))
_SCALARS = (type(None), bool, int, float, complex, str, bytes)
MODEL_ROOMS = ("keras.", "tensorflow.python.trackable.")   # what a model's save reaches
DATASET_ROOMS = ("tensorflow.python.data.",)
MAX_OBJECTS = 2_000_000
# where a layer was called in other models' graphs: a save writes none of it (a base used by a model
# with a layer of the notebook's own is still saved as it is)
GRAPH_LINKS = ("_inbound_nodes", "_outbound_nodes")


def _all_classes() -> dict:
    found, pending = {id(object): object}, [object]
    while pending:
        for sub in _subclasses(pending.pop()):
            if id(sub) not in found:
                found[id(sub)] = sub
                pending.append(sub)
    return found


_KNOWN = _all_classes()   # id -> class, for every class there is before the notebook's first cell


def known(cls) -> bool:
    """Whether `cls` existed when this module was imported (a library's class, not the notebook's)."""
    return _get(_KNOWN, id(cls)) is cls


def is_a(value, cls) -> bool:
    """`value`'s real type is `cls` or a subclass of it that existed before the notebook ran."""
    kind = type(value)
    return known(kind) and among(cls, _mro(kind))


def claims(value, cls) -> bool:
    """`value`'s real type derives from `cls`, whoever defined it."""
    return among(cls, _mro(type(value)))


def among(cls, classes) -> bool:
    """`cls` is one of `classes`, by identity (`in` would call `==`, which a metaclass can define)."""
    return any(cls is other for other in classes)


def type_name(value) -> str:
    return _name_of(type(value))


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:   # an empty cell
        return None


def instance_dict(value) -> dict:
    """The object's own `__dict__` if it is a plain dict, else {}."""
    try:
        found = _instance(value, "__dict__")
    except AttributeError:
        return {}
    return found if type(found) is dict else {}


def _graph_link(key) -> bool:
    return type(key) is str and key in GRAPH_LINKS


def _children(value, kind, mro, rooms, dicts: list, strange: list) -> list:
    """What the walk goes on to from one object of a known class."""
    if kind is _FunctionType:   # a Lambda layer's function: saving writes its defaults and closure
        return [*(value.__defaults__ or ()), *(value.__kwdefaults__ or {}).values(),
                *[_cell(cell) for cell in value.__closure__ or ()]]
    if any(among(m, mro) for m in _MAPPINGS):
        return [part for key in value if not _graph_link(key) for part in (key, value[key])]   # its own iteration
    if any(among(c, mro) for c in _CONTAINERS):
        return list(value)
    module = _module_of(kind)
    if not ((type(module) is str and module.startswith(rooms)) or among(VARIABLE, mro)):
        return []
    try:
        own = _instance(value, "__dict__")
    except AttributeError:
        return []
    if type(own) is not dict:
        strange.append(f"a __dict__ of class {_name_of(type(own))}")
        return []
    dicts.append((own, kind))
    return [part for key, part in _items(own) if not _graph_link(key)]


def reach(roots, rooms=MODEL_ROOMS, strict: bool = True) -> tuple[list, list]:
    """(instance dicts to guard, classes the notebook defined) of what a save reaches from `roots`:
    objects of library classes in `rooms` (and variables), through their `__dict__` and containers.
    A class that is not known is named (when `strict`) and not gone into."""
    dicts, strange, seen, pending = [], [], set(), list(roots)
    while pending:
        value = pending.pop()
        kind = type(value)
        if among(kind, _SCALARS) or id(value) in seen:
            continue
        seen.add(id(value))
        if len(seen) > MAX_OBJECTS:
            return dicts, strange + [f"more than {MAX_OBJECTS} objects"]
        if not known(kind):
            if strict:
                strange.append(f"class {_name_of(kind)} defined in the notebook")
            continue
        pending.extend(_children(value, kind, _mro(kind), rooms, dicts, strange))
    return dicts, strange


def _methods(kind, cache: dict) -> set:
    """Names that the type, or a class in its MRO, binds to a method or other descriptor."""
    names = _get(cache, id(kind))
    if names is None:
        names = {key for cls in _mro(kind) for key, attribute in _proxy_items(_namespace(cls))
                 if callable(attribute) or hasattr(type(attribute), "__get__")}
        cache[id(kind)] = names
    return names


def _restore(own: dict, order: list, taken: dict) -> None:
    """Put the hidden entries back where they were, keeping what the save itself set."""
    now, merged = dict(own), {}
    for key in order:
        if key in taken:
            merged[key] = taken[key]
            _pop(now, key, None)
        elif key in now:
            merged[key] = _pop(now, key)
    _update(merged, now)
    _clear(own)
    _update(own, merged)


@contextlib.contextmanager
def hidden(dicts):
    """For the block: no entry of these instance dicts shadows a method of the instance's type."""
    moved, cache, done = [], {}, set()
    try:
        for own, kind in dicts:
            if id(own) in done:
                continue
            done.add(id(own))
            names = [key for key in own if type(key) is str and key in _methods(kind, cache)]
            if names:
                taken = {}
                moved.append((own, list(own), taken))
                for key in names:
                    taken[key] = _pop(own, key)
        yield
    finally:
        for own, order, taken in moved[::-1]:
            _restore(own, order, taken)


def save(model, path) -> None:
    """The model as a Keras file, through Keras's own saving function (call it inside `hidden`)."""
    _save_model(model, path)


def history_parts(value) -> tuple:
    """(records, epochs, params) of a History, read from its own `__dict__`, never through
    attributes; ValueError unless they are plain data."""
    own = instance_dict(value)
    records, epochs, params = _get(own, "history", {}), _get(own, "epoch", []), _get(own, "params", {})
    if type(records) is not dict or type(epochs) is not list or type(params) is not dict:
        raise ValueError("a History whose records are not plain data")
    table = {}
    for key, column in _items(records):
        if type(key) is not str or type(column) is not list:
            raise ValueError("a History whose records are not plain data")
        for number in column:
            if not (among(type(number), (float, int)) or (known(type(number)) and _numpy_number(number))):
                raise ValueError(f"a History record of class {type_name(number)}")
        table[key] = [float(number) for number in column]
    if any(type(epoch) is not int for epoch in epochs):
        raise ValueError("a History whose epochs are not plain integers")
    return table, list(epochs), params


def _numpy_number(value) -> bool:
    return claims(value, np.floating) or claims(value, np.integer)
