"""Windows around the box (`crop_size`): placement, cut and paste, training and prediction on them."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import write_set
from inpaint import config, crops
from inpaint.data import load_data
from inpaint.errors import ConfigError, DataError
from inpaint.masks import box_mask
from inpaint.pipeline import _random_window, train_dataset
from inpaint.prediction import _validation_rmse, inpaint_images
from inpaint.run_folder import load_generator
from inpaint.training import train
from test_train import data, lite  # noqa: F401  (the same tiny set and lite config as the training tests)


def masks_of(*boxes, shape=(128, 128)):
    return np.stack([box_mask(shape, box) for box in boxes]).astype(np.float32)


def test_the_window_is_centred_on_the_box_and_stays_inside_the_image():
    # The Yale set's box (rows 77-102, cols 41-87): centre row 89.5 - 32 = 57.5 -> 58; centre col 64 - 32 = 32.
    # A box at the top edge starts its window at 0; one at the bottom right ends its window at the edge.
    masks = masks_of((77, 41, 102, 87), (0, 0, 10, 20), (120, 100, 128, 128))
    np.testing.assert_array_equal(crops.windows(masks, (64, 64)), [[58, 32], [0, 0], [64, 64]])


def test_a_window_narrower_than_centring_allows_still_holds_the_whole_box():
    # Box cols 10-40 (30 wide) in a 32-wide window: centred start 9, and 9 <= 10 and 9 + 32 >= 40.
    corner = crops.windows(masks_of((50, 10, 60, 40)), (16, 32))[0]
    assert corner[1] == 9 and corner[0] + 16 >= 60 and corner[0] <= 50


def test_cut_then_paste_gives_the_images_back():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(3, 40, 48, 1)).astype(np.float32)
    corners = np.array([[0, 0], [10, 7], [24, 16]])
    cut = crops.cut(images, corners, (16, 32))
    assert cut.shape == (3, 16, 32, 1)
    np.testing.assert_array_equal(cut[1], images[1, 10:26, 7:39])
    np.testing.assert_array_equal(crops.paste(np.zeros_like(images), cut, corners)[2, 24:40, 16:48], images[2, 24:40, 16:48])
    np.testing.assert_array_equal(crops.paste(images, cut, corners), images)


def test_a_box_larger_than_the_window_is_named_in_one_error():
    with pytest.raises(DataError, match=r"1 test boxes are larger than crop_size 16x16: b \(20x10\)"):
        crops.check_fits(masks_of((0, 0, 10, 10), (0, 0, 20, 10), shape=(32, 32)), (16, 16), ["a", "b"], "test")


def test_the_metric_scale_turns_a_window_rmse_into_the_whole_image_rmse():
    rng = np.random.default_rng(1)
    real = rng.uniform(size=(64, 64))
    pred = real.copy()
    pred[20:30, 10:40] = rng.uniform(size=(10, 30))  # every error inside the window rows 16-48, cols 0-64
    whole = np.sqrt(np.mean((pred - real) ** 2))
    window = np.sqrt(np.mean((pred[16:48] - real[16:48]) ** 2))
    assert crops.metric_scale((32, 64), (64, 64)) * window == pytest.approx(whole, rel=1e-12)
    assert crops.metric_scale((0, 0), (64, 64)) == 1.0


@pytest.mark.parametrize("crop, message", [((64, 200), "must fit in image_size"), ((48, 48), "crop_size .* divisible"),
                                           ((4, 4), "two ints >= 8")])
def test_bad_crop_sizes_are_refused_by_the_config(crop, message):
    with pytest.raises(ConfigError, match=message):
        config.Config(crop_size=crop, gen_depth=5)


def test_training_windows_hold_the_box_stay_inside_and_keep_the_pair_aligned():
    rng = np.random.default_rng(2)
    real = rng.uniform(-1, 1, (64, 64, 1)).astype(np.float32)
    mask = box_mask((64, 64), (30, 12, 40, 36))[..., None].astype(np.float32)
    pair = tf.concat([tf.where(mask > 0.5, 1.0, real), real, mask], axis=-1)  # White painted from Real
    corners = set()
    for i in range(200):
        window = _random_window(pair, tf.constant([i, 7]), (32, 32)).numpy()
        assert window.shape == (32, 32, 3) and window[..., 2].sum() == mask.sum()  # the whole box, once
        np.testing.assert_array_equal(window[..., 0], np.where(window[..., 2] > 0.5, 1.0, window[..., 1]))
        corners.add(tuple(np.argwhere(window[..., 2] > 0.5)[0]))
    # The box sits at many places in the window: rows 30-40 in a 32-row window leave 23 starts, cols 24 wide 9.
    assert len(corners) > 50


def test_the_training_stream_yields_windows(data):
    cfg = lite(crop_size=(16, 16), intensity_jitter=0.0)  # batch 4, seed 0
    ds = train_dataset(data.train_white.images, data.train_real.images, data.train_mask, cfg)
    white, real, mask = next(iter(ds))
    assert white.shape == (4, 16, 16, 1) and real.shape == (4, 16, 16, 1)
    assert all(float(tf.reduce_sum(m)) == float(data.train_mask[0].sum()) for m in mask)  # every box whole


@pytest.mark.slow
def test_a_crop_run_validates_on_the_whole_image_scale_and_predicts_whole_faces(data, tmp_path):
    cfg = lite(steps=3, epochs=1, crop_size=(16, 16), tta_flip=False)
    state = train(data, tmp_path / "run", cfg, verbose=0)
    generator, saved = load_generator(tmp_path / "run", which="best")
    assert saved.crop_size == (16, 16) and tuple(generator.inputs[0].shape[1:3]) == (16, 16)
    # The training log's validation RMSE (on windows, rescaled) is the whole-image RMSE of the same generator.
    assert state["best_val_rmse"] == pytest.approx(_validation_rmse(generator, saved, data, False), rel=1e-4)
    white, mask = data.test_white.images, data.test_mask
    pred = inpaint_images(generator, white, mask, use_composite=False, tta_flip=False)
    corners = crops.windows(mask, (16, 16))
    for p, w, (top, left) in zip(pred, white, corners):
        outside = np.ones_like(w, bool)
        outside[top:top + 16, left:left + 16] = False
        np.testing.assert_array_equal(p[outside], w[outside])  # outside the window: White untouched
        assert np.abs(p[top:top + 16, left:left + 16] - w[top:top + 16, left:left + 16]).max() > 0


@pytest.mark.slow
def test_a_box_too_large_for_the_window_stops_training_before_it_starts(tmp_path):
    big = load_data(write_set(tmp_path / "d", n_train=8, n_test=2, size=32), size=(32, 32))
    with pytest.raises(DataError, match="training boxes are larger than crop_size 8x8"):
        train(big, tmp_path / "run", lite(crop_size=(8, 8)), verbose=0)
    assert not (tmp_path / "run" / "checkpoints").exists()
