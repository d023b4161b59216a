"""The classical fill: OpenCV's inpainting (Telea's fast marching; Navier-Stokes) of the painted box.

What `inpaint baseline telea|navier-stokes` submits (baselines/classical.py) and what a trained
generator must beat (inpaint/prediction.py, `kept_against_classical`). The config option `prefill`,
which started the generator from this fill, was removed: it lost on every set measured
(BENCHMARKS.md, "Removed training options").
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.imaging import metric_to_u8, u8_to_metric
from inpaint.masks import composite

OPENCV_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
OPENCV_RADIUS = 3  # pixels around each filled point that OpenCV weighs


def opencv_fill(white: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    """(n, M, N) White and masks in [0, 1] -> the boxes filled by OpenCV; known pixels exactly White."""
    flag = OPENCV_FLAGS[method]
    filled = [u8_to_metric(cv2.inpaint(metric_to_u8(w), metric_to_u8(m), OPENCV_RADIUS, flag))
              for w, m in zip(white, mask)]
    # cv2 works in 8 bit; compositing keeps every known pixel at its exact input value.
    return composite(np.stack(filled).astype(np.float32), white, mask).reshape(np.shape(white))
