"""The data folder contract of data_spec.md: find the files, pair them, check them, read them
(into the Dataset of inpaint/dataset.py).

Every command that reads a data folder goes through `load_data`, so `inpaint check-data`
and training reject exactly the same folders. All problems are collected before
raising, so a user fixes a folder in one pass rather than one error at a time.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from inpaint import imaging, masks
from inpaint.dataset import Dataset, ImageSet, describe
from inpaint.errors import DataError, count, list_names
from submission.test_images import TestImages, boxes_to_masks

TRAIN_REAL, TRAIN_WHITE = Path("Training/Real"), Path("Training/White")
TEST_WHITE, TEST_REAL = Path("Testing/White"), Path("Testing/Real")
# Files that operating systems drop into folders; never data, never an error.
IGNORED_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


class _Problems(list):
    def add(self, what: str, names) -> None:
        names = sorted(names, key=imaging.natural_key)
        if names:
            self.append(f"{what}: {list_names(names)}")


def scan_folder(folder: Path, problems: _Problems) -> dict[str, Path]:
    """stem -> file for every image in `folder`; non-images and duplicate stems are problems."""
    if not folder.is_dir():
        problems.append(f"{folder}: folder missing")
        return {}
    by_stem: dict[str, list[Path]] = {}
    strays = []
    for path in folder.iterdir():
        if path.name.lower() in IGNORED_FILES or path.name.startswith("."):
            continue
        if path.is_file() and imaging.is_image_name(path):
            by_stem.setdefault(path.stem, []).append(path)
        else:
            strays.append(path.name + ("/" if path.is_dir() else ""))
    problems.add(f"{folder}: not image files", strays)
    problems.add(
        f"{folder}: several files share a name (stem)",
        [f"{stem} ({', '.join(sorted(p.name for p in paths))})" for stem, paths in by_stem.items() if len(paths) > 1],
    )
    if not by_stem and not strays:
        problems.append(f"{folder}: no images")
    return {stem: paths[0] for stem, paths in by_stem.items()}


def pair_files(
    first: dict[str, Path], second: dict[str, Path], labels: tuple[str, str], by_order: bool, problems: _Problems
) -> list[tuple[str, Path, Path]]:
    """(name, first file, second file) in natural order; strictly by stem unless `by_order`."""
    a_names = sorted(first, key=imaging.natural_key)
    b_names = sorted(second, key=imaging.natural_key)
    if by_order:
        if len(a_names) != len(b_names):
            problems.append(f"cannot pair by order: {len(a_names)} {labels[0]} vs {len(b_names)} {labels[1]} images")
            return []
        return [(a, first[a], second[b]) for a, b in zip(a_names, b_names)]
    problems.add(f"{labels[0]} images without a {labels[1]} twin", set(first) - set(second))
    problems.add(f"{labels[1]} images without a {labels[0]} twin", set(second) - set(first))
    return [(n, first[n], second[n]) for n in a_names if n in second]


def read_images(paths: list[Path], size: tuple[int, int], problems: _Problems, facts: Counter) -> np.ndarray:
    """(n, M, N) float32 in [0, 1]; unreadable files are problems (their slot stays zero)."""
    out = np.zeros((len(paths), *size), dtype=np.float32)
    bad = []
    for i, path in enumerate(paths):
        try:
            img = imaging.read_gray_u8(path)
        except DataError:
            bad.append(str(path.name))
            continue
        facts[f"{img.shape[0]}x{img.shape[1]} {path.suffix.lower()}"] += 1
        out[i] = imaging.u8_to_metric(imaging.resize_u8(img, size))
    problems.add(f"{paths[0].parent if paths else ''}: unreadable images", bad)
    return out


def pair_boxes(real: ImageSet, white: ImageSet, folder: Path, threshold: float, problems: _Problems) -> np.ndarray:
    """(n, 4) painted boxes of training pairs, from where Real and White differ (masks.pair_box).

    A pair whose images do not differ falls back to the shape-based finder on White alone.
    """
    boxes = np.zeros((len(white.names), 4), dtype=np.int64)
    missing = []
    for i, (name, r, w) in enumerate(zip(white.names, real.images, white.images)):
        box = masks.pair_box(r, w, threshold) or masks.find_box(w, threshold)
        if box is None:
            missing.append(name)
        else:
            boxes[i] = box
    problems.add(f"{folder}: no white box found (try --mask-threshold)", missing)
    return boxes


def choose_test_boxes(white: ImageSet, known: np.ndarray, folder: Path, threshold: float, problems: _Problems):
    """(n, 4) boxes of test images chosen with the training boxes' sizes and places (masks.choose_box),
    and {name: why it looks unlike the training boxes}; each unlike box is a warning on stderr."""
    boxes = np.zeros((len(white.names), 4), dtype=np.int64)
    missing, unlike = [], {}
    for i, (name, img) in enumerate(zip(white.names, white.images)):
        box, note = masks.choose_box(img, known, threshold)
        if box is None:
            missing.append(name)
            continue
        boxes[i] = box
        if note:
            unlike[name] = note
            print(f"WARNING: {folder / name}: mask looks unlike the training boxes: {note}", file=sys.stderr)
    problems.add(f"{folder}: no white box found (try --mask-threshold)", missing)
    return boxes, unlike


def _training_boxes_only(data_dir: Path, size, by_order: bool, threshold: float) -> np.ndarray:
    """The training boxes that guide the test-mask finder, for commands that do not train.

    The training folder's own problems are not this command's: they are left to train/check-data.
    """
    quiet = _Problems()
    if not (data_dir / TRAIN_REAL).is_dir() or not (data_dir / TRAIN_WHITE).is_dir():
        return np.zeros((0, 4), np.int64)
    read = _training_pairs(data_dir, size, by_order, threshold, quiet, Counter())
    return np.zeros((0, 4), np.int64) if read is None or quiet else read[2]


def _training_pairs(data_dir: Path, size, by_order: bool, threshold: float, problems: _Problems, formats: Counter):
    """(Real, White, their painted boxes) of the training pairs, or None when there is no pair."""
    pairs = pair_files(scan_folder(data_dir / TRAIN_REAL, problems), scan_folder(data_dir / TRAIN_WHITE, problems),
                       ("Training/Real", "Training/White"), by_order, problems)
    if not pairs:
        return None
    names = [p[0] for p in pairs]
    real = ImageSet(names, read_images([p[1] for p in pairs], size, problems, formats))
    white = ImageSet(names, read_images([p[2] for p in pairs], size, problems, formats))
    return real, white, pair_boxes(real, white, data_dir / TRAIN_WHITE, threshold, problems)


def csv_test_images(ds: Dataset, white_paths, real_paths, threshold: float, grow: int, problems: _Problems) -> TestImages:
    """The test set at the submission size: the images' own if they share one, else the working size."""
    names = ds.test_white.names
    resized = TestImages(names, ds.test_white.images, ds.test_mask, ds.test_boxes,
                         ds.test_real.images if ds.test_real else None)
    own = [imaging.u8_to_metric(imaging.read_gray_u8(p)) for p in white_paths]
    shapes = {w.shape for w in own}
    if len(shapes) > 1 or shapes == {ds.size}:
        return resized  # differing sizes cannot share one CSV column length: the working size it is
    real = None
    if real_paths:
        real = [imaging.u8_to_metric(imaging.read_gray_u8(p)) for p in real_paths]
        odd = [p.name for p, r in zip(real_paths, real) if r.shape != own[0].shape]
        problems.add("Testing/Real images whose size differs from their Testing/White twin", odd)
    # The box found at the working size, scaled outwards: a pixel too many comes from the model's
    # enlarged output, a pixel too few would leave paint in the submission.
    rows, cols = own[0].shape[0] / ds.size[0], own[0].shape[1] / ds.size[1]
    scale = np.array([rows, cols, rows, cols])
    found = np.concatenate([np.floor(ds.test_boxes[:, :2] * scale[:2]), np.ceil(ds.test_boxes[:, 2:] * scale[2:])], axis=1)
    if problems:
        return resized
    return TestImages.from_boxes(names, np.stack(own), found.astype(np.int64), grow, np.stack(real) if real else None)


