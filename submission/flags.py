"""Flags for submissions the course scores 0 (constant or random filling, no Generator).

Flags only inform the grader; they never change a score. Each looks at the masked region of
every test image, where a genuine prediction has structure: it varies smoothly.
"""
from __future__ import annotations

import numpy as np

CONSTANT_STD = 1e-3  # below this spread a masked region is one flat value
NOISE_STD, NOISE_CORRELATION = 0.08, 0.3  # noise: wide spread but neighbours unrelated
IDENTITY_TOLERANCE = 2.0 / 255  # the White images themselves, up to 8-bit rounding


def _neighbour_correlation(region: np.ndarray) -> float:
    """Correlation of horizontally adjacent pixels: ~1 for images, ~0 for independent noise."""
    a, b = region[:, :-1].ravel(), region[:, 1:].ravel()
    if a.std() == 0 or b.std() == 0:
        return 1.0
    return float(np.corrcoef(a, b)[0, 1])


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    rows, cols = np.nonzero(mask)
    return slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)


def submission_flags(preds: np.ndarray, white: np.ndarray, mask: np.ndarray) -> list[str]:
    """Reasons this submission looks like it breaks the rules; [] when it looks genuine.

    preds, white, mask: (n, M, N) in [0, 1], test images in the same order.
    """
    regions = [p[_box(m)] for p, m in zip(preds, mask) if m.any()]
    whites = [w[_box(m)] for w, m in zip(white, mask) if m.any()]
    if not regions:
        return []
    flags = []
    if all(r.std() < CONSTANT_STD for r in regions):
        flags.append("constant fill: the masked region is one flat value in every image")
    noisy = [r.std() > NOISE_STD and _neighbour_correlation(r) < NOISE_CORRELATION for r in regions]
    if sum(noisy) > len(regions) / 2:
        flags.append(f"looks like random noise in {sum(noisy)}/{len(regions)} images (no spatial correlation)")
    if all(np.abs(r - w).max() <= IDENTITY_TOLERANCE for r, w in zip(regions, whites)):
        flags.append("identical to the White images (the identity baseline, no Generator)")
    return flags
