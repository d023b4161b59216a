"""Synthetic grayscale frontal faces, so the kit runs end to end with no download.

Faces vary in shape, size, position, skin tone, hair, brows, eyes, nose, lighting, blur and
noise; mouths vary in width, lip thickness, curvature, opening and teeth. The mouth is partly
predictable from what stays visible, as on real faces: its width follows the face and nose
width, a smile raises the cheeks, deepens the folds beside the nose and narrows the eyes, a
frown lowers the inner brows, an open mouth drops the jaw (a longer face). The rest is
independent noise, so no model can read the answer off the visible part exactly.
"""
from __future__ import annotations

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
SHIFT = 4  # fractional bits for cv2 drawing, so shapes are not snapped to the pixel grid
BOX_HEIGHT, BOX_WIDTH, BOX_MAX_WIDTH = 0.25, 0.36, 0.40  # of the image side: ~9% of the image
HIGHLIGHT = 1.8  # over-exposed: stays 255 through blur, lighting and noise, as a blown-out photo
CSV_HEADER = ["split", "name", "top", "left", "bottom", "right", "mouth_row", "mouth_col"]


@dataclass(frozen=True)
class SynthFace:
    real: np.ndarray  # (size, size) uint8
    white: np.ndarray  # real with the box set to 255
    box: tuple[int, int, int, int]  # (top, left, bottom, right), bottom/right exclusive
    mouth_center: tuple[float, float]  # (row, col)


def _fixed(values) -> tuple[int, ...]:
    return tuple(int(round(v * (1 << SHIFT))) for v in values)


def _ellipse(n: int, center, axes, angle: float = 0.0) -> np.ndarray:
    mask = np.zeros((n, n), np.uint8)
    cv2.ellipse(mask, _fixed(center), _fixed(np.maximum(axes, 0.5)), angle, 0, 360, 255, -1, cv2.LINE_AA, SHIFT)
    return mask


def _poly(n: int, points, stroke: float = 0.0) -> np.ndarray:
    mask = np.zeros((n, n), np.uint8)
    pts = [np.round(np.asarray(points) * (1 << SHIFT)).astype(np.int32)]
    if stroke:
        cv2.polylines(mask, pts, False, 255, max(1, round(stroke)), cv2.LINE_AA, SHIFT)
    else:
        cv2.fillPoly(mask, pts, 255, cv2.LINE_AA, SHIFT)
    return mask


def _weights(mask: np.ndarray, soft: float, alpha: float) -> tuple[tuple[slice, slice], np.ndarray]:
    """Blend weights on the mask's bounding box only (grown to hold the blur): most shapes are small."""
    x, y, w, h = cv2.boundingRect(mask)
    pad = int(4 * soft) + 2  # OpenCV's float Gaussian kernel reaches 4 sigma
    roi = slice(max(y - pad, 0), y + h + pad), slice(max(x - pad, 0), x + w + pad)
    weights = mask[roi].astype(np.float32) * np.float32(alpha / 255)
    return roi, (cv2.GaussianBlur(weights, (0, 0), soft) if soft else weights)


def _paint(img, mask, value, soft: float = 0.0, alpha: float = 1.0) -> None:
    """Blend `value` (number or image) into img under the mask; soft feathers the edge."""
    roi, w = _weights(mask, soft, alpha)
    img[roi] += ((value[roi] if isinstance(value, np.ndarray) else value) - img[roi]) * w


def _shade(img, mask, factor: float, soft: float) -> None:
    """Multiply img by `factor` under a feathered mask: shadows (< 1) and sheen (> 1) keep texture."""
    roi, w = _weights(mask, soft, 1.0)
    img[roi] *= 1 + (factor - 1) * w


