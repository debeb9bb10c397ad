"""The real-photo profile: 5 classes of flower photos, and MobileNetV2 with ImageNet weights.

Both files come from `labkit fetch` (verified, cached); nothing here downloads. URLs and checksums
are the constants below, each overridable from the environment (see course_config.py)."""
from __future__ import annotations

from autograder.data import fetch
from autograder.data import folder

PROFILE = "flowers"

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
# Published in tensorflow/datasets (url_checksums/tf_flowers.txt; 228,813,984 bytes).
FLOWERS_SHA256 = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"

MOBILENET_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5")
MOBILENET_ROWS = (96, 128, 160, 192, 224)  # the input sizes keras-applications publishes weights for
# No checksum is published for these files (keras loads them without one). Fill in known pins by
# rows; until then the first download's hash is recorded and re-checked on every use.
MOBILENET_SHA256: dict[int, str] = {}
MOBILENET_MIN_SIZE = 32


def flowers_download() -> fetch.Download:
    return fetch.from_environment("FLOWERS", FLOWERS_URL, FLOWERS_SHA256, extract=True)


def mobilenet_rows(image_size: tuple[int, int]) -> int:
    """The published weights closest to the configured size (224 unless square and published),
    as keras.applications does; the convolution weights fit any input size."""
    rows, cols = image_size
    return rows if rows == cols and rows in MOBILENET_ROWS else 224


def mobilenet_download(settings) -> fetch.Download:
    rows = mobilenet_rows(settings.image_size)
    return fetch.from_environment("MOBILENET", MOBILENET_URL.format(rows=rows),
                                  MOBILENET_SHA256.get(rows))


def downloads(settings) -> list[fetch.Download]:
    """What `labkit fetch` gets for this profile."""
    return [flowers_download(), mobilenet_download(settings)]


def _check_shape(settings, profile: str) -> None:
    if settings.channels != 3:
        raise ValueError(f"PROFILE {profile!r} needs CHANNELS = 3 (MobileNetV2 takes RGB images), "
                         f"got {settings.channels} instead.")
    if min(settings.image_size) < MOBILENET_MIN_SIZE:
        raise ValueError(f"IMAGE_SIZE must be at least ({MOBILENET_MIN_SIZE}, {MOBILENET_MIN_SIZE}) "
                         f"for MobileNetV2, got {settings.image_size} instead.")


def labelled_images(settings) -> dict:
    """The extracted class folders (daisy, dandelion, roses, sunflowers, tulips) from the cache."""
    _check_shape(settings, PROFILE)
    root = fetch.extracted_folder(flowers_download(), fetch.downloads_dir(settings))
    return folder.class_folders(root, what="the extracted flowers archive")


def mobilenet_base(settings):
    """MobileNetV2 (ImageNet weights from the cache, no top, average pooling) behind a layer that
    maps raw 0-255 pixels to [-1, 1], so it takes raw pixels like every other base."""
    from autograder.data import bases as models  # noqa: F401  (quiets TensorFlow's C++ log before it loads)

    import keras

    _check_shape(settings, settings.profile)
    download = mobilenet_download(settings)
    weights = fetch.trusted_file(download, fetch.downloads_dir(settings))
    try:
        mobilenet = keras.applications.MobileNetV2(
            input_shape=settings.image_shape, include_top=False, weights=str(weights), pooling="avg")
    except (OSError, ValueError, KeyError) as error:
        raise fetch.FetchError(
            f"could not load MobileNetV2 weights from {weights}: {error}. The file must be the "
            f"keras-applications 'no_top' .h5 file for alpha 1.0; delete it and run "
            f"`{fetch.FETCH_COMMAND}` again.") from error
    inputs = keras.Input(shape=settings.image_shape, name="pixels")
    scaled = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="to_mobilenet_range")(inputs)
    base = keras.Model(inputs, mobilenet(scaled), name="mobilenet_v2_base")
    facts = {"pretrain_task": "ImageNet (MobileNetV2, alpha 1.0)",
             "pretrained_weights_file": weights.name,
             "pretrained_weights_sha256": fetch.file_sha256(weights)}
    return base, facts


def build_base(settings):
    """The profile's pretrained base and facts for the manifest."""
    return mobilenet_base(settings)
