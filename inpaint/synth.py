"""Synthetic grayscale frontal faces, so the kit runs end to end with no download.

Faces vary in shape, size, position, skin tone, hair, brows, eyes, nose, lighting and
noise; mouths vary in width, lip thickness, curvature, opening and teeth. The mouth is
partly predictable from what stays visible, as on real faces: its width follows the
face and nose width, a smile raises the cheeks and narrows the eyes, a frown lowers the
inner brows, an open mouth drops the jaw (a longer face). The rest is independent noise,
so no model can read the answer off the visible part exactly.
"""
from __future__ import annotations

import csv
import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from inpaint.errors import DataError
from inpaint.imaging import atomic_write_bytes, metric_to_u8, write_png

SUPERSAMPLE = 2  # draw at 2x and shrink with area interpolation: smooth edges at little cost
BOX_WIDTH, BOX_HEIGHT = 0.36, 0.25  # of the image side: ~9% of the image, as the course's blanks


@dataclass(frozen=True)
class SynthFace:
    real: np.ndarray  # (size, size) uint8
    white: np.ndarray  # real with the box set to 255
    box: tuple[int, int, int, int]  # (top, left, bottom, right), bottom/right exclusive
    mouth_center: tuple[float, float]  # (row, col)


def _ellipse(img, center, axes, value, angle=0.0, thickness=-1):
    s = 16  # cv2 draws with sub-pixel precision given fixed-point coordinates (shift=4)
    cv2.ellipse(img, (int(center[0] * s), int(center[1] * s)), (max(1, int(axes[0] * s)), max(1, int(axes[1] * s))),
                angle, 0, 360, float(value), thickness, cv2.LINE_AA, 4)


def _poly(img, points, value):
    cv2.fillPoly(img, [np.round(np.asarray(points) * 16).astype(np.int32)], float(value), cv2.LINE_AA, 4)


