"""`prepare` on the embedded digits profile: folders and counts, idempotent, atomic, reproducible."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from course_copies import write_config

from autograder.authoring.prepare import MANIFEST, is_current, prepare
from autograder.course import config
from autograder.data import digits, layout


def course_copy(tmp_path, monkeypatch, secret=None):
    """A copy of the shipped course in tmp_path, with its own cache (same seed and secret)."""
    monkeypatch.setenv("LABKIT_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    if secret:
        monkeypatch.setenv("LABKIT_SECRET", secret)
    return config.load()


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    """prepare run again from scratch in another folder, with the same settings."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = course_copy(tmp_path_factory.mktemp("course"), monkeypatch)
        messages: list[str] = []
        manifest = prepare(settings, say=messages.append)
        yield settings, manifest, messages


def test_folders_and_counts(prepared):
    settings, manifest = prepared
    train = settings.source_dir / settings.train_dir
    class_names = sorted(p.name for p in train.iterdir())
    assert class_names == [f"digit_{d}" for d in range(5, 10)] == manifest["class_names"]
    for name in class_names:
        assert len(list((train / name).glob("*.png"))) == settings.train_per_class
    hidden = layout.listing(settings.hidden_test_dir)
    assert len(hidden) == settings.hidden_test_size >= 1000
    assert {p.split("/")[0] for p in hidden} == set(class_names)
    train_files = {p.split("/")[1] for p in layout.listing(train)}
    assert train_files.isdisjoint(p.split("/")[1] for p in hidden)
    assert json.loads((settings.source_dir / "lab_settings.json").read_text()) == settings.student_view()


def test_hidden_split_stays_out_of_the_assignment_folder(prepared):
    settings, _ = prepared
    assert not settings.hidden_test_dir.is_relative_to(settings.source_dir)
    assert not settings.reference_base.is_relative_to(settings.source_dir)


def test_reproducible_with_the_same_seed(prepared, second_run):
    _, first = prepared
    _, second, _ = second_run
    assert second["hidden_files"] == first["hidden_files"]
    assert second["train_fingerprint"] == first["train_fingerprint"]
    assert second["base_weights_sha256"] == first["base_weights_sha256"]


def test_second_run_does_nothing(second_run):
    settings, manifest, _ = second_run
    stamp = os.stat(settings.reference_base).st_mtime_ns
    messages: list[str] = []
    assert prepare(settings, say=messages.append) == manifest
    assert messages == ["prepare: already done for profile 'digits' (nothing to do)."]
    assert os.stat(settings.reference_base).st_mtime_ns == stamp


def test_a_damaged_asset_is_noticed(second_run):
    settings, manifest, _ = second_run
    assert is_current(settings, manifest)
    victim = next((settings.source_dir / settings.train_dir).rglob("*.png"))
    saved = victim.read_bytes()
    victim.unlink()
    try:
        assert not is_current(settings, manifest)
    finally:
        victim.write_bytes(saved)
    assert is_current(settings, manifest)


def test_an_interrupted_run_is_not_trusted(tmp_path, monkeypatch):
    settings = course_copy(tmp_path, monkeypatch)

    def interrupted(_settings):
        raise KeyboardInterrupt

    monkeypatch.setattr(digits, "build_base", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare(settings, say=lambda message: None)
    assert not (settings.profile_cache / MANIFEST).exists()
    assert not is_current(settings)
    assert not list(settings.profile_cache.glob(".*partial*"))


def test_the_secret_chooses_the_hidden_images_not_the_training_ones(settings):
    images = digits.task_images()
    train_a, hidden_a = layout.split(images, 16, 1200, seed=1, secret="secret-one")
    train_b, hidden_b = layout.split(images, 16, 1200, seed=1, secret="secret-two")
    names = lambda split: {(c, f) for c, items in split.items() for f, _ in items}  # noqa: E731
    assert names(train_a) == names(train_b)
    assert names(hidden_a) != names(hidden_b)
    assert len(names(hidden_a)) == len(names(hidden_b)) == 1200


def _probe_accuracy(base, images, labels) -> float:
    """Accuracy of a linear probe on the base's features (half to fit, half to score)."""
    from sklearn.linear_model import LogisticRegression

    features = base.predict(images[..., None].astype("float32"), verbose=0)
    half = len(labels) // 2
    probe = LogisticRegression(max_iter=500).fit(features[:half], labels[:half])
    return probe.score(features[half:], labels[half:])


def test_pretrained_base_knows_digits_0_to_4(prepared):
    import keras

    from autograder.data.bases import load_base, weight_arrays

    settings, _ = prepared
    base = load_base(settings.reference_base)
    fresh = keras.models.clone_model(base)
    assert any(not np.array_equal(a, b) for a, b in zip(weight_arrays(base), weight_arrays(fresh)))
    images, labels = digits.pretrain_arrays()
    order = np.random.default_rng(0).permutation(len(labels))[:1000]
    pretrained = _probe_accuracy(base, images[order], labels[order])
    random_init = _probe_accuracy(fresh, images[order], labels[order])
    assert pretrained > 0.9, f"a linear probe on the pretrained base scored {pretrained:.3f} on digits 0-4"
    assert pretrained > random_init


@pytest.mark.slow
def test_transfer_beats_training_from_scratch(prepared):
    from autograder.authoring.compare import compare

    settings, _ = prepared
    result = compare(settings)
    assert result["transfer"] >= settings.accuracy_threshold, result
    # the lab's point, as its issue states it: at least 10 points above the same model from scratch
    assert result["transfer"] >= result["scratch"] + 0.10, result


def test_the_seeds_benchmark_gives_the_solution_another_seed_and_keeps_the_split(settings):
    from autograder.authoring.compare import solution_notebook

    course = "\n".join(c.source for c in solution_notebook(settings).cells if c.cell_type == "code")
    reseeded = "\n".join(c.source for c in solution_notebook(settings, 7).cells if c.cell_type == "code")
    calls = course.count('set_random_seed(settings["seed"])')
    assert calls >= 2   # the setup cell and each training cell
    assert reseeded.count("set_random_seed(7)") == calls and 'set_random_seed(settings["seed"])' not in reseeded
    assert reseeded.count('seed=settings["seed"]') == course.count('seed=settings["seed"]') >= 1   # the split


def test_changing_the_instructors_folder_changes_the_fingerprint(tmp_path, monkeypatch):
    from PIL import Image

    from autograder.authoring.prepare import fingerprint

    for name in ("cats", "dogs"):
        (tmp_path / "images" / name).mkdir(parents=True)
        Image.new("L", (16, 16), 0).save(tmp_path / "images" / name / "a.png")
    settings = course_copy(tmp_path, monkeypatch)
    values = {k: v for k, v in vars(settings).items()}
    folder_settings = config.Settings(**{**values, "profile": "folder",
                                         "local_folder": tmp_path / "images"})
    before = fingerprint(folder_settings)
    Image.new("L", (16, 16), 255).save(tmp_path / "images" / "dogs" / "b.png")
    assert fingerprint(folder_settings) != before
