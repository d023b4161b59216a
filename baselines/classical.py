"""Baselines that need no training: the identity submission and classical inpainting of the mask.

Classical methods are references, not submissions under the course rules (which require a
Generator): they are what a user would otherwise reach for, and the bar the GAN must beat.
"""
from __future__ import annotations

import numpy as np

from inpaint.classical_fill import opencv_fill

METHODS = ("identity", "telea", "ns", "biharmonic")


def identity(white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The course's "Baseline Setting": submit the blanked images themselves."""
    return white.copy()


def _opencv(method: str):
    # OpenCV's fill (inpaint/classical_fill.py), which the kit's classical check also compares a run with.
    return lambda white, mask: opencv_fill(white, mask, method)


def biharmonic(white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    return np.stack([inpaint_biharmonic(w, m > 0) for w, m in zip(white, mask)]).astype(np.float32)


def run(method: str, white: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, M, N) White images and masks in [0, 1] -> (n, M, N) predictions in [0, 1]."""
    table = {"identity": identity, "telea": _opencv("telea"), "ns": _opencv("ns"),
             "biharmonic": biharmonic}
    return np.clip(table[method](white, mask), 0.0, 1.0)
