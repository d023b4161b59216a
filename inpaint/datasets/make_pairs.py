"""`inpaint make-pairs`: a folder of face photos -> a competition set in the data_spec.md layout.

Each photo: read (any format OpenCV or Pillow decodes, GIF included; JPEG EXIF orientation
honoured) -> faces and landmarks (inpaint/datasets/face_detect.py: MTCNN, offline) -> a square crop with
the eyes at fixed places, levelled by default (inpaint/datasets/align.py) -> the white box on the mouth,
placed from the mouth corners (`box="mouth"`) or one box for the whole set (`box="fixed"`).

OUT/pairs.csv says, for every output image, where it came from and how it was made: source photo,
detector and its confidence, how many faces the photo held, the box, whether the face was levelled,
and the photo -> crop transform (crop = scale * R(rotation) * photo + shift, OpenCV's
getRotationMatrix2D convention, x to the right and y down). OUT/skipped.csv lists every photo not
used and why.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from inpaint import imaging
from inpaint.datasets import align
from inpaint.datasets.face_detect import Face, find_faces, load_detector
from inpaint.errors import DataError

CLEARLY_LARGEST = 2.0  # with several faces, the largest is used when its box has this many times the next one's area
BOX_KINDS = ("mouth", "fixed")
GIF_EXTS = {".gif"}
PAIRS_HEADER = ["split", "name", "source", "detector", "confidence", "faces", "top", "left", "bottom", "right",
                "aligned", "rotation", "scale", "shift_x", "shift_y"]


@dataclass
class Pair:
    name: str
    source: str
    face: Face
    faces: int  # faces found in the photo; the largest was used
    crop: align.Crop
    real: np.ndarray  # size x size uint8
    box: tuple[int, int, int, int]

    def white(self) -> np.ndarray:
        """The blanked image: Real with its box painted 255."""
        top, left, bottom, right = self.box
        white = self.real.copy()
        white[top:bottom, left:right] = 255
        return white


def read_photo_rgb(path: Path) -> np.ndarray:
    """Any photo -> RGB uint8, upright. OpenCV first (it applies a JPEG's EXIF orientation in colour
    mode and reduces 16-bit to 8); Pillow for what this OpenCV build cannot decode (GIF on some builds)."""
    data = np.fromfile(str(path), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is not None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise DataError(f"{path}: not a readable image") from None


def choose_face(faces: list[Face]) -> tuple[Face | None, str | None]:
    """The face to use and None, or None and why the photo is skipped. Faces come largest first."""
    if not faces:
        return None, "no face found"
    if len(faces) > 1 and faces[0].area < CLEARLY_LARGEST * faces[1].area:
        return None, f"{len(faces)} faces of similar size found"
    return faces[0], None


def _csv_bytes(header, rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def _photos(faces_dir: Path) -> list[Path]:
    return sorted((p for p in faces_dir.iterdir() if p.is_file() and not p.name.startswith(".")),
                  key=lambda p: imaging.natural_key(p.name))


def _named_like_image(photo: Path) -> bool:
    return imaging.is_image_name(photo) or photo.suffix.lower() in GIF_EXTS


def output_name(photo: Path) -> str:
    """The pair's file stem: the photo's stem, or its whole name with dots as underscores when the
    suffix is no image extension (the Yale set's `subject01.happy` and `subject01.sad` must not collide)."""
    return photo.stem if _named_like_image(photo) else photo.name.replace(".", "_")


def _pair_from_photo(photo: Path, detector, size: int, align_faces: bool, mouth_width: float, mouth_height: float,
                     box_scale: float) -> tuple[Pair | None, str | None]:
    try:
        rgb = read_photo_rgb(photo)
    except DataError:
        # Files named like images are broken images; others (notes, no extension) are not images at all.
        return None, "unreadable image" if _named_like_image(photo) else "not an image file"
    faces = find_faces(detector, rgb)
    face, reason = choose_face(faces)
    if face is None:
        return None, reason
    crop = align.face_crop(face, size, align_faces)
    real = align.warp(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), crop, size)
    box = align.mouth_box(face, crop, size, mouth_width, mouth_height, box_scale)
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None, "mouth outside the crop"
    return Pair(output_name(photo), photo.name, face, len(faces), crop, real, box), None


def _write_sample_submission(out: Path, tests: list[Pair]) -> None:
    """OUT/sample_submission.csv: the submission format (header, ids) that `inpaint validate --sample` and
    `inpaint submit --sample` read. Its values are the White test images, the identity baseline, as in the
    sample the competition server hands out."""
    from submission import export_predictions

    whites = np.stack([imaging.u8_to_metric(p.white()) for p in tests])
    export_predictions(whites, [p.name for p in tests], out / "sample_submission.csv")


