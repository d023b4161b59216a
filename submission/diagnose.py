"""Name the usual export mistake behind a bad submission, by comparing it with the blanked test images.

Outside the white box a right submission nearly equals the White input (the kit composites
it exactly; an uncomposited generator stays within a few hundredths). So each mistake is
tested by undoing it: if the undone images fit the White images outside the box far better
than the file as read, that mistake is named, with what to do about it. Pure numpy/pandas, no
TensorFlow; every fit is a float64 RMSE.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from submission.errors import SubmissionError
from submission import flags
from submission.csv_io import image_stems, read_table
from submission.scoring import rmse

# Below MISFIT_FLOOR the file already fits the inputs outside the box (composited: 0 up to 8-bit
# rounding), so there is nothing to undo. Above it, undoing a mistake must at least halve the misfit:
# a right but uncomposited prediction is off by its own error everywhere, and no flip or transpose
# halves that (measured on real faces: README, "Competition web pages").
BETTER_RATIO = 0.5
MISFIT_FLOOR = 0.02
MAX_SHIFT = 3  # pixels each way: off-by-one ids and dropped rows move images by 1 or 2
ASPECT_RANGE = (0.5, 2.0)  # other M' x N' with M'N' = MN worth trying as "resized from"
MIN_SIDE = 8  # a CSV of a few rows is cut short, not written at a 1x1 or 2x2 "size"


def outside_misfit(pred: np.ndarray, white: np.ndarray, mask: np.ndarray, valid=None) -> float:
    """RMSE between a predicted image and its White input over known pixels (outside the box)."""
    keep = mask < 0.5 if valid is None else (mask < 0.5) & valid
    return rmse(pred[keep], white[keep]) if keep.any() else np.inf


def _median_misfit(preds, white, mask, valid=None) -> float:
    return float(np.median([outside_misfit(p, w, m, valid) for p, w, m in zip(preds, white, mask)]))


# ---------------------------------------------------------------- reading images as the scorer does


def table_images(table: pd.DataFrame, names: list[str], shape: tuple[int, int]) -> np.ndarray:
    """The (n, M, N) float64 images a scorer reads from a `read_table` table: columns by name, rows by id.

    Raises a SubmissionError saying what does not match (the CSV cannot be scored then).
    """
    rows, cols = shape
    names = image_stems(names)
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise SubmissionError(f"image columns missing: {', '.join(missing[:5])}")
    ids = np.arange(rows * cols)
    if len(table) != ids.size or not table.index.isin(ids).all():
        raise SubmissionError(f"{len(table)} rows with ids {table.index.min()}..{table.index.max()}; "
                              f"expected ids 0..{ids.size - 1}")
    values = table.loc[ids, names].to_numpy(np.float64)
    return values.T.reshape(len(names), rows, cols)


def row_count_diagnosis(n_rows: int, shape: tuple[int, int]) -> list[str]:
    """A CSV whose row count is not M*N: say which image size it looks written at."""
    rows, cols = shape
    if n_rows == rows * cols:
        return []
    side = round(np.sqrt(n_rows * rows / cols))
    if side >= MIN_SIDE and n_rows % side == 0 and round(side * cols / rows) == n_rows // side:
        return [f"your CSV has {n_rows} rows, images of {side}x{n_rows // side}; the test images are "
                f"{rows}x{cols} ({rows * cols} rows): predict at the test size or resize each image with "
                f"cv2.resize(img, ({cols}, {rows}), interpolation=cv2.INTER_AREA) before flattening"]
    return [f"your CSV has {n_rows} row(s); the test images are {rows}x{cols}, so it needs {rows * cols} "
            "(one per pixel, flattened row-major)"]


# ---------------------------------------------------------------- mistakes, each with its undo


def _value_fix(preds: np.ndarray) -> tuple[np.ndarray, str | None]:
    low, high = float(np.min(preds)), float(np.max(preds))
    if low < -0.01 and low >= -1.0 - 1e-6 and high <= 1.0 + 1e-6:
        return (preds + 1.0) / 2.0, (
            f"your values span [{low:.3g}, {high:.3g}]: that is tanh output in [-1, 1]; "
            "rescale with (x + 1) / 2 before writing the CSV")
    if high > 1.5 and low >= -1e-6 and high <= 255.0 + 1e-6:
        return preds / 255.0, (
            f"your values reach {high:.4g}: those are 0-255 pixel values; divide by 255 so they lie in [0, 1]")
    return preds, None


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    return np.roll(img, (dy, dx), axis=(0, 1))


def _shift_valid(shape, dy: int, dx: int) -> np.ndarray:
    """Pixels that did not wrap around when rolling an image by (dy, dx)."""
    rows, cols = shape
    valid = np.ones(shape, dtype=bool)
    valid[: max(dy, 0)] = False
    valid[rows + min(dy, 0):] = False
    valid[:, : max(dx, 0)] = False
    valid[:, cols + min(dx, 0):] = False
    return valid


def _resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _spatial_candidates(shape: tuple[int, int]):
    """(undo function, pixels to compare or None, sentence) for each layout mistake."""
    rows, cols = shape
    yield (lambda p: p.ravel().reshape(shape, order="F"), None,
           "your images look transposed (flattened column-major): flatten each (M, N) image with "
           "img.reshape(-1) or img.flatten(order='C'), not order='F' or img.T")
    yield (lambda p: p[:, ::-1], None,
           "your images look mirrored left-right: drop the horizontal flip (np.fliplr / cv2.flip(img, 1)) "
           "before writing, or undo the flip of a flip-averaging step")
    yield (lambda p: p[::-1], None,
           "your images look upside down: drop the vertical flip (np.flipud / cv2.flip(img, 0)) before writing")
    yield (lambda p: p[::-1, ::-1], None,
           "your images look rotated by 180 degrees: undo the flip on both axes before writing")
    for dy in range(-MAX_SHIFT, MAX_SHIFT + 1):
        for dx in range(-MAX_SHIFT, MAX_SHIFT + 1):
            if dy or dx:
                yield (lambda p, dy=dy, dx=dx: _shift(p, -dy, -dx), _shift_valid(shape, -dy, -dx),
                       f"your images look shifted by {dy} row(s) and {dx} column(s): check that row i of the CSV "
                       "holds pixel id i (no header row read as data, no dropped or extra first row, ids from 0)")
    for other in range(1, rows * cols + 1):
        if (rows * cols) % other:
            continue
        alt = (other, rows * cols // other)
        if alt in (shape, (cols, rows)) or not ASPECT_RANGE[0] <= alt[0] / alt[1] <= ASPECT_RANGE[1]:
            continue
        yield (lambda p, alt=alt: _resize(p.ravel().reshape(alt), shape), None,
               f"your images look made at {alt[0]}x{alt[1]} and flattened as such; the test images are "
               f"{rows}x{cols}: resize to the test size before flattening")


def _spatial_fix(preds, white, mask) -> tuple[np.ndarray, str | None]:
    base = _median_misfit(preds, white, mask)
    if base <= MISFIT_FLOOR:
        return preds, None
    best = (base * BETTER_RATIO, None, None)
    for undo, valid, sentence in _spatial_candidates(preds.shape[1:]):
        undone = np.stack([undo(p) for p in preds])
        misfit = _median_misfit(undone, white, mask, valid)
        if misfit < best[0]:
            best = (misfit, undone, sentence)
    return (preds, None) if best[1] is None else (best[1], best[2])


def _order_diagnosis(preds, white, mask, names: list[str]) -> str | None:
    """Column i holds another test image: often names sorted as text ('test_10' before 'test_2')."""
    n = len(preds)
    if n < 2:
        return None
    misfit = np.array([[outside_misfit(p, w, m) for w, m in zip(white, mask)] for p in preds])
    holds = misfit.argmin(axis=1)
    moved = [i for i in range(n) if holds[i] != i and misfit[i, holds[i]] < BETTER_RATIO * misfit[i, i]
             and misfit[i, i] > MISFIT_FLOOR]
    if len(moved) < 2:  # one image cannot move alone: a mix-up moves at least two
        return None
    examples = ", ".join(f"'{names[i]}' holds '{names[holds[i]]}'" for i in moved[:3])
    as_text = sorted(range(n), key=lambda i: names[i])  # names come in natural order, as the scorer expects
    hint = ("your image names were sorted as text; order the test images naturally (test_2 before test_10), "
            "as sample_submission.csv does" if list(holds) == as_text
            else "write column i from the prediction of the test image named in header i")
    return f"{len(moved)} of {n} columns hold another test image ({examples}): {hint}"


FLAG_ADVICE = {
    "constant fill": "the course scores a constant fill 0: submit your Generator's output",
    "looks like random noise": "the course scores noise 0: submit your Generator's output, clipped to [0, 1]",
    "identical to the White": "the course scores it 0: predict the box with your Generator",
}


def _flag_diagnoses(preds, white, mask) -> list[str]:
    """flags.py's checks (constant, noise, identity) as sentences that say what to do."""
    out = []
    for flag in flags.submission_flags(np.clip(preds, 0.0, 1.0), white, mask):
        advice = next((a for key, a in FLAG_ADVICE.items() if flag.startswith(key)), "")
        out.append(f"{flag}; {advice}" if advice else flag)
    return out


