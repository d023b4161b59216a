"""Image files as the kit reads and writes them: grayscale uint8 in, [0, 1] floats out, atomic writes.

Only numpy and OpenCV, so the grader's tools, the server and the TensorFlow-free base can use them;
the library's rescaling to model space lives in inpaint/imaging.py on top of this module.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np

from submission.errors import DataError

# Extensions OpenCV decodes without optional codecs; anything else in a data folder is an error.
IMAGE_EXTS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".pnm"}
)


def natural_key(name: str):
    """Sort key where 'img2' < 'img10' (Kaggle test files are numbered without padding)."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTS


def read_gray_u8(path: Path) -> np.ndarray:
    """Decode any OpenCV-readable image to 2-D uint8 grayscale at its native size."""
    data = np.fromfile(str(path), dtype=np.uint8)  # fromfile + imdecode copes with non-ASCII paths
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise DataError(f"{path}: not a readable image")
    if img.dtype == np.uint16:  # 16-bit PNG/TIFF: keep the full range, not the low byte
        img = (img.astype(np.float64) / 257.0).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        raise DataError(f"{path}: unsupported pixel type {img.dtype}")
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    return img


def resize_u8(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (rows M, cols N); area interpolation is the right choice when shrinking."""
    rows, cols = size
    if img.shape == (rows, cols):
        return img
    return cv2.resize(img, (cols, rows), interpolation=cv2.INTER_AREA)


def u8_to_metric(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / np.float32(255.0)


def metric_to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs should get the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png(path: Path, img) -> None:
    """Write a uint8 image, or a float image in metric space, as PNG (atomically)."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = metric_to_u8(img)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError(f"could not encode {path}")
    atomic_write_bytes(Path(path), buf.tobytes())
