"""A participant's predicted test images beside the blanked inputs, as one PNG for the web pages.

Only what the participant already has goes in: the White test images and their own upload,
never the answers. Values are shown as the scorer reads them, clipped to [0, 1] for display,
so a tanh output shows as a dark image and a 0-255 one as a white one. Given the test boxes, a
black frame on each prediction marks the box the diagnoses and flags judged.
"""
from __future__ import annotations

import cv2
import numpy as np

TILE = 96  # pixels on the longer side of each thumbnail
GAP = 4
LABEL_HEIGHT = 14
BACKGROUND = 255
PER_ROW = 10  # test images side by side; 50 test images make 5 bands, not an unreadable strip


def _tile(img: np.ndarray, tile_shape: tuple[int, int]) -> np.ndarray:
    u8 = np.round(np.clip(np.nan_to_num(np.asarray(img, np.float64), nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.resize(u8, (tile_shape[1], tile_shape[0]), interpolation=cv2.INTER_AREA)


def thumbnail_sheet(preds, white, names: list[str] | None = None, tile: int = TILE, per_row: int = PER_ROW,
                    boxes=None) -> np.ndarray:
    """uint8 sheet of bands of at most `per_row` test images: in each band a row of the blanked
    inputs above a row of the predictions, one labelled column per test image; `boxes` ((n, 4) top,
    left, bottom, right) frames each prediction's box, just outside it."""
    preds, white = np.asarray(preds), np.asarray(white)
    if preds.shape != white.shape or preds.ndim != 3:
        raise ValueError(f"predictions {preds.shape} and test images {white.shape} must both be (n, M, N)")
    n, rows, cols = white.shape
    scale = tile / max(rows, cols)
    tile_shape = (max(1, round(rows * scale)), max(1, round(cols * scale)))
    band = 2 * (tile_shape[0] + LABEL_HEIGHT) + 3 * GAP
    columns = min(n, per_row)
    sheet = np.full((band * -(-n // per_row), columns * (tile_shape[1] + GAP) + GAP), BACKGROUND, dtype=np.uint8)
    labels = list(names) if names is not None else [str(i + 1) for i in range(n)]
    for i in range(n):
        left = GAP + (i % per_row) * (tile_shape[1] + GAP)
        for row, (images, what) in enumerate(((white, "input"), (preds, "yours"))):
            top = (i // per_row) * band + GAP + row * (tile_shape[0] + LABEL_HEIGHT + GAP)
            cv2.putText(sheet, f"{labels[i][:12]} {what}", (left, top + LABEL_HEIGHT - 4),
                        cv2.FONT_HERSHEY_PLAIN, 0.7, 0, 1, cv2.LINE_AA)
            y = top + LABEL_HEIGHT
            sheet[y:y + tile_shape[0], left:left + tile_shape[1]] = _tile(images[i], tile_shape)
            if what == "yours" and boxes is not None and boxes[i][2] > boxes[i][0]:
                _frame(sheet[y:y + tile_shape[0], left:left + tile_shape[1]], boxes[i], scale)
    return sheet


def _frame(tile: np.ndarray, box, scale: float) -> None:
    """A black 1-pixel rectangle just outside `box` (image pixels) on a tile drawn at `scale`."""
    top, left, bottom, right = (int(v) for v in box)
    corner = (max(int(np.floor(left * scale)) - 1, 0), max(int(np.floor(top * scale)) - 1, 0))
    far = (min(int(np.ceil(right * scale)), tile.shape[1] - 1), min(int(np.ceil(bottom * scale)), tile.shape[0] - 1))
    cv2.rectangle(tile, corner, far, 0, 1)


def thumbnail_png(preds, white, names: list[str] | None = None, tile: int = TILE, per_row: int = PER_ROW,
                  boxes=None) -> bytes:
    """`thumbnail_sheet` encoded as PNG bytes (cv2.imencode), ready to serve or embed."""
    ok, buf = cv2.imencode(".png", thumbnail_sheet(preds, white, names, tile, per_row, boxes))
    if not ok:
        raise ValueError("could not encode the thumbnail sheet as PNG")
    return buf.tobytes()
