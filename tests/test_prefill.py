"""Starting from the classical fill (`prefill`): what G reads, what an untrained run predicts, the run folder."""
import numpy as np
import pytest

from baselines import classical
from inpaint import config, imaging, prefill
from inpaint.errors import ConfigError
from inpaint.pipeline import train_dataset
from inpaint.predict import inpaint_images, predict_run
from inpaint.gan import build_gan
from inpaint.models import build_generator
from inpaint.run_folder import load_generator
from inpaint.train import train
from test_train import data, lite  # noqa: F401  (the same tiny set and lite config as the training tests)


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_untrained_prefill_generator_predicts_exactly_the_classical_fill(data, method):
    cfg = lite(prefill=method)
    generator = build_gan(cfg).generator  # as `train` builds it: step 0
    white, mask = data.test_white.images, data.test_mask
    expected = classical.run(method, white, mask)  # `inpaint baseline telea|ns`
    for flip in (False, True):
        got = inpaint_images(generator, white, mask, tta_flip=flip, prefill=prefill.Prefill(method))
        np.testing.assert_allclose(got, expected, atol=1e-6)
    # Without the prefill the same generator's output is not the fill: the test can fail.
    unfilled = inpaint_images(generator, white, mask, tta_flip=False)
    assert np.abs(unfilled - expected).max() > 0.1


@pytest.mark.slow
def test_a_prefill_run_submits_the_classical_fill_before_it_has_learnt_anything(data, tmp_path):
    # One step at a vanishing learning rate: the zero-initialised correction stays ~0, so the
    # prediction that `submit` writes (loaded from the run folder) must be Telea's fill.
    run = tmp_path / "run"
    train(data, run, lite(prefill="telea", steps=1, epochs=1, learning_rate=1e-12), verbose=0)
    assert config.load_toml(run / "config.toml").prefill == "telea"
    generator, _ = load_generator(run)
    assert generator.inputs[0].shape[-1] == 2  # the filled face and the mask
    expected = classical.run("telea", data.test_white.images, data.test_mask)
    np.testing.assert_allclose(predict_run(run, data), expected, atol=1e-5)


def test_window_runs_fill_the_whole_face_before_the_window_is_cut(data):
    cfg = lite(prefill="telea", crop_size=(16, 32))
    generator = build_generator(cfg)
    white, mask = data.test_white.images, data.test_mask
    got = inpaint_images(generator, white, mask, prefill=prefill.Prefill("telea"))
    np.testing.assert_allclose(got, classical.run("telea", white, mask), atol=1e-6)


def test_training_batches_carry_the_fill_of_the_augmented_white(data):
    white, real, mask = data.train_white.images, data.train_real.images, data.train_mask
    fill = prefill.Prefill("telea")
    ds = train_dataset(white, real, mask, lite(intensity_jitter=0.1), prefill=fill)  # batch 4, seed 0
    b_white, _, b_mask, b_filled = (np.asarray(x)[..., 0] for x in next(iter(ds)))
    expected = fill(imaging.to_metric(b_white), b_mask)  # from the flipped, jittered White of the batch
    np.testing.assert_allclose(imaging.to_metric(b_filled), expected, atol=1e-6)
    outside = b_mask < 0.5
    np.testing.assert_allclose(b_filled[outside], b_white[outside], atol=1e-6)
    assert np.abs(b_filled - b_white)[~outside].min() > 0  # the painted box is filled


def test_mean_prefill_fills_the_box_with_the_mean_face_at_the_brightness_of_its_ring():
    mean_face = np.full((16, 16), 0.5, np.float32)
    mean_face[6:10, 5:11] = 0.2  # a darker "mouth" in the mean face
    white = np.full((1, 16, 16), 0.7, np.float32)
    mask = np.zeros_like(white)
    mask[0, 6:10, 5:11] = 1.0
    white[mask > 0] = 1.0
    filled = prefill.Prefill("mean", mean_face)(white, mask)
    # ring: the known pixels within 3 of the box, 0.7 in White and 0.5 in the mean face: offset +0.2
    np.testing.assert_allclose(filled[0, 6:10, 5:11], 0.4, atol=1e-6)
    np.testing.assert_array_equal(filled[mask == 0], white[mask == 0])


@pytest.mark.slow
def test_mean_prefill_run_keeps_its_mean_face_and_predicts_with_it(data, tmp_path):
    run = tmp_path / "run"
    train(data, run, lite(prefill="mean", steps=1, epochs=1, learning_rate=1e-12), verbose=0)
    from inpaint.pipeline import split_indices

    train_idx, _ = split_indices(len(data.train_real.names), 0.2, 0)
    kept = np.load(run / prefill.MEAN_FACE_FILE)
    np.testing.assert_allclose(kept, data.train_real.images[train_idx].mean(axis=0), atol=1e-6)
    expected = prefill.Prefill("mean", kept)(data.test_white.images, data.test_mask)
    np.testing.assert_allclose(predict_run(run, data), expected, atol=1e-5)
    (run / prefill.MEAN_FACE_FILE).unlink()
    with pytest.raises(ConfigError, match="prefill_mean_face.npy is missing"):
        predict_run(run, data)


def test_unknown_prefill_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="prefill must be one of"):
        lite(prefill="telia")


def test_a_run_folder_from_before_the_prefill_loads_without_one(tmp_path):
    text = config.to_toml(lite())
    old = "".join(line + "\n" for line in text.splitlines() if not line.startswith(("prefill", "d_augment", "r1_")))
    (tmp_path / "config.toml").write_text(old)
    cfg = config.load_toml(tmp_path / "config.toml")
    assert cfg.prefill == "none" and not cfg.d_augment and cfg.r1_gamma == 0
    assert build_generator(cfg).inputs[0].shape[-1] == 1
