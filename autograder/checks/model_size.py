"""The size a saved Keras model asks for, read from its .keras file before anything is built.

A .keras file is a zip of `config.json` (the architecture) and the weights (`model.weights.h5` or
`.npz`). Keras builds every layer the configuration describes before it reads a single weight, so a
file of a few kilobytes can ask the grader for gigabytes. Here the archive is read with zipfile and
json only (and the weights file's dataset shapes with h5py, which reads no data): the members'
declared sizes, the parameters of the layers whose size their configuration gives, and the size of
the inputs are held against the course's limit (MAX_MODEL_PARAMS) before Keras sees the file.
Layers of other types count nothing here; the grader's memory limit (GRADER_MEMORY_LIMIT_MB) is
what holds them. The judge's rebuild, the verifier, the facts process and the hand-in check (which
the judge also runs) all call `check` first."""
from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.course.settings import DEFAULT_MAX_MODEL_PARAMS as DEFAULT_MAX_PARAMS

BYTES_PER_PARAM = 16              # float32 weights plus two optimizer slots for each (Adam), with room
MAX_CONFIG_BYTES = 16 * 2**20     # the flowers model's configuration is a few hundred kB
MAX_MEMBERS = 10_000
WEIGHTS = ("model.weights.h5", "model.weights.npz")
MODELS = ("Functional", "Sequential", "Model")


class Refused(ValueError):
    """The model file is not sized before building: not a .keras archive, or too large."""


class Unreadable(Refused):
    """Not a .keras archive, or one whose config.json cannot be read (Keras would fail on it too)."""


class TooLarge(Refused):
    """The model file asks for more than the course allows, or its size cannot be told."""


@dataclass(frozen=True)
class Size:
    params: int          # of the layers whose size the configuration gives
    input_values: int    # values per example in the largest input
    weight_bytes: int    # the weights file's datasets (or its declared size)


def _whole(value) -> int:
    """A configured count (units, filters ...): a whole number, else 0 (Keras refuses it anyway)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, int(value))


def _is_shape(shape) -> bool:
    return isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape)


def _input_shape(layer: dict):
    """The input shape the layer is built for (its build_config), or None."""
    build = layer.get("build_config")
    if not isinstance(build, dict):
        return None
    shape = build.get("input_shape")
    if shape is None and isinstance(build.get("shapes_dict"), dict):
        shape = next(iter(build["shapes_dict"].values()), None)
    return shape if _is_shape(shape) else None


def _axis_size(shape, axis) -> int | None:
    """The product of the shape's dimensions on `axis` (an int or a list of ints), None if unknown."""
    axes = axis if isinstance(axis, list) else [axis]
    size = 1
    for one in axes:
        if isinstance(one, bool) or not isinstance(one, int) or not -len(shape) <= one < len(shape):
            return None
        if not isinstance(shape[one], int):
            return None
        size *= shape[one]
    return size


def _kernel(config: dict, rank: int) -> int:
    size = config.get("kernel_size", 1)
    sizes = size if isinstance(size, list) else [size] * rank
    return math.prod(_whole(s) for s in sizes)


def _channels(config: dict, shape) -> int | None:
    return _axis_size(shape, 1 if config.get("data_format") == "channels_first" else -1)


def _lora(config: dict, inputs: int, outputs: int) -> int:
    return _whole(config.get("lora_rank") or 0) * (inputs + outputs)


def _rnn(kind: str, config: dict, shape) -> int | None:
    units, inputs = _whole(config.get("units")), _axis_size(shape, -1)
    if inputs is None:
        return None
    bias = bool(config.get("use_bias", True))
    if kind == "LSTM":
        return 4 * (inputs * units + units * units + bias * units)
    if kind == "GRU":
        return 3 * (inputs * units + units * units) + bias * 3 * units * (2 if config.get("reset_after", True) else 1)
    return inputs * units + units * units + bias * units


