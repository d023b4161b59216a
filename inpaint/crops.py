"""Windows around the box: the networks may see a crop of each face instead of the whole of it.

Only the box is predicted and the rest of the face is copied from White, so what the generator
needs is the box and enough face around it; with a 64x64 window of a 128x128 face a 5-minute run
took 2.2x the steps (BENCHMARKS.md, where the lost upper face also shows). One rule places every window: centred on the box, shifted
to stay inside the image, always holding the whole box. Training draws the window anywhere the box
fits instead (inpaint/pipeline.py), so the centred windows of prediction are among those it saw.
"""
from __future__ import annotations

import numpy as np

from inpaint.errors import DataError


def box_extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a 0/1 (M, N) mask's nonzero pixels, bottom/right exclusive."""
    rows, cols = np.nonzero(np.asarray(mask) > 0.5)
    if not len(rows):
        return 0, 0, 0, 0
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def window_start(low: int, high: int, length: int, size: int) -> int:
    """Start of a `length`-long window on an axis of `size`, centred on [low, high) and inside the axis."""
    start = int(round((low + high) / 2 - length / 2))
    return min(max(start, 0, high - length), low, size - length)


def windows(masks: np.ndarray, crop_size: tuple[int, int]) -> np.ndarray:
    """(n, 2) top-left corners of the centred `crop_size` window around each (M, N) mask's box."""
    height, width = crop_size
    rows, cols = masks.shape[1:3]
    corners = []
    for mask in masks:
        top, left, bottom, right = box_extent(mask)
        corners.append((window_start(top, bottom, height, rows), window_start(left, right, width, cols)))
    return np.asarray(corners, dtype=np.int64).reshape(-1, 2)


def check_fits(masks: np.ndarray, crop_size: tuple[int, int], names, what: str) -> None:
    """One clear error when a box is larger than the window: it could not be predicted whole."""
    height, width = crop_size
    too_big = []
    for mask, name in zip(masks, names):
        top, left, bottom, right = box_extent(mask)
        if bottom - top > height or right - left > width:
            too_big.append(f"{name} ({bottom - top}x{right - left})")
    if too_big:
        listed = ", ".join(too_big[:5]) + (f" and {len(too_big) - 5} more" if len(too_big) > 5 else "")
        raise DataError(f"{len(too_big)} {what} boxes are larger than crop_size {height}x{width}: {listed}; "
                        "raise crop_size (and gen_depth to match) or set crop_size = [0, 0] for whole faces")


def cut(images: np.ndarray, corners: np.ndarray, crop_size: tuple[int, int]) -> np.ndarray:
    """The windows of (n, M, N, ...) images at `corners`: (n, height, width, ...)."""
    height, width = crop_size
    return np.stack([img[top:top + height, left:left + width] for img, (top, left) in zip(images, corners)])


def paste(images: np.ndarray, crops: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """A copy of (n, M, N, ...) images with each window replaced by its crop."""
    out = np.array(images, copy=True)
    height, width = crops.shape[1:3]
    for img, crop, (top, left) in zip(out, crops, corners):
        img[top:top + height, left:left + width] = crop
    return out


def metric_scale(crop_size: tuple[int, int], image_size: tuple[int, int]) -> float:
    """RMSE over a window -> RMSE over the whole image, when every error lies inside the window.

    It does: outside the window the prediction is White, which is Real outside the box.
    """
    if not crop_size[0]:
        return 1.0
    return float(np.sqrt(crop_size[0] * crop_size[1] / (image_size[0] * image_size[1])))
