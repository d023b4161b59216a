"""tf.data pipelines: arrays in metric space -> batches of (white, real, mask) in model space.

With a prefill (config `prefill`, inpaint/prefill.py) a fourth element follows: White with its box
filled, computed after augmentation from the augmented White, as prediction computes it from White.

The training stream is a pure function of (seed, epoch): each epoch's order and
augmentation come from stateless ops seeded by the epoch number, so a run resumed
at epoch e sees exactly the batches the uninterrupted run saw.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from inpaint.config import Config
from inpaint.imaging import to_metric, to_model
from inpaint.prefill import Prefill


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices; the same seed always holds out the same images."""
    if n < 2:
        raise ValueError("need at least 2 training pairs to hold out a validation set")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, int(round(n * val_fraction))), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _stack(white: np.ndarray, real: np.ndarray, mask: np.ndarray, filled: np.ndarray | None = None) -> np.ndarray:
    """(n, M, N, 3) float32 in model space for the images, 0/1 for the mask; (n, M, N, 4) with `filled`."""
    planes = [to_model(white), to_model(real), mask] + ([] if filled is None else [to_model(filled)])
    return np.stack(planes, axis=-1).astype(np.float32)


def _unstack(x):
    return tuple(x[..., i:i + 1] for i in range(x.shape[-1]))


def _with_fill(x, prefill: Prefill):
    """Append White with its box filled by `prefill` as a fourth channel of a stacked (M, N, 3) pair."""

    def fill(white, mask):
        return to_model(prefill(to_metric(white[None]), mask[None]))[0].astype(np.float32)

    filled = tf.numpy_function(fill, [x[..., 0], x[..., 2]], tf.float32, stateful=False)
    filled = tf.ensure_shape(filled, x.shape[:2])
    return tf.concat([x, filled[..., None]], axis=-1)


def _repaint(real, mask):
    """The White image a painter would make from Real with this mask: pure white inside, Real outside."""
    return tf.where(mask > 0.5, tf.ones_like(real), real)


def _box_of(mask):
    """(top, left, bottom, right) of a 0/1 (M, N, 1) mask, as float32 scalars."""
    rows = tf.cast(tf.where(tf.reduce_max(mask, axis=[1, 2]) > 0.5)[:, 0], tf.float32)
    cols = tf.cast(tf.where(tf.reduce_max(mask, axis=[0, 2]) > 0.5)[:, 0], tf.float32)
    return tf.reduce_min(rows), tf.reduce_min(cols), tf.reduce_max(rows) + 1.0, tf.reduce_max(cols) + 1.0


def _jittered_box_mask(mask, seed, jitter: float):
    """A new box mask: the old box moved by up to `jitter` of its size and scaled by 1 +- `jitter`."""
    top, left, bottom, right = _box_of(mask)
    u = tf.random.stateless_uniform([4], seed, -jitter, jitter)
    height, width = (bottom - top) * (1.0 + u[0]), (right - left) * (1.0 + u[1])
    centre_r = (top + bottom) / 2 + u[2] * (bottom - top)
    centre_c = (left + right) / 2 + u[3] * (right - left)
    rows = tf.range(tf.shape(mask)[0], dtype=tf.float32)[:, None, None]
    cols = tf.range(tf.shape(mask)[1], dtype=tf.float32)[None, :, None]
    inside = ((rows >= tf.round(centre_r - height / 2)) & (rows < tf.round(centre_r + height / 2))
              & (cols >= tf.round(centre_c - width / 2)) & (cols < tf.round(centre_c + width / 2)))
    return tf.cast(inside, mask.dtype)


def warp(image, scale, angle, shift_rows, shift_cols):
    """`image` (M, N, 1) scaled by `scale` and rotated by `angle` radians about its centre, then
    shifted by whole or fractional pixels; edges reflect, so no black corners."""
    rows, cols = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cy, cx = (rows - 1) / 2, (cols - 1) / 2
    # The op maps each output pixel (x, y) to the input pixel it samples: the inverse transform.
    x0, y0 = cx + shift_cols, cy + shift_rows
    transform = tf.stack([cos, sin, cx - cos * x0 - sin * y0, -sin, cos, cy + sin * x0 - cos * y0, 0.0, 0.0])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=tf.cast(transform, tf.float32)[None], output_shape=tf.shape(image)[:2],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")[0]


def _random_warp(image, seed, amount: float):
    """Shift up to `amount` of the image size, scale by 1 +- amount, rotate up to `amount` radians."""
    u = tf.random.stateless_uniform([4], seed, -amount, amount)
    size = tf.cast(tf.shape(image), tf.float32)
    return warp(image, 1.0 + u[0], u[1], u[2] * size[0], u[3] * size[1])


