"""RMSE as Kaggle computes it: over every value cell, in float64; columns matched by name, rows by id."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from submission.errors import SubmissionError, list_names
from submission.csv_read import VALUE_LIMIT, read_table, show


def rmse(a, b) -> float:
    """Root mean squared difference, accumulated in float64 whatever the input dtype.

    float32 squares and sums drift by ~1e-7 relative on a million pixels: as much as the gaps
    between close leaderboard entries. Shapes must match (no broadcasting); empty input gives NaN.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rmse of arrays shaped {a.shape} and {b.shape}")
    if a.size == 0:
        return math.nan
    diff = (a - b).ravel()
    return math.sqrt(float(np.sum(diff * diff)) / diff.size)


@dataclass(frozen=True)
class ScoreResult:
    rmse: float
    n_rows: int
    n_columns: int
    n_cells: int
    per_column: dict[str, float] = field(default_factory=dict)  # RMSE of each image column

    def to_dict(self) -> dict:
        """Plain floats, ints and a dict: ready for json.dumps."""
        return asdict(self)


def check_frame(table: pd.DataFrame, what: str) -> None:
    """What `read_table` guarantees, for tables built in memory: unique ids and names, finite numbers within +-VALUE_LIMIT."""
    if table.index.has_duplicates:
        repeated = sorted(table.index[table.index.duplicated()].unique())
        raise SubmissionError(f"{what}: repeated ids: {list_names(repeated)}")
    if table.columns.has_duplicates:
        repeated = table.columns[table.columns.duplicated()].unique()
        raise SubmissionError(f"{what}: repeated column names: {list_names(map(show, map(str, repeated)))}")
    try:
        values = table.to_numpy(np.float64)
    except (TypeError, ValueError):
        raise SubmissionError(f"{what}: non-numeric cells") from None
    if not np.isfinite(values).all():
        raise SubmissionError(f"{what}: {int((~np.isfinite(values)).sum())} NaN or infinite cells")
    huge = int((np.abs(values) > VALUE_LIMIT).sum())
    if huge:
        raise SubmissionError(f"{what}: {huge} cells far outside [0, 1] (beyond +-{VALUE_LIMIT:g})")


def column_problems(expected, columns) -> list[str]:
    """Image columns the solution has and the submission lacks, and the other way round (matched by name)."""
    expected, columns = [str(c) for c in expected], [str(c) for c in columns]
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    problems = [f"missing image columns: {list_names(map(show, missing))}"] if missing else []
    if extra:
        # As many wrong names as missing ones: the images are there under other names (0-9, img1, ...).
        renamed = (f" - name each image column by its test image ({list_names(map(show, expected), 3)})"
                   if len(extra) == len(missing) else "")
        problems.append(f"unexpected image columns: {list_names(map(show, extra))}{renamed}")
    return problems


def row_problems(expected: pd.Index, ids: pd.Index) -> list[str]:
    """Rows matched by id: a count that differs, ids the solution has and the submission lacks, and extra ones."""
    problems = [f"{len(ids)} rows, the solution has {len(expected)}"] if len(ids) != len(expected) else []
    missing_ids, extra_ids = expected.difference(ids), ids.difference(expected)
    if len(missing_ids):
        problems.append(f"missing ids: {list_names(missing_ids.tolist())}")
    if len(extra_ids):
        problems.append(f"extra ids: {list_names(extra_ids.tolist())}")
    return problems


def align(solution: pd.DataFrame, submission: pd.DataFrame) -> pd.DataFrame:
    """The submission's cells in the solution's order: columns by name, rows by id; mismatches are errors."""
    problems = column_problems(solution.columns, submission.columns) + row_problems(solution.index, submission.index)
    if problems:
        raise SubmissionError("submission does not match the solution: " + "; ".join(problems))
    return submission.loc[solution.index, list(solution.columns)]


def score_tables(solution: pd.DataFrame, submission: pd.DataFrame) -> ScoreResult:
    """RMSE of a submission table against the solution (both as `read_table` returns them)."""
    check_frame(solution, "solution")
    check_frame(submission, "submission")
    if solution.size == 0:
        raise SubmissionError("solution: no cells to score")
    truth = solution.to_numpy(np.float64)
    guess = align(solution, submission).to_numpy(np.float64)
    per_column = {str(c): rmse(truth[:, i], guess[:, i]) for i, c in enumerate(solution.columns)}
    return ScoreResult(rmse(truth, guess), int(truth.shape[0]), int(truth.shape[1]), int(truth.size), per_column)


def score_files(solution_path, submission_path) -> ScoreResult:
    """Score two CSV files; a broken solution is reported as such, not blamed on the student."""
    try:
        solution = read_table(Path(solution_path))
    except SubmissionError as exc:
        raise SubmissionError(f"solution: {exc}") from None
    return score_tables(solution, read_table(Path(submission_path)))


def split_scores(solution: pd.DataFrame, submission: pd.DataFrame, cells: dict[str, np.ndarray]) -> dict[str, float]:
    """RMSE over each part of a public/private split (cells: boolean masks shaped like the solution)."""
    truth = solution.to_numpy(np.float64)
    guess = align(solution, submission).to_numpy(np.float64)
    return {part: rmse(truth[keep], guess[keep]) for part, keep in cells.items()}
