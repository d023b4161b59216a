"""The notebook API at the top of the package: documented by help(inpaint), names that stay what they are."""
import importlib
import pkgutil
import pydoc

import numpy as np
import pytest

import inpaint
from conftest import write_set
from inpaint.errors import ConfigError, DataError


def test_help_shows_the_api_with_an_example_and_no_internal_notes():
    text = pydoc.render_doc(inpaint, renderer=pydoc.plaintext)
    for name in inpaint.__all__:
        assert name in text
    assert "inpaint.train(data, \"runs/first\", config, minutes=20)" in text
    assert "Kept free of heavy imports" not in text


def test_train_and_predict_stay_the_api_functions_after_every_module_is_imported():
    """No module of the package is named like an API function (the import system would bind it over the
    function: `import inpaint.train` once replaced inpaint.train), so importing them all changes nothing."""
    children = {module.name for module in pkgutil.iter_modules(inpaint.__path__)}
    assert {"training", "prediction"} <= children and not children & set(inpaint.__all__)
    for module in pkgutil.walk_packages(inpaint.__path__, "inpaint."):
        if module.name != "inpaint.__main__":  # `python -m inpaint`: importing it runs the command line
            importlib.import_module(module.name)
    assert all(getattr(inpaint, name) is getattr(inpaint.api, name) for name in inpaint.__all__)
    assert inpaint.train.__module__ == "inpaint.api" and inpaint.predict.__module__ == "inpaint.api"


def test_make_config_takes_a_preset_and_checked_keys():
    cfg = inpaint.make_config("lite", batch_size=16, lambda_l1=50)
    assert cfg.batch_size == 16 and cfg.lambda_l1 == 50.0 and cfg.gen_depth == 4
    with pytest.raises(ConfigError, match="batch_size must be a whole number"):
        inpaint.make_config("lite", batch_size="sixteen")
    with pytest.raises(ConfigError, match="unknown keys lamda_l1"):
        inpaint.make_config(lamda_l1=1.0)


def test_a_data_set_shows_what_check_data_prints(tmp_path):
    data = inpaint.load_data(write_set(tmp_path / "data", n_train=4, n_test=2), size=(32, 32))
    shown = repr(data)
    assert shown.startswith(f"Dataset {tmp_path / 'data'}:") and "training pairs: 4" in shown
    assert "submission CSV: 1024 rows (32x32 pixels) x 2 image columns" in shown
    with pytest.raises(DataError, match="did you mean --data"):
        inpaint.load_data(tmp_path / "data" / "Training")


def test_written_and_validated_in_python_as_on_the_command_line(tmp_path):
    data = inpaint.load_data(write_set(tmp_path / "data", n_train=4, n_test=2), size=(32, 32))
    truth = data.csv_test.real
    csv = inpaint.write_submission(truth, data, tmp_path / "Predict.csv")
    verdict = inpaint.validate_submission(csv, data)
    assert verdict.ok and verdict.exit_code == 0 and str(verdict).endswith("would accept and score " + str(csv))
    assert inpaint.validate_submission(csv, tmp_path / "data").exit_code == 0  # a data folder works as well
    flat = inpaint.write_submission(np.full_like(truth, 0.5), data, tmp_path / "flat.csv")
    assert inpaint.validate_submission(flat, data).exit_code == 3  # accepted, scored badly: a constant fill
    solution = inpaint.write_submission(truth, data, tmp_path / "solution.csv")
    assert inpaint.score(solution, csv).rmse == 0.0
    (tmp_path / "bad.csv").write_text("id,test_1\n0,0.5\n")
    rejected = inpaint.validate_submission(tmp_path / "bad.csv", data)
    assert rejected.exit_code == 2 and "missing image columns: test_2" in str(rejected)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return inpaint.load_data(write_set(tmp_path_factory.mktemp("api") / "data", n_train=8, n_test=2), size=(32, 32))


@pytest.mark.slow
def test_api_trainings_without_a_seed_draw_their_own_and_print_and_save_it(tiny_data, tmp_path, capsys):
    """Issue 36: make_config pinned seed 0, so every notebook student trained the same run."""
    from inpaint.config import load_toml

    seeds = []
    for name in ("a", "b"):
        run = inpaint.train(tiny_data, tmp_path / name, inpaint.make_config("lite"), steps=1, progress=False)
        seed = load_toml(run.folder / "config.toml").seed
        assert f"seed {seed} (saved in {run.folder / 'config.toml'}; make_config(..., seed={seed})" in capsys.readouterr().out
        seeds.append(seed)
    assert seeds[0] != seeds[1]  # two draws from a million
    assert inpaint.make_config("lite", seed=7).seed == 7


@pytest.mark.slow
def test_a_run_worse_than_the_classical_fill_does_not_look_finished(tiny_data, tmp_path):
    run = inpaint.train(tiny_data, tmp_path / "run", inpaint.make_config("lite", seed=3), steps=1, progress=False)
    assert not run.state["classical_check"]["better"]  # one step of a fresh U-Net: gray boxes, far from Telea
    assert repr(run).splitlines()[-1].startswith("WARNING: the kept generator is NOT better than the classical fill")
    csv = inpaint.write_submission(inpaint.predict(run, tiny_data), tiny_data, tmp_path / "Predict.csv")
    verdict = inpaint.validate_submission(csv, tiny_data, run=run)
    assert verdict.exit_code == 3 and "OK" not in str(verdict)
    assert any(d.startswith("the run that predicted it is NOT better than the classical fill") for d in verdict.diagnoses)


@pytest.mark.slow
def test_resume_without_a_budget_keeps_the_budget_the_run_was_started_with(tiny_data, tmp_path):
    from inpaint.config import UNTIL_BUDGET, load_toml

    run = inpaint.train(tiny_data, tmp_path / "run", inpaint.make_config("lite", seed=5), steps=2, progress=False)
    inpaint.train(tiny_data, run.folder, resume=True, progress=False)
    saved = load_toml(run.folder / "config.toml")
    assert (saved.steps, saved.epochs, saved.seed) == (2, UNTIL_BUDGET, 5)  # not the preset's epochs = 2, steps = 0
