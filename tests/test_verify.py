"""Out-of-kernel verification of a saved model (`autograder.judging.saved_model`) and the hidden check on top.

A course configuration, a hidden split of small synthetic images, a reference base and its
manifest are built in a temporary folder; the models are trained there in a few seconds."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from PIL import Image  # noqa: E402
from tiny_models import SHAPE, make_base  # noqa: E402

from autograder import checks
from autograder.checks import CheckFailed  # noqa: E402
from autograder.checks.verifier import verify_in_subprocess  # noqa: E402
from autograder.course import config  # noqa: E402
from autograder.course.records import VerifyResult  # noqa: E402
from autograder.data.bases import weights_checksum  # noqa: E402
from autograder.judging.saved_model import main, verify  # noqa: E402

CLASSES = ["alpha", "beta", "gamma"]
LEVELS = (40, 130, 220)  # each class is a brightness level
THRESHOLD = 0.6


def images(count, seed):
    rng = np.random.default_rng(seed)
    pixels = [np.clip(rng.normal(level, 12, size=SHAPE[:2]), 0, 255).astype("uint8")
              for level in LEVELS for _ in range(count)]
    return np.stack(pixels), np.repeat(np.arange(len(LEVELS)), count)


def transfer(base, units=len(CLASSES)):
    inputs = keras.Input(shape=SHAPE)
    features = base(inputs, training=False)
    outputs = keras.layers.Dense(units, activation="softmax", name="head")(features)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course_config.py whose cache holds a hidden split, a reference base and a manifest."""
    root = tmp_path_factory.mktemp("course")
    cache = root / "cache"
    profile = cache / "digits"
    pixels, labels = images(10, seed=1)
    for index, (image, label) in enumerate(zip(pixels, labels)):
        folder = profile / "hidden_test" / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(folder / f"{index:03d}.png")
    keras.utils.set_random_seed(0)
    reference = make_base()
    reference.save(profile / "reference_base.keras")
    (profile / "manifest.json").write_text(json.dumps(
        {"class_names": CLASSES, "base_weights_sha256": weights_checksum(reference)}))
    shipped = (Path(config.REPO_ROOT) / "course_config.py").read_text()
    overrides = (f"\nIMAGE_SIZE = (12, 12)\nCHANNELS = 1\nCACHE_DIR = {str(cache)!r}\n"
                 f"ACCURACY_THRESHOLD = {THRESHOLD}\n")
    (root / "course_config.py").write_text(shipped + overrides)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LABKIT_CACHE", raising=False)
        settings = config.load(root / "course_config.py")
    return SimpleNamespace(root=root, settings=settings, reference=profile / "reference_base.keras")


@pytest.fixture(scope="module")
def saved(course, tmp_path_factory):
    """Saved models: a good one, one that guesses, one whose base moved, and a few broken ones."""
    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(2)
    base = keras.models.load_model(course.reference)
    base.trainable = False
    good = transfer(base)
    good.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    pixels, labels = images(8, seed=5)
    good.fit(pixels[..., None].astype("float32"), labels, epochs=60, batch_size=24, verbose=0)
    good.save(folder / "good.keras")

    guessing = transfer(keras.models.load_model(course.reference))
    head = guessing.get_layer("head")
    head.set_weights([np.zeros_like(head.kernel.numpy()), np.array([5.0, 0.0, 0.0])])  # always "alpha"
    guessing.save(folder / "guessing.keras")

    moved = keras.models.load_model(folder / "good.keras")
    moving_mean = next(layer for layer in moved.layers if isinstance(layer, keras.Model)).get_layer("bn").moving_mean
    moving_mean.assign(moving_mean.numpy() + 1e-4)  # what training with an unfrozen base does
    moved.save(folder / "moved.keras")

    # the base's layers reused directly, without nesting the base model
    flat_base = keras.models.load_model(course.reference)
    flat = keras.Sequential([keras.Input(SHAPE), *flat_base.layers[1:], keras.layers.Dense(3, activation="softmax")])
    flat.layers[-1].set_weights(good.get_layer("head").get_weights())
    flat.save(folder / "flat.keras")

    transfer(keras.models.load_model(course.reference), units=2).save(folder / "two_outputs.keras")
    (folder / "corrupt.keras").write_bytes(b"PK\x03\x04 this is not a keras file")
    return folder


