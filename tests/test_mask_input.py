"""The mask as the generator's second input channel (`mask_input`): trained, saved and predicted with."""
import numpy as np
import pytest

from inpaint import imaging
from inpaint.models import build_generator, generator_input
from inpaint.predict import inpaint_images
from inpaint.run_folder import load_generator
from inpaint.train import train
from test_train import data, lite  # noqa: F401  (the same tiny set and lite config as the training tests)


def test_generator_input_adds_the_mask_only_for_a_two_channel_generator():
    white = np.full((2, 32, 32, 1), 0.25, np.float32)
    mask = np.zeros_like(white)
    mask[:, 8:16, 4:20] = 1.0
    one = build_generator(lite())
    two = build_generator(lite(mask_input=True))
    assert one.inputs[0].shape[-1] == 1 and two.inputs[0].shape[-1] == 2 and two.outputs[0].shape[-1] == 1
    np.testing.assert_array_equal(np.asarray(generator_input(one, white, mask)), white)
    both = np.asarray(generator_input(two, white, mask))
    np.testing.assert_array_equal(both[..., 0], white[..., 0])
    np.testing.assert_array_equal(both[..., 1], mask[..., 0])


@pytest.mark.slow
def test_a_mask_input_run_saves_a_two_channel_generator_that_reads_the_mask(data, tmp_path):
    train(data, tmp_path / "run", lite(steps=2, epochs=1, mask_input=True), verbose=0)
    generator, cfg = load_generator(tmp_path / "run", which="best")
    assert cfg.mask_input and generator.inputs[0].shape[-1] == 2
    white = data.test_white.images
    moved = np.roll(data.test_mask, 3, axis=2)  # same White, another mask: the raw output must change
    raw = inpaint_images(generator, white, data.test_mask, use_composite=False, tta_flip=False)
    raw_moved = inpaint_images(generator, white, moved, use_composite=False, tta_flip=False)
    assert np.abs(raw - raw_moved).max() > 1e-4


def test_flip_averaging_mirrors_the_mask_with_the_face(data, tmp_path):
    generator = build_generator(lite(mask_input=True, gen_dropout=0.0))
    white = data.test_white.images
    mask = np.roll(data.test_mask, 3, axis=2)  # off centre: a mask left unmirrored would not match its mirror
    x = np.concatenate([imaging.to_model(white[..., None]), mask[..., None]], axis=-1).astype(np.float32)
    plain = np.asarray(generator(x, training=False))
    mirrored = np.asarray(generator(x[:, :, ::-1], training=False))[:, :, ::-1]
    want = imaging.to_metric(0.5 * (plain + mirrored)[..., 0])
    got = inpaint_images(generator, white, mask, use_composite=False, tta_flip=True)
    np.testing.assert_allclose(got, want, atol=1e-5)
