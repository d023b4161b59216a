"""The CLI as a new user meets it: an example in every --help, one meaning of --answers, errors that name the option."""
import argparse
import re
import shlex
import shutil

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import write_set
from inpaint.cli import build_parser
from inpaint.errors import ConfigError


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    return dict(action.choices) if action else {}


def commands(parser=None, path=()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command and sub-command (`remote upload`), by its words after `inpaint`."""
    found = {}
    for name, sub in subparsers(parser or build_parser()).items():
        found[(*path, name)] = sub
        found.update(commands(sub, (*path, name)))
    return found


def command_line(example: str) -> list[str]:
    """The `inpaint ...` words of an example, also inside shell (`export V=...; inpaint ...`, `"$(inpaint ...)"`)."""
    found = re.search(r"(?:^|[\s;(])(inpaint\s[^;)|&]*)", example)
    assert found, f"no inpaint command in the example {example!r}"
    return shlex.split(found.group(1))


@pytest.mark.parametrize("path", sorted(commands()), ids=" ".join)
def test_every_command_help_shows_an_example_that_parses(path):
    """Iterates over the parser itself, so a command added without an example fails here."""
    help_text = commands()[path].format_help()
    examples = [line.removeprefix("example: ") for line in help_text.splitlines() if line.startswith("example: ")]
    assert examples, f"inpaint {' '.join(path)} --help shows no example line"
    for example in examples:
        words = command_line(example)
        assert words[0] == "inpaint" and tuple(words[1:1 + len(path)]) == path, example
        args = build_parser().parse_args(words[1:])  # argparse exits (SystemExit) on an example that does not parse
        assert args.command == path[0]


@pytest.mark.parametrize("argv", [["--verbose", "score"], ["score", "--verbose"]])
def test_verbose_is_accepted_before_and_after_the_command(argv):
    args = build_parser().parse_args([*argv, "--solution", "s.csv", "--submission", "p.csv"])
    assert args.verbose is True
    assert build_parser().parse_args(["score", "--solution", "s.csv", "--submission", "p.csv"]).verbose is False


# ------------------------------------------------------------------ --answers: a data folder or its Testing/Real
@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A student's copy (no answers) and a grader's copy of the same set, which has Testing/Real."""
    root = tmp_path_factory.mktemp("answers")
    grader = write_set(root / "grader", n_train=16, n_test=3, size=32)
    student = root / "student"
    shutil.copytree(grader, student)
    shutil.rmtree(student / "Testing" / "Real")
    return student, grader


def answer_forms(grader):
    return {"data folder": grader, "Testing/Real": grader / "Testing" / "Real"}


def identity_rmse_by_hand(grader) -> float:
    """RMSE of submitting the White test images, straight from the PNG files, in float64."""
    errors = []
    for white_path in sorted((grader / "Testing" / "White").glob("*.png")):
        white = cv2.imread(str(white_path), cv2.IMREAD_GRAYSCALE).astype(np.float64) / 255
        real = cv2.imread(str(grader / "Testing" / "Real" / white_path.name), cv2.IMREAD_GRAYSCALE) / 255.0
        errors.append((white - real) ** 2)
    return float(np.sqrt(np.mean(errors)))


def test_solution_answers_in_either_form_write_the_same_csv(sets, tmp_path, run_cli):
    _, grader = sets
    written = {}
    for form, answers in answer_forms(grader).items():
        csv = tmp_path / f"{form.replace('/', '_')}.csv"
        code, out, err = run_cli("solution", "--answers", answers, "--csv", csv)
        assert code == 0, err
        written[form] = csv.read_bytes()
    assert written["data folder"] == written["Testing/Real"]
    table = pd.read_csv(tmp_path / "Testing_Real.csv")
    assert table.shape == (32 * 32, 1 + 3)  # id column and one column per test image


def test_baseline_all_answers_in_either_form_score_identity_as_computed_by_hand(sets, tmp_path, run_cli, monkeypatch):
    from baselines import pix2pix_lite

    # Training pix2pix-lite is tested in test_baselines.py; here it would only cost a minute per form.
    monkeypatch.setattr(pix2pix_lite, "train_and_predict", lambda data, *args: data.csv_test.white)
    student, grader = sets
    expected = identity_rmse_by_hand(grader)
    for form, answers in answer_forms(grader).items():
        out = tmp_path / form.replace("/", "_")
        code, _, err = run_cli("baseline", "all", "--data", student, "--size", 32, 32, "--answers", answers,
                               "--out", out, "--iterations", 1, "--batch", 4)
        assert code == 0, f"{form}: {err}"
        table = pd.read_csv(out / "baselines.csv").set_index("method")
        assert table.loc["identity", "RMSE"] == pytest.approx(expected, abs=1e-6), form


@pytest.fixture(scope="module")
def tiny_run(sets, tmp_path_factory):
    from inpaint import config
    from inpaint.data import load_data
    from inpaint.training import train

    _, grader = sets
    run = tmp_path_factory.mktemp("run") / "run"
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3, batch_size=4, epochs=1, val_fraction=0.25)
    train(load_data(grader, size=(32, 32)), run, cfg, verbose=0)
    return run


