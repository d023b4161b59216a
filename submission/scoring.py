"""RMSE as Kaggle computes it: over every value cell, in float64."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from inpaint.errors import SubmissionError, list_names
from submission.csv_io import read_table


def rmse(a, b) -> float:
    """Root mean squared difference, accumulated in float64 whatever the input dtype."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


@dataclass(frozen=True)
class ScoreResult:
    rmse: float
    n_rows: int
    n_columns: int
    n_cells: int
    per_column: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def align(solution: pd.DataFrame, submission: pd.DataFrame) -> pd.DataFrame:
    """The submission's cells in the solution's order: columns by name, rows by id; mismatches are errors."""
    missing = [c for c in solution.columns if c not in submission.columns]
    extra = [c for c in submission.columns if c not in solution.columns]
    problems = []
    if missing:
        problems.append(f"missing image columns: {list_names(missing)}")
    if extra:
        problems.append(f"unexpected image columns: {list_names(extra)}")
    missing_ids = solution.index.difference(submission.index)
    extra_ids = submission.index.difference(solution.index)
    if len(missing_ids) or len(extra_ids):
        problems.append(
            f"{len(submission)} rows but the solution has {len(solution)} "
            f"(missing ids: {list_names(missing_ids.tolist()) or 'none'}; extra ids: {list_names(extra_ids.tolist()) or 'none'})"
        )
    if problems:
        raise SubmissionError("submission does not match the solution: " + "; ".join(problems))
    return submission.loc[solution.index, list(solution.columns)]


def score_tables(solution: pd.DataFrame, submission: pd.DataFrame) -> ScoreResult:
    sub = align(solution, submission)
    truth, guess = solution.to_numpy(np.float64), sub.to_numpy(np.float64)
    per_column = {c: rmse(truth[:, i], guess[:, i]) for i, c in enumerate(solution.columns)}
    return ScoreResult(rmse(truth, guess), truth.shape[0], truth.shape[1], truth.size, per_column)


def score_files(solution_path: Path, submission_path: Path) -> ScoreResult:
    try:
        solution = read_table(solution_path)
    except SubmissionError as exc:
        raise SubmissionError(f"solution: {exc}") from None
    return score_tables(solution, read_table(submission_path))


def split_scores(solution: pd.DataFrame, submission: pd.DataFrame, cells: dict[str, np.ndarray]) -> dict[str, float]:
    """RMSE over each part of a public/private split (cells: boolean masks shaped like the solution)."""
    truth = solution.to_numpy(np.float64)
    guess = align(solution, submission).to_numpy(np.float64)
    return {part: rmse(truth[keep], guess[keep]) for part, keep in cells.items()}
