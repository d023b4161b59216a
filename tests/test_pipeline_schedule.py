"""Training schedule options: the generator's weight average (EMA) and early stopping (patience)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest
import numpy as np

from inpaint.run_folder import load_generator
from inpaint.training import train
from test_train import data, lite  # noqa: F401  (the same tiny set and lite config as the training tests)


class KeepWeights(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        self.average = self.model.ema_generator.get_weights()
        self.raw = self.model.generator.get_weights()


@pytest.mark.slow
def test_predict_loads_the_weight_average_not_the_raw_generator(data, tmp_path):
    seen = KeepWeights()
    state = train(data, tmp_path / "run", lite(steps=2, epochs=1, ema_decay=0.9), verbose=0, callbacks=[seen])
    assert state["best_epoch"] == 1  # one epoch: the best generator is the final one
    assert max(np.abs(a - r).max() for a, r in zip(seen.average, seen.raw)) > 0  # they differ after training
    for which in ("best", "last"):
        loaded, _ = load_generator(tmp_path / "run", which=which)
        for got, want in zip(loaded.get_weights(), seen.average):
            np.testing.assert_array_equal(got, want)


def test_weight_average_follows_the_update_rule():
    from inpaint.gan import build_gan

    gan = build_gan(lite(ema_decay=0.5))
    before = [w.numpy().copy() for w in gan.generator.weights]
    for weight in gan.generator.trainable_weights:
        weight.assign(weight + 1.0)
    gan.g_optimizer.iterations.assign(100)  # past the warm-up: the decay is ema_decay itself
    gan._update_ema()
    index = [w.path for w in gan.generator.weights].index(gan.generator.trainable_weights[0].path)
    np.testing.assert_allclose(gan.ema_generator.weights[index].numpy(), before[index] + 0.5, rtol=1e-6)


# Logical devices must be set before TensorFlow touches a device: a fresh interpreter.
TWO_REPLICAS = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from inpaint import config
    from inpaint.gan import build_gan
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3, gen_dropout=0.0, gen_norm="none",
                                        disc_norm="none", batch_size=8, ema_decay=0.5)
    real = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    mask = np.zeros_like(real); mask[:, 16:24, 8:24] = 1
    ds = tf.data.Dataset.from_tensors((np.where(mask > 0, 1.0, real).astype("float32"), real, mask)).repeat()
    averages = []
    for strategy in (tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            gan = build_gan(cfg)
        start = gan.ema_generator.get_weights()
        gan.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
        averages.append([w.tolist() for w in gan.ema_generator.get_weights()[:2]])
        moved = max(float(np.abs(a - b).max()) for a, b in zip(gan.ema_generator.get_weights(), start))
    print(json.dumps({"averages": averages, "moved": moved}))
    """
)


@pytest.mark.slow
def test_weight_average_is_the_same_on_two_replicas_as_on_one():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", TWO_REPLICAS], capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = result["averages"]
    assert result["moved"] > 1e-4
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_patience_stops_when_validation_stops_improving(data, tmp_path):
    # A learning rate of ~0 and no batch statistics: validation RMSE is the same every epoch, so it
    # stops improving after the first and the run ends `patience` epochs later, not after 10.
    cfg = lite(epochs=10, patience=2, learning_rate=1e-12, gen_norm="none", disc_norm="none", gen_dropout=0.0)
    state = train(data, tmp_path / "run", cfg, verbose=0)
    assert state["epochs_done"] == 3 and state["best_epoch"] == 1
    assert state["stop_reason"] == "validation RMSE did not improve for 2 epochs"


@pytest.mark.slow
def test_no_patience_trains_through_a_flat_validation_curve(data, tmp_path):
    cfg = lite(epochs=4, learning_rate=1e-12, gen_norm="none", disc_norm="none", gen_dropout=0.0)
    state = train(data, tmp_path / "run", cfg, verbose=0)
    assert state["epochs_done"] == 4 and state["stop_reason"] == "finished all epochs"


def test_sample_grids_show_the_weight_average_that_predicts(data, tmp_path):
    from inpaint.callbacks import SampleGrid
    from inpaint.imaging import to_metric, to_model
    from inpaint.gan import build_gan

    gan = build_gan(lite(ema_decay=0.5, gen_dropout=0.0))
    for weight in gan.generator.trainable_weights:
        weight.assign(weight * 3.0)  # the raw generator now differs from its average
    white, real, mask = data.train_white.images[:2], data.train_real.images[:2], data.train_mask[:2]
    grid = SampleGrid(white, real, mask, tmp_path / "samples", tmp_path / "logs", every=1)
    grid.set_model(gan)
    x = to_model(white[..., None]).astype(np.float32)
    average = gan([x, mask[..., None].astype(np.float32)], training=False, generator=gan.ema_generator)
    raw = gan([x, mask[..., None].astype(np.float32)], training=False)
    assert np.abs(np.asarray(average) - np.asarray(raw)).max() > 1e-3
    np.testing.assert_allclose(grid.predict(), to_metric(np.asarray(average)[..., 0]), atol=1e-6)
