"""`inpaint bench quality|speed`: the numbers in BENCHMARKS.md, measured by anyone on their machine.

It measures the kit's training against the baselines (quality: every baseline of baselines/compare.py;
speed: the course deck's training loop).

quality: train the default preset on a data set with answers (a fixed-seed synthetic set by
default) within a time budget, then score it beside every baseline.
speed: images per second of the kit's fused train step against the course deck's loop
(generator.predict, discriminator.train_on_batch on real then on fake, then the combined
model's train_on_batch with the discriminator frozen), same models, batch and data,
alternating in one process; the step's floating-point rate against a large matrix multiply's in
the same process (the practical peak of this CPU); and the latency of predicting the 10 test images.
"""
from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from inpaint import config
from inpaint.imaging import atomic_write_bytes, to_metric


def machine() -> dict:
    import os

    import tensorflow as tf

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "tensorflow": tf.__version__, "gpus": len(tf.config.list_physical_devices("GPU"))}


def _batch(cfg: config.Config, batch: int, seed: int = 0):
    """(white, real, mask) in model space."""
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (batch, *cfg.net_size, 1)).astype(np.float32)
    mask = np.zeros_like(real)
    rows, cols = cfg.net_size
    mask[:, rows * 5 // 8 : rows * 7 // 8, cols // 3 : cols * 2 // 3] = 1
    white = np.where(mask > 0, 1.0, real).astype(np.float32)
    return white, real, mask


class KitStep:
    """The kit's compiled train step, driven the way fit drives it."""

    def __init__(self, cfg: config.Config, batch: int):
        import tensorflow as tf

        from inpaint.gan import build_gan

        self.gan = build_gan(cfg)
        self.iterator = iter(tf.data.Dataset.from_tensors(_batch(cfg, batch)).repeat())
        self.gan.make_train_function()

    def run(self, steps: int) -> None:
        for _ in range(steps):
            logs = self.gan.train_function(self.iterator)
        float(logs["G_L1"])  # wait for the last step to finish


class DeckLoop:
    """The course deck's loop: G.predict, D.train_on_batch (real), D.train_on_batch (fake), combined.train_on_batch."""

    def __init__(self, cfg: config.Config, batch: int):
        import keras

        from inpaint.models import build_discriminator, build_generator

        self.g, self.d = build_generator(cfg), build_discriminator(cfg)
        self.white, self.real, _ = _batch(cfg, batch)
        self.d.compile(keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1), loss="mse")
        patch = self.d.output_shape[1:]
        self.ones, self.zeros = np.ones((batch, *patch), np.float32), np.zeros((batch, *patch), np.float32)
        self.d.train_on_batch([self.white, self.real], self.ones)  # traced while D is trainable
        self.d.trainable = False  # frozen inside the combined model, as in the deck
        inp = keras.Input((*cfg.net_size, 1))
        fake = self.g(inp)  # the deck's own model: G reads White, D is conditioned on it
        self.combined = keras.Model(inp, [self.d([inp, fake]), fake])
        self.combined.compile(keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1), loss=["mse", "mae"],
                              loss_weights=[1.0, 1.0])

    def run(self, steps: int) -> None:
        for _ in range(steps):
            fake = self.g.predict(self.white, verbose=0)
            self.d.train_on_batch([self.white, self.real], self.ones)
            self.d.train_on_batch([self.white, fake], self.zeros)
            self.combined.train_on_batch(self.white, [self.ones, self.real])


def graph_flops(concrete_function) -> int:
    """Floating-point operations in a traced function's graph, as TensorFlow's profiler counts them
    (a multiply-add is two). Every shape must be static, as it is for a fixed batch."""
    import tensorflow as tf

    options = (tf.compat.v1.profiler.ProfileOptionBuilder(tf.compat.v1.profiler.ProfileOptionBuilder.float_operation())
               .with_empty_output().build())
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the v1 profiler's own deprecation notice says nothing about the kit
    try:
        return int(tf.compat.v1.profiler.profile(concrete_function.graph, options=options).total_float_ops)
    finally:
        logger.setLevel(level)


def step_flops(gan, cfg: config.Config, batch: int) -> int:
    """Operations of one train step (G forward, D on both pairs, both backward passes), counted on
    the step's own graph rather than from layer shapes, so an option that changes the step is counted."""
    import tensorflow as tf

    data = tuple(tf.constant(x) for x in _batch(cfg, batch))
    return graph_flops(tf.function(lambda: gan.train_step(data)).get_concrete_function())


