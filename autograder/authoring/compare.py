"""The lab's promise, measured: on the hidden split, the transferred model beats the same
architecture trained from scratch on the same small training folder (`labkit compare`)."""
from __future__ import annotations

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


def run(settings) -> bool:
    """`labkit compare`: prepare if needed, compare, print both accuracies; True when transfer wins."""
    from autograder.authoring.prepare import prepare

    prepare(settings)
    result = compare(settings)
    print(f"compare: on {result['hidden_images']} hidden images, after {result['epochs']} epochs on "
          f"{result['train_images']} training images: transfer {result['transfer']:.3f}, "
          f"from scratch {result['scratch']:.3f}")
    return result["transfer"] > result["scratch"]
