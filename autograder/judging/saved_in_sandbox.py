"""Grader side: a saved model that needs the notebook's own code is measured in a sandbox, and
judged here.

The sandbox (sandbox.one_shot running checks.saved_measure) gets the model file, the notebook's
definitions and images without their labels, and returns outputs as a plain array. The grader
scores them against labels the sandbox never saw, and reads the base's weights from the file as
plain arrays (plain_weights): a forged output cannot know the hidden labels, and no student code
touches the base's verdict."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from autograder.checks import saved_measure
from autograder.judging import plain_weights

MAX_OUTPUT_BYTES = 64 * 2**20


class MeasureFailed(RuntimeError):
    """The model could not be loaded or run in the sandbox (the student's code failed, or no sandbox)."""


def outputs(model_path: Path, code: str, images, settings, timeout: float):
    """The model's outputs on `images`, measured in the sandbox with the notebook's definitions `code`."""
    import numpy as np

    from autograder.sandbox import bounds, one_shot

    folder = Path(tempfile.mkdtemp(prefix="labkit-measure-"))
    try:
        shutil.copyfile(model_path, folder / saved_measure.MODEL)
        (folder / saved_measure.DEFINITIONS).write_text(code)
        np.savez(folder / saved_measure.IMAGES, images=np.asarray(images, dtype="float32"))
        try:
            run = one_shot.run("autograder.checks.saved_measure", [], folder, timeout=timeout,
                               limit_mb=settings.grader_memory_limit_mb)
        except subprocess.TimeoutExpired:
            raise MeasureFailed(f"measuring the model with the notebook's code took more than {timeout:g} s") from None
        except bounds.OverLimit as over:
            raise MeasureFailed(f"measuring the model with the notebook's code {over}") from None
        except OSError as error:   # no bubblewrap: the student's code is never run unsandboxed
            raise MeasureFailed(f"no sandbox to run the notebook's code in ({error})") from None
        found = folder / saved_measure.OUTPUTS
        if run.returncode != 0 or found.is_symlink() or not found.is_file():
            raise MeasureFailed(f"the model did not load or run with the notebook's code ({_why(run.stderr)})")
        if found.stat().st_size > MAX_OUTPUT_BYTES:
            raise MeasureFailed("the measured outputs are larger than the grader reads")
        with np.load(found, allow_pickle=False) as data:
            return np.asarray(data["outputs"], dtype="float32")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _why(stderr: str) -> str:
    """The measuring process's own line about its failure, else the last thing it printed."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()] or ["no output"]
    marked = [line[len(saved_measure.MARK):] for line in lines if line.startswith(saved_measure.MARK)]
    return (marked[-1] if marked else lines[-1])[:300]


def base_unchanged(model_path: Path, settings) -> bool:
    """Every array of the reference base is in the saved file, unchanged (read as plain arrays)."""
    return not plain_weights.missing_from(Path(model_path), settings.reference_base, settings.max_model_params)
