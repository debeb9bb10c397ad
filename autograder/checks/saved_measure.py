"""Sandbox side: load a saved model that needs the notebook's own code, and predict given images.

    python -m autograder.checks.saved_measure      (in a folder holding model.keras, definitions.py
                                                     and images.npz; writes outputs.npz)

Run only inside the sandbox (autograder.sandbox.one_shot), never in the grader's process: it runs
the notebook's imports, classes and functions, and loads the model with Keras's safe mode off. It
gets images without labels and returns the model's outputs as plain arrays; the grader scores them."""
from __future__ import annotations

import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODEL, DEFINITIONS, IMAGES, OUTPUTS = "model.keras", "definitions.py", "images.npz", "outputs.npz"
BATCH = 64
MARK = "labkit-measure: "   # the line of stderr that says why it failed


def definitions(text: str) -> dict:
    """The notebook's definitions, run one statement at a time (one that fails is skipped, as a
    cell that failed would have left the rest of the notebook's names)."""
    import ast

    namespace: dict = {"__name__": "__main__"}
    for statement in ast.parse(text).body:
        try:
            exec(compile(ast.Module([statement], []), DEFINITIONS, "exec"), namespace)  # noqa: S102
        except Exception:
            continue
    return namespace


def main() -> int:
    import keras
    import numpy as np

    try:
        with open(DEFINITIONS) as handle:
            namespace = definitions(handle.read())
        custom = {name: value for name, value in namespace.items() if isinstance(value, type) or callable(value)}
        model = keras.saving.load_model(MODEL, custom_objects=custom, compile=False, safe_mode=False)
        with np.load(IMAGES, allow_pickle=False) as data:
            images = data["images"]
        outputs = [np.asarray(model(images[start:start + BATCH], training=False), dtype="float32")
                   for start in range(0, len(images), BATCH)]
        np.savez(OUTPUTS, outputs=np.concatenate(outputs) if outputs else np.zeros((0, 0), "float32"))
    except Exception as error:
        traceback.print_exc(limit=2)
        print(MARK + f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:400],
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
