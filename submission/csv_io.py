"""Submission and solution tables: build them from predictions, write them atomically.

Reading them strictly lives in submission/csv_read.py (no OpenCV needed) and is re-exported here.

Format (data_spec.md): M*N rows, first column `id` = pixel index, then one column per test
image (named by its stem, natural order) holding that image flattened row-major, in [0, 1].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from submission import image_files
from submission.errors import DataError, SubmissionError, list_names
from submission.csv_read import (  # noqa: F401 - re-exported: callers import the readers from here too
    ID_COLUMN, cell_problems, check_header, numeric, parse_ids, read_cells, read_checked, read_raw, read_table, show,
)

# 9 significant digits: a float32 reads back as the same float32 and a value moves by <= 5e-10,
# so two CSVs move an RMSE by <= 1e-9 (worst case measured in tests; the contract asks < 1e-7).
# "%.8g" would save a byte of ~12 per cell; %g writes 0 and 1 as "0" and "1".
FLOAT_FORMAT = "%.9g"


# ---------------------------------------------------------------- building a table


def image_stems(names) -> list[str]:
    """'test_1.png' -> 'test_1'. Only image extensions are dropped: 'img.v2' is a stem already."""
    return [Path(n).stem if image_files.is_image_name(Path(n)) else n for n in map(str, names)]


def natural_order(names: list[str]) -> list[int]:
    # The name itself breaks ties ('A1' vs 'a1'), so the order never depends on the caller's order.
    return sorted(range(len(names)), key=lambda i: (image_files.natural_key(names[i]), names[i]))


def check_predictions(preds) -> np.ndarray:
    """(n, M, N) in [0, 1] as float64, or a SubmissionError saying what is wrong and how to fix it."""
    try:
        preds = np.asarray(preds, dtype=np.float64)
    except (TypeError, ValueError):
        raise SubmissionError("predictions must be an array of numbers") from None
    if preds.ndim == 4 and preds.shape[-1] == 1:
        raise SubmissionError(f"predictions have a channel axis {preds.shape}: pass preds[..., 0], shaped (n, M, N)")
    if preds.ndim != 3 or 0 in preds.shape:
        raise SubmissionError(f"predictions must be shaped (n, M, N) with n, M, N >= 1; got {preds.shape}")
    nan = int(np.isnan(preds).sum())
    outside = int(((preds < 0.0) | (preds > 1.0)).sum())  # inf counts here; NaN compares False
    if nan or outside:
        finite = preds[np.isfinite(preds)]
        span = f" (min {finite.min():.4g}, max {finite.max():.4g})" if finite.size else ""
        hint = "; rescale tanh outputs with (x + 1) / 2" if finite.size and finite.min() < 0 else ""
        raise SubmissionError(
            f"predictions must be finite and within [0, 1]: {nan} NaN and {outside} values outside{span}{hint}"
        )
    return preds + 0.0  # turns -0.0 into 0.0, so no "-0" cell reaches the file


def check_names(names, n: int) -> list[str]:
    stems = image_stems(names)
    if len(stems) != n:
        raise SubmissionError(f"{n} predicted images but {len(stems)} names")
    blank = [i for i, s in enumerate(stems) if not s.strip()]
    if blank:
        raise SubmissionError(f"empty image names at positions {list_names(blank)}")
    repeated = sorted({s for s in stems if stems.count(s) > 1} | ({ID_COLUMN} & set(stems)))
    if repeated:
        raise SubmissionError(f"image names must be unique and differ from {ID_COLUMN!r}: {list_names(repeated)}")
    return stems


def build_table(preds, names: list[str], sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """(n, M, N) predictions + their image names -> the submission table, id first.

    Names are sorted naturally and their images travel with them. `sample` (text cells, as
    `read_sample` returns) supplies the header and id column; see `export_predictions`.
    """
    preds = check_predictions(preds)
    names = check_names(names, len(preds))
    order = natural_order(names)
    names = [names[i] for i in order]
    flat = preds[order].reshape(len(order), -1).T  # column i = image i, row-major (C order)
    if sample is not None:
        return _fill_sample(sample, flat, names)
    table = pd.DataFrame(flat, columns=names)
    table.insert(0, ID_COLUMN, np.arange(flat.shape[0], dtype=np.int64))
    return table


def _fill_sample(sample: pd.DataFrame, flat: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Kaggle's sample defines the format: keep its header and id cells, put our values in."""
    value_columns = list(sample.columns[1:])
    if len(sample) != flat.shape[0] or len(value_columns) != flat.shape[1]:
        raise SubmissionError(
            f"sample submission is {len(sample)} rows x {len(value_columns)} image columns, "
            f"but the predictions are {flat.shape[0]} pixels (M*N) x {flat.shape[1]} images"
        )
    if set(value_columns) == set(names):
        picks = [names.index(c) for c in value_columns]
    else:  # other names: the sample's i-th column gets our i-th image in natural order
        picks = list(range(len(value_columns)))
    values = pd.DataFrame(flat[:, picks], columns=value_columns)
    return pd.concat([sample.iloc[:, :1].reset_index(drop=True), values], axis=1)


