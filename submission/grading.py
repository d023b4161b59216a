"""The course grade formula and public/private splits, as pure functions.

Grade out of 10 (course rules):
  RMSE >= baseline                 -> 0
  strong <= RMSE < baseline        -> 3 + 5 * (baseline - RMSE) / (baseline - strong)
  RMSE < strong                    -> 8 + 2 * (strong - RMSE) / (strong - best)
where best is the class's lowest RMSE. At RMSE == strong both middle formulas give 8.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from submission.errors import SubmissionError

COURSE_BASELINE, COURSE_STRONG = 0.14744, 0.03568


def course_grade(rmse: float, best: float, baseline: float = COURSE_BASELINE, strong: float = COURSE_STRONG) -> float:
    """Grade out of 10 for one RMSE, given the best RMSE in the class (NaN RMSE -> NaN grade)."""
    if not baseline > strong:
        raise SubmissionError(f"baseline ({baseline}) must be worse (higher) than the strong baseline ({strong})")
    if math.isnan(rmse):
        return math.nan
    if rmse >= baseline:
        return 0.0
    if rmse >= strong:
        return 3.0 + 5.0 * (baseline - rmse) / (baseline - strong)
    # Here best <= rmse < strong, so strong - best > 0; the class's best gets exactly 10.
    return 8.0 + 2.0 * (strong - rmse) / (strong - min(best, rmse))


def grades(rmses: pd.Series, baseline: float = COURSE_BASELINE, strong: float = COURSE_STRONG) -> pd.Series:
    """Grades for a class; unscorable submissions (NaN) get NaN, never a number."""
    best = float(rmses.min()) if rmses.notna().any() else math.nan
    return rmses.apply(lambda r: course_grade(float(r), best, baseline, strong))


def make_split(solution: pd.DataFrame, public_fraction: float, by: str, seed: int) -> pd.DataFrame:
    """Mark each pixel id or each image column Public or Private, like Kaggle's Usage column."""
    if not 0.0 < public_fraction < 1.0:
        raise SubmissionError("--public-fraction must be between 0 and 1")
    keys = {"pixel": solution.index.to_numpy(), "image": np.asarray(solution.columns)}.get(by)
    if keys is None:
        raise SubmissionError("--by must be 'image' or 'pixel'")
    n_public = min(max(1, round(public_fraction * len(keys))), len(keys) - 1)
    public = np.zeros(len(keys), bool)
    public[np.random.default_rng(seed).permutation(len(keys))[:n_public]] = True
    return pd.DataFrame({"id" if by == "pixel" else "image": keys, "Usage": np.where(public, "Public", "Private")})


def split_masks(split: pd.DataFrame, solution: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean cell masks (rows x columns of the solution) for 'public' and 'private'."""
    if list(split.columns) not in (["id", "Usage"], ["image", "Usage"]):
        raise SubmissionError("split file needs columns id,Usage (by pixel) or image,Usage (by image)")
    usage = split["Usage"].str.strip().str.lower()
    if not usage.isin(["public", "private"]).all():
        raise SubmissionError("split file: Usage must be Public or Private")
    if split.columns[0] == "id":
        marks = pd.Series(usage.to_numpy(), index=split["id"].astype(np.int64)).reindex(solution.index)
        cells = np.repeat(marks.to_numpy()[:, None], solution.shape[1], axis=1)
    else:
        marks = pd.Series(usage.to_numpy(), index=split["image"].astype(str)).reindex(solution.columns)
        cells = np.repeat(marks.to_numpy()[None, :], solution.shape[0], axis=0)
    if pd.isna(marks).any():
        raise SubmissionError("split file does not cover every row/column of the solution")
    return {"public": cells == "public", "private": cells == "private"}