def _eye(img, ex, ey, ew, eh, side, gaze, tones, catchlight: bool) -> None:
    n, (sclera, iris, lid), r = img.shape[0], tones, ew * 0.45
    t = np.linspace(-1, 1, 25)
    x = ex + side * ew * t
    upper = ey - eh * (1 - t**2) ** 0.7 - 0.15 * eh * t
    lower = ey + 0.7 * eh * (1 - t**2)
    _shade(img, _ellipse(n, (ex, ey - 0.4 * eh), (1.5 * ew, 2.2 * eh)), 0.82, ew * 0.35)  # eye socket
    eye = _poly(n, np.c_[np.r_[x, x[::-1]], np.r_[upper, lower[::-1]]])
    _paint(img, eye, sclera)
    ix, iy = ex + gaze * ew, ey + 0.1 * eh
    _paint(img, cv2.bitwise_and(_ellipse(n, (ix, iy), (r, r)), eye), iris)
    _paint(img, cv2.bitwise_and(_ellipse(n, (ix, iy), (0.45 * r, 0.45 * r)), eye), 0.03)
    if catchlight:
        _paint(img, cv2.bitwise_and(_ellipse(n, (ix + 0.35 * r, iy - 0.4 * r), (0.25 * r, 0.25 * r)), eye), HIGHLIGHT)
    _paint(img, _poly(n, np.c_[x, upper], stroke=max(1.0, ew * 0.14)), lid)
    _shade(img, _poly(n, np.c_[x, lower + 0.25 * eh], stroke=max(1.0, ew * 0.08)), 0.85, ew * 0.05)


def _nose(img, cx, ey, ny, nose_w, ew, skin, light: int) -> None:
    """Shading only, no outline: a shadow down the side away from the light, a lit tip, nostrils."""
    n = img.shape[0]
    _shade(img, _poly(n, [(cx - light * ew * 0.45, ey), (cx - light * nose_w * 0.7, ny - nose_w * 0.4)],
                      stroke=nose_w * 0.3), 0.82, nose_w * 0.3)
    _shade(img, _ellipse(n, (cx, ny - nose_w * 0.35), (nose_w * 0.4, nose_w * 0.3)), 1.12, nose_w * 0.2)
    for side in (-1, 1):
        _shade(img, _ellipse(n, (cx + side * nose_w * 0.8, ny - nose_w * 0.1), (nose_w * 0.3, nose_w * 0.35)),
               0.82, nose_w * 0.12)
        _paint(img, _ellipse(n, (cx + side * nose_w * 0.4, ny + nose_w * 0.12), (nose_w * 0.22, nose_w * 0.1),
                             side * 20), skin * 0.3, 0.5)
    _shade(img, _ellipse(n, (cx, ny + nose_w * 0.4), (nose_w * 0.7, nose_w * 0.18)), 0.85, nose_w * 0.15)


def _mouth(img, rng, cx, my, mw, curve, upper, lower, gap, skin, teeth: bool) -> tuple[float, float, float, float]:
    """Lips around a centre line bent by `curve` (> 0 smiles); returns the drawn extent (top, left, bottom, right)."""
    n = img.shape[0]
    t = np.linspace(-1, 1, 41)
    x = cx + t * mw / 2
    centre = my - curve * mw * 0.12 * (t**2 - 0.4)
    bulge = (1 - t**2) ** 0.5
    top, bottom = centre - gap / 2 * bulge, centre + gap / 2 * bulge
    bow = 1 - 0.3 * np.exp(-((t / 0.12) ** 2))  # the dip in the middle of the upper lip
    upper_edge = top - upper * bulge**0.6 * bow
    lower_edge = bottom + lower * bulge**0.8
    lip, mid = skin * rng.uniform(0.55, 0.75), len(t) // 2

    def band(a, b):
        return _poly(n, np.c_[np.r_[x, x[::-1]], np.r_[a, b[::-1]]])

    _paint(img, band(upper_edge, top), lip * 0.88)
    _paint(img, band(bottom, lower_edge), lip)
    _shade(img, _ellipse(n, (cx, bottom[mid] + 0.45 * lower), (mw * 0.18, lower * 0.25)), 1.25, lower * 0.3)
    shadow_y = lower_edge[mid] + 0.6 * lower
    _shade(img, _ellipse(n, (cx, shadow_y), (mw * 0.25, lower * 0.35)), 0.8, lower * 0.35)
    if gap > 1:
        _paint(img, band(top, bottom), 0.06)
        if teeth:
            tooth = top + np.minimum(gap * 0.55, upper * 1.3) * bulge
            _paint(img, cv2.bitwise_and(band(top, tooth), _ellipse(n, (cx, my), (mw * 0.4, mw))), 0.82)
            for i in np.linspace(mid - 10, mid + 10, 4).round().astype(int):  # gaps between teeth
                _shade(img, _poly(n, [(x[i], top[i]), (x[i], tooth[i])], stroke=1), 0.7, 0.0)
    seam = max(1.0, gap * 0.3 if gap > 1 else mw * 0.02)
    _paint(img, _poly(n, np.c_[x, centre], stroke=seam), lip * 0.35)
    pad = seam / 2 + 1  # the seam's half width and its anti-aliased edge stick out past the lip corners
    return float(upper_edge.min()) - 1, float(x[0]) - pad, float(shadow_y + lower), float(x[-1]) + pad


