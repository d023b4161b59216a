"""`inpaint train`: data folder -> run folder (config, checkpoints, best generator, logs).

Run folder layout (what predict, report and resume read):
  config.toml               the resolved config
  checkpoints/              G, D, both optimizers, epoch counter (tf.train.Checkpoint)
  best_generator.weights.h5 the generator with the lowest validation RMSE
  log.csv, logs/            CSV log (epochs counted from 1) and TensorBoard log of G/D losses and RMSE
  state.json                epochs done, steps, best RMSE, why training stopped, the kept generator
                            against OpenCV Telea on the validation pairs (classical_check)
  prefill_mean_face.npy     with prefill = "mean": the mean training face the box is filled from
  samples/                  sample grids of fixed validation faces every `sample_every` epochs, and
                            best.png from the generator kept as the best
"""
from __future__ import annotations

import json
import math
import signal
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inpaint import config as config_mod
from inpaint import crops, distribute, models, pipeline, prefill
from inpaint.config import Config
from inpaint.data import Dataset
from inpaint.callbacks import EpochLog, EpochProgbar, Guard, SampleGrid
from inpaint.d_separation import DSeparation
from inpaint.errors import UserError
from inpaint.gan import LearningRateDecay, Pix2Pix
from inpaint.imaging import atomic_write_bytes

CONFIG_FILE, STATE_FILE, BEST_WEIGHTS = "config.toml", "state.json", "best_generator.weights.h5"
SAMPLES_SHOWN = 4  # fixed validation faces in every sample grid
KEEP_CHECKPOINTS = 3  # enough to average the last few epochs' weights at prediction time


class TrainingError(UserError):
    """Training cannot go on; the message says what was kept and what to try."""


def build_generator(cfg: Config) -> keras.Model:
    # A prefilled face no longer shows where the box is: that generator reads the mask too.
    starts_filled = cfg.prefill != "none"
    return models.unet(
        input_shape=(*cfg.net_size, 2 if cfg.mask_input or starts_filled else 1),
        depth=cfg.gen_depth,
        base_filters=cfg.gen_base_filters,
        max_filters=cfg.gen_max_filters,
        norm=cfg.gen_norm,
        dropout=cfg.gen_dropout,
        upsample=cfg.gen_upsample,
        act_before_norm=cfg.gen_act_before_norm,
        residual=starts_filled,
    )


def build_discriminator(cfg: Config) -> keras.Model:
    return models.patch_discriminator(
        input_shape=(*cfg.net_size, 1),
        depth=cfg.disc_depth,
        base_filters=cfg.disc_base_filters,
        max_filters=cfg.disc_max_filters,
        norm=cfg.disc_norm,
        spectral_norm_first=cfg.disc_spectral_norm_first,
        final_stride1_block=cfg.disc_final_stride1,
        act_before_norm=cfg.disc_act_before_norm,
    )


def _optimizer(cfg: Config, variables) -> keras.optimizers.Optimizer:
    opt = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
    if cfg.mixed_precision:
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(variables)  # built now so a checkpoint restores slots instead of deferring them
    return opt


def build_gan(cfg: Config) -> Pix2Pix:
    """G, D, optimizers and the compiled Pix2Pix; call inside the strategy scope."""
    keras.mixed_precision.set_global_policy("mixed_float16" if cfg.mixed_precision else "float32")
    generator, discriminator = build_generator(cfg), build_discriminator(cfg)
    gan = Pix2Pix(generator, discriminator, cfg)
    gan.compile(
        g_optimizer=_optimizer(cfg, generator.trainable_variables),
        d_optimizer=_optimizer(cfg, discriminator.trainable_variables),
        jit_compile=cfg.jit_compile,
    )
    return gan


