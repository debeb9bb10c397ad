"""Judge side: a model the kernel measured (checks.measure), rebuilt as the checks' view of it.

The record and arrays are the kernel's; what the saved files say about the base is read here, as
plain arrays (plain_weights), and added as evidence that no student code could shape: the hand-in
file, and every `base_model` the kernel handed over as a Keras file."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.checks.measured import Measured
from autograder.judging import plain_weights

BASE_NAME = "base_model"
_moved: dict = {}   # (lab folder, capture root) -> what the saved files show of the base, once per judge


def _saved_bases(capture_root: Path | None, inside) -> list[Path]:
    """The Keras files of `base_model` in every capture (the base as each grade cell found it)."""
    found = []
    for record in sorted(capture_root.glob("*/values.json")) if capture_root is not None else ():
        try:
            entry = json.loads(record.read_text())["values"].get(BASE_NAME) or {}
            if entry.get("kind") == "model":
                found.append(inside(capture_root, entry["file"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return found


def base_moved(reference, inside) -> list[str]:
    """What of the shipped base the saved files do not hold unchanged ([] if they all do)."""
    from autograder.checks import lab

    key = (str(reference.lab_folder), str(reference.capture_root))
    if key not in _moved:
        settings = lab.load(5, reference.lab_folder)
        files = [settings.saved_model_file, *_saved_bases(reference.capture_root, inside)]
        _moved[key] = next((moved for path in files if (moved := plain_weights.missing_from(
            path, settings.base_model_file, reference.max_params))), [])
    return _moved[key]


def rebuild(root: Path, entry: dict, reference, inside) -> Measured:
    """The Measured view of one entry: its record, its arrays (no pickles), the saved files' evidence.
    `inside`: the judge's path check (a file outside the capture is refused)."""
    import numpy as np

    with np.load(inside(root, entry["file"]), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    record = json.loads(json.dumps(entry))   # plain data only, as the judge read it
    return Measured(record, arrays, base_moved(reference, inside) if reference is not None else [])
