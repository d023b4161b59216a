"""The CSV contract through the CLI: export, score and solution exit codes and output.

The library functions behind them are tested in test_csv_io.py and test_scoring.py."""

import cv2
import numpy as np
import pytest

from inpaint.errors import SubmissionError
from submission import export_predictions, read_table, score_files


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


def test_export_cli_writes_the_csv_or_nothing(tmp_path, run_cli):
    pred = tmp_path / "pred"
    pred.mkdir()
    for i in (1, 2, 10):
        cv2.imwrite(str(pred / f"test_{i}.png"), np.full((4, 3), i * 20, np.uint8))
    code, out, err = run_cli("export", "--pred", pred, "--csv", tmp_path / "p.csv")
    assert code == 0, err
    table = read_table(tmp_path / "p.csv")
    assert list(table.columns) == ["test_1", "test_2", "test_10"] and len(table) == 12
    assert table["test_10"].iloc[0] == pytest.approx(200 / 255)
    (pred / "notes.txt").write_text("x")
    code, _, err = run_cli("export", "--pred", pred, "--csv", tmp_path / "q.csv")
    assert code == 2 and "not image files: notes.txt" in err and not (tmp_path / "q.csv").exists()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_solution_command_accepts_a_data_folder(tiny_set, tmp_path, run_cli):
    code, out, err = run_cli("solution", "--answers", tiny_set, "--csv", tmp_path / "solution.csv")
    assert code == 0, err
    table = read_table(tmp_path / "solution.csv")
    assert list(table.columns) == ["test_1", "test_2", "test_3"] and len(table) == 32 * 32
