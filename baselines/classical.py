"""Baselines that need no training: the identity submission and classical inpainting of the mask.

Classical methods are references, not submissions under the course rules (which require a
Generator): they are what a user would otherwise reach for, and the bar the GAN must beat.
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.imaging import metric_to_u8, u8_to_metric
from inpaint.masks import composite

METHODS = ("identity", "telea", "ns", "biharmonic")


def identity(white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The course's "Baseline Setting": submit the blanked images themselves."""
    return white.copy()


def _opencv(flag):
    def run(white: np.ndarray, mask: np.ndarray) -> np.ndarray:
        filled = [
            u8_to_metric(cv2.inpaint(metric_to_u8(w), metric_to_u8(m), 3, flag)) for w, m in zip(white, mask)
        ]
        # cv2 works in 8 bit; compositing keeps every known pixel at its exact input value.
        return composite(np.stack(filled), white, mask)

    return run


def biharmonic(white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    return np.stack([inpaint_biharmonic(w, m > 0) for w, m in zip(white, mask)]).astype(np.float32)


def run(method: str, white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, M, N) White images and masks in [0, 1] -> (n, M, N) predictions in [0, 1]."""
    table = {"identity": identity, "telea": _opencv(cv2.INPAINT_TELEA), "ns": _opencv(cv2.INPAINT_NS),
             "biharmonic": biharmonic}
    return np.clip(table[method](white, mask), 0.0, 1.0)
