"""Any folder of class folders (PROFILE = "folder", LOCAL_FOLDER), checked before it is used.

Images are handed to `prepare` as paths to copy, so their bytes reach the students unchanged."""
from __future__ import annotations

from pathlib import Path

PROFILE = "folder"
# The file types keras.utils.image_dataset_from_directory reads; other files are left out, as it does.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class FolderError(ValueError):
    """A folder of class folders is not usable: too few classes, an empty class, a broken image."""


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def check_image(path: Path) -> None:
    """Decode the whole image, so that a truncated or mislabelled file is caught here and not
    halfway through a student's training run."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.draft(image.mode, (1, 1))  # JPEGs decode at 1/8 scale: faster, still complete
            image.load()
    except Exception as error:  # PIL raises several types (UnidentifiedImageError, OSError, ...)
        raise FolderError(
            f"{path} must be a readable image, got an unreadable file instead ({error}). "
            f"Open it in an image viewer, then re-save or delete it, and run `labkit prepare` again."
        ) from error


def _images(class_folder: Path) -> list[Path]:
    return sorted(
        path for path in class_folder.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not _hidden(path, class_folder)
    )


def _unique_names(class_folder: Path, images: list[Path]) -> list[str]:
    """Keep each file's name; files from sub-folders get the sub-folder in their name, so names
    stay unique inside the one flat class folder that prepare writes."""
    names, taken = [], set()
    for path in images:
        name = "__".join(path.relative_to(class_folder).parts)
        stem, suffix, count = Path(name).stem, Path(name).suffix, 1
        while name.lower() in taken:
            count += 1
            name = f"{stem}_{count}{suffix}"
        taken.add(name.lower())
        names.append(name)
    return names


def class_folders(root: Path, what: str = "LOCAL_FOLDER") -> dict[str, list[tuple[str, Path]]]:
    """{class name: [(unique file name, image path)]}, after checking every class and image."""
    root = Path(root)
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        found = ", ".join(repr(p.name) for p in classes) or "none"
        raise FolderError(
            f"{what} must contain at least 2 class folders (one sub-folder of images per class), "
            f"got {len(classes)} ({found}) in {root} instead.")
    labelled = {}
    for class_folder in classes:
        images = _images(class_folder)
        if not images:
            raise FolderError(
                f"class folder {class_folder} must contain at least one image "
                f"({', '.join(IMAGE_SUFFIXES)}), got none instead. Add images or remove the folder.")
        for image in images:
            check_image(image)
        labelled[class_folder.name] = list(zip(_unique_names(class_folder, images), images))
    return labelled


def labelled_images(settings) -> dict:
    """The instructor's folder of class folders, validated."""
    return class_folders(settings.local_folder)


def downloads(settings) -> list:
    """`labkit fetch` gets MobileNetV2's weights for colour images; grayscale needs nothing."""
    from autograder.data import bases

    return [bases.mobilenet_download(settings)] if settings.channels == 3 else []


def build_base(settings):
    """MobileNetV2 from the cache for colour images; the digits CNN (pretrained on MNIST 0-4)
    for grayscale ones."""
    if settings.channels == 3:
        from autograder.data import bases

        return bases.mobilenet_base(settings)
    from autograder.data import digits

    return digits.build_base(settings)