def _hair_mask(n, style, cx, cy, hw, top_h, hairline, cut) -> np.ndarray:
    outer = _ellipse(n, (cx, cy - 0.05 * top_h), (hw * (1.05 if style in (1, 4) else 1.2), top_h * 1.12))
    window_top, window_h = hairline, (cy + top_h) - hairline
    window = _ellipse(n, (cx, window_top + window_h / 2 + 0.2 * window_h), (hw * 0.95, window_h * 0.7))
    mask = cv2.subtract(outer, window)
    mask[int(cut):] = 0
    return mask


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """One face on an n x n float canvas (values may exceed 1 in highlights); returns it,
    the mouth's drawn extent (top, left, bottom, right) and the mouth's width."""
    u = rng.uniform
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    angle = u(0, 2 * np.pi)
    img = u(0.12, 0.8) + u(0, 0.3) * ((xx / n - 0.5) * np.cos(angle) + (yy / n - 0.5) * np.sin(angle))

    smile = u(-1, 1)  # hidden cause of several visible cues and of the mouth's curve
    opened = max(0.0, u(-0.7, 1.0))  # 0 = closed
    hw = n * u(0.23, 0.32)
    top_h = hw * u(1.12, 1.4)
    low_h = top_h * u(0.88, 1.0) * (1 + 0.14 * opened)  # an open mouth drops the jaw
    cx = n * (0.5 + rng.normal(0, 0.02))
    cy = n * (0.48 + rng.normal(0, 0.015)) - 0.35 * (low_h - top_h)
    skin = u(0.3, 0.75)
    hair = u(0.04, 0.3) if u() < 0.7 else u(0.3, 0.75)
    style = int(rng.choice(5, p=[0.1, 0.25, 0.25, 0.2, 0.2]))  # 0 none, 1 short top, 2 sides, 3 long, 4 fringe
    streaks = cv2.GaussianBlur(rng.normal(0, 1, (1, n)).astype(np.float32), (0, 0), n / 100)
    hair_img = (hair + 0.12 * streaks) * (1.15 - 0.3 * (yy / n))

    ey = cy - top_h * u(0.0, 0.1)
    ny = cy + low_h * u(0.3, 0.38)
    chin = cy + low_h
    my = ny + (chin - ny) * u(0.34, 0.42)

    _paint(img, _ellipse(n, (cx, n * 1.1), (hw * u(1.9, 2.5), n * u(0.2, 0.26))), u(0.05, 0.9))  # shoulders
    if style == 3:
        back = np.maximum(_ellipse(n, (cx, cy), (hw * 1.3, top_h * 1.15)),
                          _poly(n, [(cx - hw * 1.3, cy), (cx + hw * 1.3, cy), (cx + hw * 1.5, n), (cx - hw * 1.5, n)]))
        _paint(img, back, hair_img * 0.8)
    neck_y = cy + low_h * 0.4
    _paint(img, _poly(n, [(cx - hw * 0.45, neck_y), (cx + hw * 0.45, neck_y), (cx + hw * 0.55, n),
                          (cx - hw * 0.55, n)]), skin * 0.8)
    _shade(img, _ellipse(n, (cx, chin), (hw * 0.6, low_h * 0.15)), 0.6, hw * 0.1)  # under the jaw
    for side in (-1, 1):
        ear = (cx + side * hw * 0.97, (ey + ny) / 2)
        _paint(img, _ellipse(n, ear, (hw * 0.13, (ny - ey) * 0.6)), skin * 0.9)
        _shade(img, _ellipse(n, ear, (hw * 0.06, (ny - ey) * 0.4)), 0.75, hw * 0.03)

    th = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    lower_half = np.clip(np.sin(th), 0, None)
    jaw_x = 1 - u(0.15, 0.35) * lower_half ** u(1.5, 4)  # pointed or square chin
    outline = np.c_[cx + hw * np.cos(th) * jaw_x, cy + np.where(np.sin(th) < 0, top_h, low_h) * np.sin(th)]
    round_ = ((xx - cx) / hw) ** 2 + ((yy - cy) / top_h) ** 2
    _paint(img, _poly(n, outline), skin * (1.08 - 0.22 * np.minimum(round_, 1.2)))

    hairline = cy - top_h * (u(0.25, 0.4) if style == 4 else u(0.45, 0.7))
    if u() < 0.3:  # shiny forehead, clipped at white like an over-exposed photo; hair may cover it
        spot = _ellipse(n, (cx + u(-0.25, 0.25) * hw, ey - top_h * u(0.35, 0.5)),
                        (hw * u(0.12, 0.25), top_h * u(0.03, 0.06)))
        _paint(img, spot, HIGHLIGHT, hw * 0.06, u(0.6, 0.8))
    if style:
        cut = ey - 0.1 * top_h if style in (1, 4) else my  # short styles stop at the ears
        _paint(img, _hair_mask(n, style, cx, cy, hw, top_h, hairline, cut), hair_img)
    else:  # a bald scalp shines
        _shade(img, _ellipse(n, (cx - 0.2 * hw, cy - 0.75 * top_h), (0.35 * hw, 0.15 * top_h)), 1.15, hw * 0.15)

    ew = hw * u(0.17, 0.22)
    eh = ew * u(0.42, 0.58) * (1 - 0.3 * max(smile, 0))  # smiling eyes narrow
    eye_dx = hw * u(0.36, 0.44)
    gaze = u(-0.15, 0.15)
    brow_tone = min(hair, skin * 0.5) * u(0.8, 1.2)
    tones = (u(0.72, 0.88), u(0.12, 0.5), brow_tone * 0.5)  # white, iris, lashes
    brow_y = ey - eh - ew * u(0.35, 0.6)
    tb = np.linspace(0, 1, 15)
    thick = ew * u(0.12, 0.2) * (1.2 - 0.6 * tb)
    frown = max(-smile, 0) * ew * 0.45 * (1 - tb)  # frowns pull the inner brows down
    catchlight = u() < 0.45
    for side in (-1, 1):
        ex = cx + side * eye_dx
        _eye(img, ex, ey, ew, eh, side, gaze, tones, catchlight)
        bx = ex + side * ew * (-1.1 + 2.4 * tb)
        by = brow_y - ew * 0.3 * np.sin(np.pi * tb**0.8) + frown
        _paint(img, _poly(n, np.c_[np.r_[bx, bx[::-1]], np.r_[by - thick, (by + thick)[::-1]]]), brow_tone, 0.8)

    nose_w = hw * u(0.17, 0.25)
    _nose(img, cx, ey, ny, nose_w, ew, skin, light=1 if np.cos(angle + 1) > 0 else -1)

    mw = min((0.4 * hw + 1.6 * nose_w) * (1 + 0.12 * smile) * u(0.92, 1.08), 0.26 * n)
    cheer = max(smile, 0)
    for side in (-1, 1):  # nasolabial folds run from the nose wings towards the mouth corners
        t = np.linspace(0, 1, 12)
        fx = cx + side * (nose_w * 1.1 + (mw / 2 + ew * 0.3 - nose_w * 1.1) * t + hw * 0.06 * np.sin(np.pi * t))
        fy = ny - nose_w * 0.2 + (my - ny + nose_w * 0.3) * t
        _shade(img, _poly(n, np.c_[fx, fy], stroke=hw * 0.04), 0.93 - 0.15 * cheer, hw * 0.03)
        _shade(img, _ellipse(n, (cx + side * hw * 0.5, (ey + ny) / 2 + eh), (hw * 0.2, hw * 0.13)),
               1 + 0.22 * cheer, hw * 0.08)  # raised cheeks catch the light
    extent = _mouth(img, rng, cx, my, mw, smile * u(0.8, 1.2), hw * u(0.05, 0.09), hw * u(0.06, 0.11),
                    opened * hw * 0.2, skin, teeth=opened > 0.25 and u() < 0.85)

    img *= 1 + u(0, 0.35) * ((xx - cx) * np.cos(angle + 1) + (yy - cy) * np.sin(angle + 1)) / n
    return img, extent, mw