# Below this spread (standard deviation inside the box) a predicted box is nearly flat. Real mouth
# boxes had 0.054 or more (1st percentile 0.060) on 300 LFW faces at 128 x 128, OpenCV Telea's fills
# of the same boxes 0.034 or more; the gray boxes of a generator that had not learnt yet (issue 36's
# notebook run) 0.009. flags.py's constant fill is below 1e-3, in every image.
FLAT_BOX_STD = 0.02


def flat_box_diagnosis(preds, mask) -> str | None:
    """A box nearly one flat value in most images (not quite constant, which flags.py names): the scorer
    accepts it, and it scores about like a constant fill."""
    spreads = [float(p[m > 0.5].std()) for p, m in zip(preds, mask) if (m > 0.5).any()]
    flat = [s for s in spreads if s < FLAT_BOX_STD]
    if not spreads or len(flat) <= len(spreads) / 2 or max(spreads) < flags.CONSTANT_STD:
        return None
    return (f"the box is nearly flat in {len(flat)} of {len(spreads)} images (spread {np.median(flat):.3f} inside the "
            f"box; faces have about 0.05 or more): a generator that has not learnt the faces yet fills gray. Train "
            "longer, or submit a classical fill (inpaint baseline telea) meanwhile")


def diagnose_images(preds, white, mask, names: list[str] | None = None) -> list[str]:
    """Sentences naming each mistake found, with what to do; [] for a genuine prediction.

    preds, white, mask: (n, M, N); preds as the scorer reads them (`table_images`), white and
    mask the blanked test images (metric space) and their boxes, in the same order. Mistakes are
    undone in turn, so a tanh output that is also transposed gets both sentences.
    """
    preds = np.asarray(preds, dtype=np.float64)
    white, mask = np.asarray(white, dtype=np.float64), np.asarray(mask, dtype=np.float64)
    if preds.shape != white.shape:
        raise ValueError(f"predictions {preds.shape} and test images {white.shape} differ in shape")
    names = list(names) if names is not None else [str(i) for i in range(len(preds))]
    found = []
    preds, sentence = _value_fix(preds)
    found += [sentence] if sentence else []
    preds, sentence = _spatial_fix(preds, white, mask)
    found += [sentence] if sentence else []
    sentence = _order_diagnosis(preds, white, mask, names)
    found += [sentence] if sentence else []
    flat = flat_box_diagnosis(np.clip(preds, 0.0, 1.0), mask)
    return found + _flag_diagnoses(preds, white, mask) + ([flat] if flat else [])


def diagnose_table(table: pd.DataFrame, white, mask, names: list[str]) -> list[str]:
    """Diagnoses of a `read_table` table against the test images; a row-count mismatch is named too."""
    shape = tuple(np.asarray(white).shape[1:])
    wrong_rows = row_count_diagnosis(len(table), shape)
    if wrong_rows:
        return wrong_rows
    try:
        preds = table_images(table, names, shape)
    except SubmissionError as exc:
        return [f"cannot line the file up with the test images: {exc}"]
    return diagnose_images(preds, white, mask, image_stems(names))


def diagnose_file(csv_path, white, mask, names: list[str]) -> list[str]:
    """Diagnoses of a submission CSV; [] when it cannot be read at all (validate reports why)."""
    try:
        table = read_table(csv_path)
    except SubmissionError:
        return []
    return diagnose_table(table, white, mask, names)
