"""Bounds on the grader's own work on a student's files: a model file is sized before Keras builds
it (checks/model_size.py), and the judge, the verifier and the facts process are stopped at the
memory limit with a message for that student (sandbox/bounds.py), never a crash of the worker."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from test_checks import lab_dir  # noqa: E402,F401  (a fixture)
from test_verify import course  # noqa: E402,F401  (a fixture: a course with a hidden split)
from tiny_models import make_base  # noqa: E402

from autograder.checks import model_size  # noqa: E402
from autograder.checks.verifier import verify_in_subprocess  # noqa: E402
from autograder.comments import facts  # noqa: E402
from autograder.course.plan import GradedProperty, Plan, _calls  # noqa: E402
from autograder.judging import judge, rebuild, saved_model  # noqa: E402
from autograder.sandbox import bounds, capture  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
HUGE_UNITS = 640_000     # 784 inputs x 640,000 units: about 504 million parameters
HUGE_PARAMS = f"{28 * 28 * HUGE_UNITS + HUGE_UNITS + HUGE_UNITS * 3 + 3:,}"   # with the biases and the output
REPO = Path(__file__).resolve().parent.parent


def crafted(path: Path, units: int = HUGE_UNITS, image=(28, 28, 1)) -> Path:
    """A .keras file of a few kilobytes (the weights of a model with 8 hidden units) whose
    configuration asks for a hidden Dense layer of `units` units: what a hostile kernel can write."""
    inputs = keras.Input(image, name="pixels")
    hidden = keras.layers.Dense(8, name="wide")(keras.layers.Flatten(name="flat")(inputs))
    outputs = keras.layers.Dense(3, activation="softmax", name="scores")(hidden)
    small = path.with_name("small-" + path.name)
    keras.Model(inputs, outputs).save(small)
    with zipfile.ZipFile(small) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer["name"] == "wide":
            layer["config"]["units"] = units
        if layer["name"] == "scores":
            layer["build_config"]["input_shape"] = [None, units]
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    small.unlink()
    return path


def prop(grade_id: str, activity: int, source: str) -> GradedProperty:
    called, names = _calls(grade_id, source)
    return GradedProperty(grade_id, activity, 1.0, source, called, names)


FIT = prop("a07", 7, "checks.compiled_and_fitted(model, history)")
ACCURACIES = prop("a08", 8, "checks.accuracies(train_accuracy, val_accuracy, model, train_ds, val_ds)")


def hostile_capture(root: Path, units: int = HUGE_UNITS) -> Path:
    """Captures of activities 7 and 8 as the kernel writes them, whose model file was then swapped
    for a crafted one; the grader's copy of the capture folder."""
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    for graded in (FIT, ACCURACIES):
        capture.capture(graded.grade_id, graded.names, {"model": model, "train_accuracy": 1.0, "val_accuracy": 1.0},
                        str(root))
        crafted(root / graded.grade_id / "model.keras", units)
    return root


