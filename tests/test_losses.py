"""Each loss on tiny hand-computed tensors."""
import math

import numpy as np
import pytest

from inpaint import losses

REAL = np.array([[2.0, 0.0]], np.float32)
FAKE = np.array([[-1.0, 1.0]], np.float32)


def close(tensor, value):
    assert float(tensor) == pytest.approx(value, rel=1e-6, abs=1e-7)


def test_lsgan():
    close(losses.d_real_loss("lsgan", REAL), ((2 - 1) ** 2 + (0 - 1) ** 2) / 2)  # 1.0
    close(losses.d_fake_loss("lsgan", FAKE), (1 + 1) / 2)  # 1.0
    close(losses.adversarial_g_loss("lsgan", FAKE), ((-1 - 1) ** 2 + 0) / 2)  # 2.0
    close(losses.adversarial_d_loss("lsgan", REAL, FAKE), 1.0)


def softplus(x):
    return math.log1p(math.exp(x))


def test_bce_with_logits():
    close(losses.d_real_loss("bce", REAL), (softplus(-2) + softplus(0)) / 2)
    close(losses.d_fake_loss("bce", FAKE), (softplus(-1) + softplus(1)) / 2)
    close(losses.adversarial_g_loss("bce", FAKE), (softplus(1) + softplus(-1)) / 2)


def test_hinge():
    close(losses.d_real_loss("hinge", REAL), (0 + 1) / 2)  # relu(1-2), relu(1-0)
    close(losses.d_fake_loss("hinge", FAKE), (0 + 2) / 2)  # relu(1-1), relu(1+1)
    close(losses.adversarial_g_loss("hinge", FAKE), -0.0)


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match="lsgan"):
        losses.d_real_loss("wgan", REAL)


def test_masked_l1_and_l2():
    target = np.array([0.0, 0.0, 0.0, 0.0], np.float32)
    pred = np.array([1.0, -2.0, 0.5, 0.0], np.float32)
    mask = np.array([1.0, 0.0, 1.0, 0.0], np.float32)
    close(losses.masked_l1(target, pred, mask, 1.0), (1 + 2 + 0.5) / 4)  # plain MAE
    close(losses.masked_l1(target, pred, mask, 3.0), (3 * 1 + 2 + 3 * 0.5) / 4)
    close(losses.masked_l2(target, pred, mask, 3.0), (3 * 1 + 4 + 3 * 0.25) / 4)
