"""The student's side of the configuration: lab_settings.json in the current folder."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autograder.checks.result import CheckFailed
from autograder.course.settings import DEFAULT_MAX_MODEL_PARAMS

SETTINGS_FILE = "lab_settings.json"
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what image_dataset_from_directory reads


@dataclass(frozen=True)
class LabSettings:
    """The values of lab_settings.json that the checks use; paths are absolute."""

    folder: Path
    image_size: tuple[int, int]
    channels: int
    color_mode: str
    batch_size: int
    seed: int
    validation_split: float
    epochs: int
    regularized_epochs: int
    train_dir: Path
    base_model_file: Path
    saved_model_file: Path
    max_model_params: int = DEFAULT_MAX_MODEL_PARAMS   # the largest model the grader builds

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    @classmethod
    def from_dict(cls, values: dict, folder: Path) -> "LabSettings":
        return cls(
            folder=folder,
            image_size=(int(values["image_size"][0]), int(values["image_size"][1])),
            channels=int(values["channels"]),
            color_mode=str(values.get("color_mode", "grayscale" if values["channels"] == 1 else "rgb")),
            batch_size=int(values["batch_size"]),
            seed=int(values["seed"]),
            validation_split=float(values["validation_split"]),
            epochs=int(values["epochs"]),
            regularized_epochs=int(values["regularized_epochs"]),
            train_dir=folder / values["train_dir"],
            base_model_file=folder / values["base_model_file"],
            saved_model_file=folder / values["saved_model_file"],
            max_model_params=int(values.get("max_model_params", DEFAULT_MAX_MODEL_PARAMS)),
        )


def load(activity: int, folder: str | Path | None = None) -> LabSettings:
    """Read lab_settings.json from `folder` (default: the current folder, where the notebook runs)."""
    folder = Path(folder or Path.cwd()).resolve()
    path = folder / SETTINGS_FILE
    try:
        values = json.loads(path.read_text())
        return LabSettings.from_dict(values, folder)
    except FileNotFoundError:
        raise CheckFailed(activity, f"the file {SETTINGS_FILE} next to the notebook",
                          f"no such file in {folder}",
                          "run the notebook from the assignment folder you were given, "
                          "without moving or renaming its files") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise CheckFailed(activity, f"a readable {SETTINGS_FILE}", f"a broken file ({error})",
                          f"restore {SETTINGS_FILE} from the assignment you were given") from None


def class_folders(activity: int, settings: LabSettings) -> list[str]:
    """Sorted names of the class sub-folders of the training folder (Keras' class order)."""
    if not settings.train_dir.is_dir():
        raise CheckFailed(activity, f"the training folder {settings.train_dir}", "no such folder",
                          "run the notebook from the assignment folder, with its data/ folder")
    return sorted(p.name for p in settings.train_dir.iterdir() if p.is_dir())


def image_count(settings: LabSettings) -> int:
    """Number of image files under the training folder's class folders."""
    return sum(1 for p in settings.train_dir.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES)
