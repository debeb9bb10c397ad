"""Measurement: what judging a model that needs the notebook's own code costs, side by side with a
plain one, on the course's default profile.

    .venv/bin/python benchmarks/measuring_cost.py [--rounds 3]

Builds the lab's transfer model twice on the shipped base, once plain and once with a Lambda layer
(which Keras loads only with the notebook's code), fits each for one epoch, and then, in alternating
order for --rounds rounds:
- the kernel's hand-over of each (a Keras file for the plain model; the measurements of
  checks.measure for the other);
- the verification of each saved file on the hidden split (safe-mode loading for the plain one; the
  measuring sandbox, sandbox.one_shot, for the other).
Prints the median seconds of each and the difference per submission. Figures only; nothing asserts.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.checks import measure  # noqa: E402  (first, as in the kernel)


def models(settings, lab_folder: Path):
    import keras

    from autograder.checks import lab

    lab_settings = lab.load(5, lab_folder)
    train = keras.utils.image_dataset_from_directory(
        lab_settings.train_dir, image_size=lab_settings.image_size, color_mode=lab_settings.color_mode,
        batch_size=lab_settings.batch_size, seed=lab_settings.seed, verbose=False)
    built = {}
    for kind in ("plain", "lambda"):
        base = keras.models.load_model(lab_settings.base_model_file)
        base.trainable = False
        inputs = keras.Input(shape=lab_settings.image_shape)
        x = keras.layers.Lambda(lambda images: images / 1.0)(inputs) if kind == "lambda" else inputs
        outputs = keras.layers.Dense(len(train.class_names), activation="softmax")(
            keras.layers.Dense(256, activation="relu")(base(x, training=False)))
        model = keras.Model(inputs, outputs)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(train, epochs=1, verbose=0)
        built[kind] = (model, base, train.class_names, train)
    return built


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from autograder.course import config
    from autograder.judging import saved_model
    from autograder.judging.judge import released_files

    settings = config.load(REPO / "course_config.py")
    lab_folder = released_files(settings)
    if lab_folder is None:
        sys.exit("run `labkit prepare` first")
    os.chdir(lab_folder)
    built = models(settings, lab_folder)
    work = Path(tempfile.mkdtemp(prefix="labkit-measuring-cost-"))
    times = {(kind, part): [] for kind in built for part in ("hand-over", "verification")}
    try:
        for round_number in range(args.rounds):
            order = list(built) if round_number % 2 == 0 else list(built)[::-1]
            for kind in order:
                model, base, class_names, train = built[kind]
                folder = work / f"{kind}-{round_number}"
                folder.mkdir()
                names = {"model": model, "base_model": base, "class_names": class_names, "train_ds": train}
                times[(kind, "hand-over")].append(timed(lambda: measure.capture("a05", list(names), names,
                                                                                str(folder / "capture"))))
                saved = folder / settings.saved_model_file
                import keras

                keras.saving.save_model(model, saved)
                (folder / "notebook_definitions.py").write_text("import keras\n")
                result = None

                def verify():
                    nonlocal result
                    result = saved_model.verify(saved, settings)
                times[(kind, "verification")].append(timed(verify))
                print(f"round {round_number + 1} {kind}: accuracy {result.accuracy}, error {result.error}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'part':<14}{'plain (s)':>12}{'needs code (s)':>16}{'extra (s)':>12}")
    extra_total = 0.0
    for part in ("hand-over", "verification"):
        plain, coded = statistics.median(times[("plain", part)]), statistics.median(times[("lambda", part)])
        extra_total += coded - plain
        print(f"{part:<14}{plain:>12.2f}{coded:>16.2f}{coded - plain:>12.2f}")
    print(f"\nmedians of {args.rounds} rounds in alternating order; extra per submission: {extra_total:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
