"""D's separation log: its mean output on real and generated pairs, training and validation (inpaint/d_separation.py)."""
import numpy as np
import pandas as pd
import pytest

from inpaint.d_separation import DSeparation
from inpaint.gan import build_gan
from inpaint.training import train
from test_train import data, lite  # noqa: F401  (the training tests' tiny set and lite config)


@pytest.mark.parametrize("kind, expected", [("lsgan", 0.3), ("bce", 1 / (1 + np.exp(-0.3)))])
def test_separation_log_is_d_mean_output_on_training_and_validation_pairs(data, kind, expected):
    gan = build_gan(lite(adversarial=kind))
    d = gan.discriminator
    d.set_weights([np.zeros_like(w) if w.ndim == 4 else w for w in d.get_weights()])
    d.get_layer("logits").bias.assign([0.3])  # every kernel 0: D says 0.3 to any pair
    moving = [v.numpy().copy() for v in d.non_trainable_variables]
    pairs = (data.train_white.images[:5], data.train_real.images[:5], data.train_mask[:5])
    callback = DSeparation(pairs, pairs, batch_size=4)
    callback.set_model(gan)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert set(logs) == {"D_out_real", "D_out_fake", "val_D_out_real", "val_D_out_fake"}
    for value in logs.values():
        assert value == pytest.approx(expected, abs=1e-6)
    for v, before in zip(d.non_trainable_variables, moving):  # measured in training mode, state left alone
        np.testing.assert_array_equal(v.numpy(), before)


@pytest.mark.slow
def test_a_run_logs_d_separation_for_tensorboard_and_the_report(data, tmp_path):
    train(data, tmp_path / "run", lite(steps=2, epochs=1), verbose=0)
    log = pd.read_csv(tmp_path / "run" / "log.csv")
    for column in ("D_out_real", "D_out_fake", "val_D_out_real", "val_D_out_fake"):
        assert np.isfinite(log[column]).all(), column
