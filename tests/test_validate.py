"""`inpaint validate` refuses what the scorer refuses, with the scorer's reason, and says when a file will be scored
badly (exit 3) rather than blessing it."""
import re

import numpy as np
import pandas as pd
import pytest

from conftest import write_set
from inpaint.data import load_data
from submission import export_folder, export_predictions, read_table, score_files, solution_from_answers
from submission.errors import SubmissionError
from submission.validate import EXIT_OK, EXIT_REJECTED, EXIT_SCORED_BADLY

NAMES = ["test_1", "test_2", "test_3"]


@pytest.fixture(scope="module")
def contest(tmp_path_factory):
    """A 32x32 data set, its solution, a sample submission (the White images) and a genuine prediction."""
    root = tmp_path_factory.mktemp("contest")
    data = write_set(root / "data", n_train=4, n_test=3, size=32)
    solution_from_answers(data / "Testing" / "Real", root / "solution.csv")
    export_folder(data / "Testing" / "White", root / "sample.csv")
    ds = load_data(data, size=(32, 32), need_train=False)
    noisy = np.clip(ds.test_real.images + np.random.default_rng(0).normal(0, 0.03, ds.test_real.images.shape), 0, 1)
    good = ds.test_mask * noisy + (1 - ds.test_mask) * ds.test_white.images
    export_predictions(good, NAMES, root / "good.csv")
    return root, data, pd.read_csv(root / "good.csv")


def frame_csv(frame, **to_csv):
    return lambda path: frame.to_csv(path, **{"index": False, **to_csv})


def edit_lines(edit):
    def write(path, good_path):
        path.write_text("\n".join(edit(good_path.read_text().splitlines())) + "\n")
    return write


def broken_files(good: pd.DataFrame):
    """Every kind of file the scorer refuses: (name, writer of the file at a path)."""
    values = good[NAMES].to_numpy()
    lines = {
        "one row too many fields": lambda ls: ls[:3] + [ls[3] + ",0.5"] + ls[4:],
        "first column not id": lambda ls: ["pixel" + ls[0][2:]] + ls[1:],
        "semicolons": lambda ls: [line.replace(",", ";") for line in ls],
        "id column only": lambda ls: [line.split(",")[0] for line in ls],
        "trailing comma": lambda ls: [line + "," for line in ls],
        "repeated column": lambda ls: [ls[0].replace("test_2", "test_1")] + ls[1:],
        "id not an integer": lambda ls: ls[:3] + ["2.5," + ls[3].split(",", 1)[1]] + ls[4:],
        "repeated id": lambda ls: ls[:3] + ["1," + ls[3].split(",", 1)[1]] + ls[4:],
        "header only": lambda ls: ls[:1],
        "NaN cell": lambda ls: ls[:3] + ["2,nan,0.5,0.5"] + ls[4:],
        "text cell": lambda ls: ls[:3] + ["2,0.5,abc,0.5"] + ls[4:],
        "infinite cell": lambda ls: ls[:3] + ["2,0.5,0.5,inf"] + ls[4:],
        "cell beyond 1000": lambda ls: ls[:3] + ["2,0.5,1e6,0.5"] + ls[4:],
        "a row missing": lambda ls: ls[:-1],
        "an extra row": lambda ls: ls + ["1024,0.5,0.5,0.5"],
        "ids from 1": lambda ls: ls[:1] + [f"{i + 1}," + line.split(",", 1)[1] for i, line in enumerate(ls[1:])],
    }
    files = {name: edit_lines(edit) for name, edit in lines.items()}
    frames = {
        "no id column": good.drop(columns="id"),
        "a missing image column": good.drop(columns="test_3"),
        "an extra image column": good.assign(test_4=0.5),
        "image columns named 0-2": good.rename(columns=dict(zip(NAMES, "012"))),
        "written at 16x16": pd.DataFrame({"id": range(256), **{n: np.full(256, 0.5) for n in NAMES}}),
        "the deck's (n, M*N) array untransposed": pd.DataFrame(values.T),
    }
    files.update({name: (lambda f: lambda path, _: frame_csv(f)(path))(frame) for name, frame in frames.items()})
    files["a pandas index column"] = lambda path, _: good.to_csv(path)
    files["no header row"] = lambda path, _: np.savetxt(path, good.to_numpy(), delimiter=",")
    files["empty file"] = lambda path, _: path.write_text("")
    files["binary bytes"] = lambda path, _: path.write_bytes(bytes(range(256)) * 4)
    return files


