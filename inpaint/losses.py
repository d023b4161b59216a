"""Losses as small pure functions of tensors; each returns a float32 scalar.

The adversarial kind ("lsgan" | "bce" | "hinge") is a name passed in, so training code
never branches on it (after the reference pix2pix's GANLoss). The discriminator loss
is logged as its two halves, D_real and D_fake; the update uses their mean, as pix2pix does.
"""
from __future__ import annotations

import tensorflow as tf

KINDS = ("lsgan", "bce", "hinge")


def _f32(x):
    return tf.cast(x, tf.float32)  # logits may be float16 under mixed precision


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"adversarial loss must be one of {KINDS}, got {kind!r}")


def d_real_loss(kind: str, real_logits):
    """How far the discriminator is from calling real pairs real."""
    _check(kind)
    x = _f32(real_logits)
    if kind == "lsgan":
        return tf.reduce_mean(tf.square(x - 1.0))
    if kind == "bce":
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(x), x))
    return tf.reduce_mean(tf.nn.relu(1.0 - x))


def d_fake_loss(kind: str, fake_logits):
    """How far the discriminator is from calling generated pairs fake."""
    _check(kind)
    x = _f32(fake_logits)
    if kind == "lsgan":
        return tf.reduce_mean(tf.square(x))
    if kind == "bce":
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(x), x))
    return tf.reduce_mean(tf.nn.relu(1.0 + x))


def adversarial_d_loss(kind: str, real_logits, fake_logits):
    return 0.5 * (d_real_loss(kind, real_logits) + d_fake_loss(kind, fake_logits))


def adversarial_g_loss(kind: str, fake_logits):
    """The generator wants its pairs called real (hinge: wants high logits)."""
    _check(kind)
    x = _f32(fake_logits)
    if kind == "hinge":
        return -tf.reduce_mean(x)
    return d_real_loss(kind, x)


def _hole_weights(mask, hole_weight: float):
    return 1.0 + (hole_weight - 1.0) * _f32(mask)


def masked_l1(target, pred, mask, hole_weight: float = 1.0):
    """Mean over pixels of |target - pred|, pixels inside the mask weighted `hole_weight` (1 = plain MAE)."""
    return tf.reduce_mean(tf.abs(_f32(target) - _f32(pred)) * _hole_weights(mask, hole_weight))


def masked_l2(target, pred, mask, hole_weight: float = 1.0):
    """As masked_l1 with squared error."""
    return tf.reduce_mean(tf.square(_f32(target) - _f32(pred)) * _hole_weights(mask, hole_weight))