def _mouth(img, cx, cy, width, curve, upper, lower, gap, skin, teeth: bool):
    """Lips as two filled curves around a centre line bent by `curve` (> 0 smiles)."""
    t = np.linspace(-1, 1, 41)
    x = cx + t * width / 2
    centre = cy - curve * width * 0.18 * t**2
    bulge = np.sqrt(1 - t**2)
    top, bottom = centre - gap / 2 * bulge, centre + gap / 2 * bulge
    lip_tone = skin * 0.62
    _poly(img, np.c_[np.r_[x, x[::-1]], np.r_[top - upper * bulge, top[::-1]]], lip_tone)
    _poly(img, np.c_[np.r_[x, x[::-1]], np.r_[bottom, bottom[::-1] + lower * bulge[::-1]]], lip_tone * 0.95)
    if gap > 0.5:
        _poly(img, np.c_[np.r_[x, x[::-1]], np.r_[top, bottom[::-1]]], 0.08)
        if teeth:
            teeth_bottom = top + np.minimum(gap * 0.45, 0.35 * gap + 2) * bulge
            _poly(img, np.c_[np.r_[x * 0.9 + cx * 0.1, (x * 0.9 + cx * 0.1)[::-1]], np.r_[top, teeth_bottom[::-1]]], 0.88)
    cv2.polylines(img, [np.round(np.c_[x, centre] * 16).astype(np.int32)], False, lip_tone * 0.5, 1, cv2.LINE_AA, 4)


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict]:
    """One face on an n x n float canvas in [0, 1]; returns it and the mouth geometry."""
    u = rng.uniform
    yy, xx = np.mgrid[0:n, 0:n] / n
    angle = u(0, 2 * np.pi)
    img = u(0.15, 0.85) + u(0, 0.25) * ((xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle))
    img = img.astype(np.float32)

    smile = u(-1, 1)  # hidden cause of several visible cues and of the mouth's curve
    open_amount = max(0.0, u(-0.6, 1.0))  # 0 = closed
    half_w = u(0.25, 0.32) * n
    half_h = half_w * u(1.2, 1.4) * (1 + 0.08 * open_amount)  # an open mouth drops the jaw
    cx, cy = n * (0.5 + rng.normal(0, 0.02)), n * (0.5 + rng.normal(0, 0.02))
    skin = u(0.38, 0.8)
    hair = u(0.05, 0.35) if u() < 0.8 else u(0.75, 0.95)
    style = rng.integers(0, 4)  # 0 none, 1 top, 2 top + sides, 3 long
    if style == 3:
        _ellipse(img, (cx, cy - 0.1 * half_h), (half_w * 1.3, half_h * 1.15), hair)
    _ellipse(img, (cx, cy), (half_w, half_h), skin)
    if style in (1, 2, 3):
        _ellipse(img, (cx, cy - half_h * 0.72), (half_w * 1.05, half_h * 0.45), hair)
        _ellipse(img, (cx, cy - half_h * 0.35), (half_w * 0.95, half_h * 0.22), skin)  # hairline
    if style == 2:
        for side in (-1, 1):
            _ellipse(img, (cx + side * half_w * 0.95, cy - half_h * 0.2), (half_w * 0.18, half_h * 0.45), hair)

    eye_y = cy - half_h * u(0.12, 0.22)
    eye_dx = half_w * u(0.36, 0.46)
    eye_w = half_w * u(0.16, 0.22)
    eye_h = eye_w * u(0.45, 0.65) * (1 - 0.35 * max(smile, 0))  # smiling eyes narrow
    brow_tilt = -12 * min(smile, 0) * u(0.6, 1.0)  # frowning brows slant down to the nose
    for side in (-1, 1):
        ex = cx + side * eye_dx
        _ellipse(img, (ex, eye_y), (eye_w, eye_h), 0.92)
        iris = min(eye_w, eye_h) * 0.9
        _ellipse(img, (ex, eye_y), (iris, iris), u(0.15, 0.45))
        _ellipse(img, (ex, eye_y), (iris * 0.45, iris * 0.45), 0.03)
        if u() < 0.6:  # catchlight: pure white, a distractor for the mask finder
            _ellipse(img, (ex + iris * 0.35, eye_y - iris * 0.35), (iris * 0.28, iris * 0.28), 1.0)
        _ellipse(img, (ex, eye_y - eye_h - half_h * u(0.07, 0.12)), (eye_w * 1.2, half_h * u(0.02, 0.04)),
                 hair * 0.8, angle=side * brow_tilt)
        if smile > 0.2:  # raised cheeks catch the light
            _ellipse(img, (cx + side * half_w * 0.5, cy + half_h * 0.12), (half_w * 0.22, half_h * 0.1),
                     min(1.0, skin * (1 + 0.18 * smile)))

    nose_w = half_w * u(0.16, 0.26)
    nose_y = cy + half_h * u(0.12, 0.2)
    cv2.line(img, (int(cx * 16), int(eye_y * 16)), (int(cx * 16), int(nose_y * 16)), skin * 0.85, 2, cv2.LINE_AA, 4)
    for side in (-1, 1):
        _ellipse(img, (cx + side * nose_w * 0.5, nose_y), (nose_w * 0.3, nose_w * 0.17), skin * 0.45)

    mouth_w = min((0.75 * half_w + 1.6 * nose_w) * u(0.9, 1.1), 0.29 * n)
    mouth_y = nose_y + (half_h - (nose_y - cy)) * u(0.38, 0.46)
    gap = open_amount * half_h * 0.14
    _mouth(img, cx, mouth_y, mouth_w, smile, half_h * u(0.035, 0.065), half_h * u(0.045, 0.085), gap, skin,
           teeth=open_amount > 0.2 and u() < 0.8)
    if u() < 0.4:  # shiny forehead, clipped at white like an overexposed photo
        shine = np.zeros_like(img)
        _ellipse(shine, (cx + u(-0.2, 0.2) * half_w, cy - half_h * 0.5), (half_w * 0.16, half_h * 0.05), 1.0)
        img = np.maximum(img, cv2.GaussianBlur(shine, (0, 0), n / 80) * 1.6)
    light = 1 + u(0, 0.3) * ((xx - 0.5) * np.cos(angle + 1) + (yy - 0.5) * np.sin(angle + 1))
    img = np.clip(img * light.astype(np.float32), 0, 1)
    return img, {"mouth": (mouth_y, cx), "half_w": half_w}


