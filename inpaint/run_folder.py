"""The run folder: what `inpaint train` writes and every later reader uses (resume, predict, submit,
compare-predictions, report, the notebook's Run). Its file names, config and state I/O, checkpoints and
generator loading live here and nowhere else.

  config.toml               the resolved config: what the run really used (batch size, mask settings, ...)
  checkpoints/              G, D, both optimizers, epoch counter (tf.train.Checkpoint), the last few kept
  best_generator.weights.h5 the generator with the lowest validation RMSE
  log.csv, logs/            CSV log (epochs counted from 1) and TensorBoard log of G/D losses and RMSE
  state.json                epochs done, steps, best RMSE, why training stopped, the kept generator
                            against OpenCV Telea on the validation pairs (classical_check)
  samples/                  sample grids of fixed validation faces every `sample_every` epochs, and
                            best.png from the generator kept as the best
  report/                   written by `inpaint report`

TensorFlow is imported only inside the checkpoint and generator functions: a command that needs the
config or the state of a run (a wrong --run, `inpaint report`'s checks) answers before it starts.
"""
from __future__ import annotations

import json
from pathlib import Path

from inpaint import config as config_mod
from inpaint.config import Config
from inpaint.errors import UserError
from inpaint.imaging import atomic_write_bytes

CONFIG_FILE, STATE_FILE, BEST_WEIGHTS = "config.toml", "state.json", "best_generator.weights.h5"
CHECKPOINTS, LOG_FILE, TENSORBOARD, SAMPLES, REPORT = "checkpoints", "log.csv", "logs", "samples", "report"
BEST_SAMPLES = "best.png"  # in SAMPLES: the faces as the generator kept as the best inpaints them
KEEP_CHECKPOINTS = 3  # enough to average the last few epochs' weights at prediction time


class RunFolderError(UserError):
    """A folder is not the run folder a command needs (no config, nothing trained yet, already used)."""


# ---------------------------------------------------------------- config and state (no TensorFlow)
def is_run(run: Path) -> bool:
    return (Path(run) / CONFIG_FILE).is_file()


def load_config(run: Path, shown: str | None = None) -> Config:
    """The resolved config a run folder was trained with; `shown` names the folder in the error (`--run X`)."""
    if not is_run(run):
        raise RunFolderError(f"{shown or run}: not a run folder (no {CONFIG_FILE}); train first with `inpaint train`")
    return config_mod.load_toml(Path(run) / CONFIG_FILE)


def save_config(cfg: Config, folder: Path) -> None:
    config_mod.save_toml(cfg, Path(folder) / CONFIG_FILE)


BUDGETS = ("epochs", "steps", "minutes")


def config_for(run: Path, cfg: Config, resume: bool, writes_run: bool = True, new_budget: bool = True) -> Config:
    """The config a training into `run` uses: a resumed run keeps its own, with `cfg`'s budgets (epochs,
    steps, minutes) when a budget is given now (`new_budget`), else with the budget the run was started
    with; a new one takes `cfg` and refuses a folder that already holds a run."""
    run = Path(run)
    if resume:
        if not is_run(run):
            raise RunFolderError(f"{run}: not a run folder (no {CONFIG_FILE}); drop --resume to start one")
        saved = config_mod.load_toml(run / CONFIG_FILE)
        return saved.replace(**{k: getattr(cfg, k) for k in BUDGETS}) if new_budget else saved
    if writes_run and (run / CHECKPOINTS).exists():
        raise RunFolderError(f"{run}: already holds a run; use --resume to continue it or choose another --run")
    return cfg


def read_state(run: Path) -> dict:
    path = Path(run) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def write_state(run: Path, state: dict) -> None:
    atomic_write_bytes(Path(run) / STATE_FILE, (json.dumps(state, indent=2) + "\n").encode())


