"""The lab's promise, measured: on the hidden split, the transferred model beats the same
architecture trained from scratch on the same small training folder (`labkit compare`)."""
from __future__ import annotations

from autograder.models import load_base, seed_everything


def _datasets(settings):
    import keras

    common = dict(image_size=settings.image_size, batch_size=settings.batch_size,
                  color_mode="grayscale" if settings.channels == 1 else "rgb", seed=settings.seed)
    train = keras.utils.image_dataset_from_directory(
        settings.source_dir / settings.train_dir, shuffle=True, verbose=False, **common)
    hidden = keras.utils.image_dataset_from_directory(
        settings.hidden_test_dir, shuffle=False, verbose=False, **common)
    return train, hidden


def _classifier(base, classes: int, shape):
    import keras

    inputs = keras.Input(shape=shape)
    features = base(inputs, training=False)
    outputs = keras.layers.Dense(classes, activation="softmax")(features)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def compare(settings) -> dict:
    """Hidden-split accuracy of transfer (frozen pretrained base) and from-scratch training."""
    import keras

    train, hidden = _datasets(settings)
    classes = len(train.class_names)
    epochs = settings.epochs["fit"]
    results = {}
    for name in ("transfer", "scratch"):
        seed_everything(settings.seed)
        base = load_base(settings.reference_base)
        if name == "scratch":
            base = keras.models.clone_model(base)  # same architecture, freshly initialised weights
        base.trainable = name == "scratch"
        model = _classifier(base, classes, settings.image_shape)
        model.fit(train, epochs=epochs, verbose=0)
        results[name] = float(model.evaluate(hidden, verbose=0)[1])
    return results