def render_face(rng: np.random.Generator, size: int = 128) -> SynthFace:
    """One face and its blanked twin; the box covers the whole mouth with a few pixels of jitter."""
    canvas, geometry = _draw(rng, size * SUPERSAMPLE)
    small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    small = small + rng.normal(0, rng.uniform(0.005, 0.02), small.shape).astype(np.float32)  # sensor noise
    real = metric_to_u8(small)
    row, col = (v / SUPERSAMPLE for v in geometry["mouth"])
    h, w = round(BOX_HEIGHT * size), round(BOX_WIDTH * size)
    jitter = max(1, size // 40)
    top = int(np.clip(round(row - h / 2 + rng.integers(-jitter, jitter + 1)), 0, size - h))
    left = int(np.clip(round(col - w / 2 + rng.integers(-jitter, jitter + 1)), 0, size - w))
    white = real.copy()
    white[top : top + h, left : left + w] = 255
    return SynthFace(real, white, (top, left, top + h, left + w), (row, col))


def _check_args(out: Path, n_train: int, n_test: int, size: int) -> None:
    if n_train < 1 or n_test < 1:
        raise DataError(f"synth: need at least 1 training pair and 1 test image (got {n_train}, {n_test})")
    if size < 32:
        raise DataError(f"synth: size must be >= 32 (got {size})")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "faces.csv").exists():
        raise DataError(f"{out}: folder is not empty and is not a synthetic set; choose a new --out")


def write_synth_set(
    out: Path, n_train: int = 700, n_test: int = 10, seed: int = 0, size: int = 128,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write the data_spec.md layout (answers included) plus faces.csv with the boxes and mouth centres."""
    out = Path(out)
    _check_args(out, n_train, n_test, size)
    start = time.monotonic()
    for sub in ("Training", "Testing"):
        shutil.rmtree(out / sub, ignore_errors=True)  # a previous synthetic set is replaced, not mixed
    digits = max(4, len(str(n_train)))
    jobs = [("train", f"face_{i + 1:0{digits}d}", i) for i in range(n_train)]
    jobs += [("test", f"test_{i + 1}", i) for i in range(n_test)]  # unpadded, as Kaggle names them
    rows = []
    for done, (split, name, index) in enumerate(jobs, 1):
        # Image k depends only on (seed, split, k): growing the set never changes existing faces.
        face = render_face(np.random.default_rng([seed, split == "test", index]), size)
        folder = out / ("Training" if split == "train" else "Testing")
        write_png(folder / "Real" / f"{name}.png", face.real)
        write_png(folder / "White" / f"{name}.png", face.white)
        rows.append([split, name, *face.box, f"{face.mouth_center[0]:.2f}", f"{face.mouth_center[1]:.2f}"])
        if progress:
            progress(done, len(jobs))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["split", "name", "top", "left", "bottom", "right", "mouth_row", "mouth_col"])
    writer.writerows(rows)
    atomic_write_bytes(out / "faces.csv", text.getvalue().encode())
    return {"train": n_train, "test": n_test, "size": size, "out": str(out), "seconds": time.monotonic() - start}


def contact_sheet(faces: list[SynthFace], cols: int = 4, gap: int = 4) -> np.ndarray:
    """Real | White pairs tiled `cols` pairs per row on a white background (uint8)."""
    tiles = [np.concatenate([f.real, np.full((f.real.shape[0], 1), 255, np.uint8), f.white], axis=1) for f in faces]
    h, w = tiles[0].shape
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + c * (w + gap) : gap + c * (w + gap) + w] = tile
    return sheet
