"""The local-folder profile: an instructor's folder of class folders, validated, then prepared."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from course_copies import write_config
from PIL import Image

from autograder import cli
from autograder.authoring.prepare import prepare
from autograder.course import config
from autograder.data import fetch, folder


def make_folder(root: Path, classes=("cats", "dogs", "owls"), per_class=5, mode="L") -> Path:
    rng = np.random.default_rng(0)
    shape = (20, 24) if mode == "L" else (20, 24, 3)
    for name in classes:
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(root / name / f"{name}_{index}.png")
    return root


@pytest.fixture
def course(tmp_path, monkeypatch):
    """Point the kit at a temporary course_config.py for `images` (a folder of class folders)."""
    def configure(images: Path, **overrides) -> config.Settings:
        values = dict(PROFILE="folder", LOCAL_FOLDER=str(images), IMAGE_SIZE=(28, 28), CHANNELS=1,
                      TRAIN_PER_CLASS=2, HIDDEN_TEST_SIZE=6, BATCH_SIZE=4,
                      EPOCHS={"fit": 1, "regularized_fit": 1, "pretrain": 1})
        values.update(overrides)
        monkeypatch.setenv("LABKIT_CONFIG", str(write_config(tmp_path, **values)))
        monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
        return config.load()

    return configure


def quiet(*_):
    pass


def test_a_good_folder_prepares(tmp_path, course):
    images = make_folder(tmp_path / "images")
    (images / "cats" / "._cats_0.png").write_bytes(b"\0junk")  # hidden (macOS) files are ignored
    (images / ".thumbnails").mkdir()  # and so are hidden folders
    (images / "owls" / "notes.txt").write_text("not an image")  # as are non-image files
    settings = course(images)
    manifest = prepare(settings, say=quiet)
    assert manifest["class_names"] == ["cats", "dogs", "owls"]
    assert manifest["train_count"] == 6 and manifest["hidden_count"] == 6
    assert manifest["pretrain_task"] == "MNIST digits 0-4"  # grayscale: the digits CNN
    train = settings.source_dir / settings.train_dir
    for path in train.rglob("*.png"):  # copied, names kept
        assert path.read_bytes() == (images / path.parent.name / path.name).read_bytes()
    hidden = set(settings.hidden_test_dir.rglob("*.png"))
    assert len(hidden) == 6
    assert {p.name for p in hidden}.isdisjoint(p.name for p in train.rglob("*.png"))


def test_files_in_sub_folders_get_unique_names(tmp_path):
    images = make_folder(tmp_path / "images", per_class=2)
    (images / "cats" / "more").mkdir()
    Image.new("L", (8, 8)).save(images / "cats" / "more" / "cats_0.png")
    labelled = folder.class_folders(images)
    names = [name for name, _ in labelled["cats"]]
    assert sorted(names) == ["cats_0.png", "cats_1.png", "more__cats_0.png"]
    assert dict(labelled["cats"])["more__cats_0.png"] == images / "cats" / "more" / "cats_0.png"


def test_fewer_than_two_classes(tmp_path, course):
    images = make_folder(tmp_path / "images", classes=("cats",))
    with pytest.raises(folder.FolderError,
                       match=r"LOCAL_FOLDER must contain at least 2 class folders.*got 1 \('cats'\)"):
        prepare(course(images), say=quiet)


def test_an_empty_class_is_named(tmp_path, course, capsys):
    images = make_folder(tmp_path / "images")
    (images / "zebras").mkdir()
    (images / "zebras" / ".hidden.png").write_bytes(b"")  # hidden: does not count
    course(images)
    assert cli.main(["prepare"]) == 1
    error = capsys.readouterr().err
    assert f"class folder {images / 'zebras'} must contain at least one image" in error


@pytest.mark.parametrize("damage", ["garbage", "truncated png", "truncated jpeg"])
def test_an_unreadable_image_is_named(tmp_path, course, damage):
    images = make_folder(tmp_path / "images", mode="RGB")
    broken = images / "dogs" / "dogs_3.png"
    if damage == "truncated jpeg":
        Image.open(broken).save(broken.with_suffix(".jpg"), quality=95)
        broken.unlink()
        broken = broken.with_suffix(".jpg")
    data = broken.read_bytes()
    broken.write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(folder.FolderError, match="must be a readable image") as raised:
        prepare(course(images), say=quiet)
    assert str(broken) in str(raised.value)
    assert "re-save or delete it" in str(raised.value)


def test_colour_images_use_mobilenet_from_the_cache(tmp_path, course, monkeypatch):
    import keras

    images = make_folder(tmp_path / "images", mode="RGB")
    settings = course(images, IMAGE_SIZE=(32, 32), CHANNELS=3)
    with pytest.raises(fetch.FetchError, match="labkit fetch"):
        folder.build_base(settings)

    weights = tmp_path / "served" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    weights.parent.mkdir()
    keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3)).save(weights)
    monkeypatch.setenv("LABKIT_MOBILENET_URL", weights.as_uri())
    monkeypatch.setenv("LABKIT_MOBILENET_SHA256", fetch.file_sha256(weights))
    said = []
    fetch.fetch(settings, say=said.append)
    assert not any("flower_photos" in line for line in said)  # only the weights are needed
    base, facts = folder.build_base(settings)
    assert base.output_shape == (None, 1280)
    assert facts["pretrained_weights_sha256"] == fetch.file_sha256(weights)


def test_grayscale_needs_no_download(tmp_path, course):
    settings = course(make_folder(tmp_path / "images"))
    said = []
    assert fetch.fetch(settings, say=said.append) == []
    assert "nothing to do" in said[0]
