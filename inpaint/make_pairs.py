"""`inpaint make-pairs`: a folder of face photos -> a competition set in the data_spec.md layout.

Faces are found with scikit-image's bundled LBP frontal-face cascade (no download; OpenCV 5
wheels no longer ship Haar cascades). No mouth detector ships offline, so the mouth is
placed where frontal-face boxes put it: centred, at 80% of the box height (measured on the
kit's synthetic faces, whose mouth positions are known; see tests/test_make_pairs.py).
"""
from __future__ import annotations

import csv
import functools
import io
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from inpaint import imaging
from inpaint.errors import DataError

DETECT_SIDE = 512  # photos are searched at most this large: faster, and the cascade's sizes are in pixels
CROP_SCALE = 1.5  # the square crop is this many face-box widths wide (room for hair and chin)
MOUTH_ROW, MOUTH_WIDTH, MOUTH_HEIGHT = 0.80, 0.55, 0.30  # in face-box units


@functools.lru_cache(maxsize=1)
def _detector():
    from skimage import data
    from skimage.feature import Cascade

    return Cascade(data.lbp_frontal_face_cascade_filename())


def detect_faces(gray: np.ndarray) -> list[tuple[float, float, float]]:
    """(row, col, side) of each face in a uint8 image, duplicates of one face merged."""
    scale = min(1.0, DETECT_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    side = min(small.shape)
    hits = _detector().detect_multi_scale(img=small.astype(np.float32) / 255.0, scale_factor=1.1, step_ratio=1,
                                       min_size=(max(24, side // 8),) * 2, max_size=(side, side))
    boxes = sorted(((h["r"], h["c"], h["width"]) for h in hits), key=lambda b: -b[2])
    merged: list[tuple[float, float, float]] = []
    for r, c, w in boxes:  # largest first: a smaller box centred inside a kept one is the same face
        if not any(kr <= r + w / 2 <= kr + kw and kc <= c + w / 2 <= kc + kw for kr, kc, kw in merged):
            merged.append((r, c, w))
    return [(r / scale, c / scale, w / scale) for r, c, w in merged]


def crop_face(gray: np.ndarray, face: tuple[float, float, float], size: int, box_scale: float):
    """Square crop around the face resized to `size`, the mouth box (top, left, bottom, right) in it,
    and where the crop lies in the photo (top, left, side)."""
    r, c, w = face
    side = w * CROP_SCALE
    top, left = r + w / 2 - side / 2, c + w / 2 - side / 2
    # Pad with the edge so faces near the photo border still get a full square.
    pad = int(np.ceil(side))
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    y0, x0 = int(round(top)) + pad, int(round(left)) + pad
    crop = padded[y0 : y0 + int(round(side)), x0 : x0 + int(round(side))]
    crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    k = size / side
    mouth_row, mouth_col = (r + MOUTH_ROW * w - top) * k, (c + w / 2 - left) * k
    half_h, half_w = MOUTH_HEIGHT * w * k * box_scale / 2, MOUTH_WIDTH * w * k * box_scale / 2
    box = (int(round(mouth_row - half_h)), int(round(mouth_col - half_w)),
           int(round(mouth_row + half_h)), int(round(mouth_col + half_w)))
    box = (max(box[0], 0), max(box[1], 0), min(box[2], size), min(box[3], size))
    return crop, box, (top, left, side)


def _csv_bytes(header, rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def make_pairs(faces_dir: Path, out: Path, size: int = 128, n_test: int = 10, seed: int = 0, box_scale: float = 1.0,
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Build the set; photos with no face, several faces or unreadable are listed in OUT/skipped.csv."""
    faces_dir, out = Path(faces_dir), Path(out)
    if not faces_dir.is_dir():
        raise DataError(f"{faces_dir}: photo folder not found")
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: output folder is not empty; choose a new --out")
    if size < 32 or n_test < 0 or box_scale <= 0:
        raise DataError("make-pairs: need --size >= 32, --test >= 0 and --box-scale > 0")
    photos = sorted((p for p in faces_dir.iterdir() if p.is_file() and not p.name.startswith(".")),
                    key=lambda p: imaging.natural_key(p.name))
    start, made, skipped, seen = time.monotonic(), [], [], set()
    for done, photo in enumerate(photos, 1):
        reason = None
        if not imaging.is_image_name(photo):
            reason = "not an image file"
        elif photo.stem in seen:
            reason = "another photo has the same name"
        else:
            try:
                gray = imaging.read_gray_u8(photo)
                found = detect_faces(gray)
                reason = "no face found" if not found else (f"{len(found)} faces found" if len(found) > 1 else None)
            except DataError:
                reason = "unreadable image"
        if reason:
            skipped.append((photo.name, reason))
        else:
            seen.add(photo.stem)
            made.append((photo.stem, *crop_face(gray, found[0], size, box_scale)))
        if progress:
            progress(done, len(photos))
    if len(made) < n_test + 1:
        raise DataError(f"{faces_dir}: only {len(made)} usable face photos; need more than --test {n_test}")
    test = set(np.random.default_rng(seed).permutation(len(made))[:n_test].tolist())
    rows = []
    for i, (name, real, (top, left, bottom, right), (crop_top, crop_left, side)) in enumerate(made):
        split = "Testing" if i in test else "Training"
        white = real.copy()
        white[top:bottom, left:right] = 255
        imaging.write_png(out / split / "Real" / f"{name}.png", real)
        imaging.write_png(out / split / "White" / f"{name}.png", white)
        rows.append((split, name, top, left, bottom, right, f"{crop_top:.1f}", f"{crop_left:.1f}", f"{side:.1f}"))
    header = ["split", "name", "top", "left", "bottom", "right", "crop_top", "crop_left", "crop_side"]
    imaging.atomic_write_bytes(out / "pairs.csv", _csv_bytes(header, rows))
    imaging.atomic_write_bytes(out / "skipped.csv", _csv_bytes(["file", "reason"], skipped))
    return {"photos": len(photos), "pairs": len(made) - len(test), "test": len(test), "skipped": len(skipped),
            "out": str(out), "seconds": time.monotonic() - start}
