"""RMSE and scoring (submission.scoring): float64 accumulation, matching by name and id, CSV round trips."""
import json
import math
import tempfile
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from inpaint.errors import SubmissionError
from submission import ScoreResult, export_predictions, read_table, rmse, score_files, score_tables
from submission.csv_io import build_table


def numpy_rmse(a, b):
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return math.sqrt(math.fsum((d * d).ravel()) / d.size)


# ---------------------------------------------------------------- rmse


def test_rmse_of_a_hand_computed_case():
    assert rmse([0, 0, 0, 0], [1, 1, 0, 0]) == math.sqrt(0.5)
    assert rmse(np.zeros((2, 3)), np.full((2, 3), 0.5)) == 0.5
    assert isinstance(rmse([1], [1]), float) and rmse([1], [1]) == 0.0


def test_rmse_accumulates_in_float64_where_float32_would_drift():
    # One bright pixel among a million faint ones: in float32 the faint squares vanish next to 4096**2.
    a = np.concatenate([[4096.0], np.full(999_999, 0.001)]).astype(np.float32)
    b = np.zeros_like(a)
    exact = numpy_rmse(a, b)
    running32 = math.sqrt(float(np.cumsum(np.square(a), dtype=np.float32)[-1]) / a.size)
    pairwise32 = float(np.sqrt(np.mean(np.square(a), dtype=np.float32)))
    assert abs(running32 - exact) / exact > 1e-8 and abs(pairwise32 - exact) / exact > 1e-8
    assert abs(rmse(a, b) - exact) / exact < 1e-14


def test_rmse_refuses_to_broadcast_and_is_nan_on_nothing():
    with pytest.raises(ValueError, match="shaped"):
        rmse(np.zeros(4), np.zeros(1))
    assert math.isnan(rmse([], []))


# ---------------------------------------------------------------- tables in memory


def frame(preds, names):
    return build_table(preds, names).set_index("id")


def test_score_tables_in_memory_equals_numpy_to_1e_12():
    rng = np.random.default_rng(1)
    truth, guess = rng.random((3, 6, 5)), rng.random((3, 6, 5)).astype(np.float32)
    names = ["t1", "t2", "t3"]
    result = score_tables(frame(truth, names), frame(guess, names))
    assert abs(result.rmse - numpy_rmse(truth, guess)) < 1e-12
    for i, name in enumerate(names):
        assert abs(result.per_column[name] - numpy_rmse(truth[i], guess[i])) < 1e-12
    assert (result.n_rows, result.n_columns, result.n_cells) == (30, 3, 90)


def test_columns_match_by_name_and_rows_by_id_in_any_order():
    rng = np.random.default_rng(2)
    truth, guess = frame(rng.random((3, 4, 4)), ["a", "b", "c"]), frame(rng.random((3, 4, 4)), ["a", "b", "c"])
    shuffled = guess.loc[rng.permutation(guess.index), ["c", "a", "b"]]
    assert score_tables(truth, shuffled) == score_tables(truth, guess)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.drop(columns="b"), "missing image columns: b"),
        (lambda t: t.assign(z=0.5), "unexpected image columns: z"),
        (lambda t: t.drop(index=[3, 7]), "14 rows, the solution has 16; missing ids: 3, 7"),
        (lambda t: t.rename(index={15: 99}), "missing ids: 15; extra ids: 99"),
        (lambda t: pd.concat([t, t.iloc[:1]]), "submission: repeated ids: 0"),
        (lambda t: t.replace(t.iat[0, 0], np.nan), "submission: 1 NaN or infinite cells"),
    ],
)
def test_score_tables_names_every_mismatch(edit, message):
    truth = frame(np.random.default_rng(3).random((2, 4, 4)), ["a", "b"])
    with pytest.raises(SubmissionError, match=message):
        score_tables(truth, edit(truth.copy()))


def test_score_result_is_frozen_and_serialises_to_json():
    truth = frame(np.full((2, 1, 2), 0.5), ["a", "b"])
    result = score_tables(truth, frame(np.stack([np.full((1, 2), 0.5), np.full((1, 2), 0.0)]), ["a", "b"]))
    expected = ScoreResult(rmse=math.sqrt(0.125), n_rows=2, n_columns=2, n_cells=4, per_column={"a": 0.0, "b": 0.5})
    assert result == expected
    assert json.loads(json.dumps(result.to_dict())) == {
        "rmse": math.sqrt(0.125), "n_rows": 2, "n_columns": 2, "n_cells": 4, "per_column": {"a": 0.0, "b": 0.5}
    }
    with pytest.raises(FrozenInstanceError):
        result.rmse = 0.0


# ---------------------------------------------------------------- CSV round trips


def test_export_read_score_round_trip_matches_numpy(tmp_path):
    rng = np.random.default_rng(4)
    truth, guess = rng.random((3, 6, 5)), rng.random((3, 6, 5)).astype(np.float32)
    names = ["test_1", "test_2", "test_10"]
    export_predictions(truth, names, tmp_path / "solution.csv")
    export_predictions(guess, names, tmp_path / "sub.csv")
    assert score_files(tmp_path / "sub.csv", tmp_path / "sub.csv").rmse == 0.0
    result = score_files(tmp_path / "solution.csv", tmp_path / "sub.csv")
    assert abs(result.rmse - numpy_rmse(truth, guess)) < 1e-9  # contract: < 1e-7
    assert list(result.per_column) == names


