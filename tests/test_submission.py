"""The CSV contract: export layout, sample submissions, atomic writes, strict reading, float64 RMSE."""
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inpaint.errors import SubmissionError
from submission import export_folder, export_predictions, read_table, rmse, score_files, score_tables
from submission.csv_io import build_table


def test_rmse_hand_computed_and_float64_even_for_float32_input():
    assert rmse([0, 0, 0, 0], [1, 1, 0, 0]) == pytest.approx(np.sqrt(0.5), abs=1e-15)
    # 10 million float32 values of 0.1 vs 0: float32 accumulation drifts, float64 does not.
    a = np.full(10_000_000, 0.1, np.float32)
    assert rmse(a, np.zeros_like(a)) == pytest.approx(float(np.float32(0.1)), rel=1e-12)


def test_row_major_layout_id_column_and_natural_column_order():
    image = (np.arange(6).reshape(1, 2, 3) / 10).astype(np.float32)
    table = build_table(np.concatenate([image, image, image]), ["test_10", "test_2", "test_1"])
    assert list(table.columns) == ["id", "test_1", "test_2", "test_10"]
    assert table["id"].tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(table["test_1"], [0, 0.1, 0.2, 0.3, 0.4, 0.5], atol=1e-7)


def test_names_travel_with_their_images_when_sorted():
    preds = np.stack([np.full((2, 2), v) for v in (0.1, 0.2, 0.3)])
    table = build_table(preds, ["b_10", "b_9", "b_1"])
    assert table["b_10"].iloc[0] == pytest.approx(0.1) and table["b_1"].iloc[0] == pytest.approx(0.3)


def test_export_score_round_trip_matches_numpy(tmp_path):
    rng = np.random.default_rng(0)
    truth, guess = rng.random((3, 6, 5)), rng.random((3, 6, 5)).astype(np.float32)
    names = ["t1", "t2", "t3"]
    export_predictions(truth, names, tmp_path / "solution.csv")
    export_predictions(guess, names, tmp_path / "sub.csv")
    expected = np.sqrt(np.mean((truth - guess.astype(np.float64)) ** 2))
    assert abs(score_files(tmp_path / "solution.csv", tmp_path / "sub.csv").rmse - expected) < 1e-7
    assert score_files(tmp_path / "sub.csv", tmp_path / "sub.csv").rmse == 0.0
    in_memory = score_tables(build_table(truth, names).set_index("id"), build_table(guess, names).set_index("id"))
    assert abs(in_memory.rmse - expected) < 1e-12
    assert in_memory.per_column["t2"] == pytest.approx(np.sqrt(np.mean((truth[1] - guess[1]) ** 2)), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_csv_rounding_changes_rmse_by_less_than_1e_7(n, rows, cols, seed):
    rng = np.random.default_rng(seed)
    truth, guess = rng.random((n, rows, cols)), rng.random((n, rows, cols))
    names = [f"img{i}" for i in range(n)]
    exact = rmse(truth, guess)
    a = pd.read_csv(pd.io.common.StringIO(build_table(truth, names).to_csv(index=False, float_format="%.9g")))
    b = pd.read_csv(pd.io.common.StringIO(build_table(guess, names).to_csv(index=False, float_format="%.9g")))
    assert abs(score_tables(a.set_index("id"), b.set_index("id")).rmse - exact) < 1e-7


def test_sample_submission_header_and_ids_are_copied(tmp_path):
    sample = tmp_path / "sample.csv"
    sample.write_text("Id,imgA,imgB\n" + "".join(f"{i},0,0\n" for i in range(4)))
    preds = np.stack([np.full((2, 2), 0.25), np.full((2, 2), 0.75)])
    export_predictions(preds, ["x1", "x2"], tmp_path / "out.csv", sample=sample)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["Id", "imgA", "imgB"] and out["Id"].tolist() == [0, 1, 2, 3]
    assert out["imgA"].tolist() == [0.25] * 4 and out["imgB"].tolist() == [0.75] * 4
    with pytest.raises(SubmissionError, match="sample submission is 4 rows x 2 image columns"):
        export_predictions(preds[:1], ["x1"], tmp_path / "bad.csv", sample=sample)
    assert not (tmp_path / "bad.csv").exists()


def test_failed_export_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "Predict.csv"
    export_predictions(np.full((1, 2, 2), 0.5), ["a"], target)
    before = target.read_bytes()
    with pytest.raises(SubmissionError, match="within \\[0, 1\\]"):
        export_predictions(np.full((1, 2, 2), np.nan), ["a"], target)
    with pytest.raises(SubmissionError):
        export_predictions(np.full((1, 2, 2), -0.5), ["a"], target)  # a tanh output not rescaled

    def crash(fd, *args):  # the disk fails half-way through the write
        raise OSError("disk full")

    import inpaint.imaging

    monkeypatch.setattr(inpaint.imaging.os, "fdopen", crash)
    with pytest.raises(OSError):
        export_predictions(np.full((1, 2, 2), 0.1), ["a"], target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Predict.csv"]


@pytest.fixture
def good_csv(tmp_path):
    export_predictions(np.random.default_rng(1).random((2, 3, 3)), ["a", "b"], tmp_path / "solution.csv")
    return tmp_path / "solution.csv"


def _edit(path, out, fn):
    lines = path.read_text().splitlines()
    out.write_text("\n".join(fn(lines)) + "\n")
    return out


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda ls: ls[:-1], "missing ids: 8"),
        (lambda ls: [ls[0] + ",c"] + [l + ",0.5" for l in ls[1:]], "unexpected image columns: c"),
        (lambda ls: [",".join(l.split(",")[:2]) for l in ls], "missing image columns: b"),
        (lambda ls: ls[:3] + ["2,nan,0.5"] + ls[4:], "1 empty or NaN cells \\(first: column 'a', id 2"),
        (lambda ls: ls[:3] + ["2,,0.5"] + ls[4:], "empty or NaN"),
        (lambda ls: ls[:3] + ["2,0.5,hello"] + ls[4:], "1 non-numeric cells \\(first: column 'b', id 2: 'hello'"),
        (lambda ls: ls[:3] + ["2,inf,0.5"] + ls[4:], "infinite"),
        (lambda ls: ls[:3] + ["1,0.5,0.5"] + ls[4:], "repeated ids: 1"),
        (lambda ls: ["pixel,a,b"] + ls[1:], "first column must be 'id'"),
        (lambda ls: ["id,a,a"] + ls[1:], "repeated column names"),
        (lambda ls: [], "empty file"),
    ],
)
def test_score_rejects_malformed_submission_with_exit_2(good_csv, tmp_path, run_cli, edit, message):
    bad = _edit(good_csv, tmp_path / "bad.csv", edit)
    with pytest.raises(SubmissionError, match=message):
        score_files(good_csv, bad)
    code, out, err = run_cli("score", "--solution", good_csv, "--submission", bad)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_score_cli_plain_and_json_output(good_csv, run_cli):
    code, out, _ = run_cli("score", "--solution", good_csv, "--submission", good_csv)
    assert code == 0 and out.strip().splitlines()[-1] == "RMSE 0.00000000"
    code, out, _ = run_cli("score", "--solution", good_csv, "--submission", good_csv, "--json")
    assert code == 0 and '"rmse": 0.0' in out and '"n_cells": 18' in out
    code, _, err = run_cli("score", "--solution", good_csv, "--submission", good_csv.parent / "missing.csv")
    assert code == 2 and "file not found" in err