def load_data(
    data_dir: Path,
    size: tuple[int, int] = (128, 128),
    need_train: bool = True,
    need_test: bool = True,
    by_order: bool = False,
    mask_threshold: float = masks.DEFAULT_THRESHOLD,
    mask_grow: int = 1,
) -> Dataset:
    """Check `data_dir` against data_spec.md and read it. Raises one DataError listing every problem."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: data folder not found (expected Training/ and Testing/ inside, see data_spec.md)")
    wrong_folder = _wrong_folder(data_dir)
    if wrong_folder:
        raise DataError(wrong_folder)
    if by_order:
        print(
            "WARNING: pairing Real and White images by sorted order, NOT by name. "
            "Check that the pairs really match (inpaint check-data shows them).",
            file=sys.stderr,
        )
    problems, formats = _Problems(), Counter()
    ds = Dataset(size=tuple(size), folder=data_dir, mask_threshold=mask_threshold, mask_grow=mask_grow)
    if need_train:
        read = _training_pairs(data_dir, size, by_order, mask_threshold, problems, formats)
        if read is not None:
            ds.train_real, ds.train_white, ds.train_boxes = read
            ds.train_mask = boxes_to_masks(tuple(size), ds.train_boxes, mask_grow)
    if need_test:
        whites = scan_folder(data_dir / TEST_WHITE, problems)
        if whites:
            names = sorted(whites, key=imaging.natural_key)
            ds.test_white = ImageSet(names, read_images([whites[n] for n in names], size, problems, formats))
            known = ds.train_boxes if ds.train_boxes is not None else _training_boxes_only(
                data_dir, size, by_order, mask_threshold)
            ds.test_boxes, ds.unlike_boxes = choose_test_boxes(ds.test_white, known, data_dir / TEST_WHITE, mask_threshold, problems)
            ds.test_mask = boxes_to_masks(tuple(size), ds.test_boxes, mask_grow)
        if (data_dir / TEST_REAL).is_dir():
            answers = pair_files(
                whites, scan_folder(data_dir / TEST_REAL, problems), ("Testing/White", "Testing/Real"), False, problems
            )
            if answers and len(answers) == len(whites):
                ds.test_real = ImageSet(names, read_images([a[2] for a in answers], size, problems, formats))
        if ds.test_white is not None and not problems:
            ds.csv_test = csv_test_images(
                ds, [whites[n] for n in names], [a[2] for a in answers] if ds.test_real else None,
                mask_threshold, mask_grow, problems,
            )
    if problems:
        error = DataError(f"{data_dir} does not follow data_spec.md ({count(len(problems), 'problem')}): " + "; ".join(problems))
        error.problems = list(problems)  # check-data prints them one per line
        raise error
    ds.facts = describe(ds, formats)
    return ds


def _is_photo(path: Path) -> bool:
    """An image by its name, or by its content when the name has no image extension (the Yale faces are
    GIFs named `subject01.happy`); Pillow reads the header only."""
    if imaging.is_image_name(path):
        return True
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, OSError):
        return False


def _wrong_folder(data_dir: Path) -> str | None:
    """A folder with neither Training/ nor Testing/: a part of a data folder, or photos not yet made into pairs."""
    if (data_dir / "Training").is_dir() or (data_dir / "Testing").is_dir():
        return None
    for parent in list(data_dir.absolute().parents)[:2]:  # DATA/Training -> DATA; DATA/Training/Real -> DATA
        if (parent / "Training").is_dir() or (parent / "Testing").is_dir():
            shown = parent if data_dir.is_absolute() else Path(os.path.relpath(parent))
            return f"{data_dir}: no Training/ or Testing/ inside; it is part of a data folder: did you mean --data {shown}?"
    photos = [p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith(".") and _is_photo(p)]
    if photos:
        return (f"{data_dir}: {len(photos)} images but no Training/ and Testing/ folders (data_spec.md); to build a "
                f"data set from face photos: inpaint make-pairs --faces {data_dir} --out DATA")
    return f"{data_dir}: no Training/ or Testing/ inside (data_spec.md describes the layout)"