@pytest.mark.slow
def test_report_answers_in_either_form_give_the_same_test_table(sets, tiny_run, run_cli):
    _, grader = sets
    expected = identity_rmse_by_hand(grader)
    tables = {}
    for form, answers in answer_forms(grader).items():
        code, _, err = run_cli("report", "--run", tiny_run, "--answers", answers)
        assert code == 0, f"{form}: {err}"
        tables[form] = (tiny_run / "report" / "report.md").read_text().split("## Test RMSE")[1].split("##")[0]
    assert tables["data folder"] == tables["Testing/Real"]
    identity = re.search(r"\| identity \(White images\) \| ([0-9.]+) \|", tables["Testing/Real"])
    assert float(identity.group(1)) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("command", ["solution", "report", "baseline"])
def test_answers_that_are_not_there_name_the_option_and_exit_2(command, sets, tmp_path, run_cli):
    student, _ = sets
    argv = {"solution": ["solution", "--csv", tmp_path / "s.csv"],
            "report": ["report", "--run", tmp_path / "run"],
            "baseline": ["baseline", "identity", "--data", student, "--csv", tmp_path / "b.csv"]}[command]
    code, _, err = run_cli(*argv, "--answers", tmp_path / "missing")
    assert code == 2
    assert f"--answers {tmp_path / 'missing'}: folder not found" in err and err.count("\n") == 1
    code, _, err = run_cli(*argv, "--answers", student)
    assert code == 2
    assert f"--answers {student}: a data folder without Testing/Real" in err


@pytest.mark.slow
def test_report_answers_without_test_images_beside_them_is_a_clear_error(sets, tiny_run, tmp_path, run_cli):
    _, grader = sets
    lone = shutil.copytree(grader / "Testing" / "Real", tmp_path / "answers")
    code, _, err = run_cli("report", "--run", tiny_run, "--answers", lone)
    assert code == 2
    assert f"--answers {lone}: no Testing/White beside the answers" in err


# ------------------------------------------------------------------ errors name the option or file at fault
def test_config_errors_name_the_option_or_file(tmp_path, run_cli):
    data = write_set(tmp_path / "data", n_train=4, n_test=1)
    (tmp_path / "c.toml").write_text("lamda_l1 = 10.0\n")
    train = ["train", "--data", data, "--run", tmp_path / "run"]
    code, _, err = run_cli(*train, "--set", "lamda_l1=10")
    assert code == 2 and "--set lamda_l1=10: unknown config key 'lamda_l1'" in err
    code, _, err = run_cli(*train, "--config", tmp_path / "c.toml")
    assert code == 2 and f"--config {tmp_path / 'c.toml'}: unknown keys lamda_l1" in err
    assert not (tmp_path / "run").exists()


def test_unknown_preset_is_refused_by_the_parser_naming_the_option(tmp_path, run_cli, capsys):
    with pytest.raises(SystemExit) as stop:
        run_cli("train", "--data", tmp_path, "--run", tmp_path / "run", "--preset", "huge")
    assert stop.value.code == 2
    assert "argument --preset: invalid choice: 'huge'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["predict", "--out", "pred"], ["submit", "--csv", "p.csv"], ["compare-predictions"]])
def test_a_folder_that_is_no_run_names_run(command, tmp_path, run_cli):
    data = write_set(tmp_path / "data", n_train=4, n_test=1)
    code, _, err = run_cli(command[0], "--run", tmp_path / "nothing", "--data", data, *command[1:])
    assert code == 2
    assert f"--run {tmp_path / 'nothing'}: not a run folder (no config.toml)" in err


