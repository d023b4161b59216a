"""Each config key that shapes the data (mask_threshold, mask_grow, image_size, batch_size), set with `--set`,
reaches the code that uses it, and the run's config.toml says what the run used."""
import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import mouth_box, write_set
from inpaint import config
from inpaint.run_folder import load_generator, read_state

LITE = ["--preset", "lite", "--size", "32", "32"]
PAINT = 236  # a box painted off-white: found at threshold 0.92, not at the default 0.94 (faces stay <= 230)


def saved(run) -> config.Config:
    return config.load_toml(run / "config.toml")


def cells_unlike_white(csv, data) -> np.ndarray:
    """(n, 32, 32): which cells of the submission differ from the White test images it was made from."""
    table = pd.read_csv(csv).drop(columns="id")
    names = sorted(p.stem for p in (data / "Testing" / "White").glob("*.png"))
    white = [cv2.imread(str(data / "Testing" / "White" / f"{n}.png"), cv2.IMREAD_GRAYSCALE) / 255 for n in names]
    return np.stack([np.abs(table[n].to_numpy().reshape(32, 32) - w) > 1e-6 for n, w in zip(names, white)])


@pytest.fixture(scope="module")
def off_white(tmp_path_factory):
    """A data folder whose boxes are painted at 236 instead of 255."""
    data = write_set(tmp_path_factory.mktemp("offwhite") / "data", n_train=12, n_test=2)
    for path in data.glob("*/White/*.png"):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(path), np.where(image == 255, PAINT, image).astype(np.uint8))
    return data


@pytest.mark.slow
def test_mask_threshold_from_set_finds_the_masks_in_train_submit_and_report(off_white, tmp_path, run_cli):
    code, _, err = run_cli("train", "--data", off_white, "--run", tmp_path / "default", *LITE, "--steps", 1)
    assert code == 2 and "no white box found (try --mask-threshold)" in err  # 0.94 misses these boxes
    run, csv = tmp_path / "run", tmp_path / "Predict.csv"
    code, out, err = run_cli("run", "--data", off_white, "--run", run, "--csv", csv, *LITE, "--steps", 1,
                             "--set", "mask_threshold=0.92")
    assert code == 0, err
    assert saved(run).mask_threshold == 0.92
    # submit alone reads the test masks with the run's threshold: the same file as `run` wrote
    code, _, err = run_cli("submit", "--run", run, "--data", off_white, "--csv", tmp_path / "again.csv")
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == csv.read_bytes()
    code, _, err = run_cli("report", "--run", run, "--answers", off_white)
    assert code == 0, err
    code, _, err = run_cli("submit", "--run", run, "--data", off_white, "--csv", tmp_path / "other.csv",
                           "--mask-threshold", 0.95)
    assert code == 2 and "trained with mask_threshold = 0.92" in err and not (tmp_path / "other.csv").exists()


@pytest.mark.slow
def test_mask_threshold_option_and_set_write_the_same_config(off_white, tmp_path, run_cli):
    for how in (["--mask-threshold", 0.92], ["--set", "mask_threshold=0.92"]):
        run = tmp_path / how[0].strip("-")
        code, _, err = run_cli("train", "--data", off_white, "--run", run, *LITE, "--steps", 1, *how)
        assert code == 0, err
        assert saved(run).mask_threshold == 0.92


@pytest.mark.slow
def test_mask_grow_from_set_widens_the_masks_the_submission_fills(tiny_set, tmp_path, run_cli):
    run, csv = tmp_path / "run", tmp_path / "Predict.csv"
    code, _, err = run_cli("run", "--data", tiny_set, "--run", run, "--csv", csv, *LITE, "--steps", 1,
                           "--set", "mask_grow=3")
    assert code == 0, err
    assert saved(run).mask_grow == 3
    top, left, bottom, right = mouth_box(32)
    grown = np.zeros((32, 32), bool)
    grown[top - 3:bottom + 3, left - 3:right + 3] = True
    changed = cells_unlike_white(csv, tiny_set)
    assert not (changed & ~grown).any()  # outside the grown box the submission is the White image
    # More cells than a 1-pixel growth (the default) could hold: the growth of 3 reached the test masks.
    assert all(c.sum() > (bottom - top + 2) * (right - left + 2) for c in changed)


@pytest.mark.slow
@pytest.mark.parametrize("batch, used, steps", [(2, 2, 5), (64, 11, 1)])
def test_batch_size_and_image_size_from_set_are_what_trains_and_what_config_toml_says(batch, used, steps, tmp_path,
                                                                                   run_cli):
    """12 pairs: 11 train, 1 validates. A batch above 11 trains with 11, and config.toml says so."""
    data = write_set(tmp_path / "data", n_train=12, n_test=1)
    run = tmp_path / "run"
    code, out, err = run_cli("train", "--data", data, "--run", run, "--preset", "lite", "--epochs", 1,
                             "--set", f"batch_size={batch}", "--set", "image_size=[16, 16]")
    assert code == 0, err
    assert (saved(run).batch_size, saved(run).image_size) == (used, (16, 16))
    assert read_state(run)["steps"] == steps  # 11 // batch full batches in the one epoch
    assert ("training with batch_size 11" in out) == (batch > 11)
    generator, _ = load_generator(run)
    assert tuple(generator.inputs[0].shape[1:3]) == (16, 16)
