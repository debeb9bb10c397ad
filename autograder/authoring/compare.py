"""The lab's promise, measured: on the hidden split, the transferred model beats the same
architecture trained from scratch on the same small training folder, and the solution notebook's
saved model reaches the course's threshold (`labkit compare`)."""
from __future__ import annotations

import re

from autograder.course.seeding import seed_everything
from autograder.data.bases import load_base

LEARNING_RATE = 3e-3  # one recipe for both models; only what is trainable differs


def _datasets(settings):
    """The notebook's training subset, and the hidden split."""
    import keras

    common = dict(image_size=settings.image_size, batch_size=settings.batch_size,
                  color_mode="grayscale" if settings.channels == 1 else "rgb", verbose=False)
    train = keras.utils.image_dataset_from_directory(
        settings.source_dir / settings.train_dir, validation_split=settings.validation_split,
        subset="training", seed=settings.seed, **common)
    hidden = keras.utils.image_dataset_from_directory(settings.hidden_test_dir, shuffle=False, **common)
    return train, hidden


def _classifier(base, classes: int, shape):
    import keras

    inputs = keras.Input(shape=shape)
    features = base(inputs, training=False) if not base.trainable else base(inputs)
    outputs = keras.layers.Dense(classes, activation="softmax")(features)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def compare(settings) -> dict:
    """Hidden-split accuracy of transfer (frozen pretrained base) and from-scratch training."""
    import keras

    train, hidden = _datasets(settings)
    results = {"train_images": sum(int(labels.shape[0]) for _, labels in train),
               "hidden_images": sum(int(labels.shape[0]) for _, labels in hidden),
               "epochs": settings.epochs["fit"]}
    for name in ("transfer", "scratch"):
        seed_everything(settings.seed)
        base = load_base(settings.reference_base)
        if name == "scratch":
            base = keras.models.clone_model(base)  # same architecture, freshly initialised weights
        base.trainable = name == "scratch"
        model = _classifier(base, len(train.class_names), settings.image_shape)
        model.fit(train, epochs=settings.epochs["fit"], verbose=0)
        results[name] = round(float(model.evaluate(hidden, verbose=0)[1]), 4)
    return results


# The solution's seeding calls, as `labkit solutions` writes them (the split's seed is left alone).
SEEDING_CALL = re.compile(r'set_random_seed\(settings\["seed"\]\)')


def solution_notebook(settings, seed: int | None = None):
    """The solution notebook as `labkit solutions` runs it; with `seed`, its seeding calls use that
    seed instead of the course's (the training and validation split stay the course's)."""
    from autograder.authoring import solutions
    from autograder.course import vocabulary

    notebook = solutions.to_solution(vocabulary.read(settings.source_dir / settings.notebook_name))
    if seed is None:
        return notebook
    replaced = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source, count = SEEDING_CALL.subn(f"set_random_seed({int(seed)})", cell.source)
            replaced += count
    if not replaced:
        raise ValueError('the solution notebook has no `set_random_seed(settings["seed"])` to give another seed')
    return notebook


def solution_accuracy(settings, seed: int | None = None) -> tuple[float, float]:
    """(hidden-split accuracy of the model the solution notebook saves, seconds the notebook took)."""
    import keras

    from autograder.authoring import solutions
    from autograder.judging.saved_model import hidden_accuracy, hidden_class_names

    with solutions.executed_in_copy(settings, solution_notebook(settings, seed), "labkit-compare-") as (
            workdir, seconds):
        model = keras.models.load_model(workdir / settings.saved_model_file, compile=False)
        return hidden_accuracy(model, settings, hidden_class_names(settings)), seconds


def run(settings) -> bool:
    """`labkit compare`: prepare if needed, compare, run the solution notebook, print the three
    accuracies; True when transfer wins and the solution reaches the course's threshold."""
    from autograder.authoring.prepare import prepare

    prepare(settings)
    result = compare(settings)
    print(f"compare: on {result['hidden_images']} hidden images, after {result['epochs']} epochs on "
          f"{result['train_images']} training images: transfer {result['transfer']:.3f}, "
          f"from scratch {result['scratch']:.3f} "
          f"(gap {100 * (result['transfer'] - result['scratch']):.1f} points)")
    accuracy, seconds = solution_accuracy(settings)
    print(f"compare: the solution notebook's saved model scores {accuracy:.3f} on the hidden split "
          f"(ACCURACY_THRESHOLD {settings.accuracy_threshold:.2f}; the notebook ran in {seconds:.1f} s)")
    if accuracy < settings.accuracy_threshold:
        print("compare: the solution falls below the course's own threshold; lower ACCURACY_THRESHOLD "
              "or give the lab more training images or epochs (docs/reproducibility.md)")
    return result["transfer"] > result["scratch"] and accuracy >= settings.accuracy_threshold
