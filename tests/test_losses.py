"""Each loss on tiny hand-computed tensors."""
import math

import numpy as np
import pytest

from inpaint import losses

REAL = np.array([[2.0, 0.0]], np.float32)
FAKE = np.array([[-1.0, 1.0]], np.float32)


def close(tensor, value):
    assert float(tensor) == pytest.approx(value, rel=1e-6, abs=1e-7)


def softplus(x):
    return math.log1p(math.exp(x))  # log(1 + exp(x))


def test_lsgan_is_mse_to_one_and_zero_targets():
    close(losses.d_real_loss("lsgan", REAL), ((2 - 1) ** 2 + (0 - 1) ** 2) / 2)  # 1.0
    close(losses.d_fake_loss("lsgan", FAKE), ((-1) ** 2 + 1 ** 2) / 2)  # 1.0
    close(losses.adversarial_g_loss("lsgan", FAKE), ((-1 - 1) ** 2 + (1 - 1) ** 2) / 2)  # 2.0
    close(losses.adversarial_d_loss("lsgan", np.array([3.0]), np.array([1.0])), 0.5 * (4 + 1))


def test_bce_with_logits_matches_the_log_sigmoid_formula():
    # -log(sigmoid(x)) = log(1 + exp(-x)); -log(1 - sigmoid(x)) = log(1 + exp(x))
    d_real = (softplus(-2) + softplus(0)) / 2
    d_fake = (softplus(-1) + softplus(1)) / 2
    close(losses.d_real_loss("bce", REAL), d_real)
    close(losses.d_fake_loss("bce", FAKE), d_fake)
    close(losses.adversarial_d_loss("bce", REAL, FAKE), 0.5 * (d_real + d_fake))
    close(losses.adversarial_g_loss("bce", FAKE), (softplus(1) + softplus(-1)) / 2)


def test_bce_is_finite_for_extreme_logits():
    big = np.array([-1000.0, 1000.0], np.float32)
    close(losses.d_real_loss("bce", big), (1000 + 0) / 2)  # log(1 + e^1000) ~ 1000
    close(losses.d_fake_loss("bce", big), (0 + 1000) / 2)


def test_hinge():
    close(losses.d_real_loss("hinge", REAL), (0 + 1) / 2)  # relu(1 - 2), relu(1 - 0)
    close(losses.d_fake_loss("hinge", FAKE), (0 + 2) / 2)  # relu(1 - 1), relu(1 + 1)
    close(losses.adversarial_d_loss("hinge", REAL, FAKE), 0.5 * (0.5 + 1.0))
    close(losses.adversarial_g_loss("hinge", np.array([[3.0, -1.0]], np.float32)), -(3 - 1) / 2)


def test_unknown_kind_lists_the_valid_ones():
    for call in (lambda: losses.d_real_loss("wgan", REAL), lambda: losses.d_fake_loss("wgan", FAKE),
                 lambda: losses.adversarial_d_loss("wgan", REAL, FAKE),
                 lambda: losses.adversarial_g_loss("wgan", FAKE)):
        with pytest.raises(ValueError, match="'lsgan', 'bce', 'hinge'"):
            call()


def test_masked_l1_and_l2():
    target = np.zeros((1, 2, 2, 1), np.float32)
    pred = np.array([1.0, -2.0, 0.5, 0.0], np.float32).reshape(1, 2, 2, 1)
    mask = np.array([1.0, 0.0, 1.0, 0.0], np.float32).reshape(1, 2, 2, 1)
    close(losses.masked_l1(target, pred, mask, 1.0), (1 + 2 + 0.5 + 0) / 4)  # plain MAE
    close(losses.masked_l1(target, pred, mask, 3.0), (3 * 1 + 2 + 3 * 0.5 + 0) / 4)
    close(losses.masked_l2(target, pred, mask, 1.0), (1 + 4 + 0.25 + 0) / 4)  # plain MSE
    close(losses.masked_l2(target, pred, mask, 3.0), (3 * 1 + 4 + 3 * 0.25 + 0) / 4)


def test_losses_are_float32_scalars_for_float16_inputs():
    half = np.array([[0.5, -0.25]], np.float16)
    results = [losses.adversarial_d_loss(kind, half, half) for kind in losses.KINDS]
    results += [losses.adversarial_g_loss(kind, half) for kind in losses.KINDS]
    results += [losses.masked_l1(half, half * 0, half > 0, 2.0), losses.masked_l2(half, half * 0, half > 0)]
    for value in results:
        assert value.dtype == "float32" and tuple(value.shape) == ()
