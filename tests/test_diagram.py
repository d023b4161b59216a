"""The architecture figure is read from the Keras graph: blocks, shapes and skip connections, no pydot needed."""
import cv2
import numpy as np

from inpaint import models
from inpaint.reporting.diagram import blocks, draw_architecture


def test_a_unet_is_drawn_as_down_blocks_up_blocks_and_a_skip_per_level():
    g = models.unet((32, 32, 1), depth=3, base_filters=4, max_filters=16)
    chain = blocks(g)
    assert [b.kind for b in chain] == ["input", "down", "down", "down", "up", "up", "up"]
    assert [b.shape for b in chain] == [(32, 32, 1), (16, 16, 4), (8, 8, 8), (4, 4, 16), (8, 8, 16), (16, 16, 8),
                                        (32, 32, 1)]  # up blocks: after concatenating their skip
    assert [b.inputs for b in chain[4:]] == [[3, 2], [4, 1], [5]]  # the skips come from the same level
    assert chain[4].parts == ["BatchNorm", "ReLU", "Dropout", "concat skip"] and chain[-1].parts == ["tanh"]


def test_the_patch_discriminator_reads_both_images_and_ends_in_its_logits():
    d = models.patch_discriminator((32, 32, 1), depth=2, base_filters=4, max_filters=16)
    chain = blocks(d)
    assert [b.title for b in chain[:3]] == ["input 'condition'", "input 'image'", "concatenate"]
    assert chain[2].inputs == [0, 1] and chain[-1].parts == ["'logits'"] and chain[-1].shape == (8, 8, 1)


def test_the_figure_is_written_and_not_blank(tmp_path):
    g = models.unet((32, 32, 1), depth=3, base_filters=4, max_filters=16)
    d = models.patch_discriminator((32, 32, 1), depth=2, base_filters=4, max_filters=16)
    draw_architecture(g, d, tmp_path / "architecture.png")
    img = cv2.imread(str(tmp_path / "architecture.png"))
    assert img is not None and img.shape[0] > 300 and img.std() > 10
    assert (np.abs(img.astype(int) - [243, 226, 207]).sum(axis=2) < 30).any()  # a down block's fill (BGR)