def write_table(table: pd.DataFrame, csv_path) -> Path:
    """The whole CSV is built in memory, then written via temp file + rename: never a partial file."""
    csv_path = Path(csv_path)
    if csv_path.is_dir():
        raise SubmissionError(f"{csv_path}: is a folder; give a file name such as {csv_path / 'Predict.csv'}")
    text = table.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    image_files.atomic_write_bytes(csv_path, text.encode("utf-8"))
    return csv_path


def read_sample(sample) -> pd.DataFrame | None:
    """A sample submission as text cells; its header and ids must pass `read_table`'s checks."""
    return None if sample is None else read_checked(Path(sample))[0]


def export_predictions(preds: np.ndarray, names: list[str], csv_path, sample: Path | None = None) -> Path:
    """Predictions (n, M, N) in [0, 1] -> submission CSV at `csv_path`; returns the path.

    Columns: `id` (pixel index 0..M*N-1), then one column per image, named by its stem, in natural
    order of the names (test_2 before test_10) whatever order they are passed in.

    With `sample` (Kaggle's sample_submission.csv), its header and id column are copied (same names
    and cells; CSV quoting may differ) and it must have M*N rows and n value columns. If its value
    columns are named like our images, they are matched by name; otherwise the sample's value
    columns, in the sample's order, get our images in natural order of our names.

    Nothing is written unless every value is finite and in [0, 1]; the file is replaced atomically.
    """
    return write_table(build_table(preds, names, read_sample(sample)), csv_path)


# ---------------------------------------------------------------- image folders


def check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        rows, cols = (int(s) for s in size)
    except (TypeError, ValueError):
        raise SubmissionError(f"size must be two numbers M N, got {size!r}") from None
    if rows < 1 or cols < 1:
        raise SubmissionError(f"size must be positive, got {rows}x{cols}")
    return rows, cols


def image_paths(folder: Path) -> list[Path]:
    """The folder's images in natural order; hidden entries (.DS_Store, ._x.png, .ipynb_checkpoints) are skipped."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: folder not found")
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    entries.sort(key=lambda p: (image_files.natural_key(p.name), p.name))
    strays = [p.name + "/" * p.is_dir() for p in entries if not (p.is_file() and image_files.is_image_name(p))]
    if strays:
        raise SubmissionError(f"{folder}: not image files: {list_names(strays)}")
    if not entries:
        raise SubmissionError(f"{folder}: no images")
    stems = [p.stem for p in entries]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise SubmissionError(f"{folder}: several files share a name: {list_names(repeated)}")
    return entries


def read_image_folder(folder: Path, size: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """Every image of a folder in natural order, through the kit's one loader, as (n, M, N) float32 in [0, 1]."""
    folder, size = Path(folder), check_size(size)
    paths = image_paths(folder)
    try:
        images = [image_files.read_gray_u8(p) for p in paths]
    except DataError as exc:
        raise SubmissionError(str(exc)) from None
    if size is None:
        shapes = sorted({img.shape for img in images})
        if len(shapes) > 1:
            listed = list_names(f"{a}x{b}" for a, b in shapes)
            raise SubmissionError(f"{folder}: images differ in size ({listed}); pass --size M N to resize them")
        size = shapes[0]
    images = [image_files.u8_to_metric(image_files.resize_u8(img, size)) for img in images]
    return np.stack(images), [p.stem for p in paths]


def export_folder(pred_dir, csv_path, sample: Path | None = None, size: tuple[int, int] | None = None) -> dict:
    """A folder of predicted images (named like the test images) -> submission CSV.

    Returns {"images": n, "size": (M, N), "csv": path}.
    """
    images, names = read_image_folder(Path(pred_dir), size)
    path = export_predictions(images, names, csv_path, sample)
    return {"images": len(names), "size": tuple(int(s) for s in images.shape[1:]), "csv": path}


def solution_from_answers(answers_dir, csv_path, size: tuple[int, int] | None = None,
                          sample: Path | None = None) -> dict:
    """An answers folder (Testing/Real) -> solution CSV, in the same format as a submission."""
    return export_folder(answers_dir, csv_path, sample=sample, size=size)
