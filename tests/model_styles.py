"""Models in every style the Keras guides teach, as answer cells for the fair-rubric tests: a Lambda
layer, keras.ops in a functional graph, a subclassed model, a subclassed head that saves itself, a
custom train_step. Each builder changes only the answer cells its style is about."""
from __future__ import annotations

from assignment_helpers import replaced

TRANSFER_LAMBDA = """
base_model.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:], name="images")
pixels = keras.layers.Lambda(lambda images: keras.ops.cast(images, "float32"), name="as_float")(inputs)
features = base_model(pixels, training=False)
hidden = keras.layers.Dense(256, activation="relu")(features)
outputs = keras.layers.Dense(len(class_names), activation="softmax")(hidden)
model = keras.Model(inputs, outputs, name="transfer_model")
"""

TRANSFER_OPS = """
base_model.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:], name="images")
features = base_model(inputs, training=False)
hidden = keras.ops.maximum(keras.layers.Dense(256)(features), 0.0)
outputs = keras.ops.softmax(keras.layers.Dense(len(class_names))(hidden), axis=-1)
model = keras.Model(inputs, outputs, name="transfer_model")
"""

SUBCLASSED_TRANSFER = """
class TransferModel(keras.Model):
    \"\"\"The pretrained base, then a small head: the Keras guide's subclassing style.\"\"\"

    def __init__(self, base, classes, **kwargs):
        super().__init__(**kwargs)
        self.base = base
        self.hidden_layer = keras.layers.Dense(256, activation="relu")
        self.scores = keras.layers.Dense(classes, activation="softmax")

    def call(self, images, training=False):
        return self.scores(self.hidden_layer(self.base(images, training=False)))

{freeze}model = TransferModel(base_model, len(class_names), name="transfer_model")
model.build((None, *base_model.input_shape[1:]))
"""

TRAIN_STEP = """
class StepByStep(keras.Model):
    \"\"\"A functional model whose training step is written out, as in the Keras guide.\"\"\"

    def train_step(self, data):
        images, labels = data
        with tf.GradientTape() as tape:
            predictions = self(images, training=True)
            loss = self.compute_loss(y=labels, y_pred=predictions)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(labels, predictions)
        return {metric.name: metric.result() for metric in self.metrics}


base_model.trainable = False
inputs = keras.Input(shape=base_model.input_shape[1:], name="images")
features = base_model(inputs, training=False)
hidden = keras.layers.Dense(256, activation="relu")(features)
outputs = keras.layers.Dense(len(class_names), activation="softmax")(hidden)
model = StepByStep(inputs, outputs, name="transfer_model")
"""

SUBCLASSED_HEAD = """
@keras.saving.register_keras_serializable(package="lab")
class RegularizedClassifier(keras.Model):
    \"\"\"The frozen base, dropout and an L2 penalty in the head; saves and loads itself.\"\"\"

    def __init__(self, base, classes, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.base, self.classes, self.rate = base, classes, rate
        self.dropout = keras.layers.Dropout(rate)
        self.hidden_layer = keras.layers.Dense(256, activation="relu",
                                               kernel_regularizer=keras.regularizers.l2(1e-4))
        self.scores = keras.layers.Dense(classes, activation="softmax")

    def call(self, images, training=False):
        features = self.dropout(self.base(images, training=False), training=training)
        return self.scores(self.dropout(self.hidden_layer(features), training=training))

    def get_config(self):
        return {**super().get_config(), "base": keras.saving.serialize_keras_object(self.base),
                "classes": self.classes, "rate": self.rate}

    @classmethod
    def from_config(cls, config):
        config["base"] = keras.saving.deserialize_keras_object(config["base"])
        return cls(**config)


regularized_model = RegularizedClassifier(base_model, len(class_names), name="regularized_model")
regularized_model.build((None, *base_model.input_shape[1:]))
regularized_model.summary()
"""

SUBCLASSED_LAYER = """
class FeatureNoise(keras.layers.Layer):
    \"\"\"Gaussian noise on the features while training: a regularizer written as a layer.\"\"\"

    def __init__(self, stddev=0.3, **kwargs):
        super().__init__(**kwargs)
        self.stddev = stddev
        self.seeds = keras.random.SeedGenerator(1)

    def call(self, features, training=False):
        if training:
            return features + keras.random.normal(keras.ops.shape(features), stddev=self.stddev, seed=self.seeds)
        return features

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


regularized_inputs = keras.Input(shape=base_model.input_shape[1:], name="images")
features = FeatureNoise(0.3)(base_model(regularized_inputs, training=False))
hidden = keras.layers.Dense(256, activation="relu")(features)
regularized_model = keras.Model(regularized_inputs, keras.layers.Dense(len(class_names), activation="softmax")(hidden))
"""


def _activity(grade_id: str, source: str):
    return lambda solved: replaced(solved, grade_id, source)


# name -> (what the student did, builder from the solved release)
ACCEPTED = {
    "lambda_layer": ("activity 5 with a Lambda layer in front of the base", _activity("a05_transfer_model",
                                                                                       TRANSFER_LAMBDA)),
    "keras_ops_graph": ("activity 5 with keras.ops in the functional graph", _activity("a05_transfer_model",
                                                                                        TRANSFER_OPS)),
    "subclassed_transfer": ("activity 5 as a subclassed keras.Model", _activity(
        "a05_transfer_model", SUBCLASSED_TRANSFER.format(freeze="base_model.trainable = False\n"))),
    "custom_train_step": ("activity 5 with a custom train_step", _activity("a05_transfer_model", TRAIN_STEP)),
    "subclassed_head": ("activity 9 as a subclassed model that saves itself", _activity("a09_regularized",
                                                                                         SUBCLASSED_HEAD)),
    "subclassed_layer": ("activity 9 regularized by a layer the notebook defines", _activity("a09_regularized",
                                                                                             SUBCLASSED_LAYER)),
}

# name -> (the mistake, builder, {activity: points lost})
WRONG = {
    "subclassed_not_frozen": ("activity 5 as a subclassed model around a base left trainable",
                              _activity("a05_transfer_model", SUBCLASSED_TRANSFER.format(freeze="")), {5: 12}),
}