def test_demo_checks_its_options_before_writing_the_synthetic_set(tmp_path, run_cli):
    # Its old minutes budget made its figure depend on the machine (issue 36): refused, pointing at --steps.
    code, _, err = run_cli("demo", "--out", tmp_path / "demo", "--minutes", 3.5)
    assert code == 2 and "trains a number of steps" in err and "--steps N" in err
    assert not (tmp_path / "demo" / "data").exists()


@pytest.mark.parametrize("argv, option", [(["bench", "speed", "--timing-steps", "0"], "--timing-steps"),
                                          (["bench", "speed", "--repeats", "0"], "--repeats"),
                                          (["baseline", "all", "--data", "d", "--iterations", "0"], "--iterations"),
                                          (["validate", "p.csv", "--images", "0"], "--images")])
def test_zero_counts_are_refused_naming_the_option(argv, option, capsys):
    """`bench speed --timing-steps 0` (then `--steps`) used to end in an UnboundLocalError traceback after starting TensorFlow."""
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    assert f"argument {option}: must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["score", "leaderboard"])
def test_missing_split_file_names_the_option(command, sets, tmp_path, run_cli):
    _, grader = sets
    solution = tmp_path / "solution.csv"
    assert run_cli("solution", "--answers", grader, "--csv", solution)[0] == 0
    argv = {"score": ["score", "--submission", solution], "leaderboard": ["leaderboard", solution]}[command]
    code, _, err = run_cli(*argv, "--solution", solution, "--split", tmp_path / "nosplit.csv")
    assert code == 2 and f"--split {tmp_path / 'nosplit.csv'}: file not found" in err


