"""`inpaint validate`: every problem of a submission file before it costs one of the day's uploads.

Errors are what Kaggle would reject; warnings are what it accepts but that cost points.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from submission.errors import SubmissionError, list_names
from submission.csv_io import cell_problems, numeric, read_raw


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    message: str


def validate_file(path: Path, sample: Path | None = None, size: tuple[int, int] | None = None,
                  n_images: int | None = None) -> list[Finding]:
    """All findings for the file at `path`, against a sample submission or an expected shape."""
    try:
        raw = read_raw(Path(path))
    except SubmissionError as exc:
        return [Finding("error", str(exc))]
    errors, warnings = [], []
    columns = list(raw.columns)
    if sample is not None:
        expected = read_raw(Path(sample))
        errors += _header_problems(columns, list(expected.columns))
        errors += _id_problems(raw.iloc[:, 0], expected.iloc[:, 0].astype(str).str.strip().tolist())
    else:
        if columns[0].strip().lower() != "id":
            errors.append(f"the first column must be 'id', found {columns[0]!r}")
        if n_images is not None and len(columns) - 1 != n_images:
            errors.append(f"{len(columns) - 1} image columns, expected {n_images}")
        if size is not None:
            errors += _id_problems(raw.iloc[:, 0], [str(i) for i in range(size[0] * size[1])])
    repeated = sorted({c for c in columns if columns.count(c) > 1 or c.rsplit(".", 1)[0] in columns[:columns.index(c)]})
    if repeated:
        errors.append(f"repeated column names: {list_names(repeated)}")
    values = numeric(raw.iloc[:, 1:])
    errors += cell_problems(raw.iloc[:, 1:], values, raw.iloc[:, 0])
    warnings += _value_warnings(values)
    return [Finding("error", e) for e in errors] + [Finding("warning", w) for w in warnings]


def _header_problems(columns: list[str], expected: list[str]) -> list[str]:
    if columns == expected:
        return []
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    parts = [f"missing columns: {list_names(missing)}" if missing else "",
             f"unexpected columns: {list_names(extra)}" if extra else "",
             "columns in another order than the sample" if not missing and not extra else ""]
    return ["header differs from the sample: " + "; ".join(p for p in parts if p)]


def _id_problems(ids, expected: list[str]) -> list[str]:
    got = ids.astype(str).str.strip().tolist()
    if len(got) != len(expected):
        return [f"{len(got)} rows, expected {len(expected)} (one per pixel)"]
    wrong = [g for g, e in zip(got, expected) if g != e]
    return [f"{len(wrong)} ids differ from the expected pixel ids (first: {wrong[0]!r})"] if wrong else []


def _value_warnings(values) -> list[str]:
    finite = values.to_numpy()[np.isfinite(values.to_numpy())]
    warnings = []
    outside = int(((finite < 0) | (finite > 1)).sum())
    if outside:
        hint = " - looks like tanh output in [-1, 1]: rescale with (x + 1) / 2" if finite.min() < 0 else ""
        warnings.append(f"{outside} values outside [0, 1] (min {finite.min():.3g}, max {finite.max():.3g}){hint}")
    constant = [c for c in values.columns if values[c].nunique(dropna=True) <= 1]
    if constant:
        warnings.append(f"constant image columns (the whole image one value): {list_names(constant)}")
    return warnings
