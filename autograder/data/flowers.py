"""The real-photo profile: 5 classes of flower photos, and MobileNetV2 with ImageNet weights
(`autograder.data.bases`).

Both files come from `labkit fetch` (verified, cached); nothing here downloads. URLs and checksums
are the constants below, each overridable from the environment (see course_config.py)."""
from __future__ import annotations

from autograder.data import bases, fetch, folder

PROFILE = "flowers"

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
# Published in tensorflow/datasets (url_checksums/tf_flowers.txt; 228,813,984 bytes).
FLOWERS_SHA256 = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"

def flowers_download() -> fetch.Download:
    return fetch.from_environment("FLOWERS", FLOWERS_URL, FLOWERS_SHA256, extract=True)


def downloads(settings) -> list[fetch.Download]:
    """What `labkit fetch` gets for this profile."""
    return [flowers_download(), bases.mobilenet_download(settings)]


def labelled_images(settings) -> dict:
    """The extracted class folders (daisy, dandelion, roses, sunflowers, tulips) from the cache."""
    bases.check_mobilenet_shape(settings, PROFILE)
    root = fetch.extracted_folder(flowers_download(), fetch.downloads_dir(settings))
    return folder.class_folders(root, what="the extracted flowers archive")


def build_base(settings):
    """The profile's pretrained base and facts for the manifest."""
    return bases.mobilenet_base(settings)
