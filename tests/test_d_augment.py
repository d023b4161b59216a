"""Keeping D from memorising: augmentation of what D judges (never what G reads), ADA, R1, D's separation log."""
import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from inpaint import d_augment, losses, prefill
from inpaint.d_separation import DSeparation
from inpaint.gan import Pix2Pix, build_gan
from inpaint.models import build_discriminator, build_generator
from inpaint.run_folder import RunCheckpoint
from inpaint.train import train
from test_train import data, generator_weights, lite  # noqa: F401  (the training tests' tiny set and lite config)

SEED = tf.constant([3, 7])


def images(n=4, size=32, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 1)).astype(np.float32))


@pytest.mark.parametrize("name", sorted(d_augment.TRANSFORMS))
def test_each_transform_changes_both_images_of_a_pair_alike(name):
    image = images()
    condition, judged = d_augment.augment_pairs(image, image, (name,), 1.0, SEED)
    np.testing.assert_array_equal(condition.numpy(), judged.numpy())  # one transform for the pair
    assert np.abs(judged.numpy() - image.numpy()).max() > 0.1  # and it did transform
    # Pairs of different images: each image gets what it would get alone as the pair's condition.
    other = images(seed=1)
    c2, j2 = d_augment.augment_pairs(other, image, (name,), 1.0, SEED)
    if name != "color":  # color's contrast centre is the pair's mean, so it depends on both
        np.testing.assert_array_equal(j2.numpy(), judged.numpy())
        np.testing.assert_array_equal(c2.numpy(), d_augment.augment_pairs(other, other, (name,), 1.0, SEED)[0].numpy())


def test_translation_shifts_whole_pixels_and_lets_zeros_in():
    image = images(n=1, size=16)
    shifted = d_augment.augment_pairs(image, image, ("translation",), 1.0, SEED)[1].numpy()[0, ..., 0]
    original = image.numpy()[0, ..., 0]
    matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
               if np.array_equal(np.roll(original, (dy, dx), axis=(0, 1))[2:-2, 2:-2], shifted[2:-2, 2:-2])]
    assert len(matches) == 1 and matches[0] != (0, 0)
    dy, dx = matches[0]
    edge = shifted[:dy] if dy > 0 else shifted[dy:] if dy < 0 else shifted[:, :dx] if dx > 0 else shifted[:, dx:]
    assert not edge.any()


def test_probability_zero_leaves_pairs_as_they_are_and_a_step_repeats_its_draws():
    image = images()
    names = tuple(sorted(d_augment.TRANSFORMS))
    untouched = d_augment.augment_pairs(image, image, names, 0.0, SEED)
    np.testing.assert_array_equal(untouched[1].numpy(), image.numpy())
    again = [d_augment.augment_pairs(image, image, names, 1.0, SEED)[1].numpy() for _ in range(2)]
    np.testing.assert_array_equal(*again)  # stateless: a resumed run draws the same
    other_step = d_augment.augment_pairs(image, image, names, 1.0, tf.constant([4, 7]))[1].numpy()
    assert np.abs(other_step - again[0]).max() > 0.1


