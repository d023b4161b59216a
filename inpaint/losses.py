"""Losses as small pure functions of tensors; each returns a float32 scalar.

The adversarial kind ("lsgan" | "bce" | "hinge") is a name passed in, so training code
never branches on it (after the reference pix2pix's GANLoss). The discriminator loss
is logged as its two halves, D_real and D_fake; the update uses their mean, as pix2pix does.
"""
from __future__ import annotations

from keras import ops

KINDS = ("lsgan", "bce", "hinge")


def _f32(x):
    return ops.cast(x, "float32")  # logits may be float16 under mixed precision


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"adversarial loss must be one of {KINDS}, got {kind!r}")


def d_real_loss(kind: str, real_logits):
    """How far the discriminator is from calling real pairs real."""
    _check(kind)
    x = _f32(real_logits)
    if kind == "lsgan":  # the deck's choice: MSE to target 1 on the raw outputs
        return ops.mean(ops.square(x - 1.0))
    if kind == "bce":  # -log(sigmoid(x)) = softplus(-x), stable for large |x|
        return ops.mean(ops.softplus(-x))
    return ops.mean(ops.relu(1.0 - x))


def d_fake_loss(kind: str, fake_logits):
    """How far the discriminator is from calling generated pairs fake."""
    _check(kind)
    x = _f32(fake_logits)
    if kind == "lsgan":
        return ops.mean(ops.square(x))
    if kind == "bce":  # -log(1 - sigmoid(x)) = softplus(x)
        return ops.mean(ops.softplus(x))
    return ops.mean(ops.relu(1.0 + x))


def adversarial_d_loss(kind: str, real_logits, fake_logits):
    """0.5 * (D_real + D_fake): pix2pix halves the sum so D learns slower than G."""
    return 0.5 * (d_real_loss(kind, real_logits) + d_fake_loss(kind, fake_logits))


def adversarial_g_loss(kind: str, fake_logits):
    """The generator wants its pairs called real (hinge: wants high logits)."""
    _check(kind)
    if kind == "hinge":
        return -ops.mean(_f32(fake_logits))
    return d_real_loss(kind, fake_logits)


def _hole_weights(mask, hole_weight: float):
    return 1.0 + (hole_weight - 1.0) * _f32(mask)


def masked_l1(target, pred, mask, hole_weight: float = 1.0):
    """Mean over all pixels of |target - pred|, pixels inside the mask weighted `hole_weight`.

    Divided by the pixel count, not the weight sum, so hole_weight=1 is plain MAE and
    raising it adds emphasis on the hole without shrinking the loss outside it.
    """
    return ops.mean(ops.abs(_f32(target) - _f32(pred)) * _hole_weights(mask, hole_weight))


def masked_l2(target, pred, mask, hole_weight: float = 1.0):
    """As masked_l1 with squared error (hole_weight=1 is plain MSE)."""
    return ops.mean(ops.square(_f32(target) - _f32(pred)) * _hole_weights(mask, hole_weight))

