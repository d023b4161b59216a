"""Finding the painted box: from the pair where there is a Real, guided by the training boxes where not."""
import numpy as np
import tensorflow as tf

from inpaint.masks import box_mask, choose_box, composite, find_box, find_mask, pair_box


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


# ---------------------------------------------------------------- masks from evidence

BOX = (40, 20, 52, 44)


def planted_pair(box=BOX, wall=False, highlight=False):
    """(real, white) with a painted `box`; `wall`: a pure white background touching the box's right
    side; `highlight`: a bright (0.97) patch right above the box, as a lit lip or chin."""
    real = face_with_box(box=(0, 0, 0, 0))
    if wall:
        real[:, box[3]:] = 1.0
    if highlight:
        real[box[0] - 6 : box[0], box[1] : box[1] + 12] = 0.97
    white = real.copy()
    white[box[0] : box[2], box[1] : box[3]] = 1.0
    return real, white


def test_training_box_is_where_real_and_white_differ_even_against_a_white_wall():
    real, white = planted_pair(wall=True)
    assert find_box(white) != BOX  # the shape-based finder merges box and wall: why the pair decides
    assert pair_box(real, white) == BOX


def test_training_box_beside_a_bright_highlight_is_the_painted_box():
    real, white = planted_pair(highlight=True)
    assert pair_box(real, white) == BOX


def test_identical_pair_has_no_pair_box():
    real, _ = planted_pair()
    assert pair_box(real, real) is None


# Training boxes of the planted box's size, a few pixels away from it: the chooser must find the
# test box itself, not copy a training position.
NEARBY = np.array([(37, 18, 49, 42), (43, 23, 55, 47)])


def test_chooser_picks_the_painted_box_touching_a_white_wall():
    _, white = planted_pair(wall=True)
    assert choose_box(white, NEARBY) == (BOX, "")


def test_chooser_picks_the_painted_box_beside_a_highlight_and_ignores_a_catchlight():
    _, white = planted_pair(highlight=True)
    white[10:13, 15:18] = 1.0  # an eye catchlight, exact white but small
    assert choose_box(white, NEARBY) == (BOX, "")


def test_chooser_keeps_the_training_size_when_a_saturated_highlight_touches_the_box():
    _, white = planted_pair()
    white[52:56, 28:36] = 1.0  # a blown-out chin highlight, exact white, attached below the box
    assert choose_box(white, NEARBY) == (BOX, "")


def test_chooser_prefers_the_exact_white_rectangle_over_a_near_white_one_of_the_same_size():
    _, white = planted_pair()
    white[5:17, 30:54] = 0.97  # a near-white forehead patch of the training size, at a training position
    assert choose_box(white, np.array([(5, 30, 17, 54), (40, 20, 52, 44)]))[0] == BOX


def test_oversized_white_region_is_masked_whole_with_a_note_saying_how_much_larger():
    big = (30, 10, 54, 58)  # 24 x 48: four times the training boxes
    _, white = planted_pair(box=big)
    box, note = choose_box(white, NEARBY)
    assert box == big
    assert "24x48" in note and "4.0x the largest training box" in note


def test_slightly_larger_painted_box_is_masked_whole_and_named_as_unlike():
    larger = (39, 19, 54, 47)  # 15 x 28 against training boxes of 12 x 24
    _, white = planted_pair(box=larger)
    box, note = choose_box(white, NEARBY)
    assert box == larger and "15x28" in note


def test_without_training_boxes_the_shape_finder_answers():
    _, white = planted_pair()
    assert choose_box(white, np.zeros((0, 4))) == (BOX, "")
