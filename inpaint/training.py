"""`inpaint train`: data folder -> run folder (config, checkpoints, best generator, logs).

What the run folder holds, and every function that reads or writes it, is inpaint/run_folder.py.
The config saved there is the one the run used: the batch size after it is fitted to the training
pairs, and the image size and mask settings the data was read with (checked here).
"""
from __future__ import annotations

import math
import signal
import sys
from pathlib import Path

import keras
import numpy as np

from inpaint import crops, pipeline
from inpaint import run_folder as rf
from inpaint.callbacks import EpochEnd, EpochLog, EpochProgbar, Guard, SampleGrid
from inpaint.config import Config
from inpaint.d_separation import DSeparation
from inpaint.data import Dataset
from inpaint.errors import UserError
from inpaint.gan import build_gan
from inpaint.prediction import classical_verdict, kept_against_classical
from inpaint.run_folder import RunCheckpoint, read_state, write_state
from inpaint.runtime import distribute

SAMPLES_SHOWN = 4  # fixed validation faces in every sample grid


class TrainingError(UserError):
    """Training cannot go on; the message says what was kept and what to try."""


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def train(
    data: Dataset, run: Path, cfg: Config, resume: bool = False, verbose: int | None = None, callbacks=(),
    collective_timeout: float | None = None,
) -> dict:
    """Train on `data` into `run`; returns state.json's content. Saves a checkpoint on Ctrl-C/SIGTERM.

    `callbacks` are extra Keras callbacks (sample grids, tests), run after the kit's own. Under a
    TF_CONFIG cluster every worker runs this; only the chief writes `run` (inpaint/runtime/distribute.py).
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


def _network_view(cfg: Config, white, real, mask) -> tuple[np.ndarray, ...]:
    """(White, Real, mask) as the networks see them: whole, or the centred window around each box."""
    images = (white, real, mask)
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


def fitted_batch(cfg: Config, train_pairs: int) -> Config:
    """`cfg` with a batch no larger than the training pairs (full batches only: a larger one would give
    no step at all), said aloud, so config.toml holds the batch size the run really trains with."""
    if cfg.batch_size <= train_pairs:
        return cfg
    print(f"batch_size {cfg.batch_size} is more than the {train_pairs} training pairs: training with "
          f"batch_size {train_pairs} (as config.toml says)", flush=True)
    return cfg.replace(batch_size=train_pairs)


def _train(data, out, cfg, resume, verbose, callbacks, cluster, strategy) -> dict:
    run, written = out.run, out.path
    distribute.check_resume_source(Path(run) / rf.CHECKPOINTS, cluster, resume)
    cfg = rf.config_for(run, cfg, resume, writes_run=cluster.is_chief)
    data.check_read_as(cfg, "this run trains")
    check_crop(cfg, data)
    train_idx, val_idx = pipeline.split_indices(len(data.train_real.names), cfg.val_fraction, cfg.seed)
    cfg = fitted_batch(cfg, len(train_idx))
    distribute.check_global_batch(cfg.batch_size, strategy.num_replicas_in_sync)
    keras.utils.set_random_seed(cfg.seed)
    written.mkdir(parents=True, exist_ok=True)
    rf.save_config(cfg, written)

    white, real, mask = data.train_white.images, data.train_real.images, data.train_mask
    with strategy.scope():
        gan = build_gan(cfg)
        checkpoint = RunCheckpoint(gan, written, keep=max(cfg.average_last, rf.KEEP_CHECKPOINTS))
        first_epoch = checkpoint.restore_latest(run) if resume else 0
    if cluster.is_multi_worker:
        distribute.adapt_fit_to_multi_worker(gan)
    state = read_state(run) if resume else {}
    state.update(train_pairs=len(train_idx), val_pairs=len(val_idx), status="training",
                 **distribute.describe(strategy, cluster))
    print(distribute.start_line(strategy, cluster, written), flush=True)

    batch = cfg.batch_size
    train_ds = distribute.distribute_input(pipeline.train_dataset(
        white[train_idx], real[train_idx], mask[train_idx], cfg, first_epoch), cluster)
    val_view = _network_view(cfg, white[val_idx], real[val_idx], mask[val_idx])
    val_ds = distribute.distribute_input(pipeline.eval_dataset(*val_view, batch), cluster)
    # As many training pairs as validation pairs (up to 64), drawn at random, for D's separation on each.
    shown = np.random.default_rng(cfg.seed).choice(train_idx, min(len(val_idx), 64), replace=False)
    train_view = _network_view(cfg, white[shown], real[shown], mask[shown])
    spe = pipeline.steps_per_epoch(len(train_idx), batch)
    epochs = max(cfg.epochs, math.ceil(cfg.steps / spe)) if cfg.steps else cfg.epochs
    guard = Guard(cfg.steps, cfg.minutes, decide=distribute.ChiefDecides(strategy, cluster))
    # The best generator is kept anyway (EpochEnd); stopping early only returns the unused budget.
    early = keras.callbacks.EarlyStopping("val_rmse", patience=cfg.patience, mode="min") if cfg.patience else None
    samples = SampleGrid(*(x[:SAMPLES_SHOWN] for x in val_view), written / rf.SAMPLES, written / rf.TENSORBOARD,
                         cfg.sample_every)
    if resume:
        rf.trim_log(written, first_epoch)  # rows of epochs the checkpoint does not hold are trained again
    callbacks = [
        guard,
        EpochProgbar(guard),
        DSeparation(train_view, tuple(x[:len(shown)] for x in val_view), batch),  # before the loggers: they log what it adds
        # The log row before the checkpoint: an interrupt between the two leaves a row the checkpoint
        # lacks (trimmed on --resume, that epoch trains again), never a checkpoint whose row is lost.
        EpochLog(str(written / rf.LOG_FILE), append=resume),
        EpochEnd(written, checkpoint, guard, state, on_best=samples.write_best),
        keras.callbacks.TensorBoard(str(written / rf.TENSORBOARD), update_freq="epoch"),
        samples,
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
        raise TrainingError(distribute.peer_failure_message(exc, cluster, Path(run) / rf.CHECKPOINTS,
                                                            state.get("epochs_done", 0))) from None
    finally:
        signal.signal(signal.SIGTERM, previous)

    if guard.nan_at_step is not None:
        state.update(status="failed: NaN loss")
        write_state(written, state)
        raise TrainingError(
            f"{guard.stop_reason}; the last good checkpoint (epoch {state.get('epochs_done', 0)}) is kept in "
            f"{run / rf.CHECKPOINTS}. Try a lower learning_rate or lambda_adv."
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
    check = kept_against_classical(run, data)
    print(classical_verdict(check), flush=True)
    return check
