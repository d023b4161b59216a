"""Strict reading of submission and solution CSVs: every problem found, named and located.

Needs only numpy, pandas and submission.errors (no OpenCV, no TensorFlow): the Codabench scoring
program (competition/platforms/codabench.py) bundles this module as it is.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from submission.errors import SubmissionError, list_names

ID_COLUMN = "id"
# Cells are pixel values in [0, 1]. Values outside it are scored as they are, as Kaggle scores them
# (a tanh range or a 0-255 scale is a mistake the score and the diagnosis show), but a cell beyond
# +-1000 is no image's value on any scale: such files are refused, so that every accepted file has
# a finite RMSE (1e200 squared overflows float64 and would put inf on a leaderboard).
VALUE_LIMIT = 1000.0


def read_cells(path: Path) -> tuple[list[str], pd.DataFrame]:
    """The header as written (repeats kept) and the data rows as text cells, or a SubmissionError."""
    path = Path(path)
    try:
        # header=None: pandas would rename a repeated 'a' to 'a.1', and would silently turn the
        # first column into the index when data rows have one field more than the header.
        cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise SubmissionError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SubmissionError(f"{path}: is a folder, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise SubmissionError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: not a readable CSV ({str(exc).strip()})") from None
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return [str(c) for c in cells.iloc[0]], cells.iloc[1:].reset_index(drop=True)


def unique_names(header: list[str]) -> list[str]:
    """A repeated 'a' becomes 'a.1', as pandas names it, so that every cell can be located by its column."""
    names = []
    for name in header:
        unique, k = name, 0
        while unique in names:
            unique, k = f"{name}.{k + 1}", k + 1
        names.append(unique)
    return names


def read_raw(path: Path) -> pd.DataFrame:
    """Text cells under unique column names (`unique_names`)."""
    header, raw = read_cells(path)
    raw.columns = unique_names(header)
    return raw


def numeric(raw: pd.DataFrame) -> pd.DataFrame:
    """Text cells -> float64; whatever is not a number becomes NaN (`cell_problems` says which)."""
    return raw.apply(pd.to_numeric, errors="coerce").astype(np.float64)


def show(name: str) -> str:
    """Names with stray spaces are quoted so that ' a' and 'a' look different in a message."""
    return repr(name) if name != name.strip() or not name else name


def header_problems(columns: list[str], n_rows: int | None = None) -> list[str]:
    """Every reason the header is refused, each with its likely cause when the header shows one.

    `n_rows` (data rows under the header) tells a transposed table from a table without an id column.
    """
    first = columns[0] if columns else ""
    if first.strip().lower() != ID_COLUMN:
        causes = header_causes(columns, n_rows)
        problem = f"the first column must be 'id' (found {first!r})"
        # Only the templates are formatted: the header's own text may hold braces.
        problems = [" - ".join([problem, *(c.format(rows=n_rows, columns=len(columns)) for c in causes)])]
        if set(causes) & WHOLE_HEADER_CAUSES:
            return problems  # the other names are no names at all: nothing more to say about them
    else:
        problems = [] if len(columns) >= 2 else [f"no image columns after {ID_COLUMN!r}"]
    # Position 1 is the first column, reported above (a pandas index column has no name).
    unnamed = [i + 1 for i, c in enumerate(columns) if not c.strip() and i > 0]
    if unnamed:  # often a trailing comma on every line
        problems.append(f"columns without a name at positions {list_names(unnamed)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(f"repeated column names: {list_names(map(show, repeated))}")
    return problems


# What a wrong first header cell usually means, in the words that say what to do.
TRANSPOSED = ("the table looks transposed: {rows} rows of {columns} values, one row per image; the CSV needs one "
              "row per pixel and one column per image: write preds.reshape(n, -1).T, with an 'id' column first and "
              "the test images' names as the other columns' names")
NUMBERS_AS_HEADER = ("the first line holds numbers, not column names: the header row is missing; write 'id' and "
                     "the test images' names as the first line (pandas: to_csv(..., index=False) writes them)")
DEFAULT_NAMES = ("columns named 0, 1, 2, ... are pandas' default names: name the first column 'id' (the pixel "
                 "index 0 .. M*N-1) and the others by the test images' names")
INDEX_COLUMN = "an unnamed first column is the index pandas writes: save with to_csv(..., index=False)"
SEMICOLONS = "is the file separated by ';'? Use commas"
NO_ID_COLUMN = ("there is no 'id' column: insert the pixel index 0 .. M*N-1 as the first column, named 'id' "
                "(pandas: table.insert(0, 'id', range(len(table))))")


WHOLE_HEADER_CAUSES = {TRANSPOSED, NUMBERS_AS_HEADER, DEFAULT_NAMES}


def header_causes(columns: list[str], n_rows: int | None) -> list[str]:
    """The likely causes of a header whose first column is not 'id' (message templates, [] when none shows)."""
    first = columns[0].strip() if columns else ""
    if ";" in first:
        return [SEMICOLONS]
    causes = [] if first else [INDEX_COLUMN]
    if numbered(columns[1:] if not first else columns):
        causes.append(TRANSPOSED if n_rows is not None and n_rows < len(columns) else DEFAULT_NAMES)
    elif first and pd.to_numeric(pd.Series(columns), errors="coerce").notna().all():
        causes.append(NUMBERS_AS_HEADER)
    elif first and id_position(columns) is None:
        causes.append(NO_ID_COLUMN)
    elif first:
        causes.append(f"'id' must be the first column; it is column {id_position(columns) + 1}")
    return causes


def layout_problems(first_line: str, n_rows: int) -> list[str]:
    """`header_problems`' sentences for a table laid out wrongly (transposed, a header of numbers, pandas'
    default names or its index column), from the first line and the number of data rows alone; [] when the
    header shows none of these. A transposed table's lines are far longer than a submission row: the server
    says this before refusing them (competition/judge.py), in the validator's words."""
    header = next(csv.reader([first_line]), [])
    if not header or header[0].strip().lower() == ID_COLUMN:
        return []
    if not set(header_causes(header, n_rows)) & (WHOLE_HEADER_CAUSES | {INDEX_COLUMN}):
        return []
    return header_problems(header, n_rows)