class RunCheckpoint:
    """G, D, both optimizers and the count of finished epochs, in RUN/checkpoints/."""

    def __init__(self, gan: Pix2Pix, run: Path, keep: int):
        self.epochs_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.ckpt = tf.train.Checkpoint(
            generator=gan.generator,
            discriminator=gan.discriminator,
            g_optimizer=gan.g_optimizer,
            d_optimizer=gan.d_optimizer,
            epochs_done=self.epochs_done,
            # Dropout's random state is not tracked by the models; without it a resumed run
            # draws other dropout masks than the uninterrupted one.
            rng_states=[v.value for m in (gan.generator, gan.discriminator) for v in m.variables
                        if "seed_generator_state" in v.path],
            **({"ema_generator": gan.ema_generator} if gan.ema_generator is not None else {}),
            **({"d_augment_p": gan.d_augment_p.value} if gan.augment_names else {}),
        )
        self.manager = tf.train.CheckpointManager(self.ckpt, str(run / "checkpoints"), max_to_keep=keep)
        self.gan = gan

    def save(self) -> str:
        return self.manager.save(checkpoint_number=int(self.gan.g_optimizer.iterations.numpy()))

    def restore_latest(self, run: Path) -> int:
        """Restore RUN/checkpoints' latest; every worker reads the chief's run folder (shared or copied)."""
        latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
        if latest is None:
            raise TrainingError(f"{run / 'checkpoints'}: no checkpoint to resume from")
        self.ckpt.restore(latest).assert_existing_objects_matched()
        return int(self.epochs_done.numpy())


class EpochEnd(keras.callbacks.Callback):
    """At each good epoch end: checkpoint, keep the best generator, write state.json."""

    def __init__(self, run: Path, checkpoint: RunCheckpoint, guard: Guard, state: dict, on_best=None):
        super().__init__()
        self.run, self.checkpoint, self.guard, self.state = run, checkpoint, guard, state
        self.on_best = on_best  # called with the epoch (from 1) whose generator was just kept as the best

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.nan_at_step is not None:
            return  # keep the last good checkpoint untouched
        self.checkpoint.epochs_done.assign(epoch + 1)
        self.checkpoint.save()
        val_rmse = float((logs or {}).get("val_rmse", math.nan))
        if math.isfinite(val_rmse) and val_rmse < self.state.get("best_val_rmse", math.inf):
            self.model.inference_generator.save_weights(str(self.run / BEST_WEIGHTS))
            self.state.update(best_val_rmse=val_rmse, best_epoch=epoch + 1)
            if self.on_best:
                self.on_best(epoch + 1)
        self.state.update(epochs_done=epoch + 1, steps=int(self.model.g_optimizer.iterations.numpy()))
        write_state(self.run, self.state)


def write_state(run: Path, state: dict) -> None:
    atomic_write_bytes(run / STATE_FILE, (json.dumps(state, indent=2) + "\n").encode())


def read_state(run: Path) -> dict:
    path = run / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def resolve_run_config(run: Path, cfg: Config, resume: bool, writes_run: bool = True) -> Config:
    """A resumed run keeps its own config; budgets given now (epochs/steps/minutes) still apply."""
    saved = run / CONFIG_FILE
    if resume:
        if not saved.exists():
            raise TrainingError(f"{run}: not a run folder (no {CONFIG_FILE}); drop --resume to start one")
        budgets = {k: getattr(cfg, k) for k in ("epochs", "steps", "minutes")}
        return config_mod.load_toml(saved).replace(**budgets)
    if writes_run and (run / "checkpoints").exists():
        raise TrainingError(f"{run}: already holds a run; use --resume to continue it or choose another --run")
    return cfg


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def train(
    data: Dataset, run: Path, cfg: Config, resume: bool = False, verbose: int | None = None, callbacks=(),
    collective_timeout: float | None = None,
) -> dict:
    """Train on `data` into `run`; returns state.json's content. Saves a checkpoint on Ctrl-C/SIGTERM.

    `callbacks` are extra Keras callbacks (sample grids, tests), run after the kit's own. Under a
    TF_CONFIG cluster every worker runs this; only the chief writes `run` (inpaint/distribute.py).
    """
    cluster = distribute.cluster_from_env()
    strategy = distribute.make_strategy(cluster)  # before any other TensorFlow op
    out, watchdogs = distribute.WriteFolder(run, cluster), distribute.watchdogs(cluster, collective_timeout)
    try:
        return _train(data, out, cfg, resume, verbose, (*watchdogs, *callbacks), cluster, strategy)
    finally:
        for watchdog in watchdogs:
            watchdog.on_train_end()  # fit skips it when it raises
        out.remove_temporary()