@settings(max_examples=40, deadline=None)
@given(
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=6).flatmap(
        lambda shape: st.tuples(*(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)) for _ in range(2)))
    )
)
def test_csv_rounding_moves_the_score_by_less_than_1e_7(arrays):
    truth, guess = arrays
    names = [f"img{i}" for i in range(len(truth))]
    with tempfile.TemporaryDirectory() as folder:
        sol, sub = Path(folder, "solution.csv"), Path(folder, "sub.csv")
        export_predictions(truth, names, sol)
        export_predictions(guess, names, sub)
        assert abs(score_files(sol, sub).rmse - numpy_rmse(truth, guess)) < 1e-7
        assert score_files(sol, sol).rmse == 0.0


def test_worst_case_rounding_moves_the_score_by_at_most_1e_9(tmp_path):
    # Every truth cell rounds down by ~5e-10 and every guess cell up by ~5e-10 at 9 significant digits.
    truth, guess = np.full((2, 3, 3), 0.1234567894999), np.full((2, 3, 3), 0.1234567895001)
    export_predictions(truth, ["a", "b"], tmp_path / "solution.csv")
    export_predictions(guess, ["a", "b"], tmp_path / "sub.csv")
    change = abs(score_files(tmp_path / "solution.csv", tmp_path / "sub.csv").rmse - numpy_rmse(truth, guess))
    assert 0.9e-9 < change <= 1.0001e-9


# ---------------------------------------------------------------- malformed files


@pytest.fixture
def solution_csv(tmp_path):
    export_predictions(np.random.default_rng(5).random((2, 3, 3)), ["a", "b"], tmp_path / "solution.csv")
    return tmp_path / "solution.csv"


def edited(path, out, fn):
    out.write_text("".join(line + "\n" for line in fn(path.read_text().splitlines())))
    return out


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda ls: ls[:-1], "8 rows, the solution has 9; missing ids: 8"),
        (lambda ls: ls + ["9,0.5,0.5"], "10 rows, the solution has 9; extra ids: 9"),
        (lambda ls: [ls[0] + ",c"] + [l + ",0.5" for l in ls[1:]], "unexpected image columns: c"),
        (lambda ls: [",".join(l.split(",")[:2]) for l in ls], "missing image columns: b"),
        (lambda ls: [ls[0].replace(",b", ", b")] + ls[1:], "missing image columns: b; unexpected image columns: ' b'"),
        (lambda ls: ls[:3] + ["2,nan,0.5"] + ls[4:], r"1 empty or NaN cells \(first: column 'a', id 2"),
        (lambda ls: ls[:3] + ["2,0.5,hello"] + ls[4:], r"1 non-numeric cells \(first: column 'b', id 2: 'hello'"),
        (lambda ls: ls[:3] + ["2,inf,0.5"] + ls[4:], r"1 infinite cells \(first: column 'a', id 2"),
        (lambda ls: ls[:3] + ["1,0.5,0.5"] + ls[4:], "repeated ids: 1"),
        (lambda ls: [], "empty file"),
    ],
)
def test_score_rejects_each_malformed_submission_naming_the_problem(solution_csv, tmp_path, edit, message):
    bad = edited(solution_csv, tmp_path / "bad.csv", edit)
    with pytest.raises(SubmissionError, match=message):
        score_files(solution_csv, bad)


def test_score_rejects_a_missing_submission_and_blames_a_broken_solution(solution_csv, tmp_path):
    with pytest.raises(SubmissionError, match="missing.csv: file not found"):
        score_files(solution_csv, tmp_path / "missing.csv")
    broken = edited(solution_csv, tmp_path / "broken.csv", lambda ls: ls[:2] + ["1,x,0"] + ls[3:])
    with pytest.raises(SubmissionError, match="^solution: .*non-numeric"):
        score_files(broken, solution_csv)


def test_scores_of_files_and_tables_agree(solution_csv):
    table = read_table(solution_csv)
    assert score_files(solution_csv, solution_csv) == score_tables(table, table)


# ---------------------------------------------------------------- the value rule


def write_csv(path, rows):
    path.write_text("id,a,b\n" + "".join(f"{i},{x},{y}\n" for i, (x, y) in enumerate(rows)))
    return path


def test_values_far_outside_0_1_are_refused_so_no_score_can_overflow(tmp_path):
    solution = write_csv(tmp_path / "solution.csv", [(0.5, 0.5), (0.5, 0.5)])
    # 1e200 squared is inf in float64: accepted, it would put inf on a leaderboard.
    for bad in ("1e200", "1e308", "-2000", "1000.5"):
        path = write_csv(tmp_path / "huge.csv", [(0.5, bad), (0.5, 0.5)])
        with pytest.raises(SubmissionError, match=r"1 far outside \[0, 1\] \(beyond \+-1000\) cells \(first: column 'b', id 0"):
            score_files(solution, path)
    with pytest.raises(SubmissionError, match="far outside"):
        score_tables(read_table(solution), pd.DataFrame({"a": [0.5, 0.5], "b": [1e200, 0.5]}))


def test_values_outside_0_1_within_the_limit_are_scored_as_kaggle_scores_them(tmp_path):
    solution = write_csv(tmp_path / "solution.csv", [(0.5, 0.5), (0.5, 0.5)])
    # 0-255 and tanh-range mistakes keep their (bad) score: only absurd values are refused.
    path = write_csv(tmp_path / "scaled.csv", [(-1.0, 1000), (0.5, 0.5)])
    assert score_files(solution, path).rmse == math.sqrt((1.5 ** 2 + 999.5 ** 2) / 4)