def fixed_box(pairs: list[Pair]) -> tuple[int, int, int, int]:
    """One box for the whole set: the median of the per-face mouth boxes (robust to a few bad finds)."""
    return tuple(int(round(v)) for v in np.median([p.box for p in pairs], axis=0))


def make_pairs(faces_dir: Path, out: Path, size: int = 128, n_test: int = 10, seed: int = 0, box_scale: float = 1.0,
               progress: Callable[[int, int], None] | None = None, *, box: str = "mouth", align_faces: bool = True,
               mouth_width: float = align.MOUTH_WIDTH, mouth_height: float = align.MOUTH_HEIGHT,
               sheet: bool = False) -> dict:
    """Build the set; photos with no face, several faces of similar size, or unreadable are listed in
    OUT/skipped.csv. Returns the summary the CLI prints."""
    faces_dir, out = Path(faces_dir), Path(out)
    if not faces_dir.is_dir():
        raise DataError(f"{faces_dir}: photo folder not found")
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: output folder is not empty; choose a new --out")
    if size < 32 or n_test < 0 or box_scale <= 0 or mouth_width <= 0 or mouth_height <= 0:
        raise DataError("make-pairs: need --size >= 32, --test >= 0, and --box-scale, --mouth-width, "
                        "--mouth-height > 0")
    if box not in BOX_KINDS:
        raise DataError(f"make-pairs: --box must be one of {', '.join(BOX_KINDS)} (got {box!r})")
    photos = _photos(faces_dir)
    if not photos:
        raise DataError(f"{faces_dir}: no files in the photo folder")
    loading = time.monotonic()
    detector = load_detector()
    load_seconds = time.monotonic() - loading
    start, made, skipped, seen = time.monotonic(), [], [], set()
    for done, photo in enumerate(photos, 1):
        if output_name(photo) in seen:
            pair, reason = None, "another photo has the same name"
        else:
            pair, reason = _pair_from_photo(photo, detector, size, align_faces, mouth_width, mouth_height, box_scale)
        if pair is None:
            skipped.append((photo.name, reason))
        else:
            seen.add(pair.name)
            made.append(pair)
        if progress:
            progress(done, len(photos))
    seconds = time.monotonic() - start
    if not made:
        reasons = sorted({r for _, r in skipped})
        why = "; ".join(reasons) or "empty folder"
        raise DataError(f"{faces_dir}: no usable face photo among {len(photos)} files ({why})")
    if len(made) < n_test + 1:
        raise DataError(f"{faces_dir}: only {len(made)} usable face photos; need more than --test {n_test}")
    if box == "fixed":
        shared = fixed_box(made)
        for pair in made:
            pair.box = shared
    test = set(np.random.default_rng(seed).permutation(len(made))[:n_test].tolist())
    rows = []
    for i, p in enumerate(made):
        split = "Testing" if i in test else "Training"
        top, left, bottom, right = p.box
        imaging.write_png(out / split / "Real" / f"{p.name}.png", p.real)
        imaging.write_png(out / split / "White" / f"{p.name}.png", p.white())
        shift = p.crop.matrix[:, 2]
        rows.append((split, p.name, p.source, detector.name, f"{p.face.confidence:.4f}", p.faces, top, left, bottom,
                     right, int(align_faces), f"{p.crop.rotation:.3f}", f"{p.crop.scale:.6f}", f"{shift[0]:.3f}",
                     f"{shift[1]:.3f}"))
    if test:
        _write_sample_submission(out, [p for i, p in enumerate(made) if i in test])
    imaging.atomic_write_bytes(out / "pairs.csv", _csv_bytes(PAIRS_HEADER, rows))
    imaging.atomic_write_bytes(out / "skipped.csv", _csv_bytes(["file", "reason"], skipped))
    if sheet:
        from inpaint.datasets.pair_sheet import write_sheet

        write_sheet(out / "sheet.png", [(p.name, p.real, p.box) for p in made[:40]])
    return {"photos": len(photos), "pairs": len(made) - len(test), "test": len(test), "skipped": len(skipped),
            "out": str(out), "seconds": seconds, "load_seconds": load_seconds,
            "photos_per_second": len(photos) / max(seconds, 1e-9),
            "detector": detector.name, "several_faces": sum(p.faces > 1 for p in made),
            "sheet": str(out / "sheet.png") if sheet else None}