def reasons(message: str, path) -> list[str]:
    """The scorer's reasons, without the file name or the 'does not match the solution' preamble."""
    message = message.removeprefix(f"{path}: ").removeprefix("submission does not match the solution: ")
    return [r for r in message.split("; ") if r]


KINDS = sorted(broken_files(pd.DataFrame({"id": [0], **{n: [0.5] for n in NAMES}})))


@pytest.mark.parametrize("against", ["--data", "--sample"])
@pytest.mark.parametrize("kind", KINDS)
def test_validator_refuses_every_file_the_scorer_refuses_with_the_same_reason(contest, tmp_path, run_cli, kind,
                                                                               against):
    root, data, good = contest
    bad = tmp_path / "Predict.csv"
    broken_files(good)[kind](bad, root / "good.csv")
    with pytest.raises(SubmissionError) as refused:
        score_files(root / "solution.csv", bad)
    code, out, err = run_cli("validate", bad, against, data if against == "--data" else root / "sample.csv")
    assert code == EXIT_REJECTED, out + err
    errors = "\n".join(line for line in out.splitlines() if line.startswith("error: "))
    for reason in reasons(str(refused.value), bad):
        assert reason in errors, f"scorer: {reason!r}\nvalidator:\n{out}"
    assert out.splitlines()[-1].startswith("REJECTED: ") and "Traceback" not in err


@pytest.mark.parametrize("change", ["rows shuffled", "columns reordered", "ID in capitals, ids as 3.0"])
def test_files_the_scorer_accepts_are_accepted_with_the_same_data(contest, tmp_path, run_cli, change):
    root, data, good = contest
    frame = {"rows shuffled": good.sample(frac=1.0, random_state=1),
             "columns reordered": good[["id", "test_3", "test_1", "test_2"]],
             "ID in capitals, ids as 3.0": good.rename(columns={"id": "ID"}).assign(ID=good["id"].astype(float))}[change]
    frame.to_csv(tmp_path / "Predict.csv", index=False)
    expected = score_files(root / "solution.csv", root / "good.csv").rmse
    assert score_files(root / "solution.csv", tmp_path / "Predict.csv").rmse == pytest.approx(expected, abs=1e-12)
    for against in (["--data", data], ["--sample", root / "sample.csv"]):
        code, out, _ = run_cli("validate", tmp_path / "Predict.csv", *against)
        assert code == EXIT_OK and out.splitlines() == ["OK: the scorer would accept and score " +
                                                        str(tmp_path / "Predict.csv")]


@pytest.mark.parametrize("mistake, words", [
    (lambda v: v * 2 - 1, "tanh output"),
    (lambda v: v * 255, "0-255 pixel values"),
    (lambda v: v.reshape(3, 32, 32).transpose(0, 2, 1).reshape(3, -1), "transposed"),
    (lambda v: v.reshape(3, 32, 32)[:, :, ::-1].reshape(3, -1), "mirrored"),
])
def test_a_file_scored_badly_is_not_called_ok_and_exits_3(contest, tmp_path, run_cli, mistake, words):
    root, data, good = contest
    values = mistake(good[NAMES].to_numpy().T)
    table = pd.DataFrame(values.T, columns=NAMES)
    table.insert(0, "id", range(len(table)))
    table.to_csv(tmp_path / "Predict.csv", index=False)
    score_files(root / "solution.csv", tmp_path / "Predict.csv")  # the scorer accepts it
    code, out, _ = run_cli("validate", tmp_path / "Predict.csv", "--data", data)
    assert code == EXIT_SCORED_BADLY
    assert any(line.startswith("diagnosis: ") and words in line for line in out.splitlines()), out
    last = out.splitlines()[-1]
    assert last.startswith("SCORED BADLY: the scorer would accept and score") and "OK" not in out


