"""Grader tools: the grade formula, splits, validate, leaderboard, suspicious-submission flags."""
import math

import numpy as np
import pandas as pd
import pytest

from inpaint.errors import SubmissionError
from submission import export_predictions, read_table
from submission.flags import submission_flags
from submission.grading import course_grade, grades, make_split, split_masks
from submission.scoring import rmse, split_scores

B, S = 0.14744, 0.03568


@pytest.mark.parametrize(
    "score, best, expected",
    [
        (0.20, 0.02, 0.0),  # worse than the baseline
        (B, 0.02, 0.0),  # exactly the baseline: not better than it
        ((B + S) / 2, 0.02, 5.5),  # half-way: 3 + 5 * 0.5
        (S, 0.02, 8.0),  # exactly the strong baseline
        (0.02, 0.02, 10.0),  # the class's best
        ((S + 0.02) / 2, 0.02, 9.0),  # half-way between strong and best: 8 + 2 * 0.5
        (0.03, 0.03, 10.0),  # a single submission better than strong is the best: 10
    ],
)
def test_course_grade_hand_computed(score, best, expected):
    assert course_grade(score, best) == pytest.approx(expected, abs=1e-12)


def test_grades_ties_nan_and_bad_baselines():
    out = grades(pd.Series([0.05, 0.05, float("nan"), 0.02]))
    assert out[0] == out[1] == pytest.approx(3 + 5 * (B - 0.05) / (B - S))
    assert math.isnan(out[2]) and out[3] == 10.0
    with pytest.raises(SubmissionError):
        course_grade(0.1, 0.1, baseline=0.03, strong=0.05)


@pytest.fixture
def solution(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.random((4, 4, 5))
    export_predictions(truth, ["t1", "t2", "t3", "t4"], tmp_path / "solution.csv")
    return tmp_path / "solution.csv", truth


@pytest.mark.parametrize("by", ["image", "pixel"])
def test_public_and_private_recombine_to_overall(solution, tmp_path, run_cli, by):
    path, truth = solution
    guess = np.clip(truth + np.random.default_rng(1).normal(0, 0.1, truth.shape), 0, 1)
    export_predictions(guess, ["t1", "t2", "t3", "t4"], tmp_path / "sub.csv")
    code, out, err = run_cli("make-split", "--solution", path, "--csv", tmp_path / "split.csv", "--by", by,
                             "--public-fraction", 0.5)
    assert code == 0, err
    sol, sub = read_table(path), read_table(tmp_path / "sub.csv")
    cells = split_masks(pd.read_csv(tmp_path / "split.csv"), sol)
    parts = split_scores(sol, sub, cells)
    n_pub, n_priv = cells["public"].sum(), cells["private"].sum()
    assert n_pub + n_priv == sol.size and n_pub > 0 and n_priv > 0
    recombined = math.sqrt((parts["public"] ** 2 * n_pub + parts["private"] ** 2 * n_priv) / (n_pub + n_priv))
    assert recombined == pytest.approx(rmse(sol.to_numpy(), sub.to_numpy()), abs=1e-12)
    code, out, _ = run_cli("score", "--solution", path, "--submission", tmp_path / "sub.csv", "--split",
                           tmp_path / "split.csv", "--per-image")
    assert code == 0 and "public" in out and "private" in out and "t3" in out
    assert out.strip().splitlines()[-1].startswith("RMSE ")


def test_split_is_reproducible_by_seed(solution):
    sol = read_table(solution[0])
    a, b = make_split(sol, 0.3, "pixel", 7), make_split(sol, 0.3, "pixel", 7)
    assert a.equals(b) and (a["Usage"] == "Public").sum() == round(0.3 * len(sol))


def test_validate_lists_every_planted_problem(solution, tmp_path, run_cli):
    path, _ = solution
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("t4", "t5")  # wrong column name
    lines[3] = "2,nan,0.5,0.5,0.5"  # NaN
    lines[5] = "4,0.5,abc,0.5,0.5"  # text
    lines[7] = "6,0.5,0.5,-0.7,0.5"  # tanh output not rescaled
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines[:-1]) + "\n")  # one row short
    code, out, _ = run_cli("validate", bad, "--sample", path)
    assert code == 2
    assert "missing image columns: t4" in out and "unexpected image columns: t5" in out
    assert "19 rows, the solution has 20" in out
    assert "1 empty or NaN cells" in out and "1 non-numeric cells" in out
    assert "outside [0, 1]" in out and "rescale with (x + 1) / 2" in out
    assert "REJECTED" in out
    code, out, _ = run_cli("validate", path, "--size", 4, 5, "--images", 4)
    assert code == 0 and "the scorer would accept and score" in out


