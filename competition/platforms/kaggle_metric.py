"""Kaggle metric of the mouth-inpainting competition: RMSE over every cell of the rows it is given, as `inpaint score`.

Kaggle's metric template: Kaggle's evaluation system calls `score(solution, submission, row_id_column_name)`
with all columns of the solution and of the submission except Usage, once for the Public rows and
once for the Private rows; every argument is type-annotated; the result is one finite float; an error
whose message the participant may read is a ParticipantVisibleError, and any other error is shown to
the host only.

The scoring itself is the course kit's. `inpaint competition export --format kaggle` writes metric.py
from competition/platforms/kaggle_metric.py with the kit functions it imports inlined in their place
(Kaggle runs the file alone, with numpy and pandas), so Kaggle scores with the code `inpaint score`
runs: the same float64 RMSE, the same refusals (NaN, infinite or non-numeric cells, cells beyond
+-1000, repeated ids or names, missing or extra rows or columns), the same messages.
"""
import math  # noqa: F401 - the inlined rmse uses it
from dataclasses import asdict, dataclass, field  # noqa: F401 - the inlined ScoreResult uses them

import numpy as np  # noqa: F401 - the inlined functions use it
import pandas as pd


class ParticipantVisibleError(Exception):
    """Kaggle shows this error's message to the participant (it matches the class by this name)."""


class HostVisibleError(Exception):
    """A broken solution: Kaggle shows the message to the host only."""


# KIT
from submission.csv_read import VALUE_LIMIT, show  # noqa: E402,F401
from submission.errors import SubmissionError, list_names  # noqa: E402,F401
from submission.scoring import ScoreResult, align, check_frame, rmse, score_tables  # noqa: E402,F401
# END KIT


def kit_table(frame: pd.DataFrame, id_column: str, what: str) -> pd.DataFrame:
    """Kaggle's frame as the kit's table: the value columns, indexed by the integer ids."""
    if id_column not in frame.columns:
        raise SubmissionError(f"{what}: no {id_column!r} column")
    ids = pd.to_numeric(frame[id_column], errors="coerce").astype(np.float64)
    if not (np.isfinite(ids) & (ids % 1 == 0)).all():
        raise SubmissionError(f"{what}: ids are not all integers")
    table = frame.drop(columns=[id_column])
    table.index = pd.Index(ids.astype(np.int64), name=id_column)
    table.columns = [str(c) for c in table.columns]
    return table


def score(solution: pd.DataFrame, submission: pd.DataFrame, row_id_column_name: str) -> float:
    """RMSE of the submission's cells against the solution's, over every cell of the given rows, in float64.

    >>> solution = pd.DataFrame({"id": [0, 1], "a": [0.0, 1.0], "b": [0.5, 0.5]})
    >>> submission = pd.DataFrame({"id": [1, 0], "a": [1.0, 0.0], "b": [0.5, 0.9]})
    >>> round(score(solution, submission, "id"), 12)  # sqrt(0.4 ** 2 / 4)
    0.2
    """
    try:
        truth = kit_table(solution, row_id_column_name, "solution")
        check_frame(truth, "solution")
    except SubmissionError as exc:
        raise HostVisibleError(str(exc)) from None
    try:
        return float(score_tables(truth, kit_table(submission, row_id_column_name, "submission")).rmse)
    except SubmissionError as exc:
        raise ParticipantVisibleError(str(exc)) from None
