"""The hand-over writes the model the notebook built, whatever the notebook's objects say about
themselves: a `save`, `get_config`, `numpy` or `__array__` replaced on an instance, an object that
fakes its `__class__`, a class the notebook defined. Each case ends with the built model in the
capture (same architecture and weights as the honest one) or with the value recorded as not handed
over, never with a substitute. In this process, on tiny models (no notebook kernel)."""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from autograder.sandbox import capture  # noqa: E402  (before any class below: the kernel imports it first)

import h5py  # noqa: E402
import keras  # noqa: E402
from test_checks import compile_, head_model, lab_dir  # noqa: E402,F401  (lab_dir: a fixture)
from tiny_models import SHAPE, make_base  # noqa: E402

from autograder.course.plan import GradedProperty, _calls  # noqa: E402
from autograder.judging import judge, rebuild  # noqa: E402
from autograder.sandbox.layers import sublayers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def built(seed: int = 0, extra=()):
    """A frozen tiny base and a head, compiled, as a notebook builds them."""
    keras.utils.set_random_seed(seed)
    base = make_base()
    base.trainable = False
    return compile_(head_model(base, extra=extra))


def shape_of(model) -> list:
    """The architecture: every layer's class, name and weight shapes."""
    return [(type(layer).__name__, layer.name, [tuple(w.shape) for w in layer.weights])
            for layer in sublayers(model)]


def snapshot(model) -> tuple:
    """What the honest capture must hold: the architecture and every weight (read before an attack)."""
    return shape_of(model), [np.array(w) for w in keras.Model.get_weights(model)]


def handed_over(folder, namespace: dict, names=("model",)) -> tuple[dict, dict]:
    """(values.json entries, rebuilt names) after the kernel's capture and the judge's rebuild."""
    capture.capture("cell", names, namespace, str(folder))
    entries = json.loads((folder / "cell" / "values.json").read_text())["values"]
    rebuilt, _ = rebuild.namespace(folder, "cell", None)
    return entries, rebuilt


def assert_as_built(entries: dict, rebuilt: dict, expected: tuple, name: str = "model") -> None:
    assert entries[name]["kind"] == "model", entries[name]
    architecture, weights = expected
    assert shape_of(rebuilt[name]) == architecture
    found = rebuilt[name].get_weights()
    assert len(found) == len(weights) and all(np.array_equal(a, b) for a, b in zip(found, weights))


def assert_not_handed_over(entries: dict, rebuilt: dict, name: str = "model") -> None:
    assert entries[name]["kind"] in ("unreadable", "other"), entries[name]
    assert not isinstance(rebuilt.get(name), keras.Model)


@pytest.fixture
def model():
    return built(seed=0)


@pytest.fixture(scope="module")
def twin():
    """The same architecture with other weights."""
    return built(seed=1)


@pytest.fixture(scope="module")
def better():
    """The substitute an attack would rather have judged: another architecture, other weights."""
    return built(seed=1, extra=[keras.layers.Dense(6, activation="relu", name="extra_dense")])


