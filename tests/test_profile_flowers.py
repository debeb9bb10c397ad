"""The flowers profile end to end on a tiny archive and a tiny weights file served from file://."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from course_copies import write_config
from PIL import Image

from autograder import cli
from autograder.authoring.prepare import prepare
from autograder.course import config
from autograder.data import bases, fetch, flowers

CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
PER_CLASS = 4
# The real file's name, so the weights go through the same (legacy .h5) loader as in production.
WEIGHTS_NAME = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def _jpeg(rng: np.random.Generator) -> bytes:
    pixels = rng.integers(0, 256, size=(36, 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_archive(path: Path) -> Path:
    """A flower_photos.tgz look-alike: one top folder, 5 class folders of JPEGs, a LICENSE.txt."""
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "flower_photos/LICENSE.txt", b"test images\n")
        for name in CLASSES:
            for index in range(PER_CLASS):
                _add(tar, f"flower_photos/{name}/{name}_{index}.jpg", _jpeg(rng))
    return path


def make_weights(path: Path) -> Path:
    """MobileNetV2 weights that are neither ImageNet's nor a fresh init (BatchNorm stats too)."""
    import keras

    keras.utils.set_random_seed(7)
    model = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    rng = np.random.default_rng(1)
    for variable in model.non_trainable_weights:  # moving means and variances
        variable.assign(rng.uniform(0.5, 1.5, size=variable.shape).astype("float32"))
    # model.save(".h5") writes the legacy HDF5 layout that keras-applications files use.
    model.save(path)
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("served")
    archive = make_archive(folder / "flower_photos.tgz")
    weights = make_weights(folder / WEIGHTS_NAME)
    return {"archive": archive, "weights": weights,
            "archive_sha256": fetch.file_sha256(archive), "weights_sha256": fetch.file_sha256(weights)}


@pytest.fixture
def env(tmp_path, monkeypatch, served) -> dict:
    """A temporary course (config, cache) on the flowers profile, served from file:// URLs."""
    path = write_config(tmp_path, PROFILE="flowers", IMAGE_SIZE=(32, 32), CHANNELS=3,
                        TRAIN_PER_CLASS=2, HIDDEN_TEST_SIZE=5, BATCH_SIZE=4,
                        EPOCHS={"fit": 1, "regularized_fit": 1, "pretrain": 1})
    monkeypatch.setenv("LABKIT_CONFIG", str(path))
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LABKIT_FLOWERS_URL", served["archive"].as_uri())
    monkeypatch.setenv("LABKIT_FLOWERS_SHA256", served["archive_sha256"])
    monkeypatch.setenv("LABKIT_MOBILENET_URL", served["weights"].as_uri())
    monkeypatch.setenv("LABKIT_MOBILENET_SHA256", served["weights_sha256"])
    return {"tmp": tmp_path, **served}


def quiet(*_):
    pass


def downloads(settings) -> Path:
    return fetch.downloads_dir(settings)


def test_real_sources_are_the_published_ones():
    assert flowers.FLOWERS_URL.endswith("/example_images/flower_photos.tgz")
    assert len(flowers.FLOWERS_SHA256) == 64
    assert bases.mobilenet_rows((160, 160)) == 160
    assert bases.mobilenet_rows((32, 32)) == 224  # like keras: unpublished sizes use 224


def test_missing_cache_names_the_fetch_command(env, capsys):
    settings = config.load()
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        flowers.labelled_images(settings)
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        flowers.build_base(settings)
    assert cli.main(["prepare"]) == 1
    assert "`labkit fetch`" in capsys.readouterr().err


def test_fetch_then_prepare(env):
    settings = config.load()
    assert cli.main(["fetch"]) == 0
    folder = downloads(settings)
    assert (folder / "flower_photos.tgz").is_file() and (folder / WEIGHTS_NAME).is_file()
    assert sorted(p.name for p in (folder / "flower_photos").iterdir()) == ["LICENSE.txt", *CLASSES]

    manifest = prepare(settings, say=quiet)
    assert manifest["class_names"] == list(CLASSES)
    assert manifest["train_count"] == 2 * len(CLASSES)
    assert manifest["hidden_count"] == 5
    assert manifest["pretrained_weights_sha256"] == env["weights_sha256"]
    train = settings.source_dir / settings.train_dir
    assert settings.source_dir.is_relative_to(env["tmp"])
    assert sorted(p.name for p in train.iterdir()) == list(CLASSES)
    # The copied photos are the archive's bytes, unchanged.
    some = next((train / "roses").iterdir())
    assert some.read_bytes() == (folder / "flower_photos" / "roses" / some.name).read_bytes()
    assert prepare(settings, say=quiet) == manifest  # idempotent