@pytest.fixture
def no_building(monkeypatch):
    """Keras' loader, made to fail the test if the grader reaches it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was handed to Keras to build")
    monkeypatch.setattr(keras.models, "load_model", refuse)
    monkeypatch.setattr(keras.saving, "load_model", refuse)


# --- the size of a model file, before anything is built ------------------------------------------

def test_a_few_kilobytes_asking_for_half_a_billion_parameters_are_refused_naming_the_setting(tmp_path):
    path = crafted(tmp_path / "huge.keras")
    assert path.stat().st_size < 100_000
    with pytest.raises(model_size.Refused, match=rf"asks for about {HUGE_PARAMS} parameters.*MAX_MODEL_PARAMS"):
        model_size.check(path)


def test_the_solutions_models_pass_with_their_exact_parameter_counts(prepared, tmp_path):
    settings, _ = prepared
    base = keras.models.load_model(settings.reference_base)
    base.trainable = False
    inputs = keras.Input(base.input_shape[1:], name="images")
    features = keras.layers.Dropout(0.5)(base(inputs, training=False))
    hidden = keras.layers.Dense(256, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-4))(features)
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Dropout(0.5)(hidden))
    digits = keras.Model(inputs, outputs)
    digits.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    digits.fit(keras.random.uniform((8, *base.input_shape[1:]), 0, 255), keras.ops.arange(8) % 5, verbose=0)
    # the flowers profile's base: MobileNetV2 nested inside the base, inside the transfer model
    mobilenet = keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False, weights=None,
                                               pooling="avg")
    pixels = keras.Input((160, 160, 3))
    flowers_base = keras.Model(pixels, mobilenet(keras.layers.Rescaling(1 / 127.5, offset=-1)(pixels)))
    images = keras.Input((160, 160, 3))
    flowers = keras.Model(images, keras.layers.Dense(5)(keras.layers.Dense(256)(flowers_base(images))))
    for name, model in (("digits", digits), ("flowers", flowers), ("tiny", make_base())):
        model.save(tmp_path / f"{name}.keras")
        size = model_size.check(tmp_path / f"{name}.keras", settings.max_model_params)
        assert size.params == model.count_params(), name
        assert size.params * 5 < settings.max_model_params, "the limit leaves the course's models room"
        assert saved_model._load_model(tmp_path / f"{name}.keras", settings.max_model_params) is not None


def rezipped(source: Path, target: Path, **members: bytes) -> Path:
    """A copy of the .keras zip `source` with some members replaced (names with '.' spelled '_')."""
    with zipfile.ZipFile(source) as archive:
        found = {name: archive.read(name) for name in archive.namelist()}
    found.update({name.replace("_", "."): data for name, data in members.items()})
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in found.items():
            archive.writestr(name, data)
    return target


def bomb(path: Path, name: str, megabytes: int) -> Path:
    """A .keras zip whose member `name` unpacks to `megabytes` MB of zeros, stored in a few kB."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if name != "config.json":
            archive.writestr("config.json", "{}")
        with archive.open(name, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(bytes(2**20))
    return path


def test_zip_bombs_and_weights_declaring_huge_datasets_are_refused(tmp_path):
    import h5py

    with pytest.raises(model_size.Refused, match="config.json declares 33,554,432 bytes"):
        model_size.check(bomb(tmp_path / "config_bomb.keras", "config.json", 32))
    with pytest.raises(model_size.Refused, match="members unpack to 33,554,4"):
        model_size.check(bomb(tmp_path / "weights_bomb.keras", "model.weights.h5", 32), max_params=1000)
    # a dataset of 4 GB that holds no data: the file is tiny, its declared shape is not
    with h5py.File(tmp_path / "weights.h5", "w") as weights:
        weights.create_dataset("layers/dense/vars/0", shape=(10**9,), dtype="float32", chunks=(1024,))
    path = rezipped(crafted(tmp_path / "small.keras", units=8), tmp_path / "declared.keras",
                    model_weights_h5=(tmp_path / "weights.h5").read_bytes())
    with pytest.raises(model_size.Refused, match=r"weights file declares 4,000,000,000 bytes"):
        model_size.check(path)


def test_a_layer_whose_input_is_not_given_is_refused_and_an_unknown_layer_is_left_to_the_memory_limit(tmp_path):
    small = crafted(tmp_path / "small.keras", units=8)
    with zipfile.ZipFile(small) as archive:
        config = json.loads(archive.read("config.json"))
    layers = config["config"]["layers"]
    unknown = {**layers[-1], "class_name": "SomethingNew", "name": "new"}
    unknown["config"] = {**unknown["config"], "name": "new", "units": 10**12}
    layers.append(unknown)
    rezipped(small, tmp_path / "unknown.keras", config_json=json.dumps(config).encode())
    del next(layer for layer in layers if layer["name"] == "wide")["build_config"]
    rezipped(small, tmp_path / "unsized.keras", config_json=json.dumps(config).encode())
    assert model_size.check(tmp_path / "unknown.keras").params == 28 * 28 * 8 + 8 + 8 * 3 + 3
    with pytest.raises(model_size.Refused, match="does not say what input the Dense layer 'wide'"):
        model_size.check(tmp_path / "unsized.keras")


# --- each of the grader's three loaders refuses it, with the student's message --------------------

def test_the_judge_refuses_a_crafted_capture_without_building_it(lab_dir, tmp_path, no_building):
    root = hostile_capture(tmp_path)
    with contextlib.chdir(lab_dir):
        outcome = judge.judge_cell(FIT, root, rebuild.Reference(lab_dir))
    assert not outcome.passed
    assert outcome.message.startswith("Activity 7") and "expected models of the lab's size" in outcome.message
    assert HUGE_PARAMS in outcome.message and "MAX_MODEL_PARAMS" in outcome.message


def test_the_facts_process_refuses_a_crafted_capture_without_building_it(lab_dir, tmp_path, no_building):
    root = hostile_capture(tmp_path)
    with contextlib.chdir(lab_dir):
        found = facts.collect(Plan("lab", (ACCURACIES,)).to_dict(), str(root), str(lab_dir))
    assert "parameters" in found["missing"]["accuracies"] and "MAX_MODEL_PARAMS" in found["missing"]["accuracies"]
    assert "first_train" not in found


def test_the_hand_in_check_that_the_judge_runs_refuses_it_too(lab_dir, tmp_path, no_building):
    from autograder.checks import CheckFailed, saved_model

    path = crafted(tmp_path / "regularized_model.keras")
    with contextlib.chdir(lab_dir), pytest.raises(CheckFailed, match=r"Hand-in.*: expected a saved model of the "
                                                                    r"lab's size.*MAX_MODEL_PARAMS"):
        saved_model(path)
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with contextlib.chdir(lab_dir), pytest.raises(CheckFailed, match="keras.models.load_model can read"):
        saved_model(tmp_path / "broken.keras")


def test_the_verifier_refuses_a_crafted_saved_model_in_process_and_in_a_fresh_one(course, tmp_path, no_building):
    path = crafted(tmp_path / "regularized_model.keras", image=(12, 12, 1))
    for result in (saved_model.verify(path, course.settings),
                   verify_in_subprocess(path, settings=course.settings, timeout=240)):
        assert not result.ok and result.accuracy is None
        assert "cannot be loaded" in result.error and "parameters" in result.error, result.error


# --- the memory bound: killed with its children, reported, the parent lives on -------------------

HOG = """
import json, subprocess, sys, time, resource
from autograder.judging.forked import ForkedCall, MemoryExceeded

def hog(megabytes, pid_file):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    open(pid_file, "w").write(str(sleeper.pid))
    held = [b"x" * 2**20 for _ in range(megabytes)]
    return len(held)

answer = {}
try:
    answer["answer"] = ForkedCall().call("__main__:hog", 2048, sys.argv[1], timeout=120, memory_mb=int(sys.argv[2]))
except MemoryExceeded as failure:
    answer["error"] = str(failure)
answer["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(answer))
"""


def test_a_forked_call_over_the_memory_limit_is_killed_with_its_children_and_reported(tmp_path):
    import psutil

    pid_file, limit = tmp_path / "sleeper.pid", 300
    run = subprocess.run([sys.executable, "-c", HOG, str(pid_file), str(limit)], capture_output=True, text=True,
                         timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]   # the parent lives on
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer.get("error") == f"used more than {limit} MB of memory and was stopped", answer
    assert answer["peak_mb"] < bounds.hard_limit_mb(limit)
    sleeper = int(pid_file.read_text())
    with contextlib.suppress(psutil.NoSuchProcess):
        assert psutil.Process(sleeper).status() == psutil.STATUS_ZOMBIE, "the child's own child was left running"


def test_a_bounded_command_is_stopped_at_the_memory_limit_and_killed_whole_at_the_timeout():
    hog = [sys.executable, "-c", "held = [b'x' * 2**20 for _ in range(2048)]"]
    with pytest.raises(bounds.OverLimit, match="used more than 200 MB"):
        bounds.run(hog, timeout=120, limit_mb=200)
    assert bounds.run([sys.executable, "-c", "print('ok')"], timeout=60, limit_mb=200).stdout == "ok\n"
    with pytest.raises(subprocess.TimeoutExpired):
        bounds.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1, limit_mb=200)