def test_verify_result_is_json_able():
    result = VerifyResult(True, 0.9, 0.8, True, ["a", "b"], None)
    assert VerifyResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_good_model_passes(course, saved):
    result = verify(saved / "good.keras", course.settings)
    assert result.ok and result.error is None, result
    assert result.accuracy >= THRESHOLD and result.base_matches_reference
    assert result.classes == CLASSES and result.threshold == THRESHOLD


def test_a_model_below_the_threshold_fails(course, saved):
    result = verify(saved / "guessing.keras", course.settings)
    assert not result.ok and result.error is None
    assert result.accuracy == pytest.approx(1 / 3) and result.base_matches_reference


def test_a_model_whose_base_weights_moved_fails(course, saved):
    result = verify(saved / "moved.keras", course.settings)
    assert not result.ok and result.base_matches_reference is False
    assert result.accuracy >= THRESHOLD  # accurate, but the base is no longer the pretrained one


def test_a_base_whose_layers_were_reused_without_nesting_is_found(course, saved):
    result = verify(saved / "flat.keras", course.settings)
    assert result.ok and result.base_matches_reference, result


@pytest.mark.parametrize("name, words", [("missing.keras", "no saved model"),
                                         ("corrupt.keras", "cannot be loaded"),
                                         ("two_outputs.keras", "3 class scores")])
def test_missing_corrupt_or_misshapen_models_fail_with_a_clear_error(course, saved, name, words):
    result = verify(saved / name, course.settings)
    assert not result.ok and result.accuracy is None
    assert words in result.error, result.error


def test_a_missing_hidden_split_is_reported(course, saved, tmp_path):
    elsewhere = dataclasses.replace(course.settings, cache_dir=tmp_path)
    result = verify(saved / "good.keras", elsewhere)
    assert not result.ok and "hidden test split not found" in result.error


def test_a_missing_reference_base_is_reported(course, saved, tmp_path):
    shutil.copytree(course.settings.hidden_test_dir, tmp_path / "digits" / "hidden_test")
    elsewhere = dataclasses.replace(course.settings, cache_dir=tmp_path)
    result = verify(saved / "good.keras", elsewhere)
    assert not result.ok and "reference base not found" in result.error


