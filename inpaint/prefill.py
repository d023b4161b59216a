"""The classical fill a generator starts from (config `prefill`): the box filled before G reads the face.

With `prefill` = telea | ns | mean the generator reads the face with its box already filled (and the
mask, so it knows where the box is) and adds a correction to it; the correction's last layer starts
at zero (inpaint/models.py), so an untrained run predicts exactly this fill, and training spends the
network on what the classical fill gets wrong. Every caller of the generator (training, validation,
sample grids, prediction) fills the box through this module, so they all see the same input.

- telea, ns: OpenCV's inpainting (Telea's fast marching; Navier-Stokes), in 8 bit as the classical
  baselines run it (baselines/classical.py uses `opencv_fill` too), composited onto White.
- mean: the mean training face inside the box, shifted to the brightness of the ring of known
  pixels around it. The mean face is computed once from the training split and kept in the run
  folder (MEAN_FACE_FILE), so prediction fills with the face the run trained with.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaint.errors import ConfigError
from inpaint.imaging import atomic_write_bytes, metric_to_u8, u8_to_metric
from inpaint.masks import composite
from inpaint.run_folder import MEAN_FACE_FILE

METHODS = ("none", "telea", "ns", "mean")
OPENCV_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
OPENCV_RADIUS = 3  # pixels around each filled point that OpenCV weighs
RING = 3  # width in pixels of the known ring whose brightness the mean face is matched to


def opencv_fill(white: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    """(n, M, N) White and masks in [0, 1] -> the boxes filled by OpenCV; known pixels exactly White."""
    flag = OPENCV_FLAGS[method]
    filled = [u8_to_metric(cv2.inpaint(metric_to_u8(w), metric_to_u8(m), OPENCV_RADIUS, flag))
              for w, m in zip(white, mask)]
    # cv2 works in 8 bit; compositing keeps every known pixel at its exact input value.
    return composite(np.stack(filled).astype(np.float32), white, mask).reshape(np.shape(white))


def mean_face_fill(white: np.ndarray, mask: np.ndarray, mean_face: np.ndarray) -> np.ndarray:
    """The mean face inside each box, offset so that its ring of known pixels matches the image's."""
    out = np.array(white, dtype=np.float32, copy=True)
    kernel = np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)
    for i, (w, m) in enumerate(zip(white, mask)):
        inside = m > 0.5
        ring = (cv2.dilate(inside.astype(np.uint8), kernel) > 0) & ~inside
        offset = float(np.mean(w[ring]) - np.mean(mean_face[ring])) if ring.any() else 0.0
        out[i][inside] = np.clip(mean_face[inside] + offset, 0.0, 1.0)
    return out


class Prefill:
    """Fills the box of (n, M, N) White images in [0, 1] with the run's classical method."""

    def __init__(self, method: str = "none", mean_face: np.ndarray | None = None):
        if method not in METHODS:
            raise ConfigError(f"config: prefill must be one of {METHODS}, got {method!r}")
        if method == "mean" and mean_face is None:
            raise ValueError("the mean-face prefill needs the mean face")
        self.method, self.mean_face = method, mean_face

    @property
    def active(self) -> bool:
        return self.method != "none"

    def __call__(self, white: np.ndarray, mask: np.ndarray) -> np.ndarray:
        white, mask = np.asarray(white, np.float32), np.asarray(mask, np.float32)
        if self.method == "none":
            return white
        if self.method == "mean":
            return mean_face_fill(white, mask, self.mean_face)
        return opencv_fill(white, mask, self.method)

    def save(self, run: Path) -> None:
        """Keep what prediction needs in the run folder (the mean face; nothing for OpenCV)."""
        if self.method == "mean":
            path = Path(run) / MEAN_FACE_FILE
            atomic_write_bytes(path, _npy_bytes(self.mean_face))


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, np.float32))
    return buffer.getvalue()


def for_training(method: str, train_real: np.ndarray) -> Prefill:
    """The prefill of a new run; the mean face comes from the training split's Real images only."""
    mean_face = np.mean(train_real, axis=0).astype(np.float32) if method == "mean" else None
    return Prefill(method, mean_face)


def for_run(method: str, run: Path) -> Prefill:
    """The prefill a run folder was trained with."""
    mean_face = None
    if method == "mean":
        path = Path(run) / MEAN_FACE_FILE
        if not path.exists():
            raise ConfigError(f"{run}: trained with prefill = \"mean\" but {MEAN_FACE_FILE} is missing; "
                              "copy the whole run folder")
        mean_face = np.load(path)
    return Prefill(method, mean_face)