JUDGE = """
import json, resource, sys, time
import tensorflow, keras   # as in a grading worker: the judge is forked after these imports
from autograder.judging.forked import ForkedCall, ProcessFailed

plan, capture, lab, max_params, limit = sys.argv[1:6]
started = time.monotonic()
answer = {}
try:
    answer["outcomes"] = ForkedCall("labkit-judge").call(
        "autograder.judging.judge:judge", json.loads(plan), capture, lab, int(max_params), timeout=600,
        memory_mb=int(limit))
except ProcessFailed as failure:
    answer["error"] = str(failure)
answer["seconds"] = round(time.monotonic() - started, 1)
answer["peak_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
print(json.dumps(answer))
"""


def judged_in_a_fork(plan: Plan, capture_root: Path, lab: Path, max_params: int, limit_mb: int) -> dict:
    """The judge forked from a fresh interpreter that imported TensorFlow, as a worker forks it; its
    answer (or failure) and the peak resident memory of the forked process."""
    run = subprocess.run([sys.executable, "-c", JUDGE, json.dumps(plan.to_dict()), str(capture_root), str(lab),
                          str(max_params), str(limit_mb)], capture_output=True, text=True, timeout=900, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_judges_peak_memory_on_a_crafted_capture_stays_under_the_configured_limit(settings, lab_dir, tmp_path):
    root = hostile_capture(tmp_path / "capture")
    answer = judged_in_a_fork(Plan("lab", (FIT,)), root, lab_dir, settings.max_model_params,
                              settings.grader_memory_limit_mb)
    assert "MAX_MODEL_PARAMS" in answer["outcomes"]["a07"]["message"]
    assert answer["peak_mb"] < settings.grader_memory_limit_mb


def test_a_judge_that_builds_past_the_limit_is_stopped_there(lab_dir, tmp_path):
    # the size check turned off (a limit of 10**12 parameters): the memory bound alone holds the judge
    root = hostile_capture(tmp_path / "capture", units=384_000)   # ~300 million parameters, 1.2 GB of weights
    limit = 1536
    answer = judged_in_a_fork(Plan("lab", (FIT,)), root, lab_dir, 10**12, limit)
    assert answer.get("error") == f"used more than {limit} MB of memory and was stopped", answer
    assert answer["peak_mb"] < bounds.hard_limit_mb(limit)


def test_a_judge_stopped_at_the_limit_costs_the_judged_cells_with_a_hint_about_size():
    from autograder.course.records import CellGrade, GradeResult
    from autograder.judging import handover

    cell = CellGrade("a07", 7, 0.0, 5.0, passed=False)
    result = GradeResult(student="s", status="ok", cells=[cell.to_dict()])
    handover.apply(result, {}, "the judging process used more than 3072 MB of memory and was stopped", {"a07"})
    assert "3072 MB" in result.cells[0]["error"] and "size of the lab's" in result.notes[-1]


def test_a_course_config_written_before_the_limits_gets_their_defaults():
    from autograder.course import config

    values = {}
    exec((REPO / "course_config.py").read_text(), values)   # noqa: S102
    older = {k: v for k, v in values.items() if k.isupper() and k not in ("GRADER_MEMORY_LIMIT_MB", "MAX_MODEL_PARAMS")}
    settings = config.from_values(older, REPO / "course_config.py")
    assert (settings.grader_memory_limit_mb, settings.max_model_params) == (3072, 20_000_000)
    assert settings.student_view()["max_model_params"] == 20_000_000   # the hand-in check reads it


def test_a_bound_needs_no_root(monkeypatch):
    """Without a cgroup (not root) the watcher alone stops the process."""
    from autograder.sandbox import cgroups

    monkeypatch.setattr(cgroups, "create", lambda *args: None)
    with pytest.raises(bounds.OverLimit):
        bounds.run([sys.executable, "-c", "held = [b'x' * 2**20 for _ in range(2048)]"], timeout=120, limit_mb=200)