def _network_view(cfg: Config, fill: prefill.Prefill, white, real, mask) -> tuple[np.ndarray, ...]:
    """(White, Real, mask[, filled]) as the networks see them: whole, or the centred window around each
    box; `filled` (White with the box prefilled, from the whole face) when the run has a prefill."""
    images = (white, real, mask, *([fill(white, mask)] if fill.active else []))
    if cfg.crop_size == (0, 0):
        return images
    corners = crops.windows(mask, cfg.crop_size)
    return tuple(crops.cut(x, corners, cfg.crop_size) for x in images)


def check_crop(cfg: Config, data: Dataset) -> None:
    """Before training: every box, training and test, must fit the window it will be seen in."""
    if cfg.crop_size == (0, 0):
        return
    crops.check_fits(data.train_mask, cfg.crop_size, data.train_real.names, "training")
    if data.test_mask is not None and len(data.test_mask):
        crops.check_fits(data.test_mask, cfg.crop_size, data.test_white.names, "test")


def _train(data, out, cfg, resume, verbose, callbacks, cluster, strategy) -> dict:
    run, written = out.run, out.path
    distribute.check_resume_source(run, cluster, resume)
    cfg = resolve_run_config(run, cfg, resume, writes_run=cluster.is_chief)
    check_crop(cfg, data)
    keras.utils.set_random_seed(cfg.seed)
    written.mkdir(parents=True, exist_ok=True)
    config_mod.save_toml(cfg, written / CONFIG_FILE)

    train_idx, val_idx = pipeline.split_indices(len(data.train_real.names), cfg.val_fraction, cfg.seed)
    white, real, mask = data.train_white.images, data.train_real.images, data.train_mask
    fill = prefill.for_run(cfg.prefill, run) if resume else prefill.for_training(cfg.prefill, real[train_idx])
    fill.save(written)
    with strategy.scope():
        gan = build_gan(cfg)
        checkpoint = RunCheckpoint(gan, written, keep=max(cfg.average_last, KEEP_CHECKPOINTS))
        first_epoch = checkpoint.restore_latest(run) if resume else 0
    if cluster.is_multi_worker:
        distribute.adapt_fit_to_multi_worker(gan)
    state = read_state(run) if resume else {}
    state.update(train_pairs=len(train_idx), val_pairs=len(val_idx), status="training",
                 **distribute.describe(strategy, cluster))
    print(distribute.start_line(strategy, cluster, written), flush=True)

    batch = min(cfg.batch_size, len(train_idx))
    distribute.check_global_batch(batch, strategy.num_replicas_in_sync)
    train_ds = distribute.distribute_input(pipeline.train_dataset(
        white[train_idx], real[train_idx], mask[train_idx], batch, cfg.seed, first_epoch, cfg.flip, cfg.intensity_jitter,
        cfg.extra_boxes, cfg.box_jitter, cfg.geometric_jitter, cfg.crop_size, fill,
    ), cluster)
    val_view = _network_view(cfg, fill, white[val_idx], real[val_idx], mask[val_idx])
    val_ds = distribute.distribute_input(pipeline.eval_dataset(*val_view[:3], batch, *val_view[3:]), cluster)
    # As many training pairs as validation pairs (up to 64), for D's separation on each (d_separation.py).
    shown = train_idx[:min(len(val_idx), 64)]
    train_view = _network_view(cfg, fill, white[shown], real[shown], mask[shown])
    spe = pipeline.steps_per_epoch(len(train_idx), batch)
    epochs = max(cfg.epochs, math.ceil(cfg.steps / spe)) if cfg.steps else cfg.epochs
    guard = Guard(cfg.steps, cfg.minutes, decide=distribute.ChiefDecides(strategy, cluster))
    # The best generator is kept anyway (EpochEnd); stopping early only returns the unused budget.
    early = keras.callbacks.EarlyStopping("val_rmse", patience=cfg.patience, mode="min") if cfg.patience else None
    samples = SampleGrid(*(x[:SAMPLES_SHOWN] for x in val_view[:3]), written / "samples", written / "logs",
                         cfg.sample_every, filled=val_view[3][:SAMPLES_SHOWN] if fill.active else None)
    callbacks = [
        guard,
        EpochProgbar(guard),
        EpochEnd(written, checkpoint, guard, state, on_best=samples.write_best),
        DSeparation(train_view, tuple(x[:len(shown)] for x in val_view), batch),  # before the loggers: they log what it adds
        EpochLog(str(written / "log.csv"), append=resume),
        keras.callbacks.TensorBoard(str(written / "logs"), update_freq="epoch"),
        samples,
        *([LearningRateDecay(cfg, 0 if epochs >= config_mod.UNTIL_BUDGET else epochs * spe)] if cfg.lr_decay != "none" else []),
        *([early] if early else []),
        *callbacks,
    ]
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        gan.fit(
            train_ds,
            validation_data=val_ds,
            epochs=epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=spe,
            callbacks=callbacks,
            shuffle=False,  # the stream is already shuffled per epoch, reproducibly
            verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
    except KeyboardInterrupt:
        path = checkpoint.save()
        state.update(status="interrupted", steps=int(gan.g_optimizer.iterations.numpy()))
        write_state(written, state)
        # The interrupted epoch's data restarts from its beginning on --resume; weights, optimizer
        # state and the step counter continue from here.
        print(f"interrupted: checkpoint saved to {path}; continue with --resume", file=sys.stderr)
        raise
    except Exception as exc:
        if not (cluster.is_multi_worker and distribute.is_peer_failure(exc)):
            raise
        state.update(status="failed: lost a worker")
        write_state(written, state)
        raise TrainingError(distribute.peer_failure_message(exc, cluster, run, state.get("epochs_done", 0))) from None
    finally:
        signal.signal(signal.SIGTERM, previous)

    if guard.nan_at_step is not None:
        state.update(status="failed: NaN loss")
        write_state(written, state)
        raise TrainingError(
            f"{guard.stop_reason}; the last good checkpoint (epoch {state.get('epochs_done', 0)}) is kept in "
            f"{run / 'checkpoints'}. Try a lower learning_rate or lambda_adv."
        )
    stop_reason = guard.stop_reason
    if early and early.stopped_epoch:
        stop_reason = f"validation RMSE did not improve for {cfg.patience} epochs"
    state.update(status="done", stop_reason=stop_reason)
    if cluster.is_chief and state.get("epochs_done"):
        state["classical_check"] = _check_against_classical(run, data)
    write_state(written, state)
    return state


def _check_against_classical(run: Path, data: Dataset) -> dict:
    """Is the generator a submission would use better than the classical fill? Printed plainly, and kept."""
    from inpaint.predict import classical_verdict, kept_against_classical  # predict imports this module

    check = kept_against_classical(run, data)
    print(classical_verdict(check), flush=True)
    return check


def load_run_config(run: Path) -> Config:
    """The resolved config a run folder was trained with."""
    if not (Path(run) / CONFIG_FILE).exists():
        raise TrainingError(f"{run}: not a run folder (no {CONFIG_FILE}); train first with `inpaint train`")
    return config_mod.load_toml(Path(run) / CONFIG_FILE)


def load_generator(run: Path, which: str = "best") -> tuple[keras.Model, Config]:
    """The trained generator of a run folder: 'best' (by validation RMSE) or 'last' checkpoint."""
    run = Path(run)
    cfg = load_run_config(run)
    keras.mixed_precision.set_global_policy("float32")
    generator = build_generator(cfg)
    if which == "best" and (run / BEST_WEIGHTS).exists():
        generator.load_weights(str(run / BEST_WEIGHTS))
        return generator, cfg
    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    if latest is None:
        raise TrainingError(f"{run}: no trained weights yet (no checkpoint); train first")
    tf.train.Checkpoint(**{_generator_key(cfg): generator}).restore(latest).expect_partial()
    return generator, cfg


def _generator_key(cfg: Config) -> str:
    """The checkpointed generator to load: with a weight average, it is what validated and what
    predicts (inpaint/gan.py)."""
    return "ema_generator" if cfg.ema_decay > 0 else "generator"


def checkpoint_paths(run: Path) -> list[str]:
    """Every checkpoint RUN/checkpoints keeps, oldest first (`.../ckpt-STEP`)."""
    found = tf.train.get_checkpoint_state(str(Path(run) / "checkpoints"))
    return list(found.all_model_checkpoint_paths) if found else []


def checkpoint_generators(run: Path, paths: list[str]) -> list[np.ndarray]:
    """Weights of the generator in each of these checkpoints (for checkpoint averaging)."""
    generator, cfg = load_generator(run, which="last")
    weights = []
    for path in paths:
        tf.train.Checkpoint(**{_generator_key(cfg): generator}).restore(path).expect_partial()
        weights.append([w.numpy() for w in generator.weights])
    return weights