def test_validate_warns_on_constant_columns_and_calls_them_scored_badly(tmp_path, run_cli):
    export_predictions(np.full((2, 2, 2), 0.5), ["a", "b"], tmp_path / "flat.csv")
    code, out, _ = run_cli("validate", tmp_path / "flat.csv", "--size", 2, 2, "--images", 2)
    assert code == 3 and "constant image columns" in out and out.splitlines()[-1].startswith("SCORED BADLY")


def test_leaderboard_completes_with_a_broken_file_and_grades(solution, tmp_path, run_cli):
    path, truth = solution
    subs = tmp_path / "subs"
    subs.mkdir()
    names = ["t1", "t2", "t3", "t4"]
    export_predictions(np.clip(truth + 0.01, 0, 1), names, subs / "alice.csv")
    export_predictions(np.clip(truth + 0.05, 0, 1), names, subs / "bob.csv")
    export_predictions(np.clip(truth + 0.05, 0, 1), names, subs / "carol.csv")  # ties with bob
    (subs / "dave.csv").write_text("id,t1\n0,0.5\n")  # broken
    code, out, err = run_cli("leaderboard", subs, "--solution", path, "--csv", tmp_path / "lb.csv", "--markdown")
    assert code == 0, err
    lb = pd.read_csv(tmp_path / "lb.csv").set_index("submission")
    assert lb.loc["alice", "rank"] == 1 and lb.loc["alice", "grade"] == pytest.approx(10.0)
    assert lb.loc["bob", "rank"] == lb.loc["carol", "rank"] == 2
    assert lb.loc["bob", "grade"] == lb.loc["carol", "grade"]
    assert "missing image columns" in lb.loc["dave", "error"] and pd.isna(lb.loc["dave", "grade"])
    assert out.startswith("| rank | submission | grade | RMSE |")


def face_set(n=3, size=32):
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:size, 0:size] / size
    real = np.stack([0.5 + 0.2 * np.sin(6 * xx + k) * np.cos(4 * yy) for k in range(n)])
    mask = np.zeros_like(real)
    mask[:, 18:26, 8:24] = 1
    white = np.where(mask > 0, 1.0, real)
    genuine = np.where(mask > 0, real + rng.normal(0, 0.01, real.shape), real)  # a close, smooth prediction
    return real, white, mask, genuine


def test_each_flag_fires_on_its_case_and_not_on_a_genuine_prediction():
    real, white, mask, genuine = face_set()
    assert submission_flags(genuine, white, mask) == []
    constant = np.where(mask > 0, 0.4, real)
    assert any("constant" in f for f in submission_flags(constant, white, mask))
    noise = np.where(mask > 0, np.random.default_rng(3).random(real.shape), real)
    assert any("random noise" in f for f in submission_flags(noise, white, mask))
    assert any("identical to the White" in f for f in submission_flags(white, white, mask))


def test_leaderboard_with_data_flags_the_identity_submission(tiny_set, tmp_path, run_cli):
    assert run_cli("solution", "--answers", tiny_set, "--csv", tmp_path / "solution.csv")[0] == 0
    assert run_cli("baseline", "identity", "--data", tiny_set, "--size", 32, 32, "--csv", tmp_path / "s" / "id.csv")[0] == 0
    assert run_cli("baseline", "telea", "--data", tiny_set, "--size", 32, 32, "--csv", tmp_path / "s" / "telea.csv")[0] == 0
    code, out, err = run_cli("leaderboard", tmp_path / "s", "--solution", tmp_path / "solution.csv", "--data", tiny_set,
                             "--size", 32, 32, "--csv", tmp_path / "lb.csv")
    assert code == 0, err
    lb = pd.read_csv(tmp_path / "lb.csv", keep_default_na=False).set_index("submission")
    assert "identical to the White images" in lb.loc["id", "flags"]
    assert lb.loc["telea", "flags"] == ""
