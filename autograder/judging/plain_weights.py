"""The weight arrays of a saved .keras file, read as plain data: zipfile and h5py, no Keras, no code.

What a measured model (checks.measured) reports comes from the student's code; whether its base was
trained is also read here, from the file the notebook saved, where nothing the student wrote runs."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from autograder.checks import model_size

WEIGHTS_FILE = "model.weights.h5"


def arrays(path: Path, max_params: int = model_size.DEFAULT_MAX_PARAMS) -> list:
    """Every dataset of the file's weights, as numpy arrays, in the file's order; sized first
    (model_size.check: a file that asks for more than the course allows is refused)."""
    import h5py

    model_size.check(path, max_params)
    with zipfile.ZipFile(path) as archive:
        data = archive.read(WEIGHTS_FILE)
    found = []
    with h5py.File(io.BytesIO(data), "r") as handle:
        handle.visititems(lambda _, item: found.append(item[()]) if isinstance(item, h5py.Dataset) else None)
    return found


def missing_from(saved: Path, shipped: Path, max_params: int = model_size.DEFAULT_MAX_PARAMS) -> list[str]:
    """What of the shipped base's weights the saved model does not hold exactly ([] when every array
    of the shipped base is among the saved file's, each used once); [] when there is no saved file."""
    import numpy as np

    if not saved.is_file():
        return []
    try:
        remaining = arrays(saved, max_params)
    except (model_size.Refused, OSError, KeyError, ValueError, zipfile.BadZipFile):
        return ["the saved model's weights (unreadable)"]
    lost = 0
    for array in arrays(shipped):
        match = next((i for i, mine in enumerate(remaining)
                      if mine.shape == array.shape and np.array_equal(mine, array)), None)
        if match is None:
            lost += 1
        else:
            remaining.pop(match)
    return [f"{lost} of the pretrained base's weight arrays, changed in {saved.name}"] if lost else []