def _render(rng: np.random.Generator, size: int) -> tuple[SynthFace, tuple[int, int, int, int]]:
    """The face and the mouth's extent in output pixels (top, left, bottom, right), inclusive."""
    canvas, (top, left, bottom, right), mw = _draw(rng, size * SUPERSAMPLE)
    small = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.7))  # camera softness
    small += rng.normal(0, rng.uniform(0.004, 0.02), small.shape).astype(np.float32)  # sensor noise
    real = metric_to_u8(small)

    def px(v):  # canvas coordinate -> output pixel coordinate (pixel centres at integers)
        return (v + 0.5) / SUPERSAMPLE - 0.5

    # Anti-aliasing and blur spread a shape about one pixel beyond its drawn edge.
    mouth = (int(np.floor(px(top))) - 1, int(np.floor(px(left))) - 1,
             int(np.ceil(px(bottom))) + 1, int(np.ceil(px(right))) + 1)
    row, col = px((top + bottom) / 2), px((left + right) / 2)
    margin, jitter = round(size * 0.015), max(1, round(size * 0.02))
    h = max(round(BOX_HEIGHT * size), mouth[2] - mouth[0] + 1 + 2 * margin)
    wide = round((BOX_WIDTH + 0.5 * (mw / SUPERSAMPLE / size - 0.2)) * size)  # wider mouths get a little wider box
    w = max(min(wide, round(BOX_MAX_WIDTH * size)), mouth[3] - mouth[1] + 1 + 2 * margin)

    def place(centre: float, length: int, first: int, last: int) -> int:
        start = round(centre - length / 2) + int(rng.integers(-jitter, jitter + 1))
        start = min(max(start, last + margin + 1 - length), first - margin)  # jitter never uncovers the mouth
        return int(np.clip(start, 0, size - length))

    box_top, box_left = place(row, h, mouth[0], mouth[2]), place(col, w, mouth[1], mouth[3])
    white = real.copy()
    white[box_top : box_top + h, box_left : box_left + w] = 255
    return SynthFace(real, white, (box_top, box_left, box_top + h, box_left + w), (row, col)), mouth


