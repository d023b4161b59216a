"""Find the blanked (white-painted) box in a White image, from that image alone.

The course blanks are painted rectangles, so the mask is the bounding box of one
near-white connected component. Faces have white too (eye catchlights, shiny
foreheads, a white wall behind the head), so the component is chosen by shape,
not only by size: a painted box fills its bounding box almost completely.
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.errors import DataError

DEFAULT_THRESHOLD = 0.94  # near-white in metric space; JPEG ringing keeps painted boxes above ~0.95
MIN_FILL = 0.8  # share of its bounding box a painted rectangle covers (resizing blurs the rim)
MIN_AREA_FRACTION = 0.002  # smaller blobs are highlights, not a mouth box


def find_box(white: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the painted box, bottom/right exclusive; None if none found.

    `white` is (M, N) in metric space [0, 1].
    """
    near_white = (np.asarray(white) >= threshold).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(near_white, connectivity=8)
    rows, cols = near_white.shape
    best, best_key = None, None
    for label in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[label])
        if area < MIN_AREA_FRACTION * rows * cols:
            continue
        fill = area / float(width * height)
        touches_border = top == 0 or left == 0 or top + height == rows or left + width == cols
        # Rectangles first, then those away from the border (backgrounds touch it), then size.
        key = (fill >= MIN_FILL, not touches_border, area)
        if best_key is None or key > best_key:
            best, best_key = (top, left, top + height, left + width), key
    return best


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], grow: int = 0) -> np.ndarray:
    """Float32 (M, N) mask, 1 inside the box grown by `grow` pixels on every side."""
    top, left, bottom, right = box
    mask = np.zeros(shape, dtype=np.float32)
    mask[max(top - grow, 0) : bottom + grow, max(left - grow, 0) : right + grow] = 1.0
    return mask


def find_mask(white: np.ndarray, threshold: float = DEFAULT_THRESHOLD, grow: int = 1, name: str = "image") -> np.ndarray:
    """Mask of the blanked region; `grow` covers the rim that resizing blends with the face.

    Raises DataError naming the image when no painted box is found.
    """
    box = find_box(white, threshold)
    if box is None:
        raise DataError(
            f"{name}: no white box found (no near-white region >= {threshold:g}); "
            "is this a blanked image? Try --mask-threshold."
        )
    return box_mask(white.shape, box, grow)


def composite(generated, condition, mask):
    """Known pixels come from the input; only the mask is generated.

    Plain arithmetic, so the same function serves numpy arrays (prediction, classical
    baselines) and tensors inside the compiled train step.
    """
    return mask * generated + (1.0 - mask) * condition
