"""The one place that rescales images between the metric space and the model space.

Metric space is [0, 1] (pixel / 255): what Kaggle scores and what CSVs hold.
Model space is [-1, 1]: what the tanh generator emits. Nothing else in the kit
rescales by hand; it calls `to_model` / `to_metric`.

Reading and writing image files is the TensorFlow-free base's (submission/image_files.py),
re-exported here so the library has one module to import for images.
This module imports only numpy and OpenCV so that graders' tools start fast.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from submission.image_files import (  # noqa: F401 - re-exported for the library
    IMAGE_EXTS, atomic_write_bytes, is_image_name, metric_to_u8, natural_key, read_gray_u8, resize_u8,
    u8_to_metric, write_png,
)


def resize_metric(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float image in [0, 1]: area when shrinking, bicubic (clipped) when enlarging."""
    rows, cols = size
    if x.shape == (rows, cols):
        return x
    enlarge = rows * cols > x.shape[0] * x.shape[1]
    out = cv2.resize(x, (cols, rows), interpolation=cv2.INTER_CUBIC if enlarge else cv2.INTER_AREA)
    return np.clip(out, 0.0, 1.0)


def to_model(x_metric):
    """[0, 1] -> [-1, 1]. Works on numpy arrays and tensors alike."""
    return x_metric * 2.0 - 1.0


def to_metric(x_model):
    """[-1, 1] -> [0, 1], clipped: a tanh can sit a hair outside after float error."""
    y = (x_model + 1.0) * 0.5
    if isinstance(y, np.ndarray):
        return np.clip(y, 0.0, 1.0)
    import tensorflow as tf  # only the training side passes tensors

    return tf.clip_by_value(y, 0.0, 1.0)


def save_figure(fig, path: Path, dpi: int = 100) -> None:
    """A matplotlib Figure as a PNG, written atomically: a failed report leaves no half-drawn picture."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    atomic_write_bytes(Path(path), buf.getvalue())