def test_export_folder_reads_images_in_natural_order(tmp_path, run_cli):
    pred = tmp_path / "pred"
    pred.mkdir()
    for i in (1, 2, 10):
        cv2.imwrite(str(pred / f"test_{i}.png"), np.full((4, 3), i * 20, np.uint8))
    summary = export_folder(pred, tmp_path / "p.csv")
    assert summary["images"] == 3 and tuple(summary["size"]) == (4, 3)
    table = read_table(tmp_path / "p.csv")
    assert list(table.columns) == ["test_1", "test_2", "test_10"]
    assert table["test_10"].iloc[0] == pytest.approx(200 / 255)
    (pred / "notes.txt").write_text("x")
    code, _, err = run_cli("export", "--pred", pred, "--csv", tmp_path / "q.csv")
    assert code == 2 and "not image files: notes.txt" in err and not (tmp_path / "q.csv").exists()
    (pred / "notes.txt").unlink()
    cv2.imwrite(str(pred / "test_3.png"), np.zeros((5, 5), np.uint8))
    with pytest.raises(SubmissionError, match="differ in size"):
        export_folder(pred, tmp_path / "q.csv")
    assert export_folder(pred, tmp_path / "q.csv", size=(4, 3))["images"] == 4


def test_solution_command_accepts_a_data_folder(tiny_set, tmp_path, run_cli):
    code, out, err = run_cli("solution", "--answers", tiny_set, "--csv", tmp_path / "solution.csv")
    assert code == 0, err
    table = read_table(tmp_path / "solution.csv")
    assert list(table.columns) == ["test_1", "test_2", "test_3"] and len(table) == 32 * 32


def test_submission_package_imports_without_tensorflow():
    code = "import submission, sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