def id_position(columns: list[str]) -> int | None:
    """Where the id column is (0 in a right file), or None when there is none."""
    names = [c.strip().lower() for c in columns]
    return names.index(ID_COLUMN) if ID_COLUMN in names else None


def numbered(names: list[str]) -> bool:
    """'0,1,2,...' or '1,2,3,...': the column labels pandas gives an array saved without names."""
    stripped = [n.strip() for n in names]
    return len(stripped) >= 2 and any(stripped == [str(i) for i in range(s, s + len(stripped))] for s in (0, 1))


def check_header(path: Path, columns: list[str], n_rows: int | None = None) -> None:
    """The first column is 'id' (any case, spaces around ignored); value columns are named and unique."""
    problems = header_problems(columns, n_rows)
    if problems:
        raise SubmissionError(f"{path}: " + "; ".join(problems))


def id_problems(ids: pd.Series) -> list[str]:
    """Why the id column cannot index the table: ids that are not integers, or repeated ids."""
    values = pd.to_numeric(ids, errors="coerce").astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values % 1 != 0))
    if len(bad):
        return [f"{len(bad)} ids are not integers (first: data row {bad[0] + 1}: {ids.iloc[bad[0]]!r})"]
    index = pd.Index(values.astype(np.int64))
    if index.has_duplicates:
        return [f"repeated ids: {list_names(sorted(index[index.duplicated()].unique()))}"]
    return []


def parse_ids(path: Path, ids: pd.Series) -> pd.Index:
    """Text ids -> unique int64 index. '3', ' 3 ' and '3.0' are the integer 3; '3.5', 'x' and '' are errors."""
    problems = id_problems(ids)
    if problems:
        raise SubmissionError(f"{path}: " + "; ".join(problems))
    return pd.Index(pd.to_numeric(ids, errors="coerce").astype(np.int64), name=ID_COLUMN)


def read_checked(path: Path) -> tuple[pd.DataFrame, pd.Index]:
    """Text cells under a checked header, and the parsed ids."""
    header, raw = read_cells(path)
    check_header(path, header, len(raw))
    raw.columns = header
    return raw, parse_ids(path, raw.iloc[:, 0])


def cell_problems(raw: pd.DataFrame, values: pd.DataFrame, ids: pd.Series) -> list[str]:
    """The first bad cell of each kind and how many there are, so a student fixes the file in one go."""
    values = values.to_numpy()
    nan = np.isnan(values)
    empty = np.zeros_like(nan)
    rows, cols = np.nonzero(nan)  # only cells that are not numbers need their text looked at
    if len(rows):
        text = raw.to_numpy(dtype=object)[rows, cols]
        empty[rows, cols] = [str(t).strip().lower() in ("", "nan") for t in text]
    problems = []
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(values) & (np.abs(values) > VALUE_LIMIT)
    kinds = (("empty or NaN", empty), ("non-numeric", nan & ~empty), ("infinite", np.isinf(values)),
             (f"far outside [0, 1] (beyond +-{VALUE_LIMIT:g})", huge))
    for what, bad in kinds:
        cells = np.argwhere(bad)  # row-major: the first hit is in the first bad row
        if len(cells):
            r, c = cells[0]
            problems.append(
                f"{len(cells)} {what} cells "
                f"(first: column {raw.columns[c]!r}, id {ids.iloc[r]}: {raw.iat[r, c]!r})"
            )
    return problems


def read_table(path) -> pd.DataFrame:
    """A submission or solution CSV -> float64 table indexed by id (int64), value columns in file order.

    Rejected with a SubmissionError naming the file and the problem: missing, empty or unparseable
    file; first column not 'id' (case-insensitive); no rows; ids not unique integers; repeated or
    unnamed columns; empty, NaN, non-numeric or infinite cells, and cells beyond +-VALUE_LIMIT
    (counted, first one located). Other values outside [0, 1] are scored as they are, as Kaggle
    scores them; `inpaint validate` warns.
    """
    path = Path(path)
    raw, index = read_checked(path)
    if raw.empty:
        raise SubmissionError(f"{path}: no rows after the header")
    values = numeric(raw.iloc[:, 1:])
    problems = cell_problems(raw.iloc[:, 1:], values, raw.iloc[:, 0])
    if problems:
        raise SubmissionError(f"{path}: " + "; ".join(problems))
    values.index = index
    return values
