"""tf.data pipelines: arrays in metric space -> batches of (white, real, mask) in model space.

The training stream is a pure function of (seed, epoch): each epoch's order and
augmentation come from stateless ops seeded by the epoch number, so a run resumed
at epoch e sees exactly the batches the uninterrupted run saw.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from inpaint.imaging import to_model


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices; the same seed always holds out the same images."""
    if n < 2:
        raise ValueError("need at least 2 training pairs to hold out a validation set")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, int(round(n * val_fraction))), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _stack(white: np.ndarray, real: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, M, N, 3) float32 in model space for the images, 0/1 for the mask."""
    return np.stack([to_model(white), to_model(real), mask], axis=-1).astype(np.float32)


def _unstack(x):
    return x[..., 0:1], x[..., 1:2], x[..., 2:3]


def _augment(x, seed, flip: bool, jitter: float):
    """Same flip and same brightness/contrast change for both images of a pair."""
    if flip:
        x = tf.image.stateless_random_flip_left_right(x, seed)
    if jitter > 0:
        white, real, mask = _unstack(x)
        gain = tf.random.stateless_uniform([], seed + 1, 1.0 - jitter, 1.0 + jitter)
        shift = tf.random.stateless_uniform([], seed + 2, -jitter, jitter) * 2.0  # model space is twice as wide
        real = tf.clip_by_value(real * gain + shift, -1.0, 1.0)
        # The painted box stays pure white: it is what the model and the mask finder key on.
        white = tf.where(white >= 1.0, white, tf.clip_by_value(white * gain + shift, -1.0, 1.0))
        x = tf.concat([white, real, mask], axis=-1)
    return x


def train_dataset(
    white: np.ndarray,
    real: np.ndarray,
    mask: np.ndarray,
    batch_size: int,
    seed: int,
    first_epoch: int = 0,
    flip: bool = True,
    jitter: float = 0.0,
) -> tf.data.Dataset:
    """Endless stream of augmented batches, epoch after epoch, starting at `first_epoch`.

    Batches are full (drop_remainder): batch norm on a 2-image tail batch is noise,
    and replicas under a distribution strategy need equal shares.
    """
    stacked = tf.constant(_stack(white, real, mask))
    n = int(stacked.shape[0])
    if n < batch_size:
        raise ValueError(f"batch size {batch_size} is larger than the {n} training pairs")

    def epoch_stream(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([seed, tf.cast(epoch, tf.int32)]))
        items = tf.data.Dataset.from_tensor_slices(order)
        return items.map(
            lambda i: _augment(tf.gather(stacked, i), tf.stack([tf.cast(epoch, tf.int32), i]) + seed, flip, jitter),
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