def _augment(x, seed, flip: bool, jitter: float, extra_boxes: float = 0.0, box_jitter: float = 0.25,
             geometric: float = 0.0):
    """Same flip, warp and brightness/contrast change for both images of a pair.

    A warp moves the face under the box, not the box: Real is warped and White repainted from it with
    the same axis-aligned mask, as a test image would be painted. `extra_boxes` is the share of
    pairs whose box is moved and resized first (Real is known, so any box makes a new pair).
    """
    if flip:
        x = tf.image.stateless_random_flip_left_right(x, seed)
    white, real, mask = _unstack(x)
    if extra_boxes > 0:
        use_new = tf.random.stateless_uniform([], seed + 3) < extra_boxes
        mask = tf.cond(use_new, lambda: _jittered_box_mask(mask, seed + 4, box_jitter), lambda: mask)
        white = tf.where(use_new, _repaint(real, mask), white)
    if geometric > 0:
        real = _random_warp(real, seed + 5, geometric)
        white = _repaint(real, mask)
    if jitter > 0:
        gain = tf.random.stateless_uniform([], seed + 1, 1.0 - jitter, 1.0 + jitter)
        shift = tf.random.stateless_uniform([], seed + 2, -jitter, jitter) * 2.0  # model space is twice as wide
        real = tf.clip_by_value(real * gain + shift, -1.0, 1.0)
        # The painted box stays pure white: it is what the model and the mask finder key on. Only the
        # box: a pure-white background or highlight outside it must change as in Real, or real pairs
        # (White kept, Real jittered there) differ from generated ones (composited from White) outside
        # the box, and D tells them apart without looking at the mouth (BENCHMARKS.md, third round).
        painted = (mask > 0.5) & (white >= 1.0)
        white = tf.where(painted, white, tf.clip_by_value(white * gain + shift, -1.0, 1.0))
    return tf.concat([white, real, mask], axis=-1)


def _random_window(x, seed, crop_size):
    """A `crop_size` window of the stacked pair anywhere its box fits (inpaint/crops.py centres it
    at prediction, one of the places seen here); a box larger than the window is cut."""
    top, left, bottom, right = _box_of(x[..., 2:3])
    u = tf.random.stateless_uniform([2], seed, 0.0, 1.0)
    corner = []
    for i, (low, high, length) in enumerate(((top, bottom, crop_size[0]), (left, right, crop_size[1]))):
        size = tf.cast(tf.shape(x)[i], tf.float32)
        first = tf.maximum(0.0, high - length)
        last = tf.maximum(tf.minimum(low, size - length), first)
        corner.append(tf.cast(tf.minimum(first + tf.floor(u[i] * (last - first + 1.0)), size - length), tf.int32))
    return tf.slice(x, [corner[0], corner[1], 0], [crop_size[0], crop_size[1], x.shape[-1]])


def train_dataset(white: np.ndarray, real: np.ndarray, mask: np.ndarray, cfg: Config, first_epoch: int = 0,
                  prefill: Prefill | None = None) -> tf.data.Dataset:
    """Endless stream of augmented batches of `cfg.batch_size`, epoch after epoch, starting at `first_epoch`.

    The config's seed, augmentation (flip, intensity_jitter, extra_boxes, box_jitter, geometric_jitter)
    and crop_size shape the stream. With a `crop_size` each pair is cut to a window around its box after
    augmentation; with an active `prefill` the box of the augmented White is filled (whole face) before
    the cut.

    Batches are full (drop_remainder): batch norm on a 2-image tail batch is noise,
    and replicas under a distribution strategy need equal shares.
    """
    batch_size, seed, crop_size = cfg.batch_size, cfg.seed, tuple(cfg.crop_size)
    flip, jitter, geometric = cfg.flip, cfg.intensity_jitter, cfg.geometric_jitter
    extra_boxes, box_jitter = cfg.extra_boxes, cfg.box_jitter
    stacked = tf.constant(_stack(white, real, mask))
    n = int(stacked.shape[0])
    if n < batch_size:
        raise ValueError(f"batch size {batch_size} is larger than the {n} training pairs")

    def one_pair(i, epoch):
        item_seed = tf.stack([tf.cast(epoch, tf.int32), i]) + seed
        x = _augment(tf.gather(stacked, i), item_seed, flip, jitter, extra_boxes, box_jitter, geometric)
        if prefill is not None and prefill.active:
            x = _with_fill(x, prefill)
        return _random_window(x, item_seed + 6, crop_size) if crop_size[0] else x

    def epoch_stream(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([seed, tf.cast(epoch, tf.int32)]))
        items = tf.data.Dataset.from_tensor_slices(order)
        return items.map(
            lambda i: one_pair(i, epoch),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        ).batch(batch_size, drop_remainder=True)

    epochs = tf.data.Dataset.range(first_epoch, 2**31 - 1)
    return epochs.flat_map(epoch_stream).map(_unstack).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return n_train // batch_size


def eval_dataset(white: np.ndarray, real: np.ndarray, mask: np.ndarray, batch_size: int,
                 filled: np.ndarray | None = None) -> tf.data.Dataset:
    """Validation batches in order, without augmentation (`filled`: White with its box prefilled)."""
    return (
        tf.data.Dataset.from_tensor_slices(_stack(white, real, mask, filled))
        .batch(batch_size)
        .map(_unstack)
        .prefetch(tf.data.AUTOTUNE)
    )


def model_inputs(white: np.ndarray, mask: np.ndarray, filled: np.ndarray | None = None) -> tuple:
    """What `Pix2Pix.call` takes, from (n, M, N) arrays in [0, 1]: (white, mask) or (white, mask, filled)."""
    inputs = (tf.constant(to_model(white[..., None]).astype(np.float32)), tf.constant(mask[..., None].astype(np.float32)))
    if filled is None:
        return inputs
    return (*inputs, tf.constant(to_model(filled[..., None]).astype(np.float32)))
