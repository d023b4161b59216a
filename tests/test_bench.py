"""Smoke tests so the benchmarks cannot rot: a couple of steps each, no timing assertions."""
import json

import pytest

from benchmarks import training as bench
from inpaint import config


@pytest.mark.slow
def test_speed_benchmark_times_kit_step_and_deck_loop():
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3)
    rows = bench.speed({"tiny": cfg}, batch=2, steps=1, repeats=1)
    methods = {r["method"] for r in rows}
    assert methods == {"kit train_step", "deck loop", "predict 10 test images (s)"}
    deck = next(r for r in rows if r["method"] == "deck loop")
    assert deck["vs_deck"] == 1.0 and all(r.get("images_per_s", 1) > 0 for r in rows)


@pytest.mark.slow
def test_deck_loop_trains_d_in_its_own_step_and_freezes_it_in_the_combined_one():
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3)
    loop = bench.DeckLoop(cfg, 2)
    g0, d0 = loop.g.get_weights(), loop.d.get_weights()
    loop.run(1)
    assert any((a != b).any() for a, b in zip(g0, loop.g.get_weights()))
    assert any((a != b).any() for a, b in zip(d0, loop.d.get_weights()))


@pytest.mark.slow
def test_quality_benchmark_on_a_tiny_set(tiny_set, tmp_path, run_cli):
    code, out, err = run_cli("bench", "quality", "--data", tiny_set, "--out", tmp_path / "b", "--minutes", 0.01,
                             "--preset", "lite", "--iterations", 2)
    assert code == 0, err
    result = json.loads((tmp_path / "b" / "quality.json").read_text())
    methods = [r["method"] for r in result["rows"]]
    assert methods[0].startswith("kit pix2pix (lite") and "telea" in methods and "pix2pix-lite" in methods
    assert all(0 <= r["RMSE"] < 1 for r in result["rows"]) and result["machine"]["cores"] >= 1


def test_graph_flops_counts_a_convolution_as_hand_computed():
    import tensorflow as tf

    # 2 images, 16 x 16 x 3 in, 3 x 3 kernel, 4 filters, "same": each of the 2*16*16*4 outputs is 3*3*3
    # multiply-adds, two operations each.
    kernel = tf.ones((3, 3, 3, 4))
    fn = tf.function(lambda x: tf.nn.conv2d(x, kernel, 1, "SAME"))
    flops = bench.graph_flops(fn.get_concrete_function(tf.TensorSpec((2, 16, 16, 3))))
    assert flops == 2 * (2 * 16 * 16 * 4) * (3 * 3 * 3)


@pytest.mark.slow
def test_speed_rows_give_the_step_rate_against_the_matmul_peak():
    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3)
    rows = bench.speed({"tiny": cfg}, batch=2, steps=1, repeats=1)
    kit = next(r for r in rows if r["method"] == "kit train_step")
    # a training step is a forward and two backward passes of G and D: more than three G forwards alone
    from inpaint.models import build_generator

    g = build_generator(cfg)
    import tensorflow as tf

    g_forward = bench.graph_flops(tf.function(g).get_concrete_function(tf.TensorSpec((1, *g.input_shape[1:]))))
    assert kit["gflop_per_image"] * 1e9 > 3 * g_forward
    assert kit["gflop_per_s"] == pytest.approx(kit["images_per_s"] * kit["gflop_per_image"], rel=0.05)
    assert 0 < kit["of_matmul_peak"] and kit["matmul_gflop_per_s"] > 0
    assert "of_matmul_peak" not in next(r for r in rows if r["method"] == "deck loop")


def test_step_profile_shares_sum_to_one_and_name_the_convolutions():
    from benchmarks import step_profile

    cfg = config.preset("lite").replace(image_size=(32, 32), gen_depth=3)
    rows, times = step_profile.profile(cfg, batch=2, steps=2)
    groups = {}
    for row in rows:
        groups.setdefault(row["group"], {})[row["name"]] = row["share"]
    assert set(groups) == {"op type", "layer type", "network, pass"}
    for shares in groups.values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=0.01)
    assert any(name.startswith("Conv2D") for name in groups["op type"])
    assert groups["layer type"].get("conv2d", 0) > 0 and groups["layer type"].get("batch_normalization", 0) > 0
    # G's transposed convolutions run the op Conv2DBackpropInput forward: the pass comes from the scope
    assert groups["network, pass"]["G forward"] > 0 and groups["network, pass"]["D backward"] > 0
    assert times["wall_s"] > 0 and times["op_s"] > 0


def test_bench_profile_prints_the_tables_and_saves_them(tmp_path, run_cli):
    code, out, err = run_cli("bench", "profile", "--preset", "lite", "--batch", 2, "--timing-steps", 1,
                             "--out", tmp_path)
    assert code == 0, err
    assert "op type" in out and "network, pass" in out and "conv2d" in out
    result = json.loads((tmp_path / "profile.json").read_text())
    assert result["preset"] == "lite" and result["steps"] == 1 and result["rows"]
