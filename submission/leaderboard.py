"""A class's leaderboard: score every submission, rank, grade, flag. A broken file is a row, not a crash.

With the test images' masks, each file is also compared with every other (submission/copies.py):
one file is one participant.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from submission.errors import SubmissionError
from submission import copies, grading
from submission.csv_io import read_table
from submission.flags import submission_flags
from submission.scoring import align, rmse


def collect_files(paths: list[Path]) -> list[Path]:
    """CSV files given directly or found (not recursively) in the given folders, in a stable order."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        else:
            files.append(path)
    if not files:
        raise SubmissionError("no submission CSV files found")
    return files


def score_one(solution: pd.DataFrame, path: Path, cells: dict[str, np.ndarray] | None, white=None, mask=None):
    """(leaderboard row, box features for copy detection or None) of one file."""
    row = {"submission": path.stem, "file": str(path)}
    try:
        sub = align(solution, read_table(path))
    except SubmissionError as exc:
        return {**row, "error": str(exc)}, None
    truth, guess = solution.to_numpy(np.float64), sub.to_numpy(np.float64)
    row["RMSE"] = rmse(truth, guess)
    for part, keep in (cells or {}).items():
        row[f"{part} RMSE"] = rmse(truth[keep], guess[keep]) if keep.any() else math.nan
    if white is None:
        return row, None
    preds = guess.T.reshape(white.shape)  # column i = image i, row-major
    row["flags"] = "; ".join(submission_flags(preds, white, mask))
    return row, copies.participant_features(preds, mask)


def check_test_images(solution: pd.DataFrame, white: np.ndarray) -> None:
    """The solution must hold the test images the masks were found on: as many, of as many pixels."""
    n, rows, cols = white.shape
    if solution.shape != (rows * cols, n):
        raise SubmissionError(f"the solution has {solution.shape[1]} images of {solution.shape[0]} pixels; "
                              f"the --data test images are {n} of {rows}x{cols} = {rows * cols} pixels "
                              "(give --size M N at the size the solution was written)")


def _copy_notes(rows: list[dict], features: list, solution: pd.DataFrame, white, mask) -> list[copies.CopyFlag]:
    """Compare every readable file with every other; their notes join each row's flags."""
    stems = [r["submission"] for r in rows]
    keys = [r["submission"] if stems.count(r["submission"]) == 1 else r["file"] for r in rows]
    answers = solution.to_numpy(np.float64).T.reshape(white.shape)
    found = copies.find_copies({k: f for k, f in zip(keys, features) if f is not None},
                               copies.box_features(answers, mask))
    notes = copies.flags_by_participant(found)
    for key, row in zip(keys, rows):
        row["flags"] = "; ".join(filter(None, [row.get("flags", "")] + notes.get(key, [])))
    return found


def build_leaderboard(solution_path: Path, paths: list[Path], split: Path | None = None,
                      baseline: float = grading.COURSE_BASELINE, strong: float = grading.COURSE_STRONG,
                      white=None, mask=None) -> tuple[pd.DataFrame, list[copies.CopyFlag]]:
    """Rank by the private RMSE when a split is given (as Kaggle's final standings), else the overall RMSE.

    With `white` and `mask` (the test images) the flags column is filled and files that look copied
    are returned (submission/copies.py); flags never change a score.
    """
    solution = read_table(solution_path)
    if white is not None:
        check_test_images(solution, white)
    cells = grading.split_masks(pd.read_csv(split), solution) if split else None
    rows, features = zip(*[score_one(solution, f, cells, white, mask) for f in collect_files(paths)])
    found = _copy_notes(list(rows), list(features), solution, white, mask) if white is not None else []
    table = pd.DataFrame(list(rows))
    for column in ("RMSE", "error", "flags"):
        if column not in table:
            table[column] = math.nan if column == "RMSE" else ""
    key = "private RMSE" if cells else "RMSE"
    table["rank"] = table[key].rank(method="min").astype("Int64")  # ties share a rank
    table["grade"] = grading.grades(table[key], baseline, strong).round(3)
    table = table.sort_values(["rank", "submission"], na_position="last").reset_index(drop=True)
    first = ["rank", "submission", "grade", "RMSE"] + [c for c in ("public RMSE", "private RMSE") if c in table]
    return table[first + ["flags", "error", "file"]].fillna({"flags": "", "error": ""}), found


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.5f}" if isinstance(value, float) else str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A pipe table for pasting into Markdown (without the optional tabulate package)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)])
