"""Models that need the notebook's own code (a Lambda layer, a subclassed model) are measured where
that code runs and judged outside it; a forged measurement earns nothing that the saved files,
read as plain arrays, or labels the measuring process never saw do not show."""
from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from autograder.checks import measure  # noqa: E402  (first: the kernel imports it before any notebook class)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from test_checks import CLASSES, SETTINGS, compile_, lab_dir, load_datasets  # noqa: E402,F401  (lab_dir: a fixture)
from tiny_models import SHAPE  # noqa: E402

from autograder.course.plan import GradedProperty, _calls  # noqa: E402
from autograder.judging import judge, measured_models, rebuild, saved_in_sandbox  # noqa: E402

TRANSFER = "checks.transfer_model(model, base_model, class_names)"


def lambda_model(base):
    """A transfer model with a Lambda layer: Keras loads it only with the notebook's code."""
    inputs = keras.Input(shape=SHAPE)
    pixels = keras.layers.Lambda(lambda images: images / 1.0)(inputs)   # no globals: they do not survive saving
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(base(pixels, training=False))
    return keras.Model(inputs, outputs)


def judged(lab, root, namespace: dict, source: str = TRANSFER, forged: dict | None = None):
    """The kernel's hand-over (with measuring) of a grade cell, then the judge's outcome for it;
    `forged`: values the kernel writes into the measured model's record instead of what it measured."""
    called, names = _calls("a05", source)
    prop = GradedProperty("a05", 5, 1.0, source, called, names)
    measure.capture("a05", names, namespace, str(root))
    if forged:
        record = json.loads((root / "a05" / "values.json").read_text())
        record["values"]["model"].update(forged)
        (root / "a05" / "values.json").write_text(json.dumps(record))
    measured_models._moved.clear()
    return judge.judge_cell(prop, root, rebuild.Reference(lab, capture_root=root))


@pytest.fixture
def lab(lab_dir, monkeypatch):  # noqa: F811
    monkeypatch.chdir(lab_dir)
    yield lab_dir
    (lab_dir / SETTINGS["saved_model_file"]).unlink(missing_ok=True)


def base(lab_folder, trainable: bool = False):
    loaded = keras.models.load_model(lab_folder / SETTINGS["base_model_file"])
    loaded.trainable = trainable
    return loaded


def test_a_lambda_model_is_measured_and_judged_like_a_plain_one(lab, tmp_path):
    frozen = base(lab)
    outcome = judged(lab, tmp_path / "frozen", {"model": lambda_model(frozen), "base_model": frozen,
                                                 "class_names": CLASSES})
    assert outcome.passed, outcome.message
    entry = (tmp_path / "frozen" / "a05" / "values.json").read_text()
    assert '"kind": "measured"' in entry

    trainable = base(lab, trainable=True)
    outcome = judged(lab, tmp_path / "trainable", {"model": lambda_model(trainable), "base_model": trainable,
                                                    "class_names": CLASSES})
    assert not outcome.passed and "Activity 5" in outcome.message and "frozen" in outcome.message


def test_a_forged_frozen_measurement_loses_to_the_saved_weights(lab, tmp_path):
    """The kernel writes "nothing changes, nothing is trainable"; the base was trained all the same."""
    trainable = base(lab, trainable=True)
    model = compile_(lambda_model(trainable))
    train, _ = load_datasets(lab)
    model.fit(train, epochs=1, verbose=0)
    namespace = {"model": model, "base_model": trainable, "class_names": CLASSES}
    forged = {"step_changed": [], "trainable_base": []}
    assert not judged(lab, tmp_path / "honest", namespace).passed

    # the base as the notebook left it, handed over as a plain Keras file, shows the training
    outcome = judged(lab, tmp_path / "forged", namespace, TRANSFER + "\nchecks.base_unchanged(base_model)", forged)
    assert not outcome.passed and "Activity 5" in outcome.message

    # so does the saved hand-in, read as plain arrays, when the base itself is not handed over
    keras.saving.save_model(model, lab / SETTINGS["saved_model_file"])
    outcome = judged(lab, tmp_path / "forged-saved", namespace, forged=forged)
    assert not outcome.passed and "changed in" in outcome.message, outcome.message

    # with neither (no hand-in, and an untouched copy handed over as base_model), the forged numbers
    # alone would pass: the files are what decide, which is why the closing check reads them
    (lab / SETTINGS["saved_model_file"]).unlink()
    untouched = {**namespace, "base_model": base(lab)}
    assert judged(lab, tmp_path / "forged-alone", untouched, forged={**forged, "base_inside": True}).passed


def test_the_measuring_sandbox_sees_images_and_the_notebooks_code_but_no_labels(lab, tmp_path):
    from autograder.course import config

    settings = config.load()
    frozen = base(lab)
    model = lambda_model(frozen)
    path = tmp_path / "model.keras"
    keras.saving.save_model(model, path)
    images = np.random.default_rng(0).integers(0, 256, size=(5, *SHAPE)).astype("float32")
    measured = saved_in_sandbox.outputs(path, "import keras\n", images, settings, timeout=120)
    assert np.allclose(measured, np.asarray(model(images, training=False)), atol=1e-5)

    spy = ("class Spy:\n    import os, sys, numpy\n"
           "    arrays = sorted(numpy.load('images.npz').files)\n"
           f"    print('SEEN', sorted(os.listdir('.')), arrays, os.path.exists({str(settings.cache_dir)!r}), "
           f"os.path.exists({str(settings.hidden_test_dir)!r}), os.path.exists({str(settings.config_file)!r}), "
           "file=sys.stderr)\n"
           "    raise SystemExit(3)\n")
    with pytest.raises(saved_in_sandbox.MeasureFailed) as refused:
        saved_in_sandbox.outputs(path, spy, images, settings, timeout=120)
    assert "SEEN ['definitions.py', 'images.npz', 'model.keras'] ['images'] False False False" in str(refused.value)


def own_loss(labels, outputs):
    """A loss the notebook wrote: the model that uses it is measured in the kernel."""
    return keras.losses.sparse_categorical_crossentropy(labels, outputs)


def test_the_hand_in_of_a_measured_model_is_compared_by_its_outputs(lab, tmp_path):
    frozen = base(lab)

    def compiled():
        inputs = keras.Input(shape=SHAPE)
        outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(frozen(inputs, training=False))
        built = keras.Model(inputs, outputs)
        built.compile(optimizer="adam", loss=own_loss)
        return built

    model, other = compiled(), compiled()
    keras.saving.save_model(model, lab / SETTINGS["saved_model_file"])
    source = "checks.saved_model(model=regularized_model)"
    called, names = _calls("a10", source)
    measure.capture("a10", names, {"regularized_model": model}, str(tmp_path))
    assert '"kind": "measured"' in (tmp_path / "a10" / "values.json").read_text()
    prop = GradedProperty("a10", 10, 1.0, source, called, names)
    outcome = judge.judge_cell(prop, tmp_path, rebuild.Reference(lab, capture_root=tmp_path))
    assert outcome.passed, outcome.message

    keras.saving.save_model(other, lab / SETTINGS["saved_model_file"])   # another model's weights
    outcome = judge.judge_cell(prop, tmp_path, rebuild.Reference(lab, capture_root=tmp_path))
    assert not outcome.passed and "as trained" in outcome.message, outcome.message
