"""`inpaint report` on a tiny run folder, and the pictures it draws."""
import shutil

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import write_set
from inpaint import config
from inpaint.data import load_data
from inpaint.errors import UserError
from inpaint.reporting.report import write_report
from inpaint.run_folder import read_state, write_state
from inpaint.sample_grid import sample_grid
from inpaint.training import train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("r")
    data_dir = write_set(root / "data", n_train=20, n_test=3)
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3, batch_size=4, epochs=2, val_fraction=0.2)
    train(load_data(data_dir, size=(32, 32)), root / "run", cfg, verbose=0)
    return root / "run", data_dir


def decoded(path):
    img = cv2.imread(str(path))
    assert img is not None, path
    return img


@pytest.mark.slow
def test_report_writes_every_file_with_real_content(tiny_run, run_cli):
    run, data_dir = tiny_run
    code, out, err = run_cli("report", "--run", run, "--answers", data_dir)
    assert code == 0, err
    report = run / "report"
    listed = out.strip().split(": ", 1)[1].split(", ")
    assert "d_separation.png" in listed and sorted(listed) == sorted(p.name for p in report.iterdir())
    for name in ("losses.png", "samples.png", "architecture.png", "d_separation.png"):
        img = decoded(report / name)
        assert img.std() > 10  # not a blank canvas
    md = (report / "report.md").read_text()
    assert "![losses](losses.png)" in md and "![samples](samples.png)" in md and "![d_separation](d_separation.png)" in md
    assert "![architecture](architecture.png)" in md and "Graphviz" not in md  # drawn without pydot
    assert "| this run (pix2pix) |" in md and "| identity (White images) |" in md
    html = (report / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "losses.png)" not in html
    arch = (report / "architecture.txt").read_text()
    assert 'Model: "generator"' in arch and 'Model: "discriminator"' in arch and "Total params" in arch
    assert config.load_toml(report / "config.toml") == config.load_toml(run / "config.toml")


@pytest.mark.slow
def test_train_saves_sample_grids_every_n_epochs_and_one_of_the_best_generator(tiny_run):
    run, _ = tiny_run
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["best.png", "epoch_0001.png", "epoch_0002.png"]


@pytest.mark.slow
def test_the_samples_shown_are_from_the_generator_the_submission_used_and_name_its_epoch(tiny_run, tmp_path):
    """The report used to show the last epoch's grid while the submission came from the best epoch."""
    run, _ = tiny_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("report"))
    state = read_state(copy)
    state.update(best_epoch=1)  # as if epoch 1 had validated best: best.png is then epoch 1's grid
    write_state(copy, state)
    marker = decoded(copy / "samples" / "epoch_0001.png")
    cv2.imwrite(str(copy / "samples" / "best.png"), marker)
    out = write_report(copy)
    md = (out / "report.md").read_text()
    assert "from the best generator by validation RMSE, epoch 1: the one predict and submit use" in md
    np.testing.assert_array_equal(decoded(out / "samples.png"), marker)
    log = pd.read_csv(copy / "log.csv")
    assert list(log["epoch"]) == [1, 2]  # counted from 1, as the console and the report count
    best = int(log.loc[log["val_rmse"].idxmin(), "epoch"])
    assert f"at epoch {best}." in md


def test_a_log_written_before_epochs_counted_from_1_is_read_as_such(tmp_path):
    from inpaint.run_folder import read_log

    (tmp_path / "log.csv").write_text("epoch,val_rmse\n0,0.3\n1,0.2\n")
    assert list(read_log(tmp_path)["epoch"]) == [1, 2]


@pytest.mark.slow
def test_run_folder_without_log_is_a_clear_error(tiny_run, tmp_path, run_cli):
    run, _ = tiny_run
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.toml").write_text((run / "config.toml").read_text())
    with pytest.raises(UserError, match="no training log"):
        write_report(tmp_path / "run")
    code, _, err = run_cli("report", "--run", tmp_path / "nothing")
    assert code == 2 and "not a run folder" in err


def test_sample_grid_layout_and_error_colours():
    white = np.zeros((2, 8, 8), np.float32)
    real = np.full((2, 8, 8), 0.5, np.float32)
    grid = sample_grid(white, real.copy(), real, scale=1)
    assert grid.shape == (38 + 2 * 10, 4 * 10, 3)  # header + 2 rows of four 8px cells with 1px borders
    error_cell = grid[39:47, 31:39]
    assert error_cell.max() < 10  # a perfect prediction shows no error


def test_the_error_column_has_its_colour_scale_in_the_header():
    faces = np.full((1, 64, 64), 0.5, np.float32)
    grid = sample_grid(faces, faces, faces)  # 4 columns of 132 px
    scale = grid[22:38, 3 * 132:]  # under the "|error|" title
    hot = cv2.applyColorMap(np.array([[255]], np.uint8), cv2.COLORMAP_INFERNO)[0, 0]
    dark = cv2.applyColorMap(np.array([[0]], np.uint8), cv2.COLORMAP_INFERNO)[0, 0]
    row = scale[4].astype(int)
    assert (np.abs(row - hot).sum(axis=1) < 30).any() and (np.abs(row - dark).sum(axis=1) < 30).any()
    assert (grid[22:38, :3 * 132] == 255).all()  # the other columns have no scale


def test_the_method_names_every_training_option_the_run_used():
    from inpaint.reporting.report import _options_sentence

    assert _options_sentence(config.Config(ema_decay=0.0)) == []
    cfg = config.Config(crop_size=(64, 64), gen_depth=6, ema_decay=0.995, patience=30)
    (sentence,) = _options_sentence(cfg)
    for words in ("64x64 window around the box", "decay 0.995",
                  "after 30 epochs without a better validation RMSE"):
        assert words in sentence
