"""Training augmentations keep each pair and its mask aligned: a planted pair round-trips."""
import numpy as np
import pytest
import tensorflow as tf

from inpaint import pipeline

SIZE, BOX = 32, (18, 8, 26, 20)  # (top, left, bottom, right)


def planted_pair():
    """(32, 32, 3) stacked (white, real, mask) in model space: a textured face with a painted box."""
    real = np.random.default_rng(0).uniform(-0.8, 0.6, (SIZE, SIZE)).astype(np.float32)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[BOX[0] : BOX[2], BOX[1] : BOX[3]] = 1.0
    white = np.where(mask > 0, 1.0, real).astype(np.float32)
    return np.stack([white, real, mask], axis=-1)


def augmented(seed, **options):
    kwargs = dict(flip=False, jitter=0.0)
    kwargs.update(options)
    out = pipeline._augment(tf.constant(planted_pair()), tf.constant([seed, 3]), **kwargs).numpy()
    return out[..., 0], out[..., 1], out[..., 2]


def assert_aligned(white, real, mask):
    """White is pure white inside the mask and exactly Real outside it."""
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(white[mask > 0], 1.0)
    np.testing.assert_array_equal(white[mask == 0], real[mask == 0])


@pytest.mark.parametrize("options", [dict(flip=True), dict(jitter=0.1), dict(flip=True, jitter=0.1)])
def test_augmented_pairs_stay_aligned_with_their_mask(options):
    for seed in range(6):
        assert_aligned(*augmented(seed, **options))


def test_augmentation_is_a_function_of_the_seed():
    options = dict(flip=True, jitter=0.1)
    first, again, other = augmented(4, **options), augmented(4, **options), augmented(5, **options)
    np.testing.assert_array_equal(first[1], again[1])
    assert np.abs(first[1] - other[1]).max() > 0


def test_brightness_jitter_changes_white_as_real_everywhere_but_the_painted_box():
    # Pure-white background and highlights outside the box: in a real pair White and Real must still
    # agree there after the jitter, as they do in a generated pair (composited from White); otherwise
    # the discriminator can tell the two kinds of pair apart outside the box.
    pair = planted_pair()
    pair[:4, :, 1] = 1.0  # a saturated background band in Real...
    pair[:4, :, 0] = 1.0  # ...and so in White
    moved = 0.0
    for seed in range(6):
        out = pipeline._augment(tf.constant(pair), tf.constant([seed, 3]), flip=True, jitter=0.1).numpy()
        white, real, mask = out[..., 0], out[..., 1], out[..., 2]
        moved = max(moved, np.abs(real[:4] - 1.0).max())
        assert_aligned(white, real, mask)
    assert moved > 0.05  # the jitter did darken the band
