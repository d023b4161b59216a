"""Training, resume, budgets, interrupts, NaN, prediction and the run/submit commands (lite preset, 32x32)."""
import json
import os
import signal

import cv2
import keras
import numpy as np
import pytest

from conftest import write_set
from inpaint import config
from inpaint.data import load_data
from inpaint.errors import UserError
from inpaint.masks import find_mask
from inpaint.run_folder import load_generator, read_state
from inpaint.training import train

SIZE = (32, 32)


def lite(**changes):
    return config.preset("lite").replace(image_size=SIZE, gen_depth=3, batch_size=4, val_fraction=0.2, **changes)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load_data(write_set(tmp_path_factory.mktemp("d") / "data", n_train=20, n_test=3), size=SIZE)


def generator_weights(run):
    generator, _ = load_generator(run, which="last")
    return generator.get_weights()


@pytest.mark.slow
def test_one_epoch_lowers_the_l1_loss(data, tmp_path):
    from inpaint.pipeline import eval_dataset
    from inpaint.gan import build_gan

    cfg = lite(gen_dropout=0.0, learning_rate=2e-3, flip=False, intensity_jitter=0.0)
    keras.utils.set_random_seed(0)
    ds = eval_dataset(data.train_white.images, data.train_real.images, data.train_mask, 4)
    gan = build_gan(cfg)
    before = gan.evaluate(ds, return_dict=True, verbose=0)["G_L1"]
    gan.fit(ds, epochs=1, verbose=0)
    after = gan.evaluate(ds, return_dict=True, verbose=0)["G_L1"]
    assert after < before


@pytest.mark.slow
def test_train_writes_run_folder_and_respects_step_budget(data, tmp_path):
    run = tmp_path / "run"
    state = train(data, run, lite(steps=5, epochs=100), verbose=0)
    assert state["steps"] == 5 and state["stop_reason"] == "reached 5 steps"
    for name in ("config.toml", "state.json", "log.csv", "best_generator.weights.h5", "checkpoints", "logs"):
        assert (run / name).exists(), name
    assert config.load_toml(run / "config.toml") == lite(steps=5, epochs=100)
    log = (run / "log.csv").read_text().splitlines()
    assert {"G_GAN", "G_L1", "D_real", "D_fake", "rmse", "val_rmse"} <= set(log[0].split(","))
    assert [line.split(",")[0] for line in log[1:]] == [str(e) for e in range(1, state["epochs_done"] + 1)]
    assert 0 < state["best_val_rmse"] < 1
    # The grid of the generator kept as the best, which predict and submit use, whatever sample_every says.
    assert cv2.imread(str(run / "samples" / "best.png")).shape[1] > 0


@pytest.mark.slow
def test_time_budget_stops_after_the_step_that_exceeds_it(data, tmp_path):
    state = train(data, tmp_path / "run", lite(minutes=1e-6, epochs=50), verbose=0)
    assert state["stop_reason"] == "time budget used" and state["steps"] == 1


@pytest.mark.slow
def test_resume_continues_step_counter_and_reproduces_uninterrupted_weights(data, tmp_path):
    cfg = lite(epochs=2)
    train(data, tmp_path / "straight", cfg, verbose=0)
    train(data, tmp_path / "split", cfg.replace(epochs=1), verbose=0)
    first = read_state(tmp_path / "split")
    state = train(data, tmp_path / "split", cfg, resume=True, verbose=0)
    assert state["steps"] == 2 * first["steps"] and state["epochs_done"] == 2
    for a, b in zip(generator_weights(tmp_path / "straight"), generator_weights(tmp_path / "split")):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len((tmp_path / "split" / "log.csv").read_text().splitlines()) == 3  # header + 2 epochs, appended


@pytest.mark.slow
def test_existing_run_needs_resume_and_resume_needs_a_run(data, tmp_path):
    train(data, tmp_path / "run", lite(steps=1), verbose=0)
    with pytest.raises(UserError, match="--resume"):
        train(data, tmp_path / "run", lite(steps=1), verbose=0)
    with pytest.raises(UserError, match="not a run folder"):
        train(data, tmp_path / "none", lite(steps=1), resume=True, verbose=0)


