"""Generator and discriminator factories: shapes, parameter counts by hand, layer order, dtypes."""
import keras
import numpy as np
import pytest

from inpaint.models import patch_discriminator, unet


def conv(k, cin, cout):
    return k * k * cin * cout + cout


def bn(c):
    return 4 * c


def test_small_unet_shape_and_parameter_count():
    g = unet((32, 32, 1), depth=3, base_filters=4, max_filters=8, dropout=0.5)
    assert g.output_shape == (None, 32, 32, 1)
    # widths 4, 8, 8; no norm on the first down block; transposed convs in the decoder
    down = conv(4, 1, 4) + conv(4, 4, 8) + bn(8) + conv(4, 8, 8) + bn(8)
    up = conv(4, 8, 8) + bn(8) + conv(4, 8 + 8, 4) + bn(4) + conv(4, 4 + 4, 1)
    assert g.count_params() == down + up


def test_pix2pix_default_shapes_and_discriminator_count():
    d = patch_discriminator((32, 32, 1), depth=2, base_filters=4, max_filters=16)
    # 32 -> 16 -> 8 (stride 2), then a stride-1 block and the logit conv keep 8x8
    assert d.output_shape == (None, 8, 8, 1)
    assert d.count_params() == conv(4, 2, 4) + conv(4, 4, 8) + bn(8) + conv(4, 8, 16) + bn(16) + conv(4, 16, 1)
    g = unet((64, 64, 1), depth=6, base_filters=8, max_filters=64, upsample="upsample_conv", norm="instance")
    assert g.output_shape == (None, 64, 64, 1)


def test_deck_generator_activates_before_normalising():
    g = unet((128, 128, 1), depth=5, base_filters=4, max_filters=32, upsample="upsample_conv",
             act_before_norm=True, dropout=0.0)
    kinds = [type(layer).__name__ for layer in g.layers[1:]]
    assert kinds[:5] == ["Conv2D", "LeakyReLU", "Conv2D", "LeakyReLU", "BatchNormalization"]
    assert kinds[-3:] == ["UpSampling2D", "Conv2D", "Activation"]


def test_input_not_divisible_by_two_to_the_depth_is_a_clear_error():
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 32"):
        unet((48, 48, 1), depth=5)


def test_instance_norm_normalises_each_image_and_channel():
    g = unet((16, 16, 1), depth=2, base_filters=4, max_filters=8, norm="instance")
    layer = next(layer for layer in g.layers if isinstance(layer, keras.layers.GroupNormalization))
    x = np.random.default_rng(0).normal(3.0, 5.0, (2, 4, 4, 8)).astype("float32")
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-2)


def test_outputs_are_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        g = unet((32, 32, 1), depth=3, base_filters=4, max_filters=8)
        d = patch_discriminator((32, 32, 1), depth=2, base_filters=4, spectral_norm_first=True)
        x = np.zeros((1, 32, 32, 1), "float32")
        assert g(x).dtype == "float32" and d([x, x]).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
