"""The blanked test images at the submission's size, with the boxes the grader's tools judge them by.

One type for every side: the kit's data set (inpaint/data.py builds it, the boxes chosen with the
training boxes as a guide), the validator's diagnosis, and the competition server, which reads the
boxes `inpaint competition init` stored beside the sample submission (BOXES_FILE) instead of
guessing them again from the White images alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from submission.errors import SubmissionError
from submission.image_files import atomic_write_bytes

BOX_COLUMNS = ("top", "left", "bottom", "right")  # bottom and right exclusive, at the submission's size


def box_mask(shape: tuple[int, int], box, grow: int = 0) -> np.ndarray:
    """Float32 (M, N) mask, 1 inside the box grown by `grow` pixels on every side."""
    top, left, bottom, right = (int(v) for v in box)
    mask = np.zeros(shape, dtype=np.float32)
    mask[max(top - grow, 0) : bottom + grow, max(left - grow, 0) : right + grow] = 1.0
    return mask


def boxes_to_masks(shape: tuple[int, int], boxes: np.ndarray, grow: int) -> np.ndarray:
    """(n, M, N) masks of (n, 4) boxes; a box of zeros (none found) masks nothing."""
    if not len(boxes):
        return np.zeros((0, *shape), np.float32)
    return np.stack([box_mask(shape, b, grow) if b[2] > b[0] and b[3] > b[1] else np.zeros(shape, np.float32)
                     for b in np.asarray(boxes)])


@dataclass
class TestImages:
    """The test images in the solution's column order: names, White images (n, M, N) in [0, 1], the
    painted boxes (n, 4) (top, left, bottom, right) and their masks (grown by the kit's mask_grow, the
    pixels judged), and the answers when known."""

    names: list[str]
    white: np.ndarray
    mask: np.ndarray
    boxes: np.ndarray
    real: np.ndarray | None = None

    @classmethod
    def from_boxes(cls, names, white, boxes, grow: int = 1, real=None) -> "TestImages":
        boxes = np.asarray(boxes, np.int64).reshape(-1, 4)
        return cls(list(names), white, boxes_to_masks(tuple(white.shape[1:]), boxes, grow), boxes, real)


def write_boxes(path: Path, names: list[str], boxes: np.ndarray) -> Path:
    """One row per test image: its name and box (at the submission's size); replaced atomically."""
    table = pd.DataFrame(np.asarray(boxes, np.int64).reshape(-1, 4), columns=list(BOX_COLUMNS))
    table.insert(0, "image", list(names))
    atomic_write_bytes(Path(path), table.to_csv(index=False, lineterminator="\n").encode())
    return Path(path)


def read_boxes(path: Path, names: list[str], shape: tuple[int, int]) -> np.ndarray:
    """(n, 4) boxes of `names` from a `write_boxes` file, or a SubmissionError naming what is wrong."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"image": str}, keep_default_na=False)
    except FileNotFoundError:
        raise SubmissionError(f"{path}: not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise SubmissionError(f"{path}: not a box table ({str(exc).strip()})") from None
    if list(table.columns) != ["image", *BOX_COLUMNS]:
        raise SubmissionError(f"{path}: columns must be image, {', '.join(BOX_COLUMNS)}")
    if table["image"].duplicated().any():
        raise SubmissionError(f"{path}: repeated image names")
    missing = sorted(set(names) - set(table["image"]))
    if missing:
        raise SubmissionError(f"{path}: no box for {', '.join(missing[:5])}")
    boxes = table.set_index("image").loc[list(names), list(BOX_COLUMNS)]
    values = pd.DataFrame(boxes).apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    rows, cols = shape
    inside = (np.isfinite(values).all(axis=1) & (values[:, 0] >= 0) & (values[:, 1] >= 0)
              & (values[:, 2] <= rows) & (values[:, 3] <= cols))
    if not inside.all():
        raise SubmissionError(f"{path}: boxes outside the {rows}x{cols} images for "
                              f"{', '.join(np.asarray(names)[~inside][:5])}")
    return values.astype(np.int64)