def trim_log(run: Path, epochs_done: int) -> None:
    """Drop log.csv's rows after epoch `epochs_done` (the checkpoint a resumed run starts from), so the
    epochs it trains again are not logged twice. Lines are kept byte for byte (Keras ends them with CRLF)."""
    path = Path(run) / LOG_FILE
    if not path.exists():
        return
    header, *rows = path.read_bytes().decode().splitlines(keepends=True) or [""]
    if not header.startswith("epoch,"):
        return
    kept = [row for row in rows if row.strip() and int(float(row.split(",", 1)[0])) <= epochs_done]
    if len(kept) < len(rows):
        atomic_write_bytes(path, "".join([header, *kept]).encode())


def read_log(run: Path):
    """log.csv as a pandas DataFrame, epochs counted from 1 (run folders written before log.csv counted
    so start at 0)."""
    import pandas as pd

    log = pd.read_csv(Path(run) / LOG_FILE)
    if len(log) and "epoch" in log and log["epoch"].iloc[0] == 0:
        log["epoch"] += 1
    return log


# ---------------------------------------------------------------- checkpoints and generators (TensorFlow)
class RunCheckpoint:
    """G, D, both optimizers and the count of finished epochs, in RUN/checkpoints/."""

    def __init__(self, gan, run: Path, keep: int):
        import tensorflow as tf

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
        )
        self.manager = tf.train.CheckpointManager(self.ckpt, str(Path(run) / CHECKPOINTS), max_to_keep=keep)
        self.gan = gan

    def save(self) -> str:
        return self.manager.save(checkpoint_number=int(self.gan.g_optimizer.iterations.numpy()))

    def restore_latest(self, run: Path) -> int:
        """Restore RUN/checkpoints' latest; every worker reads the chief's run folder (shared or copied)."""
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(str(Path(run) / CHECKPOINTS))
        if latest is None:
            raise RunFolderError(f"{Path(run) / CHECKPOINTS}: no checkpoint to resume from")
        self.ckpt.restore(latest).assert_existing_objects_matched()
        return int(self.epochs_done.numpy())


def load_generator(run: Path, which: str = "best"):
    """(generator, config) of a run folder: 'best' (by validation RMSE) or the 'last' checkpoint's."""
    import keras
    import tensorflow as tf

    from inpaint.models import build_generator

    run = Path(run)
    cfg = load_config(run)
    keras.mixed_precision.set_global_policy("float32")
    generator = build_generator(cfg)
    if which == "best" and (run / BEST_WEIGHTS).exists():
        generator.load_weights(str(run / BEST_WEIGHTS))
        return generator, cfg
    latest = tf.train.latest_checkpoint(str(run / CHECKPOINTS))
    if latest is None:
        raise RunFolderError(f"{run}: no trained weights yet (no checkpoint); train first")
    tf.train.Checkpoint(**{_generator_key(cfg): generator}).restore(latest).expect_partial()
    return generator, cfg


def _generator_key(cfg: Config) -> str:
    """The checkpointed generator to load: with a weight average, it is what validated and what
    predicts (inpaint/gan.py)."""
    return "ema_generator" if cfg.ema_decay > 0 else "generator"


def checkpoint_paths(run: Path) -> list[str]:
    """Every checkpoint RUN/checkpoints keeps, oldest first (`.../ckpt-STEP`)."""
    import tensorflow as tf

    found = tf.train.get_checkpoint_state(str(Path(run) / CHECKPOINTS))
    return list(found.all_model_checkpoint_paths) if found else []


def checkpoint_generators(run: Path, paths: list[str]) -> list:
    """Weights of the generator in each of these checkpoints (for checkpoint averaging)."""
    import tensorflow as tf

    generator, cfg = load_generator(run, which="last")
    weights = []
    for path in paths:
        tf.train.Checkpoint(**{_generator_key(cfg): generator}).restore(path).expect_partial()
        weights.append([w.numpy() for w in generator.weights])
    return weights
