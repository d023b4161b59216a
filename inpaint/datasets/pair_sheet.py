"""Contact sheets of real/blanked pairs: each Real crop with its white box outlined, named, so an organizer
checks a whole set at a glance (`inpaint make-pairs --sheet`); and Real | White pairs side by side
(docs/synth_sheet.png, of synthetic faces)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaint import imaging

COLUMNS = 8
BOX_COLOUR = (0, 0, 255)  # BGR red: stands out on grayscale faces
LABEL_HEIGHT = 14  # one line of the label font
FONT, FONT_SCALE = cv2.FONT_HERSHEY_PLAIN, 0.8


def label_lines(name: str, width: int) -> list[str]:
    """The whole name in lines no wider than `width` pixels: a long name wraps instead of being cut."""
    lines, line = [], ""
    for char in name:
        if line and cv2.getTextSize(line + char, FONT, FONT_SCALE, 1)[0][0] > width:
            lines.append(line)
            line = ""
        line += char
    return lines + [line]


def sheet_image(items: list[tuple[str, np.ndarray, tuple[int, int, int, int]]], columns: int = COLUMNS) -> np.ndarray:
    """(name, size x size uint8 crop, (top, left, bottom, right)) items -> a BGR grid, row by row."""
    size = items[0][1].shape[0]
    labels = [label_lines(name, size - 4) for name, _, _ in items]
    label_height = LABEL_HEIGHT * max(len(lines) for lines in labels)
    tile_h = size + label_height
    rows = -(-len(items) // columns)
    sheet = np.full((rows * tile_h, min(columns, len(items)) * size, 3), 255, np.uint8)
    for i, ((_, real, (top, left, bottom, right)), lines) in enumerate(zip(items, labels)):
        y, x = (i // columns) * tile_h, (i % columns) * size
        tile = cv2.cvtColor(real, cv2.COLOR_GRAY2BGR)
        cv2.rectangle(tile, (left, top), (right - 1, bottom - 1), BOX_COLOUR, 1)  # bottom/right are exclusive
        sheet[y : y + size, x : x + size] = tile
        for k, line in enumerate(lines):
            cv2.putText(sheet, line, (x + 2, y + size + LABEL_HEIGHT * (k + 1) - 4), FONT, FONT_SCALE, (0, 0, 0), 1)
    return sheet


def write_sheet(path: Path, items) -> None:
    imaging.write_png(path, sheet_image(items))


def real_white_sheet(pairs: list[tuple[np.ndarray, np.ndarray]], cols: int = 4, gap: int = 4) -> np.ndarray:
    """(real, white) uint8 pairs as Real | White tiles, `cols` pairs per row on a white background (uint8)."""
    tiles = [np.concatenate([real, np.zeros((real.shape[0], 1), np.uint8), white], axis=1) for real, white in pairs]
    h, w = tiles[0].shape
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        sheet[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + c * (w + gap) : gap + c * (w + gap) + w] = tile
    return sheet
