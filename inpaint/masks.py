"""Find the blanked (white-painted) box: from the pair where there is a Real, guided by the
training boxes where there is not.

A training pair's box is where Real and White differ (`pair_box`): known, not guessed. A test
image has only White; its box is chosen among near-white rectangles of the training boxes' sizes
(`choose_box`), because faces have white too (eye catchlights, lit cheeks, glasses, a white wall
behind the head) that merges with the box into larger white shapes. With no training boxes the
shape rule answers (`find_box`): a painted box fills its bounding box almost completely.
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.errors import DataError
from submission.test_images import box_mask  # noqa: F401  (the kit's masks and the server's are one function)

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


PAIR_DIFF = 0.04  # White minus Real above ~10 grey levels is paint, not JPEG noise
EXACT_WHITE = 254.5 / 255  # a painted box is 255 exactly in a lossless file
OVERSIZED = 1.5  # a box this many times larger than every training box is not trusted silently
MAX_SIZES = 50  # box sizes tried per image: the most common training sizes
PAINTED_FILL = 0.97  # a painted rectangle is solid; a box with a highlight attached is not (Yale: 0.88)
MIN_RING = 0.25  # a painted box meets the face along at least a quarter of its outline


def pair_box(real: np.ndarray, white: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of where White was painted over Real: known, not guessed.

    Only near-white pixels of White count, so JPEG noise elsewhere in the pair is ignored.
    """
    white = np.asarray(white)
    rows, cols = np.nonzero((white - np.asarray(real) > PAIR_DIFF) & (white >= threshold))
    if not len(rows):
        return None
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def _window_sums(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Sum of `values` over every height x width window; [t, l] is the window whose top-left is (t, l)."""
    s = cv2.integral(values.astype(np.float64))
    return s[height:, width:] - s[:-height, width:] - s[height:, :-width] + s[:-height, :-width]


def _placement_scores(white: np.ndarray, height: int, width: int, known: np.ndarray, threshold: float):
    """(score, ring) of a height x width painted box at every top-left; score is -inf where it cannot
    be one, ring the share of its outline that is not white.

    A painted box is near-white throughout (its 1-pixel rim may be blended by resizing), exactly
    255 where the file is lossless, has a non-white ring around it where it meets the face, and
    sits where the training boxes sit. The ring decides between placements inside one larger
    white area (a box touching a white wall or a highlight); position only breaks ties.
    """
    near = (white >= threshold).astype(np.float64)
    exact = (white >= EXACT_WHITE).astype(np.float64)
    area = height * width
    near_frac = _window_sums(near, height, width) / area
    exact_frac = _window_sums(exact, height, width) / area
    if min(height, width) >= 3:
        inner = _window_sums(near, height - 2, width - 2)[1:-1, 1:-1]
        solid = inner >= (height - 2) * (width - 2) - 0.5
    else:
        solid = near_frac >= 1.0
    # The ring one pixel outside the box, counted only where it lies in the image.
    dark = np.pad(1.0 - near, 1)
    inside = np.pad(np.ones_like(near), 1)
    ring_dark = _window_sums(dark, height + 2, width + 2) - _window_sums(dark, height, width)[1:-1, 1:-1]
    ring_len = _window_sums(inside, height + 2, width + 2) - _window_sums(inside, height, width)[1:-1, 1:-1]
    ring = ring_dark / np.maximum(ring_len, 1)
    same = known[(known[:, 2] - known[:, 0] == height) & (known[:, 3] - known[:, 1] == width)]
    elsewhere = np.ones(near_frac.shape, np.uint8)
    elsewhere[same[:, 0], same[:, 1]] = 0
    dist = cv2.distanceTransform(elsewhere, cv2.DIST_L2, 5)  # pixels to the nearest training top-left
    score = near_frac + exact_frac + 2.0 * ring - 0.5 * dist / max(height, width)
    return np.where(solid, score, -np.inf), ring


def choose_box(white: np.ndarray, known: np.ndarray, threshold: float = DEFAULT_THRESHOLD):
    """The painted box of a White image without a Real, guided by the training boxes `known`.

    `known` is a (k, 4) array of training boxes (top, left, bottom, right). Every training size is
    tried at every position (the course set has one size, often one position); when none fits,
    the shape-based `find_box` answers. Returns (box or None, note): the note is empty when the
    box looks like the training boxes and says why not otherwise.
    """
    white = np.asarray(white, dtype=np.float32)
    known = np.asarray(known, dtype=np.int64).reshape(-1, 4)
    known = known[(known[:, 2] > known[:, 0]) & (known[:, 3] > known[:, 1])]  # unreadable pairs have none
    best, best_score = None, -np.inf
    sizes, counts = np.unique(known[:, 2:] - known[:, :2], axis=0, return_counts=True)
    for height, width in sizes[np.argsort(-counts)][:MAX_SIZES]:
        if height > white.shape[0] or width > white.shape[1]:
            continue
        scores, ring = _placement_scores(white, int(height), int(width), known, threshold)
        top, left = np.unravel_index(np.argmax(scores), scores.shape)
        if scores[top, left] > best_score:
            best, best_score = (int(top), int(left), int(top + height), int(left + width)), scores[top, left]
            best_ring = ring[top, left]
    if best is not None and best_ring >= MIN_RING:
        painted = _painted_region(white, best, threshold)
        return (painted, unlike_training(painted, known)) if painted else (best, "")
    # No training-sized box meets the face (or there are no training boxes): the shape-based finder.
    box = find_box(white, threshold)
    if box is None or not len(known):
        return box, ""
    return box, unlike_training(box, known) or "no training-sized box meets the face; shape-based guess"


def _painted_region(white: np.ndarray, box, threshold: float):
    """The white rectangle around `box` when it is itself a larger painted box, else None: masking
    only a training-sized part of it would leave paint in the submission.

    A larger painted box is a filled rectangle away from the border; a white wall touches the
    border, and a highlight is not exactly 255 (so it is left out where the box is exact white).
    """
    top, left, bottom, right = box
    exact = white >= EXACT_WHITE
    level = exact if exact[top:bottom, left:right].mean() > 0.9 else white >= threshold
    _, labels = cv2.connectedComponents(level.astype(np.uint8), connectivity=8)
    inside = labels[top:bottom, left:right]
    label = np.bincount(inside[inside > 0]).argmax() if (inside > 0).any() else 0
    if label == 0:
        return None
    rows, cols = np.nonzero(labels == label)
    region = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
    area = (region[2] - region[0]) * (region[3] - region[1])
    touches = region[0] == 0 or region[1] == 0 or region[2] == white.shape[0] or region[3] == white.shape[1]
    larger = area > (bottom - top + 2) * (right - left + 2)  # more than a blended rim larger
    return region if larger and not touches and len(rows) >= PAINTED_FILL * area else None


def unlike_training(box, known: np.ndarray) -> str:
    """Why `box` does not look like a training box ('' when it does, or when there are none)."""
    if box is None or not len(known):
        return ""
    height, width = box[2] - box[0], box[3] - box[1]
    largest = int(np.max((known[:, 2] - known[:, 0]) * (known[:, 3] - known[:, 1])))
    if height * width > OVERSIZED * largest:
        return f"white region of {height}x{width} pixels is {height * width / largest:.1f}x the largest training box"
    sizes = known[:, 2:] - known[:, :2]
    if np.abs(sizes - (height, width)).max(axis=1).min() > 1:
        return f"a {height}x{width} box, a size no training box has"
    return ""


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
