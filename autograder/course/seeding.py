"""One call that makes a notebook's random numbers the same on every run: on the student's server,
under `labkit grade` with any `--jobs`, on the pytest path and under plain nbgrader."""
from __future__ import annotations


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy and TensorFlow/Keras from `seed`, and make TensorFlow's ops
    deterministic.

    Why this and nothing else (measured on the 2-core CPU machine, docs/reproducibility.md):
    - the seeds fix the weights' initialisation, dropout masks, augmentation and the shuffling of a
      dataset built after this call;
    - op determinism is needed for random augmentation in a parallel `Dataset.map` (without it
      three runs gave three different epochs) and for a base left trainable (without it one seeded
      notebook's hidden-split accuracy was 0.8725 and 0.8867 in two gradings); it costs about 5 %
      CPU time on the lab;
    - 1, 2, 4 or 8 intra-op threads (the grader gives each kernel cores // jobs) and a random or
      fixed PYTHONHASHSEED gave bit-identical weights, so neither is pinned here."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