class SendSignal(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_that_resume_continues(data, tmp_path, capsys):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(data, run, lite(epochs=5), verbose=0, callbacks=[SendSignal()])
    assert "interrupted: checkpoint saved to" in capsys.readouterr().err
    state = read_state(run)
    assert state["status"] == "interrupted" and state["steps"] == 2
    assert signal.getsignal(signal.SIGTERM) is not None  # handler restored, not left pointing at ours
    resumed = train(data, run, lite(steps=6), resume=True, verbose=0)
    assert resumed["steps"] == 6


def interrupt_at_epoch_end(monkeypatch, owner, epoch):
    """Ctrl-C while `owner`'s on_epoch_end runs at the end of epoch `epoch` (from 1): the checkpoint (EpochEnd)
    or D's separation (DSeparation, the slow step between the checkpoint and the log row before issue 36)."""
    original = owner.on_epoch_end

    def on_epoch_end(self, index, logs=None):
        if index + 1 == epoch:
            raise KeyboardInterrupt
        return original(self, index, logs)

    monkeypatch.setattr(owner, "on_epoch_end", on_epoch_end)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["EpochEnd", "DSeparation"])
def test_an_interrupt_at_an_epoch_end_never_loses_or_repeats_a_log_row(data, tmp_path, monkeypatch, where):
    from inpaint import callbacks, d_separation

    owner = {"EpochEnd": callbacks.EpochEnd, "DSeparation": d_separation.DSeparation}[where]
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        interrupt_at_epoch_end(patch, owner, epoch=2)
        with pytest.raises(KeyboardInterrupt):
            train(data, run, lite(epochs=3), verbose=0)
    state = train(data, run, lite(epochs=3), resume=True, verbose=0)
    epochs = [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert state["epochs_done"] == 3 and epochs == ["1", "2", "3"]


@pytest.mark.slow
def test_a_resumed_step_budget_shows_that_budget_not_an_epoch_count(data, tmp_path, capsys):
    from inpaint.api import with_budget

    run = tmp_path / "run"
    steps = 3 * 4  # 16 training pairs of batch 4: 4 steps an epoch
    train(data, run, with_budget(lite(), steps=4), verbose=0)
    capsys.readouterr()
    train(data, run, with_budget(lite(), steps=steps), resume=True, verbose=2)
    headers = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert headers == ["Epoch 2 (step 4 of 12)", "Epoch 3 (step 8 of 12)"]


@pytest.mark.slow
def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(data, tmp_path):
    run = tmp_path / "run"
    train(data, run, lite(epochs=1), verbose=0)
    good = generator_weights(run)
    text = (run / "config.toml").read_text().replace("lambda_l1 = 100.0", "lambda_l1 = inf")
    (run / "config.toml").write_text(text)
    with pytest.raises(UserError, match="NaN/inf at step .*last good checkpoint \\(epoch 1\\)"):
        train(data, run, lite(epochs=3), resume=True, verbose=0)
    for a, b in zip(good, generator_weights(run)):
        np.testing.assert_array_equal(a, b)
    assert read_state(run)["status"] == "failed: NaN loss"


@pytest.mark.slow
def test_predict_keeps_pixels_outside_the_mask(data, tmp_path, run_cli):
    root = tmp_path / "data"
    write_set(root, n_train=20, n_test=3)
    train(data, tmp_path / "run", lite(steps=2), verbose=0)
    code, out, err = run_cli("predict", "--run", tmp_path / "run", "--data", root, "--out", tmp_path / "pred")
    assert code == 0, err
    for name in ("test_1", "test_2", "test_3"):
        pred = cv2.imread(str(tmp_path / "pred" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        white = cv2.imread(str(root / "Testing/White" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        mask = data.test_mask[int(name[-1]) - 1] > 0
        np.testing.assert_array_equal(pred[~mask], white[~mask])
        assert (pred[mask] != 255).any()  # the box was filled, not copied


@pytest.mark.slow
def test_run_writes_a_predict_csv_that_score_accepts(tmp_path, run_cli):
    root = write_set(tmp_path / "data", n_train=20, n_test=3)
    code, out, err = run_cli("run", "--data", root, "--run", tmp_path / "run", "--csv", tmp_path / "Predict.csv",
                             "--preset", "lite", "--size", 32, 32, "--set", "gen_depth=3", "--steps", 3)
    assert code == 0, err
    # Three steps are worse than Telea here: the last line says so, after "wrote" (issue 36).
    assert not read_state(tmp_path / "run")["classical_check"]["better"]
    assert out.splitlines()[-1].startswith(f"WARNING: {tmp_path / 'Predict.csv'} comes from a run that is NOT better")
    code, out, err = run_cli("solution", "--answers", root, "--csv", tmp_path / "solution.csv")
    assert code == 0, err
    code, out, err = run_cli("score", "--solution", tmp_path / "solution.csv", "--submission",
                             tmp_path / "Predict.csv", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert 0 < result["rmse"] < 0.5 and result["n_rows"] == 32 * 32 and result["n_columns"] == 3


@pytest.mark.slow
def test_run_reads_the_data_folder_once(tmp_path, run_cli, monkeypatch):
    """`inpaint run` used to read the folder three times, the last time re-reading every pair for its boxes."""
    import inpaint.data

    reads = {"folder": 0, "training pairs": 0}
    for name, key in (("load_data", "folder"), ("_training_pairs", "training pairs")):
        real = getattr(inpaint.data, name)

        def counted(*args, _real=real, _key=key, **kwargs):
            reads[_key] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(inpaint.data, name, counted)
    root = write_set(tmp_path / "data", n_train=8, n_test=2)
    code, _, err = run_cli("run", "--data", root, "--run", tmp_path / "run", "--csv", tmp_path / "Predict.csv",
                           "--preset", "lite", "--size", 32, 32, "--set", "gen_depth=3", "--steps", 1)
    assert code == 0, err
    assert reads == {"folder": 1, "training pairs": 1}


@pytest.mark.slow
def test_submission_is_written_at_the_test_images_own_size(tmp_path, run_cli):
    """Kaggle's solution is built from the answers as they are: a 48x48 set trained at 32x32
    must still give a 48*48-row CSV, with every pixel outside the box the White image's own."""
    root = write_set(tmp_path / "data", n_train=20, n_test=3, size=48)
    code, out, err = run_cli("run", "--data", root, "--run", tmp_path / "run", "--csv", tmp_path / "Predict.csv",
                             "--out", tmp_path / "pred", "--preset", "lite", "--size", 32, 32, "--set", "gen_depth=3",
                             "--steps", 2)
    assert code == 0, err
    assert run_cli("solution", "--answers", root, "--csv", tmp_path / "solution.csv")[0] == 0
    code, out, err = run_cli("score", "--solution", tmp_path / "solution.csv", "--submission",
                             tmp_path / "Predict.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["n_rows"] == 48 * 48
    for name in ("test_1", "test_2", "test_3"):
        pred = cv2.imread(str(tmp_path / "pred" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        white = cv2.imread(str(root / "Testing/White" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        assert pred.shape == (48, 48)
        inside = find_mask(white / 255.0) > 0
        np.testing.assert_array_equal(pred[~inside], white[~inside])
        assert (pred[inside] != 255).any()
    code, out, _ = run_cli("check-data", "--data", root, "--size", 32, 32)
    assert code == 0 and "2304 rows (48x48 pixels) x 3 image columns" in out


@pytest.mark.slow
def test_compare_predictions_weighs_every_variant(tmp_path, run_cli):
    root = write_set(tmp_path / "data", n_train=20, n_test=3)
    code, _, err = run_cli("train", "--data", root, "--run", tmp_path / "run", "--preset", "lite", "--size", 32, 32,
                           "--set", "gen_depth=3", "--set", "val_fraction=0.2", "--epochs", 3)
    assert code == 0, err
    code, out, err = run_cli("compare-predictions", "--run", tmp_path / "run", "--data", root)
    assert code == 0, err
    rows = [l.split() for l in out.splitlines() if l.strip().startswith(("best", "last", "mean"))]
    assert len(rows) == 6
    values = [float(v) for r in rows for v in r[-2:]]  # validation and test RMSE
    assert all(0 < v < 1 for v in values)
    # The default row (best generator, flips on) is what submit writes: score that CSV independently.
    assert run_cli("submit", "--run", tmp_path / "run", "--data", root, "--csv", tmp_path / "p.csv")[0] == 0
    assert run_cli("solution", "--answers", root, "--csv", tmp_path / "s.csv")[0] == 0
    code, out, _ = run_cli("score", "--solution", tmp_path / "s.csv", "--submission", tmp_path / "p.csv", "--json")
    assert rows[1][:5] == ["best", "by", "validation", "RMSE", "on"]
    assert [" ".join(r[:-3]) for r in rows[4:]] == ["mean of 2 checkpoints (steps 4, 6)",
                                                    "mean of 3 checkpoints (steps 2, 4, 6)"]
    assert float(rows[1][-1]) == pytest.approx(json.loads(out)["rmse"], abs=6e-6)


def demo_table(out: str) -> dict[str, float]:
    """The demo's printed table: method -> RMSE."""
    lines = out[out.index("RMSE on the 10 synthetic test faces:"):].splitlines()[2:5]
    return {line[:42].strip(): float(line.split()[-1]) for line in lines}


@pytest.mark.slow
def test_demo_trains_a_step_budget_and_prints_the_same_table_twice(tmp_path, run_cli):
    """Issue 36: a minutes budget made the demo's figure depend on the machine; a step budget repeats it."""
    tables = []
    for name in ("a", "b"):
        code, out, err = run_cli("demo", "--out", tmp_path / name, "--steps", 3, "--train", 24, "--preset", "lite")
        assert code == 0, err
        assert "training 3 steps of the lite preset" in out and "reached 3 steps" in out
        tables.append(demo_table(out))
    table = tables[0]
    assert list(table) == ["identity (submit the White images)", "OpenCV Telea (inpaint baseline telea)",
                           "pix2pix, lite preset, 3 steps"]
    assert 0 < table["pix2pix, lite preset, 3 steps"] < table["identity (submit the White images)"]  # compositing
    assert 0 < table["OpenCV Telea (inpaint baseline telea)"] < table["identity (submit the White images)"]
    assert tables[1] == table  # the same seed and steps: the same RMSE, to the printed digit
    assert (tmp_path / "a" / "Predict.csv").exists() and len(list((tmp_path / "a" / "pred").iterdir())) == 10


@pytest.mark.slow
def test_mixed_precision_path_builds_and_steps(data):
    """The GPU option's code path (float16 compute, loss-scaled optimizers) runs, here on the CPU."""
    import keras

    from inpaint.pipeline import eval_dataset
    from inpaint.gan import build_gan

    try:
        gan = build_gan(lite(mixed_precision=True))
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert gan.generator.layers[1].compute_dtype == "float16" and gan.generator.output.dtype == "float32"
        ds = eval_dataset(data.train_white.images[:4], data.train_real.images[:4], data.train_mask[:4], 4)
        logs = gan.fit(ds, epochs=1, verbose=0).history
        assert all(np.isfinite(v[0]) for v in logs.values())
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("steps, k, gap, chosen", [
    ([9, 18, 19], 2, 4, [9, 19]),  # a budget stopped one step into epoch 3: average 1 and 3, not 2 and 3
    ([9, 18, 27], 2, 4, [18, 27]),
    ([9, 18, 19], 3, 4, [9, 19]),  # fewer far enough apart than asked for: as many as there are
    ([5, 10, 15], 3, 0, [5, 10, 15]),
])
def test_averaged_checkpoints_are_at_least_half_an_epoch_apart(steps, k, gap, chosen):
    from inpaint.prediction import checkpoint_steps, spaced_checkpoints

    assert checkpoint_steps(spaced_checkpoints([f"run/checkpoints/ckpt-{s}" for s in steps], k, gap)) == chosen