def test_command_line_prints_json_and_sets_the_exit_status(course, saved, capsys, monkeypatch):
    monkeypatch.delenv("LABKIT_CACHE", raising=False)
    config_file = str(course.settings.config_file)
    assert main([str(saved / "good.keras"), "--json", "--config", config_file]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main([str(saved / "guessing.keras"), "--config", config_file]) == 1
    assert capsys.readouterr().out.startswith("not ok: accuracy 0.3333")


def test_verification_in_a_fresh_process_agrees_with_in_process(course, saved):
    fresh = verify_in_subprocess(saved / "good.keras", settings=course.settings, timeout=240)
    here = verify(saved / "good.keras", course.settings)
    assert fresh == here


def test_subprocess_failures_come_back_as_results(course, saved):
    missing = verify_in_subprocess(saved / "missing.keras", settings=course.settings)
    assert not missing.ok and "no saved model" in missing.error
    slow = verify_in_subprocess(saved / "good.keras", settings=course.settings, timeout=0.01)
    assert not slow.ok and "timed out" in slow.error


# Run in a new interpreter: the verifier must be forked from a process where TensorFlow is imported
# but has not run anything (as in the batch grader's workers); this test process has trained models.
FORKED = """
import json, sys
import keras
from autograder import config
from autograder.judging.saved_model import ForkedVerifier
settings, saved = config.load(sys.argv[1]), sys.argv[2]
answers = {name: ForkedVerifier().verify(f"{saved}/{name}", settings, timeout=240).to_dict()
           for name in ("good.keras", "guessing.keras", "missing.keras")}
answers["slow"] = ForkedVerifier().verify(f"{saved}/good.keras", settings, timeout=0.01).to_dict()
crashed = ForkedVerifier()
crashed._call._process.kill()
answers["crashed"] = crashed.verify(f"{saved}/good.keras", settings).to_dict()
unused = ForkedVerifier()
unused.close()
answers["unused_alive"] = unused._call._process.is_alive()
print(json.dumps(answers))
"""


def test_forked_verifier_agrees_with_in_process_and_reports_its_failures(course, saved):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", FORKED, str(course.settings.config_file), str(saved)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "LABKIT_CACHE": str(course.settings.cache_dir)})
    assert run.returncode == 0, run.stderr[-2000:]
    answers = json.loads(run.stdout.strip().splitlines()[-1])
    assert answers["good.keras"] == verify(saved / "good.keras", course.settings).to_dict()
    assert answers["good.keras"]["ok"] and not answers["guessing.keras"]["ok"]
    assert answers["guessing.keras"] == verify(saved / "guessing.keras", course.settings).to_dict()
    assert "no saved model" in answers["missing.keras"]["error"]
    assert "timed out" in answers["slow"]["error"]
    assert answers["crashed"]["error"].startswith("verification process ended with status -9")
    assert answers["unused_alive"] is False


def test_hidden_check_fails_with_a_student_message_judged_in_a_fresh_process(course, saved, capfd):
    with pytest.raises(CheckFailed, match=r"accuracy of at least 0\.60 on the hidden test images, found 0\.333"):
        checks.hidden_accuracy(saved / "guessing.keras", settings=course.settings)
    with pytest.raises(CheckFailed, match="no saved model"):
        checks.hidden_accuracy(saved / "missing.keras", settings=course.settings)
    assert capfd.readouterr().err == ""


@pytest.fixture
def verification(monkeypatch):
    """Stand-in for the fresh process, for the checks' side of each outcome; counts the runs."""
    from autograder.checks import handin

    monkeypatch.setattr(handin, "_verified_cache", {})
    state = SimpleNamespace(result=None, runs=0)

    def run(path, settings=None, timeout=None):
        state.runs += 1
        return state.result

    monkeypatch.setattr("autograder.checks.verifier.verify_in_subprocess", run)
    return state


def test_hidden_check_judges_accuracy_alone_unless_told_to_check_the_base(course, saved, verification):
    verification.result = VerifyResult(False, 0.9, THRESHOLD, False, CLASSES)
    # accuracy alone, so that an unfrozen base costs only the points of the check that tests it (activity 5)
    assert checks.hidden_accuracy(saved / "moved.keras", settings=course.settings).passed
    with pytest.raises(CheckFailed, match="base weights .* that differ"):
        checks.hidden_accuracy(saved / "moved.keras", settings=course.settings, require_base=True)
    with pytest.raises(CheckFailed, match="Hand-in .*base weights .* that differ"):
        checks.saved_model(saved / "moved.keras", base_unchanged=True, settings=course.settings)
    assert verification.runs == 1  # one fresh process per model file, shared by the checks


def test_saved_model_with_base_unchanged_passes_on_the_reference_base(course, saved, verification):
    verification.result = VerifyResult(True, 0.9, THRESHOLD, True, CLASSES)
    assert checks.saved_model(saved / "good.keras", base_unchanged=True, settings=course.settings).passed
    verification.result = VerifyResult(False, None, THRESHOLD, None, CLASSES, "cannot be loaded")
    with pytest.raises(CheckFailed, match="cannot be loaded"):
        checks.hidden_accuracy(saved / "two_outputs.keras", settings=course.settings)


def test_hidden_check_passes_on_a_passing_verification(course, saved, verification, monkeypatch, capsys):
    verification.result = VerifyResult(True, 0.9, THRESHOLD, True, CLASSES, None)
    result = checks.hidden_accuracy(saved / "good.keras", settings=course.settings)
    assert result.passed and result.activity == 10
    assert capsys.readouterr().out.strip() == result.message
    # without a path and without lab_settings.json: the configured file in the current folder
    monkeypatch.chdir(saved)
    (saved / course.settings.saved_model_file).write_bytes((saved / "good.keras").read_bytes())
    assert checks.saved_model(settings=course.settings).passed
    assert checks.hidden_accuracy(settings=course.settings).passed
    assert verification.runs == 2


def test_hidden_check_explains_a_missing_course_configuration(saved, monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_CONFIG", str(tmp_path / "absent_course_config.py"))
    with pytest.raises(CheckFailed, match="course configuration"):
        checks.hidden_accuracy(saved / "good.keras")