def test_a_nearly_flat_box_is_scored_badly_and_exits_3(contest, tmp_path, run_cli):
    root, data, _ = contest
    ds = load_data(data, size=(32, 32), need_train=False)
    gray = np.clip(0.5 + np.random.default_rng(1).normal(0, 0.009, ds.test_mask.shape), 0, 1)
    export_predictions(ds.test_mask * gray + (1 - ds.test_mask) * ds.test_white.images, NAMES, tmp_path / "Predict.csv")
    code, out, _ = run_cli("validate", tmp_path / "Predict.csv", "--data", data)
    assert code == EXIT_SCORED_BADLY and "OK" not in out
    assert any(line.startswith("diagnosis: the box is nearly flat in 3 of 3 images") for line in out.splitlines()), out


@pytest.mark.parametrize("kind, words", [
    ("the deck's (n, M*N) array untransposed", "the table looks transposed: 3 rows of 1024 values, one row per image"),
    ("a pandas index column", "index=False"),
    ("no id column", "there is no 'id' column: insert the pixel index 0 .. M*N-1 as the first column"),
    ("no header row", "the header row is missing"),
    ("image columns named 0-2", "name each image column by its test image (test_1, test_2, test_3)"),
])
def test_each_usual_export_mistake_gets_the_hint_that_names_the_fix(contest, tmp_path, run_cli, kind, words):
    root, data, good = contest
    broken_files(good)[kind](tmp_path / "Predict.csv", root / "good.csv")
    code, out, _ = run_cli("validate", tmp_path / "Predict.csv", "--data", data)
    assert code == EXIT_REJECTED and words in out
    assert "repeated column names" not in out  # a header of numbers is one mistake, not many


def test_size_and_image_count_refuse_pandas_numbered_columns_and_the_wrong_row_count(contest, tmp_path, run_cli):
    root, _, good = contest
    good.rename(columns=dict(zip(NAMES, "012"))).to_csv(tmp_path / "renamed.csv", index=False)
    code, out, _ = run_cli("validate", tmp_path / "renamed.csv", "--size", 32, 32, "--images", 3)
    assert code == EXIT_REJECTED and "pandas' default names" in out
    good.iloc[:256].to_csv(tmp_path / "short.csv", index=False)
    code, out, _ = run_cli("validate", tmp_path / "short.csv", "--size", 32, 32, "--images", 3)
    assert code == EXIT_REJECTED and "256 rows, the solution has 1024" in out


def test_only_a_file_checked_against_nothing_gets_the_note(contest, run_cli):
    root, data, _ = contest
    code, out, _ = run_cli("validate", root / "good.csv", "--data", data)
    assert code == EXIT_OK and "note:" not in out
    code, out, _ = run_cli("validate", root / "good.csv")
    assert code == EXIT_OK and "note: without --data, --sample or --size" in out


def test_validate_help_lists_each_exit_code(capsys):
    from inpaint.cli import main

    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = capsys.readouterr().out
    for line in ("0  the scorer would accept and score the file", "2  the scorer would refuse it",
                 "3  the scorer would accept it, but a warning or diagnosis"):
        assert line in text


def test_a_header_with_braces_or_the_id_elsewhere_is_named_not_crashed_on(tmp_path, run_cli):
    (tmp_path / "braces.csv").write_text("{x},test_1\n0,0.5\n")
    (tmp_path / "late.csv").write_text("test_1,id\n0.5,0\n")
    for name, words in (("braces.csv", "found '{x}'"), ("late.csv", "'id' must be the first column; it is column 2")):
        with pytest.raises(SubmissionError, match=re.escape(words)):
            read_table(tmp_path / name)  # the scorer's reader
        code, out, err = run_cli("validate", tmp_path / name, "--size", 1, 1, "--images", 1)
        assert code == EXIT_REJECTED and words in out and "Traceback" not in err
