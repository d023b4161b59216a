"""Networks as parametric factories: `unet(...)` and `patch_discriminator(...)`, and the configured
networks a run trains, `build_generator(cfg)` and `build_discriminator(cfg)` (pix2pix's define_G/define_D).

Defaults follow pix2pix (Isola et al. 2017): a U-Net with skips at every level and a
70x70 PatchGAN. The course's "simplified pix2pix" is the same factories with other
arguments (see baselines/pix2pix_lite.py), so there is one U-Net in the kit, not two.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import layers, ops

from inpaint import norm_layers

if TYPE_CHECKING:
    from inpaint.config import Config

NORMS = ("batch", "instance", "none")
UPSAMPLES = ("transpose", "upsample_conv")


def init() -> keras.initializers.Initializer:
    """pix2pix's N(0, 0.02) weights, one initializer per layer.

    An unseeded Keras initializer fixes its seed when it is created: one shared instance made at
    import time would give every same-shaped layer the same weights, and a seed that
    `keras.utils.set_random_seed` cannot reach, so runs would differ between processes.
    """
    return keras.initializers.RandomNormal(0.0, 0.02)


def _norm(kind: str, bn_momentum: float = 0.99):
    if kind == "batch":
        # synchronized: under MirroredStrategy the statistics cover the global batch, so
        # 1 and N replicas train the same model; it is a no-op on one device.
        return norm_layers.BatchNormalization(momentum=bn_momentum, synchronized=True)
    if kind == "instance":
        return layers.GroupNormalization(groups=-1, epsilon=1e-5)  # one group per channel = instance norm
    if kind == "none":
        return None
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


def _activate_and_norm(x, activation, norm: str, act_before_norm: bool, bn_momentum: float = 0.99):
    """pix2pix normalises before the activation; the course deck does it after."""
    norm_layer = _norm(norm, bn_momentum)
    if act_before_norm:
        x = activation(x)
        return norm_layer(x) if norm_layer else x
    x = norm_layer(x) if norm_layer else x
    return activation(x)


def down_block(x, filters: int, kernel_size: int, norm: str, act_before_norm: bool, strides: int = 2,
               bn_momentum: float = 0.99):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", kernel_initializer=init())(x)
    return _activate_and_norm(x, layers.LeakyReLU(0.2), norm, act_before_norm, bn_momentum)


def up_block(x, filters: int, kernel_size: int, norm: str, act_before_norm: bool, upsample: str, dropout: float,
             bn_momentum: float = 0.99):
    if upsample == "transpose":
        x = layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same", kernel_initializer=init())(x)
    elif upsample == "upsample_conv":
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(filters, kernel_size, padding="same", kernel_initializer=init())(x)
    else:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")
    x = _activate_and_norm(x, layers.ReLU(), norm, act_before_norm, bn_momentum)
    return layers.Dropout(dropout)(x) if dropout else x


def _widths(depth: int, base: int, cap: int) -> list[int]:
    return [min(base * 2**i, cap) for i in range(depth)]


def _check_options(depth: int, norm: str, upsample: str | None = None) -> None:
    # Checked before building: a bad name deep in the loop would surface as a half-built graph.
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if upsample is not None and upsample not in UPSAMPLES:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")


def unet(
    input_shape=(128, 128, 1),
    depth: int = 7,
    base_filters: int = 64,
    max_filters: int = 512,
    kernel_size: int = 4,
    norm: str = "batch",
    dropout: float = 0.5,
    dropout_layers: int = 3,
    upsample: str = "transpose",
    first_norm: bool = False,
    innermost_norm: bool = True,
    act_before_norm: bool = False,
    bn_momentum: float = 0.99,
    out_channels: int = 1,
    residual: bool = False,
    name: str = "generator",
) -> keras.Model:
    """U-Net: `depth` stride-2 down blocks, `depth - 1` up blocks each concatenated with its skip, tanh output.

    The input may carry more channels than the output (White and the mask: `generator_input`).
    With `residual` the output is the first input channel(s) plus the tanh correction, clipped to
    [-1, 1], and the last layer starts at zero: untrained, the network returns its input (the
    classically filled face of inpaint/prefill.py), and training learns what the fill gets wrong.
    """
    _check_options(depth, norm, upsample)
    rows, cols = input_shape[:2]
    if rows % 2**depth or cols % 2**depth:
        raise ValueError(f"input {rows}x{cols} must be divisible by 2**depth = {2**depth}; lower depth or resize")
    inputs = keras.Input(input_shape, name="white")
    widths = _widths(depth, base_filters, max_filters)
    x, skips = inputs, []
    for i, filters in enumerate(widths):
        # pix2pix leaves the first and the innermost block unnormalised (innermost_norm=False): at the
        # 1x1 bottleneck batch norm describes each face relative to its batch.
        use_norm = (i or first_norm) and (i < depth - 1 or innermost_norm)
        x = down_block(x, filters, kernel_size, norm if use_norm else "none", act_before_norm,
                       bn_momentum=bn_momentum)
        skips.append(x)
    # Decoder mirrors the encoder; dropout in the deepest blocks, as pix2pix's noise source.
    for i, (filters, skip) in enumerate(zip(reversed(widths[:-1]), reversed(skips[:-1]))):
        x = up_block(x, filters, kernel_size, norm, act_before_norm, upsample, dropout if i < dropout_layers else 0.0,
                     bn_momentum)
        x = layers.Concatenate()([x, skip])
    last_init = "zeros" if residual else init()
    if upsample == "transpose":
        x = layers.Conv2DTranspose(out_channels, kernel_size, strides=2, padding="same", kernel_initializer=last_init)(x)
    else:
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(out_channels, kernel_size, padding="same", kernel_initializer=last_init)(x)
    outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)  # float32 under mixed precision
    if residual:
        start = ops.cast(inputs[..., :out_channels], "float32")
        outputs = ops.clip(start + outputs, -1.0, 1.0)
    return keras.Model(inputs, outputs, name=name)


def generator_input(generator: keras.Model, face, mask):
    """What `generator` reads: the face alone, or the face and the 0/1 mask as a second channel.

    The face is White, or White with its box filled when the run has a prefill (inpaint/prefill.py).
    Read from the model's own input shape, so a saved generator is fed the way it was trained.
    Plain concatenation: serves numpy arrays (prediction) and tensors (the train step) alike.
    """
    if generator.inputs[0].shape[-1] == 1:
        return face
    return ops.concatenate([face, ops.cast(mask, face.dtype)], axis=-1)


def patch_discriminator(
    input_shape=(128, 128, 1),
    depth: int = 3,
    base_filters: int = 64,
    max_filters: int = 512,
    kernel_size: int = 4,
    norm: str = "batch",
    first_norm: bool = False,
    spectral_norm_first: bool = False,
    act_before_norm: bool = False,
    final_stride1_block: bool = True,
    name: str = "discriminator",
) -> keras.Model:
    """PatchGAN on the (condition, image) pair: a map of real/fake logits, one per receptive-field patch.

    pix2pix's 70x70 PatchGAN is depth=3 (64, 128, 256, stride 2) + a stride-1 block (512) + a
    stride-1 conv to one channel. Padding is "same" throughout, so the map is M/2**depth x
    N/2**depth (16x16 for 128x128; pix2pix's zero-padding-1 convs give 30x30 at 256 where this
    gives 32x32); each logit still sees a 70x70 patch. The deck's variant is depth=4, base 4,
    max 32, act_before_norm=True, final_stride1_block=False.
    """
    _check_options(depth, norm)
    condition = keras.Input(input_shape, name="condition")
    image = keras.Input(input_shape, name="image")
    x = layers.Concatenate()([condition, image])
    widths = _widths(depth + 1, base_filters, max_filters)
    first = layers.Conv2D(widths[0], kernel_size, strides=2, padding="same", kernel_initializer=init())
    x = (layers.SpectralNormalization(first) if spectral_norm_first else first)(x)
    x = _activate_and_norm(x, layers.LeakyReLU(0.2), norm if first_norm else "none", act_before_norm)
    for filters in widths[1:depth]:
        x = down_block(x, filters, kernel_size, norm, act_before_norm)
    if final_stride1_block:
        x = down_block(x, widths[depth], kernel_size, norm, act_before_norm, strides=1)
    logits = layers.Conv2D(1, kernel_size, padding="same", kernel_initializer=init(), dtype="float32", name="logits")(x)
    return keras.Model([condition, image], logits, name=name)


def build_generator(cfg: "Config") -> keras.Model:
    """The U-Net a run with this config trains and predicts with."""
    # A prefilled face no longer shows where the box is: that generator reads the mask too.
    starts_filled = cfg.prefill != "none"
    return unet(
        input_shape=(*cfg.net_size, 2 if cfg.mask_input or starts_filled else 1),
        depth=cfg.gen_depth,
        base_filters=cfg.gen_base_filters,
        max_filters=cfg.gen_max_filters,
        norm=cfg.gen_norm,
        dropout=cfg.gen_dropout,
        upsample=cfg.gen_upsample,
        act_before_norm=cfg.gen_act_before_norm,
        innermost_norm=cfg.gen_innermost_norm,
        bn_momentum=cfg.gen_bn_momentum,
        residual=starts_filled,
    )


def build_discriminator(cfg: "Config") -> keras.Model:
    """The PatchGAN a run with this config trains against."""
    return patch_discriminator(
        input_shape=(*cfg.net_size, 1),
        depth=cfg.disc_depth,
        base_filters=cfg.disc_base_filters,
        max_filters=cfg.disc_max_filters,
        norm=cfg.disc_norm,
        spectral_norm_first=cfg.disc_spectral_norm_first,
        final_stride1_block=cfg.disc_final_stride1,
        act_before_norm=cfg.disc_act_before_norm,
    )