def _sized_by_input(kind: str, config: dict, shape) -> int | None:
    """Parameters of a layer whose size depends on its input shape; None when the shape is unknown."""
    if kind.startswith("Bidirectional"):
        inner = config.get("layer") if isinstance(config.get("layer"), dict) else {}
        one = _sized_by_input(str(inner.get("class_name", "")), inner.get("config") or {}, shape)
        return None if one is None else 2 * one
    if kind in ("LSTM", "GRU", "SimpleRNN"):
        return _rnn(kind, config, shape)
    if kind == "Dense":
        inputs, units = _axis_size(shape, -1), _whole(config.get("units"))
        if inputs is None:
            return None
        return inputs * units + units * bool(config.get("use_bias", True)) + _lora(config, inputs, units)
    if kind in ("BatchNormalization", "LayerNormalization"):
        size = _axis_size(shape, config.get("axis", -1))
        if size is None:
            return None
        per = bool(config.get("center", True)) + bool(config.get("scale", True))
        return size * (per + 2 * (kind == "BatchNormalization"))
    channels = _channels(config, shape)
    rank = next((int(c) for c in kind if c in "123"), 2)
    if channels is None:
        return None
    bias = bool(config.get("use_bias", True))
    if kind.startswith("DepthwiseConv"):
        multiplier = _whole(config.get("depth_multiplier", 1))
        return _kernel(config, rank) * channels * multiplier + bias * channels * multiplier
    filters = _whole(config.get("filters"))
    if kind.startswith("SeparableConv"):
        multiplier = _whole(config.get("depth_multiplier", 1))
        return _kernel(config, rank) * channels * multiplier + channels * multiplier * filters + bias * filters
    groups = max(1, _whole(config.get("groups", 1)))
    return _kernel(config, rank) * (channels // groups) * filters + bias * filters


SIZED_BY_INPUT = ("Dense", "BatchNormalization", "LayerNormalization", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
                  *(f"{kind}{rank}D{end}" for kind in ("Conv", "DepthwiseConv", "SeparableConv")
                    for rank in (1, 2, 3) for end in ("", "Transpose")))


def _built(kind: str, config: dict) -> bool:
    """Whether Keras builds this model's layers when it loads it: a functional model always does, a
    Sequential one when it has an input (its layers are then built for the shapes that reach them)."""
    if kind != "Sequential":
        return True
    layers = config.get("layers") or [{}]
    first = layers[0] if isinstance(layers[0], dict) else {}
    return bool(config.get("build_input_shape")) or first.get("class_name") == "InputLayer"


def _walk(layer, found: dict, built: bool) -> None:
    """Add the parameters and input sizes of one layer configuration (and the layers inside it)."""
    if not isinstance(layer, dict):
        return
    kind, config = str(layer.get("class_name", "")), layer.get("config")
    config = config if isinstance(config, dict) else {}
    if kind in MODELS or isinstance(config.get("layers"), list):
        inner_built = _built(kind, config)
        for inner in config.get("layers") or []:
            _walk(inner, found, inner_built)
        return
    if kind == "InputLayer":
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        if _is_shape(shape) and shape:
            found["input_values"] = max(found["input_values"], math.prod(d or 1 for d in shape[1:]))
        return
    if kind == "Embedding":
        rows, width = _whole(config.get("input_dim")), _whole(config.get("output_dim"))
        found["params"] += rows * width + _lora(config, rows, width)
        return
    if kind == "TimeDistributed" and isinstance(config.get("layer"), dict):
        shape = _input_shape(layer)
        inner = dict(config["layer"])
        if shape is not None and len(shape) > 2:
            inner["build_config"] = {"input_shape": [shape[0], *shape[2:]]}
        _walk(inner, found, built)
        return
    if kind not in SIZED_BY_INPUT:
        return   # unknown to this estimate: the memory limit holds it
    shape = _input_shape(layer)
    params = None if shape is None else _sized_by_input(kind, config, shape)
    if params is None and (shape is not None or built):
        raise TooLarge(f"its configuration does not say what input the {kind} layer "
                      f"{str(config.get('name', ''))[:60]!r} is built for, so its size cannot be told")
    found["params"] += params or 0


def estimate(config) -> Size:
    """The parameters and the largest input of a model's configuration (config.json, parsed)."""
    found = {"params": 0, "input_values": 0}
    _walk(config, found, built=True)
    return Size(found["params"], found["input_values"], 0)


def _h5_bytes(handle) -> int:
    """The bytes the weights file's datasets declare (their shapes; no data is read)."""
    import h5py

    total = [0]

    def add(_, item):
        if isinstance(item, h5py.Dataset):
            total[0] += math.prod(item.shape or ()) * item.dtype.itemsize

    with h5py.File(handle, "r") as weights:
        weights.visititems(add)
    return total[0]


def _weight_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """What the weights member unpacks to: its h5 datasets' declared sizes where h5py can read them."""
    declared = info.file_size
    if not info.filename.endswith(".h5"):
        if info.compress_type == zipfile.ZIP_STORED:   # an .npz: the zip inside declares its members
            try:
                with zipfile.ZipFile(archive.open(info)) as inner:
                    declared = max(declared, sum(i.file_size for i in inner.infolist()))
            except (zipfile.BadZipFile, OSError, ValueError):
                pass
        return declared
    try:
        with archive.open(info) as member:   # bounded by the declared size, checked before
            return max(declared, _h5_bytes(io.BytesIO(member.read())))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):  # not HDF5: Keras fails on it too
        return declared