def test_base_takes_raw_pixels_and_loads_the_cached_weights(env):
    import keras

    settings = config.load()
    fetch.fetch(settings, say=quiet)
    base, facts = flowers.build_base(settings)
    assert base.input_shape == (None, 32, 32, 3) and base.output_shape == (None, 1280)
    rescale = base.layers[1]
    assert isinstance(rescale, keras.layers.Rescaling)
    assert rescale(np.array([[0.0, 127.5, 255.0]])).numpy().tolist() == [[-1.0, 0.0, 1.0]]

    mobilenet = base.layers[-1]
    saved = keras.models.load_model(env["weights"], compile=False)
    fresh = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    loaded = [w.numpy() for w in mobilenet.weights]
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(loaded, saved.weights))
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(loaded, fresh.weights))
    # BatchNorm statistics came from the file as well, not from the initializers.
    assert not np.array_equal(mobilenet.get_layer("Conv_1_bn").moving_variance.numpy(), np.ones(1280))


def test_second_fetch_does_nothing(env):
    settings = config.load()
    said = []
    fetch.fetch(settings, say=said.append)
    # With the sources gone, any new download would fail: a second run must not try.
    env["archive"].rename(env["tmp"] / "moved.tgz")
    try:
        said.clear()
        fetch.fetch(settings, say=said.append)
    finally:
        (env["tmp"] / "moved.tgz").rename(env["archive"])
    assert any("nothing to do" in line for line in said)
    assert not any("downloading" in line for line in said)


def test_checksum_mismatch_is_refused_and_nothing_is_trusted(env, monkeypatch):
    monkeypatch.setenv("LABKIT_FLOWERS_SHA256", "0" * 64)
    settings = config.load()
    with pytest.raises(fetch.FetchError, match="expected 0{64}") as raised:
        fetch.fetch(settings, say=quiet)
    assert env["archive_sha256"] in str(raised.value)
    folder = downloads(settings)
    assert list(folder.iterdir()) == []  # no file, record, partial download or extraction
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        flowers.labelled_images(settings)


def test_a_changed_pin_distrusts_an_earlier_download(env, monkeypatch):
    settings = config.load()
    fetch.fetch(settings, say=quiet)
    monkeypatch.setenv("LABKIT_FLOWERS_SHA256", "f" * 64)
    with pytest.raises(fetch.FetchError):
        flowers.labelled_images(settings)


def test_unpinned_weights_are_recorded_then_rechecked(env, monkeypatch):
    monkeypatch.setenv("LABKIT_MOBILENET_SHA256", "")
    settings = config.load()
    said = []
    fetch.fetch(settings, say=said.append)
    assert any("no published sha256" in line and env["weights_sha256"] in line for line in said)
    weights = downloads(settings) / WEIGHTS_NAME
    with open(weights, "ab") as handle:  # damaged after the fetch
        handle.write(b"x")
    with pytest.raises(fetch.FetchError, match="changed since it was fetched"):
        flowers.build_base(settings)
    fetch.fetch(settings, say=quiet)  # a new fetch replaces the damaged file
    assert fetch.file_sha256(weights) == env["weights_sha256"]


def test_an_interrupted_download_is_not_trusted(env):
    settings = config.load()
    folder = downloads(settings)
    folder.mkdir(parents=True)
    # What a crash leaves: a half file under the final name with no checksum record.
    (folder / WEIGHTS_NAME).write_bytes(env["weights"].read_bytes()[:1000])
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        flowers.build_base(settings)
    fetch.fetch(settings, say=quiet)
    assert fetch.file_sha256(folder / WEIGHTS_NAME) == env["weights_sha256"]


def test_an_archive_escaping_its_folder_is_refused(env, monkeypatch):
    evil = env["tmp"] / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tar:
        _add(tar, "../outside.txt", b"no")
    monkeypatch.setenv("LABKIT_FLOWERS_URL", evil.as_uri())
    monkeypatch.setenv("LABKIT_FLOWERS_SHA256", fetch.file_sha256(evil))
    settings = config.load()
    with pytest.raises(fetch.FetchError, match="could not extract"):
        fetch.fetch(settings, say=quiet)
    assert not (downloads(settings).parent / "outside.txt").exists()
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        flowers.labelled_images(settings)


def test_an_unreachable_address_names_the_override(env, monkeypatch):
    monkeypatch.setenv("LABKIT_FLOWERS_URL", (env["tmp"] / "absent.tgz").as_uri())
    with pytest.raises(fetch.FetchError, match="LABKIT_FLOWERS_URL"):
        fetch.fetch(config.load(), say=quiet)
