"""Finding the painted box from the White image alone."""
import numpy as np
import tensorflow as tf

from inpaint.masks import box_mask, composite, find_box, find_mask


def face_with_box(size=64, box=(40, 20, 52, 44)):
    rng = np.random.default_rng(1)
    img = rng.uniform(0.2, 0.7, (size, size)).astype(np.float32)
    top, left, bottom, right = box
    img[top:bottom, left:right] = 1.0
    return img


def test_finds_exact_box():
    assert find_box(face_with_box()) == (40, 20, 52, 44)


def test_white_highlights_elsewhere_do_not_fool_it():
    img = face_with_box()
    img[10:13, 15:18] = 1.0  # eye catchlight, small
    img[2:9, 20:50] = 0.99  # shiny forehead band: larger than a catchlight, not rectangular
    img[2:9, 20:30][np.tril(np.ones((7, 10), bool))] = 0.5
    assert find_box(img) == (40, 20, 52, 44)


def test_bigger_white_background_touching_the_border_loses_to_the_box():
    img = face_with_box()
    img[:, :12] = 1.0  # white wall on the left: a larger rectangle, but on the border
    assert find_box(img) == (40, 20, 52, 44)


def test_jpeg_like_near_white_box_is_found_with_default_threshold():
    img = face_with_box()
    img[40:52, 20:44] = np.random.default_rng(0).uniform(0.95, 1.0, (12, 24))
    assert find_box(img) == (40, 20, 52, 44)


def test_no_box_gives_none():
    assert find_box(np.full((32, 32), 0.5, np.float32)) is None


def test_mask_grows_by_rim_and_stays_in_the_image():
    mask = box_mask((16, 16), (0, 2, 4, 6), grow=1)
    assert mask.sum() == 5 * 6  # rows 0..4 (top clipped at 0), cols 1..6
    assert mask[0, 1] == 1 and mask[5, 3] == 0 and mask[4, 6] == 1
    assert find_mask(face_with_box(), grow=0).sum() == 12 * 24


def test_composite_keeps_known_pixels():
    cond, gen = np.zeros((4, 4)), np.ones((4, 4))
    mask = box_mask((4, 4), (1, 1, 3, 3))
    out = composite(gen, cond, mask)
    assert out.sum() == 4 and out[1, 1] == 1 and out[0, 0] == 0


def test_composite_on_tensors_as_in_the_train_step():
    condition = tf.fill((1, 2, 3, 1), 0.25)
    generated = tf.fill((1, 2, 3, 1), -0.5)
    mask = np.zeros((1, 2, 3, 1), np.float32)
    mask[0, 1, 1:] = 1.0
    out = composite(generated, condition, tf.constant(mask)).numpy()
    np.testing.assert_array_equal(out[0, ..., 0], [[0.25, 0.25, 0.25], [0.25, -0.5, -0.5]])