def check(path, max_params: int = DEFAULT_MAX_PARAMS) -> Size:
    """The size of the model in the .keras file at `path`; Unreadable when it is no .keras archive,
    TooLarge when it asks for more than `max_params` parameters (or weights of more than
    BYTES_PER_PARAM bytes per allowed parameter, or an input of more than `max_params` values per
    example)."""
    max_bytes = max_params * BYTES_PER_PARAM
    allowed = f"the course allows at most {max_params:,} (MAX_MODEL_PARAMS)"
    path = Path(path)
    if path.suffix != ".keras" or not path.is_file() or not zipfile.is_zipfile(path):
        raise Unreadable(f"{path.name!r} is not a .keras model file (a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise TooLarge(f"the file holds {len(members):,} members; a model has a few")
            by_name = {info.filename: info for info in members}
            config_info = by_name.get("config.json")
            if config_info is None:
                raise Unreadable("the file has no config.json")
            if config_info.file_size > MAX_CONFIG_BYTES:
                raise TooLarge(f"its config.json declares {config_info.file_size:,} bytes; "
                              f"at most {MAX_CONFIG_BYTES:,} are read")
            unpacked = sum(info.file_size for info in members)
            if unpacked > max_bytes + MAX_CONFIG_BYTES:
                raise TooLarge(f"its members unpack to {unpacked:,} bytes, more than the "
                              f"{max_bytes + MAX_CONFIG_BYTES:,} a model within the limit needs; {allowed}")
            config = json.loads(archive.read(config_info))
            weights = [_weight_bytes(archive, by_name[name]) for name in WEIGHTS if name in by_name]
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, RecursionError, OSError) as error:
        if isinstance(error, Refused):
            raise
        raise Unreadable(f"its archive or config.json cannot be read ({type(error).__name__})") from None
    size = estimate(config)
    size = Size(size.params, size.input_values, max(weights, default=0))
    if size.params > max_params:
        raise TooLarge(f"its configuration asks for about {size.params:,} parameters; {allowed}")
    if size.weight_bytes > max_bytes:
        raise TooLarge(f"its weights file declares {size.weight_bytes:,} bytes of weights, more than the "
                      f"{max_bytes:,} a model within the limit needs; {allowed}")
    if size.input_values > max_params:
        raise TooLarge(f"its input takes {size.input_values:,} values per example; {allowed}")
    return size