def test_examples_stay_whole_lines_while_descriptions_wrap(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # argparse wraps to the terminal width it reads here
    help_text = commands()[("bench",)].format_help()
    assert "example: inpaint bench serve --participants 50 --uploads 200 --concurrency 20\n" in help_text
    description = help_text.split("\n\n")[1]
    assert description.count("\n") >= 1 and max(len(line) for line in description.splitlines()) <= 60


# ------------------------------------------------------------------ options: no abbreviations, the nearest option named
@pytest.mark.parametrize("typo, nearest", [("--minute", "--minutes"), ("--minuts", "--minutes"), ("--colour", None)])
def test_an_unknown_or_abbreviated_option_shows_the_commands_usage_and_the_nearest_option(typo, nearest, capsys):
    """`--minute 1` used to be taken silently as `--minutes 1`, and `--minuts` printed the top-level usage."""
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["train", "--data", "d", "--run", "r", typo, "1"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith("usage: inpaint train ") and f"inpaint train: error: unrecognized arguments: {typo} 1" in err
    assert (f"(did you mean {nearest}?)" in err) if nearest else ("did you mean" not in err)
    with pytest.raises(SystemExit):  # the same in a sub-command of a sub-command
        build_parser().parse_args(["remote", "upload", "p.csv", "--sever", "http://x"])
    assert "usage: inpaint remote upload " in capsys.readouterr().err


@pytest.mark.parametrize("argv, wrong, nearest", [(["trian"], "trian", "train"), (["baseline", "tela"], "tela", "telea"),
                                                  (["valdate", "p.csv"], "valdate", "validate"), (["xyzzy"], "xyzzy", None)])
def test_a_mistyped_command_or_choice_names_the_nearest(argv, wrong, nearest, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"invalid choice: '{wrong}'" in err
    assert (f"(did you mean {nearest}?)" in err) if nearest else ("did you mean" not in err)


def test_an_unknown_config_key_names_the_nearest_key(tmp_path, run_cli):
    from inpaint.config import from_dict

    code, _, err = run_cli("train", "--data", tmp_path, "--run", tmp_path / "run", "--set", "batchsize=8")
    assert code == 2 and "unknown config key 'batchsize' (did you mean batch_size?)" in err
    with pytest.raises(ConfigError, match=r"unknown keys lamda_l1, zzz \(did you mean lambda_l1 for lamda_l1\?\)"):
        from_dict({"lamda_l1": 1.0, "zzz": 1})

    assert all(not p.allow_abbrev for p in [build_parser(), *commands().values()])


@pytest.mark.parametrize("item, message", [
    ("batch_size=eight", "--set batch_size=eight: batch_size must be a whole number (int), got 'eight'"),
    ("learning_rate=fast", "--set learning_rate=fast: learning_rate must be a number (float), got 'fast'"),
    ("flip=1", "--set flip=1: flip must be true or false (bool), got 1"),
    ("crop_size=[64]", "--set crop_size=[64]: crop_size must be two whole numbers, as [rows, cols]"),
])
def test_set_with_a_value_of_the_wrong_type_names_the_key_and_the_type(item, message, tmp_path, run_cli):
    code, _, err = run_cli("train", "--data", tmp_path, "--run", tmp_path / "run", "--set", item)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("path", sorted(commands()), ids=" ".join)
def test_every_option_says_what_it_is_for(path):
    undocumented = [a.option_strings or a.dest for a in commands()[path]._actions
                    if not a.help and not isinstance(a, argparse._SubParsersAction) and a.option_strings]
    assert undocumented == [], f"inpaint {' '.join(path)}: options without help: {undocumented}"


def test_demo_help_gives_the_measured_time():
    assert "about 4 minutes on a 2-core CPU" in commands()[("demo",)].format_help()  # README: 3.7 min


# ------------------------------------------------------------------ one option, one meaning: --size M N, --out a folder
def test_size_is_rows_and_columns_in_every_command_and_a_lone_side_still_works_where_it_did(tmp_path, run_cli, capsys):
    code, _, err = run_cli("synth", "--out", tmp_path / "lone", "--train", 2, "--test", 1, "--size", 32)
    assert code == 0 and "note: --size takes rows and columns (M N) in every command; read 32 as 32 32" in err
    code, _, err = run_cli("synth", "--out", tmp_path / "pair", "--train", 2, "--test", 1, "--size", 32, 32)
    assert code == 0 and "note" not in err
    lone, pair = (sorted((tmp_path / d / "Training" / "Real").iterdir()) for d in ("lone", "pair"))
    assert [p.read_bytes() for p in lone] == [p.read_bytes() for p in pair]
    assert cv2.imread(str(pair[0]), cv2.IMREAD_GRAYSCALE).shape == (32, 32)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["synth", "--out", "x", "--size", "32", "16"])
    assert "argument --size: this command makes square images; give N N" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # commands that always took M N still need both
        build_parser().parse_args(["train", "--data", "d", "--run", "r", "--size", "32"])
    sizes = {" ".join(path): a.metavar for path, p in commands().items() for a in p._actions if "--size" in a.option_strings}
    assert set(sizes.values()) <= {("M", "N"), ("N", "N")} and len(sizes) >= 10, sizes
    assert "[--size N N]" in commands()[("synth",)].format_usage()


def test_out_names_a_folder_in_every_command():
    helps = {" ".join(path): a.help for path, p in commands().items() for a in p._actions
             if "--out" in a.option_strings and a.help != argparse.SUPPRESS}
    assert helps and all("folder" in text for text in helps.values()), helps


def test_the_old_out_of_commands_that_write_one_file_still_works_and_says_what_replaced_it(sets, tmp_path, run_cli):
    _, grader = sets
    solution = tmp_path / "solution.csv"
    assert run_cli("solution", "--answers", grader, "--csv", solution)[0] == 0
    code, out, err = run_cli("make-split", "--solution", solution, "--out", tmp_path / "split.csv")
    assert code == 0 and (tmp_path / "split.csv").exists()
    assert "note: inpaint make-split --out is now --csv" in err and f"read as --csv {tmp_path / 'split.csv'}" in err
    code, out, err = run_cli("leaderboard", solution, "--solution", solution, "--out", tmp_path / "board.csv")
    assert code == 0 and pd.read_csv(tmp_path / "board.csv")["RMSE"].tolist() == [0.0]
    assert "note: inpaint leaderboard --out is now --csv" in err
    code, out, err = run_cli("competition", "export", "--data", grader, "--format", "kaggle", "--out", tmp_path / "kaggle")
    assert code == 0 and (tmp_path / "kaggle" / "solution.csv").exists(), err
    assert "note: inpaint competition export --out is now --package for --format kaggle" in err
    code, out, err = run_cli("competition", "export", "--data", grader, "--format", "kaggle", "--csv", tmp_path / "k.csv")
    assert code == 2 and "--format kaggle writes --package, not --csv" in err