def matmul_rate(n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of an n x n float32 matrix multiply in TensorFlow, in this process: the rate the CPU's
    threads reach on the best-tuned kernel there is, which a train step can approach but not pass."""
    import tensorflow as tf

    a, b = (tf.random.stateless_uniform((n, n), seed=(s, 0)) for s in (1, 2))
    tf.linalg.matmul(a, b).numpy()  # the first call picks the kernel and fills the thread pool
    seconds = statistics.median(_timed_call(lambda: tf.linalg.matmul(a, b).numpy()) for _ in range(repeats))
    return 2 * n**3 / seconds


def speed(models: dict[str, config.Config], batch: int = 8, steps: int = 20, repeats: int = 3,
          jit: bool = False) -> list[dict]:
    """Median images/s of each way of training each model; the runs alternate to share any machine drift.
    The kit's rows also give the step's GFLOP/s and its share of the matrix-multiply rate."""
    rows = []
    peak = matmul_rate()
    for name, cfg in models.items():
        runners = {"kit train_step": KitStep(cfg, batch), "deck loop": DeckLoop(cfg, batch)}
        if jit:
            runners["kit train_step, jit_compile"] = KitStep(cfg.replace(jit_compile=True), batch)
        for runner in runners.values():
            runner.run(2)  # tracing and warm-up are not what a long run pays per step
        times = {k: [] for k in runners}
        for _ in range(repeats):
            for label, runner in runners.items():
                times[label].append(_timed_call(lambda: runner.run(steps)))
        deck = batch * steps / statistics.median(times["deck loop"])
        flops_per_image = step_flops(runners["kit train_step"].gan, cfg, batch) / batch
        for label, values in times.items():
            rate = batch * steps / statistics.median(values)
            row = {"model": name, "method": label, "images_per_s": round(rate, 1),
                   "vs_deck": round(rate / deck, 2), "batch": batch, "steps": steps, "repeats": repeats}
            if label.startswith("kit"):  # the deck's loop runs other ops (G twice), so its count is not this one
                row |= {"gflop_per_image": round(flops_per_image / 1e9, 3),
                        "gflop_per_s": round(rate * flops_per_image / 1e9, 1),
                        "of_matmul_peak": round(rate * flops_per_image / peak, 3),
                        "matmul_gflop_per_s": round(peak / 1e9, 1)}
            rows.append(row)
        rows.append(predict_latency(name, runners["kit train_step"].gan.generator, cfg))
    return rows


def predict_latency(name: str, generator, cfg: config.Config, n: int = 10, repeats: int = 5) -> dict:
    """Seconds to inpaint the 10 test images (flip averaging included, as `inpaint submit` does)."""
    from inpaint.prediction import inpaint_images

    white, _, mask = _batch(cfg, n)
    white01, mask2 = to_metric(white[..., 0]), mask[..., 0]
    inpaint_images(generator, white01, mask2)
    times = [_timed_call(lambda: inpaint_images(generator, white01, mask2)) for _ in range(repeats)]
    return {"model": name, "method": "predict 10 test images (s)", "seconds": round(statistics.median(times), 3)}


def _timed_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quality(data_dir: Path, out: Path, minutes: float, preset: str = "standard", iterations: int = 3000,
            seed: int = 0) -> list[dict]:
    """Train `preset` for `minutes` on the folder, then score it and every baseline on its answers."""
    from baselines.compare import image_metrics, run_all
    from inpaint.data import load_data
    from inpaint.prediction import predict_run
    from inpaint.training import train

    cfg = config.preset(preset).replace(minutes=minutes, epochs=config.UNTIL_BUDGET, seed=seed)
    data = load_data(data_dir, size=cfg.image_size)
    if data.test_real is None:
        from inpaint.errors import DataError

        raise DataError(f"{data_dir}: the quality benchmark needs answers (Testing/Real)")
    start = time.monotonic()
    train(data, out / "run", cfg, verbose=2)
    preds = predict_run(out / "run", data)
    test = data.csv_test  # scored at the submission's size, as Kaggle scores it
    kit = {"method": f"kit pix2pix ({preset}, {minutes:g} min)", **image_metrics(preds, test.real, test.mask),
           "seconds": round(time.monotonic() - start, 1)}
    table = run_all(data, out / "baselines", iterations=iterations, seed=seed)
    return [kit] + table.drop(columns=["csv"]).to_dict("records")


def save(rows: list[dict], path: Path, extra: dict) -> None:
    atomic_write_bytes(Path(path), (json.dumps({**extra, "rows": rows}, indent=2) + "\n").encode())