def render_face(rng: np.random.Generator, size: int = 128) -> SynthFace:
    """One face and its blanked twin; the box covers the whole mouth with a few pixels of jitter."""
    return _render(rng, size)[0]


def _is_previous_set(out: Path) -> bool:
    """True if `out` holds only what write_synth_set writes, so replacing it loses nothing.
    faces.csv is the mark: a competition folder has the same image layout and must never be wiped."""
    marker = out / "faces.csv"
    if not marker.is_file():
        return False
    with marker.open(errors="replace") as fh:
        if fh.readline().rstrip("\n") != ",".join(CSV_HEADER):
            return False
    splits = {Path("Training"), Path("Testing")}
    image_dirs = {split / kind for split in splits for kind in ("Real", "White")}
    for p in out.rglob("*"):
        rel = p.relative_to(out)
        # .tmp: what an interrupted atomic write leaves behind
        mine = (rel in splits | image_dirs) if p.is_dir() else (
            rel == Path("faces.csv") or (rel.parent in image_dirs and p.suffix in (".png", ".tmp")))
        if not mine:
            return False
    return True


def _check_args(out: Path, n_train: int, n_test: int, size: int) -> None:
    if n_train < 1 or n_test < 1:
        raise DataError(f"synth: need at least 1 training pair and 1 test image (got {n_train}, {n_test})")
    if size < 32:
        raise DataError(f"synth: size must be >= 32 (got {size})")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_previous_set(out):
        raise DataError(f"{out}: folder is not empty and is not a synthetic set written by this kit; "
                        "choose a new --out")


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
        # Image k depends only on (seed, split, k): growing the set never changes existing faces,
        # and training and test faces never share a random stream.
        face = render_face(np.random.default_rng([seed, int(split == "test"), index]), size)
        folder = out / ("Training" if split == "train" else "Testing")
        write_png(folder / "Real" / f"{name}.png", face.real)
        write_png(folder / "White" / f"{name}.png", face.white)
        rows.append([split, name, *face.box, f"{face.mouth_center[0]:.2f}", f"{face.mouth_center[1]:.2f}"])
        if progress:
            progress(done, len(jobs))
    lines = [",".join(map(str, row)) for row in [CSV_HEADER, *rows]]  # no field holds a comma or quote
    atomic_write_bytes(out / "faces.csv", ("\n".join(lines) + "\n").encode())
    return {"train": n_train, "test": n_test, "size": size, "out": str(out), "seconds": time.monotonic() - start}

