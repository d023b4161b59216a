"""Submission and solution tables: build them from predictions, write them atomically, read them strictly.

Format (data_spec.md): M*N rows, first column `id` = pixel index, then one column per test
image (named by its stem, natural order) holding that image flattened row-major, in [0, 1].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inpaint import imaging
from inpaint.errors import DataError, SubmissionError, list_names

# 9 significant digits: float32 predictions survive the round trip exactly, so writing a
# CSV changes no score (measured: max change of RMSE < 1e-9 on random data, see tests).
FLOAT_FORMAT = "%.9g"


def build_table(preds: np.ndarray, names: list[str], sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """(n, M, N) predictions + their image names -> the submission table (id first)."""
    preds = np.asarray(preds, dtype=np.float64)
    if preds.ndim != 3 or len(preds) != len(names):
        raise SubmissionError(f"need predictions shaped (n, M, N) and n names; got {preds.shape} and {len(names)} names")
    if not np.isfinite(preds).all() or preds.min() < 0.0 or preds.max() > 1.0:
        raise SubmissionError("predictions must be finite and within [0, 1] (rescale tanh outputs with (x + 1) / 2)")
    order = sorted(range(len(names)), key=lambda i: imaging.natural_key(names[i]))
    names = [names[i] for i in order]
    flat = preds[order].reshape(len(order), -1).T  # column i = image i, row-major
    if sample is None:
        table = pd.DataFrame(flat, columns=names)
        table.insert(0, "id", np.arange(flat.shape[0]))
        return table
    return _fill_sample(sample, flat, names)


def _fill_sample(sample: pd.DataFrame, flat: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Kaggle's sample defines the format: keep its header and id column, put our values in."""
    value_columns = list(sample.columns[1:])
    if len(sample) != flat.shape[0] or len(value_columns) != flat.shape[1]:
        raise SubmissionError(
            f"sample submission is {len(sample)} rows x {len(value_columns)} image columns, "
            f"but the predictions are {flat.shape[0]} pixels x {flat.shape[1]} images"
        )
    table = sample.iloc[:, :1].copy()
    by_name = set(value_columns) == set(names)
    for i, column in enumerate(value_columns):
        # Same names: match by name. Other names: the sample's order is the natural order of ours.
        table[column] = flat[:, names.index(column) if by_name else i]
    return table


def write_table(table: pd.DataFrame, csv_path: Path) -> Path:
    """The whole CSV is built in memory, then written via temp file + rename: never a partial file."""
    text = table.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    imaging.atomic_write_bytes(Path(csv_path), text.encode())
    return Path(csv_path)


def read_sample(sample: Path | None) -> pd.DataFrame | None:
    return None if sample is None else read_raw(Path(sample))


def export_predictions(preds: np.ndarray, names: list[str], csv_path: Path, sample: Path | None = None) -> Path:
    """Predictions (n, M, N) in [0, 1] -> submission CSV. With a sample, its header and id column are copied."""
    return write_table(build_table(preds, names, read_sample(sample)), csv_path)


def read_image_folder(folder: Path, size: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """Every image of a folder in natural order, through the kit's one loader, as (n, M, N) in [0, 1]."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: folder not found")
    entries = sorted(folder.iterdir(), key=lambda p: imaging.natural_key(p.name))
    strays = [p.name for p in entries if not (p.is_file() and imaging.is_image_name(p)) and not p.name.startswith(".")]
    if strays:
        raise SubmissionError(f"{folder}: not image files: {list_names(strays)}")
    paths = [p for p in entries if p.is_file() and imaging.is_image_name(p)]
    if not paths:
        raise SubmissionError(f"{folder}: no images")
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise SubmissionError(f"{folder}: several files share a name: {list_names(sorted({s for s in stems if stems.count(s) > 1}))}")
    try:
        images = [imaging.read_gray_u8(p) for p in paths]
    except DataError as exc:
        raise SubmissionError(str(exc)) from None
    if size is None:
        shapes = sorted({img.shape for img in images})
        if len(shapes) > 1:
            raise SubmissionError(f"{folder}: images differ in size ({', '.join(f'{a}x{b}' for a, b in shapes)}); pass --size M N")
        size = shapes[0]
    return np.stack([imaging.u8_to_metric(imaging.resize_u8(img, size)) for img in images]), stems


def export_folder(pred_dir: Path, csv_path: Path, sample: Path | None = None, size: tuple[int, int] | None = None) -> dict:
    """A folder of predicted images (named like the test images) -> submission CSV."""
    images, names = read_image_folder(pred_dir, size)
    path = export_predictions(images, names, csv_path, sample)
    return {"images": len(names), "size": images.shape[1:], "csv": path}


def solution_from_answers(answers_dir: Path, csv_path: Path, size=None, sample: Path | None = None) -> dict:
    """An answers folder (Testing/Real) -> solution CSV, in the same format as a submission."""
    return export_folder(answers_dir, csv_path, sample, size)


def numeric(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.apply(pd.to_numeric, errors="coerce").astype(np.float64)


def read_raw(path: Path) -> pd.DataFrame:
    """The CSV as text cells (nothing coerced yet), or a SubmissionError naming the path."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SubmissionError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise SubmissionError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: not a readable CSV ({str(exc).strip()})") from None


def read_table(path: Path) -> pd.DataFrame:
    """A submission or solution CSV -> float64 table indexed by id. Every malformed cell is reported."""
    path = Path(path)
    raw = read_raw(path)
    columns = list(raw.columns)
    if not columns or columns[0].strip().lower() != "id":
        raise SubmissionError(f"{path}: the first column must be 'id' (found {columns[0] if columns else 'nothing'!r})")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    mangled = [c for c in columns if any(c == f"{d}.{k}" for d in columns for k in range(1, 10))]
    if dupes or mangled:  # pandas renames a repeated header 'a' to 'a.1'
        raise SubmissionError(f"{path}: repeated column names: {list_names(dupes + mangled)}")
    if len(columns) < 2:
        raise SubmissionError(f"{path}: no image columns after 'id'")
    ids = pd.to_numeric(raw.iloc[:, 0], errors="coerce")
    if ids.isna().any() or (ids % 1 != 0).any():
        raise SubmissionError(f"{path}: ids must be integers (row {int(ids.isna().idxmax()) + 2} is not)")
    if ids.duplicated().any():
        raise SubmissionError(f"{path}: repeated ids: {list_names(ids[ids.duplicated()].astype(int).tolist())}")
    values = numeric(raw.iloc[:, 1:])
    problems = cell_problems(raw.iloc[:, 1:], values, raw.iloc[:, 0])
    if problems:
        raise SubmissionError(f"{path}: " + "; ".join(problems))
    values.index = ids.astype(np.int64).rename("id")
    return values


def cell_problems(raw: pd.DataFrame, values: pd.DataFrame, ids: pd.Series) -> list[str]:
    """The first bad cell of each kind and how many there are, so a student fixes the file in one go."""
    empty = raw.apply(lambda c: c.str.strip().str.lower()).isin(["", "nan"])
    problems = []
    for what, bad in (("empty or NaN", empty), ("non-numeric", values.isna() & ~empty), ("infinite", np.isinf(values))):
        cells = np.argwhere(bad.to_numpy())
        if len(cells):
            row, col = cells[0]
            problems.append(
                f"{len(cells)} {what} cells (first: column {raw.columns[col]!r}, id {ids.iloc[row]}: {raw.iat[row, col]!r})"
            )
    return problems
