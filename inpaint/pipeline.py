"""tf.data pipelines: arrays in metric space -> batches of (white, real, mask) in model space.

The training stream is a pure function of (seed, epoch): each epoch's order and
augmentation come from stateless ops seeded by the epoch number, so a run resumed
at epoch e sees exactly the batches the uninterrupted run saw.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from inpaint.config import Config
from inpaint.imaging import to_model


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices; the same seed always holds out the same images."""
    if n < 2:
        raise ValueError("need at least 2 training pairs to hold out a validation set")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, int(round(n * val_fraction))), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _stack(white: np.ndarray, real: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, M, N, 3) float32: the images in model space, the mask 0/1."""
    return np.stack([to_model(white), to_model(real), mask], axis=-1).astype(np.float32)


def _unstack(x):
    return tuple(x[..., i:i + 1] for i in range(x.shape[-1]))


def _box_of(mask):
    """(top, left, bottom, right) of a 0/1 (M, N, 1) mask, as float32 scalars."""
    rows = tf.cast(tf.where(tf.reduce_max(mask, axis=[1, 2]) > 0.5)[:, 0], tf.float32)
    cols = tf.cast(tf.where(tf.reduce_max(mask, axis=[0, 2]) > 0.5)[:, 0], tf.float32)
    return tf.reduce_min(rows), tf.reduce_min(cols), tf.reduce_max(rows) + 1.0, tf.reduce_max(cols) + 1.0


# Each random draw of a pair has its own stream: the pair's seed plus one of these offsets. They are
# fixed numbers because a resumed run must draw what the uninterrupted one drew (3-5 were the draws
# of options removed after 0.1.0; BENCHMARKS.md, "Removed training options").
FLIP_DRAW, GAIN_DRAW, SHIFT_DRAW, WINDOW_DRAW = 0, 1, 2, 6


def _augment(x, seed, flip: bool, jitter: float):
    """Same flip and brightness/contrast change for both images of a pair."""
    if flip:
        x = tf.image.stateless_random_flip_left_right(x, seed + FLIP_DRAW)
    white, real, mask = _unstack(x)
    if jitter > 0:
        gain = tf.random.stateless_uniform([], seed + GAIN_DRAW, 1.0 - jitter, 1.0 + jitter)
        shift = tf.random.stateless_uniform([], seed + SHIFT_DRAW, -jitter, jitter) * 2.0  # model space is twice as wide
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


def train_dataset(white: np.ndarray, real: np.ndarray, mask: np.ndarray, cfg: Config,
                  first_epoch: int = 0) -> tf.data.Dataset:
    """Endless stream of augmented batches of `cfg.batch_size`, epoch after epoch, starting at `first_epoch`.

    The config's seed, augmentation (flip, intensity_jitter) and crop_size shape the stream. With a
    `crop_size` each pair is cut to a window around its box after augmentation.

    Batches are full (drop_remainder): batch norm on a 2-image tail batch is noise,
    and replicas under a distribution strategy need equal shares.
    """
    batch_size, seed, crop_size = cfg.batch_size, cfg.seed, tuple(cfg.crop_size)
    flip, jitter = cfg.flip, cfg.intensity_jitter
    stacked = tf.constant(_stack(white, real, mask))
    n = int(stacked.shape[0])
    if n < batch_size:
        raise ValueError(f"batch size {batch_size} is larger than the {n} training pairs")

    def one_pair(i, epoch):
        item_seed = tf.stack([tf.cast(epoch, tf.int32), i]) + seed
        x = _augment(tf.gather(stacked, i), item_seed, flip, jitter)
        return _random_window(x, item_seed + WINDOW_DRAW, crop_size) if crop_size[0] else x

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


def eval_dataset(white: np.ndarray, real: np.ndarray, mask: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Validation batches in order, without augmentation."""
    return (
        tf.data.Dataset.from_tensor_slices(_stack(white, real, mask))
        .batch(batch_size)
        .map(_unstack)
        .prefetch(tf.data.AUTOTUNE)
    )


def model_inputs(white: np.ndarray, mask: np.ndarray) -> tuple:
    """What `Pix2Pix.call` takes, (white, mask), from (n, M, N) arrays in [0, 1]."""
    return tf.constant(to_model(white[..., None]).astype(np.float32)), tf.constant(mask[..., None].astype(np.float32))
