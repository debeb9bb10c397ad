"""Out-of-kernel verification of a saved model: accuracy on the hidden test split, and the base's
weights compared exactly with the pretrained reference.

    python -m autograder.judging.saved_model MODEL_PATH [--json] [--config COURSE_CONFIG]

Run in a fresh Python process (see `autograder.checks.verifier`), so nothing in a student's kernel can
change the outcome. Exit status 0 when the model passes, 1 when it does not.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder.checks.verifier import not_verified
from autograder.judging import definitions
from autograder.course.records import VerifyResult

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class VerifyError(Exception):
    """The saved model cannot be verified (missing, corrupt, wrong shape ...)."""


class NeedsCode(VerifyError):
    """Keras cannot load the file in safe mode: it may need the notebook's own classes or functions."""


def _manifest(settings) -> dict:
    from autograder.data.layout import read_manifest

    return read_manifest(settings) or {}


def hidden_class_names(settings, manifest: dict | None = None) -> list[str]:
    """The hidden split's class folders, checked against the manifest's class names when it has them."""
    manifest = manifest or {}
    hidden = settings.hidden_test_dir
    if not hidden.is_dir():
        raise VerifyError(f"hidden test split not found at {hidden}; run `labkit prepare` on the grader")
    folders = sorted(p.name for p in hidden.iterdir() if p.is_dir())
    expected = manifest.get("class_names")
    if expected and folders != expected:
        raise VerifyError(f"hidden test split has classes {folders}, the manifest says {expected}; "
                          "run `labkit prepare` again")
    return folders


def _load_model(path: Path, max_params: int):
    if not path.is_file():  # before importing Keras, so that this failure is quick
        raise VerifyError(f"no saved model at {path}")
    from autograder.checks import model_size

    try:
        model_size.check(path, max_params)   # before Keras builds anything the file asks for
    except model_size.Refused as refusal:
        raise VerifyError(f"the saved model at {path.name} cannot be loaded ({refusal})") from None
    import keras

    try:
        model = keras.models.load_model(path, compile=False)  # safe_mode: no arbitrary code runs
    except Exception as error:
        raise NeedsCode(f"the saved model at {path.name} cannot be loaded "
                          f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})") from None
    if not isinstance(model, keras.Model):
        raise VerifyError(f"{path.name} holds a {type(model).__name__}, not a keras Model")
    return model


def hidden_split(settings, class_names):
    """The hidden split's (images, labels) batches, in a fixed order with the students' image settings."""
    import keras

    return keras.utils.image_dataset_from_directory(
        settings.hidden_test_dir, labels="inferred", label_mode="int", class_names=class_names,
        color_mode="grayscale" if settings.channels == 1 else "rgb", image_size=settings.image_size,
        batch_size=64, shuffle=False, verbose=False)


def scored(outputs, labels, class_names) -> float:
    """The accuracy of `outputs` (one row of class scores per image) against `labels`."""
    import numpy as np

    outputs = np.asarray(outputs)
    if outputs.ndim != 2 or outputs.shape[1] != len(class_names):
        raise VerifyError(f"the model outputs shape {outputs.shape[1:]} per image; expected "
                          f"{len(class_names)} class scores")
    if not len(labels):
        raise VerifyError("the hidden test split holds no images")
    return float(np.mean(np.asarray(labels) == outputs.argmax(axis=1)))


def hidden_accuracy(model, settings, class_names) -> float:
    """Accuracy on the hidden split."""
    import numpy as np

    truth, outputs = [], []
    for images, labels in hidden_split(settings, class_names):
        outputs.append(np.asarray(model(images, training=False)))
        truth.append(np.asarray(labels))
    if not truth:
        raise VerifyError(f"the hidden test split at {settings.hidden_test_dir} holds no images")
    return scored(np.concatenate(outputs), np.concatenate(truth), class_names)


def with_notebook_code(path: Path, code: str, settings, class_names) -> tuple[float, bool]:
    """(accuracy, base unchanged) of a model that needs the notebook's code: its outputs on the
    hidden images are measured in the sandbox, without the labels, and scored here; the base is
    read from the file as plain arrays."""
    import numpy as np

    from autograder.judging import saved_in_sandbox

    batches = list(hidden_split(settings, class_names))
    if not batches:
        raise VerifyError(f"the hidden test split at {settings.hidden_test_dir} holds no images")
    images = np.concatenate([np.asarray(images) for images, _ in batches])
    labels = np.concatenate([np.asarray(labels) for _, labels in batches])
    try:
        outputs = saved_in_sandbox.outputs(path, code, images, settings,
                                           timeout=max(30.0, 0.8 * max(60, settings.cell_timeout)))
    except saved_in_sandbox.MeasureFailed as failure:
        raise VerifyError(f"the saved model at {path.name} cannot be loaded ({failure})") from None
    if len(outputs) != len(labels):
        raise VerifyError(f"the model gave {len(outputs)} outputs for {len(labels)} images")
    return scored(outputs, labels, class_names), saved_in_sandbox.base_unchanged(path, settings)


