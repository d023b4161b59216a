"""Augment what the discriminator judges, never what the generator reads (config `d_augment`).

With a few hundred pairs the discriminator learns the training pairs by heart: it then calls every
training pair right while its verdicts on new faces stay near chance, and its gradient stops telling
the generator anything that carries over. Differentiable augmentation (Zhao et al. 2020) shows D
every pair, real and generated, through random transforms that the generator's gradient flows back
through, so D cannot key on the exact training images; the adaptive probability (Karras et al. 2020,
ADA) raises how often they are applied while D separates the training pairs too well.

D judges (White, image) pairs: both images of a pair get the same transform, so the condition still
matches its image. Random draws are stateless, seeded by the training step, so a resumed run draws
what the uninterrupted one drew.
"""
from __future__ import annotations

import tensorflow as tf

MAX_SHIFT = 1 / 8  # translation: up to this share of the image, each way
CUTOUT = 1 / 2  # cutout: a rectangle of this share of each side, set to mid-grey (0 in model space)
BRIGHTNESS = 0.5  # color: brightness shift up to this much in model space ([-1, 1])
CONTRAST = 0.5  # color: contrast scaled by 1 +- this about the pair's mean
THRESHOLDS = {"lsgan": 0.5, "bce": 0.0, "hinge": 0.0}  # D output between its real and fake targets


def _seed(seed, salt: int):
    return tf.cast(seed, tf.int32) + tf.constant([0, salt], tf.int32)


def _translate(x, seed, apply):
    """Shift each image of (B, M, N, C) by whole pixels, up to MAX_SHIFT of its size; zeros come in."""
    shape = tf.shape(x)
    batch, rows, cols = shape[0], shape[1], shape[2]
    limits = [tf.cast(tf.cast(size, tf.float32) * MAX_SHIFT + 0.5, tf.int32) for size in (rows, cols)]
    shifts = [tf.random.stateless_uniform([batch, 1], _seed(seed, i), -limit, limit + 1, dtype=tf.int32)
              * tf.cast(apply, tf.int32)[:, None] for i, limit in enumerate(limits)]
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # index 0 and size + 1 are the zero border
    row_index = tf.clip_by_value(tf.range(rows)[None] - shifts[0] + 1, 0, rows + 1)
    col_index = tf.clip_by_value(tf.range(cols)[None] - shifts[1] + 1, 0, cols + 1)
    x = tf.gather(padded, row_index, axis=1, batch_dims=1)
    return tf.gather(x, col_index, axis=2, batch_dims=1)


def _cutout(x, seed, apply):
    """Set a random rectangle of CUTOUT of each side to 0 (mid-grey), a different place per image."""
    shape = tf.shape(x)
    inside = []
    for axis in (1, 2):
        size = shape[axis]
        length = tf.cast(tf.cast(size, tf.float32) * CUTOUT + 0.5, tf.int32)
        start = tf.random.stateless_uniform([shape[0], 1], _seed(seed, 10 + axis), 0, size - length + 1,
                                            dtype=tf.int32)
        positions = tf.range(size)[None]
        inside.append(tf.cast((positions >= start) & (positions < start + length), x.dtype))
    rectangle = inside[0][:, :, None, None] * inside[1][:, None, :, None] * tf.cast(apply, x.dtype)[:, None, None, None]
    return x * (1.0 - rectangle)


def _color(x, seed, apply):
    """The same brightness shift and contrast scale for every channel (both images) of a pair."""
    batch = tf.shape(x)[0]
    on = tf.cast(apply, x.dtype)[:, None, None, None]
    shift = tf.random.stateless_uniform([batch, 1, 1, 1], _seed(seed, 20), -BRIGHTNESS, BRIGHTNESS, dtype=x.dtype) * on
    scale = 1.0 + tf.random.stateless_uniform([batch, 1, 1, 1], _seed(seed, 21), -CONTRAST, CONTRAST, dtype=x.dtype) * on
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return x * scale + (mean * (1.0 - scale) + shift)  # exactly x where the transform is skipped


TRANSFORMS = {"translation": _translate, "cutout": _cutout, "color": _color}


def augment_pairs(condition, image, names, probability, seed):
    """(condition, image) batches -> both transformed alike, each transform applied to a pair with `probability`.

    `names` lists TRANSFORMS keys; `seed` is a stateless seed, shape [2] (the step and a salt). A pair
    a transform skips gets its identity (no shift, no cut, unit contrast), so nothing is computed twice.
    """
    channels = condition.shape[-1]
    pair = tf.concat([condition, image], axis=-1)
    batch = tf.shape(pair)[0]
    for i, name in enumerate(names):
        apply = tf.random.stateless_uniform([batch], _seed(seed, 100 * (i + 1) + 99)) < probability
        pair = TRANSFORMS[name](pair, _seed(seed, 100 * (i + 1)), apply)
    return pair[..., :channels], pair[..., channels:]


def real_sign(kind: str, real_logits):
    """ADA's overfitting measure: the mean sign of D's output on real pairs (1 = calls them all real)."""
    return tf.reduce_mean(tf.sign(tf.cast(real_logits, tf.float32) - THRESHOLDS[kind]))


def adapted_probability(probability, sign, target: float, pairs: int, adapt_pairs: int):
    """One step of ADA: up when D calls real pairs real more often than `target`, down otherwise,
    by `pairs / adapt_pairs` (so 0 -> 1 takes `adapt_pairs` pairs seen)."""
    step = tf.sign(sign - target) * (pairs / adapt_pairs)
    return tf.clip_by_value(probability + step, 0.0, 1.0)
