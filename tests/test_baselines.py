"""Baselines: identity round trip, the deck's pix2pix-lite (parameter count by hand, a short run), classical methods."""
import numpy as np
import pandas as pd
import pytest

from baselines import classical
from baselines.pix2pix_lite import deck_config
from inpaint.data import load_data
from submission import read_table


def conv(k, cin, cout):
    return k * k * cin * cout + cout


def bn(c):
    return 4 * c  # gamma, beta, moving mean, moving variance


def test_pix2pix_lite_parameter_count_derived_layer_by_layer():
    from inpaint.models import build_discriminator, build_generator

    encoder = conv(4, 1, 4) + conv(4, 4, 8) + bn(8) + conv(4, 8, 16) + bn(16) + conv(4, 16, 32) + bn(32) \
        + conv(4, 32, 32) + bn(32)
    # Each decoder conv sees the previous output concatenated with the skip of the same size.
    decoder = conv(4, 32, 32) + bn(32) + conv(4, 32 + 32, 16) + bn(16) + conv(4, 16 + 16, 8) + bn(8) \
        + conv(4, 8 + 8, 4) + bn(4) + conv(4, 4 + 4, 1)
    disc = conv(4, 2, 4) + conv(4, 4, 8) + bn(8) + conv(4, 8, 16) + bn(16) + conv(4, 16, 32) + bn(32) + conv(4, 32, 1)
    cfg = deck_config(image_size=(128, 128))
    assert build_generator(cfg).count_params() == encoder + decoder == 65_961
    assert build_discriminator(cfg).count_params() == disc == 11_677
    assert encoder + decoder + disc == 77_638  # the deck quotes 77,766: 128 more (README explains)


def test_identity_submission_equals_the_white_test_images(tiny_set, tmp_path, run_cli):
    code, _, err = run_cli("baseline", "identity", "--data", tiny_set, "--size", 32, 32, "--csv", tmp_path / "id.csv")
    assert code == 0, err
    table = read_table(tmp_path / "id.csv")
    ds = load_data(tiny_set, size=(32, 32))
    np.testing.assert_allclose(table.to_numpy().T, ds.test_white.images.reshape(3, -1), atol=1e-9)


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic"])
def test_classical_methods_change_only_masked_pixels(method):
    rng = np.random.default_rng(0)
    white = rng.uniform(0.2, 0.6, (2, 32, 32)).astype(np.float32)
    mask = np.zeros_like(white)
    mask[:, 18:26, 8:24] = 1
    white[mask > 0] = 1.0
    out = classical.run(method, white, mask)
    np.testing.assert_array_equal(out[mask == 0], white[mask == 0])
    filled = out[mask > 0]
    assert filled.max() < 0.9 and 0.2 <= filled.min()  # the box was filled from its surroundings


@pytest.mark.slow
def test_pix2pix_lite_short_run_writes_a_valid_csv_and_all_scores_every_method(tiny_set, tmp_path, run_cli):
    code, out, err = run_cli("baseline", "pix2pix-lite", "--data", tiny_set, "--size", 32, 32,
                             "--csv", tmp_path / "lite.csv", "--iterations", 3, "--batch", 4)
    assert code == 0, err
    assert "generator 65,961 + discriminator 11,677 = 77,638 parameters" in out  # convolutional: size-free
    assert read_table(tmp_path / "lite.csv").shape == (32 * 32, 3)
    code, out, err = run_cli("baseline", "all", "--data", tiny_set, "--size", 32, 32, "--out", tmp_path / "all",
                             "--iterations", 2, "--batch", 4)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "all" / "baselines.csv")
    assert set(table["method"]) == {"identity", "telea", "ns", "biharmonic", "pix2pix-lite"}
    assert {"RMSE", "RMSE in mask", "PSNR", "SSIM", "seconds"} <= set(table.columns)
    identity = table.set_index("method").loc["identity"]
    assert identity["RMSE"] > table.set_index("method").loc["telea", "RMSE"]
    assert identity["RMSE in mask"] > identity["RMSE"]  # all of identity's error sits in the mask