def _nested_models(layer) -> list:
    found = []
    for child in getattr(layer, "layers", None) or []:
        found.append(child)
        found.extend(_nested_models(child))
    return found


def base_matches_reference(model, settings, manifest) -> bool:
    """True when a part of `model` has exactly the reference base's weights (BatchNorm stats included).

    The part is a nested layer with the reference's weight shapes (the usual `base(inputs)` call);
    if there is none, every reference weight array must appear among the model's weights."""
    import numpy as np

    from autograder.data.bases import load_base, weight_arrays, weights_checksum

    if not settings.reference_base.is_file():
        raise VerifyError(f"reference base not found at {settings.reference_base}; run `labkit prepare`")
    reference = load_base(settings.reference_base)
    expected_sha = manifest.get("base_weights_sha256") or weights_checksum(reference)
    shapes = [w.shape for w in weight_arrays(reference)]
    candidates = [layer for layer in _nested_models(model)
                  if [tuple(w.shape) for w in layer.weights] == [tuple(s) for s in shapes]]
    if candidates:
        return any(weights_checksum(layer) == expected_sha for layer in candidates)
    remaining = list(weight_arrays(model))
    for array in weight_arrays(reference):
        match = next((i for i, mine in enumerate(remaining)
                      if mine.shape == array.shape and np.array_equal(mine, array)), None)
        if match is None:
            return False
        remaining.pop(match)
    return True


def verify(model_path, settings=None) -> VerifyResult:
    """Verify a saved model in this process; never raises for a bad model file."""
    from autograder.course import config

    settings = settings or config.load()
    threshold = settings.accuracy_threshold
    classes: list[str] = []
    try:
        manifest = _manifest(settings)
        classes = hidden_class_names(settings, manifest)
        try:
            model = _load_model(Path(model_path), settings.max_model_params)
            accuracy = hidden_accuracy(model, settings, classes)
            matches = base_matches_reference(model, settings, manifest)
        except NeedsCode:   # measured in a sandbox with the notebook's own definitions, if there are any
            code = definitions.beside(Path(model_path))
            if code is None:
                raise
            accuracy, matches = with_notebook_code(Path(model_path), code, settings, classes)
    except VerifyError as error:
        return VerifyResult(False, None, threshold, None, classes, str(error))
    except Exception as error:  # a model that loads but breaks on prediction, for example
        return VerifyResult(False, None, threshold, None, classes,
                            f"verification failed: {type(error).__name__}: {str(error)[:300]}")
    return VerifyResult(accuracy >= threshold and matches, accuracy, threshold, matches, classes, None)


class ForkedVerifier:
    """A verification process forked in advance (see autograder.judging.forked), which verifies one saved
    model when asked; answers like `verify_in_subprocess`."""

    def __init__(self):
        from autograder.judging.forked import ForkedCall

        self._call = ForkedCall("labkit-verifier")

    def verify(self, path, settings, timeout: float = 300) -> VerifyResult:
        from autograder.judging.forked import MemoryExceeded, ProcessFailed

        try:
            answer = self._call.call("autograder.judging.saved_model:verify_to_dict", str(Path(path).resolve()), settings,
                                     timeout=timeout, memory_mb=settings.grader_memory_limit_mb)
        except MemoryExceeded as failure:   # the student's model: "verification process used more than ..."
            return not_verified(settings, f"verification process {failure}")
        except ProcessFailed as failure:  # "verification process timed out ..." / "... ended with status ..."
            return not_verified(settings, f"verification process {failure}")
        return VerifyResult.from_dict(answer)

    def close(self) -> None:
        self._call.close()


def verify_to_dict(model_path, settings) -> dict:
    return verify(model_path, settings).to_dict()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.judging.saved_model", description=__doc__.splitlines()[0])
    parser.add_argument("model_path", help="the saved .keras model")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--config", help="course_config.py to use (default: $LABKIT_CONFIG or the kit's)")
    args = parser.parse_args(argv)
    from autograder.course import config
    from autograder.sandbox import library_pages

    library_pages.install()   # TensorFlow, when it is imported, without its start-up's pages

    try:
        settings = config.load(args.config)
    except config.ConfigError as error:
        result = VerifyResult(False, None, float("nan"), None, [], f"configuration: {error}")
    else:
        result = verify(args.model_path, settings)
    if args.json:
        print(json.dumps(result.to_dict()), flush=True)
    elif result.ok:
        print(f"ok: accuracy {result.accuracy:.4f} >= {result.threshold}, base equals the reference")
    else:
        detail = result.error or (f"accuracy {result.accuracy:.4f} (threshold {result.threshold}), "
                                  f"base equals the reference: {result.base_matches_reference}")
        print(f"not ok: {detail}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
