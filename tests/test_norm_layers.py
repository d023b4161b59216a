"""The fused batch norm learns what Keras' BatchNormalization learns: same outputs, gradients, moving statistics, files."""
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from inpaint import config, norm_layers
from inpaint.models import build_discriminator, build_generator


def _pair(momentum=0.9, shape=(4, 6, 5, 3)):
    """A Keras layer and the fused one with the same non-trivial weights, and a batch."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(0.5, 2.0, shape).astype(np.float32))
    keras_bn = layers.BatchNormalization(momentum=momentum, synchronized=True)
    fused_bn = norm_layers.BatchNormalization(momentum=momentum, synchronized=True)
    keras_bn.build(x.shape)
    fused_bn.build(x.shape)
    channels = shape[-1]
    weights = [rng.uniform(0.5, 1.5, channels), rng.normal(0, 1, channels), rng.normal(0, 1, channels),
               rng.uniform(0.5, 2.0, channels)]
    for layer in (keras_bn, fused_bn):
        layer.set_weights([w.astype(np.float32) for w in weights])  # gamma, beta, moving mean, moving variance
    return keras_bn, fused_bn, x


def _output_and_gradients(layer, x, training):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        # a loss that weighs every output differently, so the gradient is not trivially zero
        loss = tf.reduce_sum(y * tf.reshape(tf.range(tf.size(y), dtype=y.dtype), y.shape) / 100.0)
    return [y, *tape.gradient(loss, [x, layer.gamma, layer.beta])]


@pytest.mark.parametrize("training", [True, False])
def test_outputs_and_gradients_equal_keras(training):
    keras_bn, fused_bn, x = _pair()
    expected = _output_and_gradients(keras_bn, x, training)
    got = _output_and_gradients(fused_bn, x, training)
    for name, e, g in zip(("output", "d/dx", "d/dgamma", "d/dbeta"), expected, got):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


def test_moving_statistics_follow_keras_over_several_steps():
    # The fused op hands back the unbiased (n - 1) variance: uncorrected, moving_variance would drift above Keras'.
    keras_bn, fused_bn, x = _pair(momentum=0.9, shape=(2, 3, 2, 4))  # n = 12 per channel: a 9% Bessel factor
    for step in range(5):
        batch = x * (1.0 + step) + step
        keras_bn(batch, training=True)
        fused_bn(batch, training=True)
    np.testing.assert_allclose(fused_bn.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(keras_bn.moving_variance.numpy(), [0.5, 0.5, 0.5, 0.5], rtol=0.1)  # they moved


def test_float16_input_as_keras_under_mixed_precision():
    keras_bn, fused_bn, x = _pair()
    for layer in (keras_bn, fused_bn):
        layer.dtype_policy = "mixed_float16"
    x16 = tf.cast(x, "float16")
    expected, got = keras_bn(x16, training=True), fused_bn(x16, training=True)
    assert got.dtype == expected.dtype == tf.float16
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy(), rtol=1e-5)


def test_other_ranks_take_keras_path():
    keras_bn, fused_bn, _ = _pair(shape=(4, 3))
    x = tf.constant(np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32))
    np.testing.assert_allclose(fused_bn(x, training=True).numpy(), keras_bn(x, training=True).numpy(), rtol=1e-5)


def test_run_folders_weights_load_into_either_layer(tmp_path, monkeypatch):
    """Keras files weights under the layer's snake-cased class name: the kit's generator with Keras' layer
    and with the fused one write the same file layout, so weights saved before this change still load."""
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3)
    fused = build_generator(cfg)
    assert any(type(layer) is norm_layers.BatchNormalization for layer in fused.layers)
    assert any(type(layer) is norm_layers.BatchNormalization for layer in build_discriminator(cfg).layers)
    with monkeypatch.context() as patch:
        patch.setattr(norm_layers, "BatchNormalization", layers.BatchNormalization)  # the generator as built before
        plain = build_generator(cfg)
    assert not any(type(layer) is norm_layers.BatchNormalization for layer in plain.layers)
    rng = np.random.default_rng(2)
    plain.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in plain.get_weights()])
    plain.save_weights(tmp_path / "best.weights.h5")
    fused.load_weights(tmp_path / "best.weights.h5")
    for a, b in zip(plain.get_weights(), fused.get_weights()):
        np.testing.assert_array_equal(a, b)