class Recorder(keras.layers.Layer):
    """Passes its input on and keeps the last batch it saw."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.seen = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="seen")

    def call(self, x):
        self.seen.assign(x)
        return x


def test_train_step_augments_what_d_judges_and_never_what_g_reads(data):
    cfg = lite(prefill="telea", d_augment="translation,cutout,color", d_augment_p=1.0)
    n, rows, cols = 4, *cfg.image_size
    generator, discriminator = build_generator(cfg), build_discriminator(cfg)
    g_in = keras.Input((rows, cols, 2))
    g_seen = Recorder((n, rows, cols, 2))
    spy_g = keras.Model(g_in, generator(g_seen(g_in)))
    condition, judged = keras.Input((rows, cols, 1)), keras.Input((rows, cols, 1))
    d_seen = Recorder((n, rows, cols, 1))
    spy_d = keras.Model([condition, judged], discriminator([d_seen(condition), judged]))
    gan = Pix2Pix(spy_g, spy_d, cfg)
    gan.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam())

    white, real, mask = data.train_white.images[:n], data.train_real.images[:n], data.train_mask[:n]
    filled = prefill.Prefill("telea")(white, mask)
    model = [tf.constant(x[..., None] * 2.0 - 1.0) for x in (white, real, filled)]
    batch = (model[0], model[1], tf.constant(mask[..., None]), model[2])
    gan.train_step(batch)
    np.testing.assert_array_equal(g_seen.seen.numpy()[..., 0], model[2].numpy()[..., 0])  # the filled face, as is
    np.testing.assert_array_equal(g_seen.seen.numpy()[..., 1], mask)
    assert np.abs(d_seen.seen.numpy() - model[0].numpy()).max() > 0.1  # D's condition was augmented


def test_adaptive_probability_moves_toward_the_target_by_the_pairs_seen():
    assert float(d_augment.real_sign("lsgan", tf.constant([0.9, 0.6, 0.2, 0.4]))) == 0.0
    assert float(d_augment.real_sign("hinge", tf.constant([0.9, 0.6, 0.2, -0.4]))) == 0.5
    up = d_augment.adapted_probability(0.5, tf.constant(1.0), 0.6, 8.0, 80)
    down = d_augment.adapted_probability(0.5, tf.constant(0.0), 0.6, 8.0, 80)
    assert float(up) == pytest.approx(0.6) and float(down) == pytest.approx(0.4)
    assert float(d_augment.adapted_probability(0.95, tf.constant(1.0), 0.6, 8.0, 80)) == 1.0
    gan = build_gan(lite(d_augment="cutout", d_augment_target=0.6, d_augment_adapt_pairs=80))
    assert float(gan.d_augment_p) == 0.0  # ADA starts without augmentation
    gan._adapt_augmentation(tf.fill([4, 2, 2, 1], 0.9), 8.0)  # D calls every real patch real
    assert float(gan.d_augment_p) == pytest.approx(0.1)


@pytest.mark.slow
def test_resumed_run_with_augmentation_reproduces_the_uninterrupted_one(data, tmp_path):
    # The draws follow the step (stateless), so a run resumed at an epoch boundary augments as the
    # uninterrupted one did and ends with the same weights.
    cfg = lite(epochs=2, prefill="telea", d_augment="translation,cutout,color", d_augment_p=0.5)
    train(data, tmp_path / "straight", cfg, verbose=0)
    train(data, tmp_path / "split", cfg.replace(epochs=1), verbose=0)
    train(data, tmp_path / "split", cfg, resume=True, verbose=0)
    for a, b in zip(generator_weights(tmp_path / "straight"), generator_weights(tmp_path / "split")):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    log = pd.read_csv(tmp_path / "straight" / "log.csv")
    assert "val_D_aug_p" not in log and (log["D_aug_p"] == 0.5).all()


def test_checkpoint_keeps_the_adaptive_probability(tmp_path):
    cfg = lite(d_augment="cutout", d_augment_target=0.6)
    gan = build_gan(cfg)
    gan.d_augment_p.assign(0.37)
    RunCheckpoint(gan, tmp_path, keep=1).save()
    resumed = build_gan(cfg)
    RunCheckpoint(resumed, tmp_path, keep=1).restore_latest(tmp_path)
    assert float(resumed.d_augment_p) == pytest.approx(0.37)


def test_r1_is_zero_for_a_flat_discriminator_and_positive_for_one_that_is_not():
    cfg = lite()
    d = build_discriminator(cfg)
    condition, image = images(), images(seed=1)
    assert float(losses.r1_penalty(d, condition, image)[0]) > 0
    d.set_weights([np.zeros_like(w) if w.ndim == 4 else w for w in d.get_weights()])  # every kernel 0: flat
    assert float(losses.r1_penalty(d, condition, image)[0]) == 0.0


def test_r1_of_a_linear_discriminator_is_the_hand_computed_value():
    # D(c, x) = a * c + b * x per pixel; its mean over 8 x 8 pixels has gradient b / 64 at each pixel
    # of x, so |grad|^2 = 64 * (b / 64)^2 = b^2 / 64 for every pair.
    c_in, x_in = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    out = keras.layers.Conv2D(1, 1, use_bias=False)(keras.layers.Concatenate()([c_in, x_in]))
    d = keras.Model([c_in, x_in], out)
    d.set_weights([np.array([0.5, 2.0], np.float32).reshape(1, 1, 2, 1)])
    penalty, _ = losses.r1_penalty(d, images(size=8), images(size=8, seed=1))
    assert float(penalty) == pytest.approx(4.0 / 64, rel=1e-6)


@pytest.mark.slow
def test_r1_run_logs_the_penalty(data, tmp_path):
    train(data, tmp_path / "run", lite(steps=2, epochs=1, r1_gamma=10.0), verbose=0)
    log = pd.read_csv(tmp_path / "run" / "log.csv")
    assert log["D_R1"].iloc[0] > 0 and "val_D_R1" not in log


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