def keras_file(path) -> tuple:
    """A .keras file's config and every stored array (its metadata holds the date, so it is left out)."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        stored = {}
        with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as weights:
            weights.visititems(lambda key, item: stored.__setitem__(key, item[()].tobytes())
                               if isinstance(item, h5py.Dataset) else None)
    return config, stored


def own_state(model) -> list:
    """Every instance dict the save reaches (model, layers, variables), in order, by identity."""
    objects = [model, *sublayers(model), *model.weights, *[w.value for w in model.weights]]
    return [[(key, id(value)) for key, value in vars(item).items()] for item in objects]


def test_an_honest_models_capture_is_what_keras_saves_and_leaves_the_model_as_it_was(model, tmp_path):
    model.fit(np.full((6, *SHAPE), 128.0, "float32"), np.arange(6) % 3, epochs=1, verbose=0)
    keras.saving.save_model(model, tmp_path / "plain.keras")   # Keras's own save, as before the change
    before = own_state(model)   # (that save itself sets a flag of the base's once)
    entries, rebuilt = handed_over(tmp_path, {"model": model})
    assert own_state(model) == before, "the capture changed the notebook's objects"
    assert keras_file(tmp_path / "cell" / "model.keras") == keras_file(tmp_path / "plain.keras")
    assert_as_built(entries, rebuilt, snapshot(model))
    assert entries["model"]["compiled"] is True and entries["model"]["history"]["epoch"] == [0]


def test_a_save_replaced_on_the_instance_does_not_write_its_substitute(model, better, tmp_path):
    expected = snapshot(model)
    model.save = lambda path, *args, **kwargs: better.save(path, *args, **kwargs)
    entries, rebuilt = handed_over(tmp_path, {"model": model})
    assert_as_built(entries, rebuilt, expected)
    assert "save" in vars(model), "the notebook's own attribute is put back"


def test_a_get_config_replaced_on_the_model_or_a_layer_does_not_reach_the_saved_file(model, better, tmp_path):
    expected = snapshot(model)
    model.get_config = better.get_config
    head = model.layers[-1]
    penalty = keras.saving.serialize_keras_object(keras.regularizers.L2(0.5))
    head.get_config = lambda: {**type(head).get_config(head), "kernel_regularizer": penalty, "units": 6}
    entries, rebuilt = handed_over(tmp_path, {"model": model})
    assert_as_built(entries, rebuilt, expected)
    assert rebuilt["model"].layers[-1].kernel_regularizer is None


def test_a_variables_numpy_or_array_replaced_does_not_reach_the_saved_weights(model, tmp_path):
    expected = snapshot(model)
    kernel = model.layers[-1].kernel
    forged = np.full(tuple(kernel.shape), 9.0, "float32")
    for variable in (kernel, kernel.value):   # Keras's variable and TensorFlow's inside it
        variable.numpy = lambda: forged
        variable.__array__ = lambda *args, **kwargs: forged
    entries, rebuilt = handed_over(tmp_path, {"model": model})
    assert_as_built(entries, rebuilt, expected)


def test_save_own_variables_or_getattr_set_on_instances_change_nothing(model, twin, better, tmp_path):
    expected = snapshot(model)
    head = model.layers[-1]
    head.save_own_variables = lambda store: [store.__setitem__(str(i), w) for i, w in
                                             enumerate(twin.layers[-1].get_weights())]
    model.__getattr__ = lambda name: getattr(better, name)
    entries, rebuilt = handed_over(tmp_path, {"model": model})
    assert_as_built(entries, rebuilt, expected)


def test_an_object_that_fakes_its_class_is_not_handed_over_as_a_model(better, tmp_path):
    class Impostor:
        __class__ = property(lambda self: keras.Model)

        def save(self, path, *args, **kwargs):
            better.save(path, *args, **kwargs)

    impostor = Impostor()
    assert isinstance(impostor, keras.Model)   # what duck typing would have believed
    entries, rebuilt = handed_over(tmp_path, {"model": impostor})
    assert_not_handed_over(entries, rebuilt)
    assert entries["model"]["type"] == "Impostor"


def test_a_class_the_notebook_defined_is_not_handed_over(better, tmp_path):
    class Flattering(keras.Model):
        def get_config(self):
            return better.get_config()

    class Quiet(keras.layers.Dense):
        pass

    subclassed = Flattering(better.inputs, better.outputs)
    inputs = keras.Input(shape=SHAPE)
    with_custom_layer = keras.Model(inputs, Quiet(3)(keras.layers.Flatten()(inputs)))
    entries, rebuilt = handed_over(tmp_path, {"model": subclassed, "other": with_custom_layer},
                                   names=("model", "other"))
    assert_not_handed_over(entries, rebuilt)
    assert_not_handed_over(entries, rebuilt, "other")
    assert "Flattering" in entries["model"]["error"] and "Quiet" in entries["other"]["error"]


def test_a_history_is_read_as_plain_data_and_one_with_properties_of_its_own_is_refused(model, tmp_path):
    history = model.fit(np.full((6, *SHAPE), 128.0, "float32"), np.arange(6) % 3, epochs=2, verbose=0)

    class Glowing(keras.callbacks.History):
        history = property(lambda self: {"accuracy": [1.0, 1.0], "loss": [0.0, 0.0]}, lambda self, value: None)

    glowing = Glowing()
    entries, rebuilt = handed_over(tmp_path, {"model": model, "history": history, "glowing": glowing},
                                   names=("model", "history", "glowing"))
    assert rebuilt["history"].history == {k: [float(v) for v in vs] for k, vs in history.history.items()}
    assert rebuilt["history"].model is rebuilt["model"] and rebuilt["model"].history is rebuilt["history"]
    assert entries["glowing"]["kind"] == "unreadable" and "Glowing" in entries["glowing"]["error"]


REGULARIZED = "checks.regularized(regularized_model, base_model)"


def judged_regularized(lab, root, regularized_model, base_model):
    called, names = _calls("a09", REGULARIZED)
    prop = GradedProperty("a09", 9, 1.0, REGULARIZED, called, names)
    capture.capture("a09", names, {"regularized_model": regularized_model, "base_model": base_model}, str(root))
    return judge.judge_cell(prop, root, rebuild.Reference(lab))


def test_the_judge_judges_the_model_the_notebook_built_not_what_its_save_or_config_claims(
        lab_dir, tmp_path, monkeypatch):  # noqa: F811  (lab_dir: test_checks' fixture)
    monkeypatch.chdir(lab_dir)
    base = keras.models.load_model(lab_dir / "base.keras")
    base.trainable = False
    plain_model = head_model(base)   # no dropout, no penalty, no augmentation
    regularized = head_model(base, extra=[keras.layers.Dropout(0.5)])
    assert judged_regularized(lab_dir, tmp_path / "honest", regularized, base).passed
    assert not judged_regularized(lab_dir, tmp_path / "plain", plain_model, base).passed

    plain_model.save = lambda path, *args, **kwargs: regularized.save(path, *args, **kwargs)
    outcome = judged_regularized(lab_dir, tmp_path / "swapped", plain_model, base)
    assert not outcome.passed and "Activity 9" in outcome.message
    del plain_model.save

    head = plain_model.layers[-1]
    penalty = keras.saving.serialize_keras_object(keras.regularizers.L2(0.5))
    head.get_config = lambda: {**type(head).get_config(head), "kernel_regularizer": penalty}
    outcome = judged_regularized(lab_dir, tmp_path / "claimed", plain_model, base)
    assert not outcome.passed and "Activity 9" in outcome.message
