"""The sample grid a training run saves every `sample_every` epochs and of its best generator:
one row per face, White | prediction | Real | |error|, the error in colour with its scale."""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.imaging import metric_to_u8

COLUMNS = ("White", "prediction", "Real", "|error|")
ERROR_FULL_SCALE = 0.5  # an absolute error of 0.5 (half the grey range) is shown as the hottest colour


def sample_grid(white: np.ndarray, pred: np.ndarray, real: np.ndarray, scale: int = 2) -> np.ndarray:
    """(n, M, N) arrays in [0, 1] -> a BGR uint8 grid, one example per row, with a header row."""
    rows = []
    for w, p, r in zip(white, pred, real):
        gray = [cv2.cvtColor(metric_to_u8(x), cv2.COLOR_GRAY2BGR) for x in (w, p, r)]
        error = cv2.applyColorMap(metric_to_u8(np.abs(p - r) / ERROR_FULL_SCALE), cv2.COLORMAP_INFERNO)
        cells = [*gray, error]
        rows.append(np.concatenate([_pad(c) for c in cells], axis=1))
    grid = np.concatenate(rows, axis=0)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return np.concatenate([_header(grid.shape[1], len(COLUMNS)), grid], axis=0)


def _pad(cell: np.ndarray, width: int = 1) -> np.ndarray:
    return cv2.copyMakeBorder(cell, width, width, width, width, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _header(width: int, columns: int, height: int = 22, scale_height: int = 16) -> np.ndarray:
    """Column names, and under |error| its colour scale: black at 0, the hottest colour at ERROR_FULL_SCALE
    and above, so the error panel can be read as numbers."""
    header = np.full((height + scale_height, width, 3), 255, np.uint8)
    step = width // columns
    for i, name in enumerate(COLUMNS):
        cv2.putText(header, name, (i * step + 4, height - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.35
    low, high = "0", f"{ERROR_FULL_SCALE:g}+"
    left = (columns - 1) * step + 4 + cv2.getTextSize(low, font, size, 1)[0][0] + 3
    right = columns * step - 4 - cv2.getTextSize(high, font, size, 1)[0][0] - 3
    if right - left >= 8:  # room for a readable bar (not on tiny test grids)
        ramp = np.linspace(0, 255, right - left).astype(np.uint8)[None, :].repeat(scale_height - 6, axis=0)
        header[height:height + scale_height - 6, left:right] = cv2.applyColorMap(ramp, cv2.COLORMAP_INFERNO)
        baseline = height + scale_height - 7
        cv2.putText(header, low, ((columns - 1) * step + 4, baseline), font, size, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(header, high, (right + 3, baseline), font, size, (0, 0, 0), 1, cv2.LINE_AA)
    return header
