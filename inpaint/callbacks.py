"""Keras callbacks of a training run: budgets and NaN guard, progress, sample grids, the CSV log."""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inpaint.config import UNTIL_BUDGET
from inpaint.imaging import to_metric, write_png
from inpaint.pipeline import model_inputs
from inpaint.run_folder import BEST_SAMPLES, BEST_WEIGHTS, write_state
from inpaint.sample_grid import sample_grid


class Guard(keras.callbacks.Callback):
    """Stops at the end of the step where a budget (steps, minutes) is reached, or on a NaN loss."""

    def __init__(self, max_steps: int, minutes: float, decide=None):
        super().__init__()
        self.max_steps, self.minutes = max_steps, minutes
        # `decide` turns "my time is up" into the cluster's answer (inpaint/runtime/distribute.py ChiefDecides),
        # so every worker stops after the same step; alone, it is the local clock.
        self.decide = decide or (lambda time_up: time_up)
        self.deadline = time.monotonic() + minutes * 60 if minutes else None
        self.stop_reason = "finished all epochs"
        self.nan_at_step = None

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.g_optimizer.iterations.numpy())
        if any(not math.isfinite(float(v)) for v in (logs or {}).values()):
            self.nan_at_step = step
            self.stop_reason = f"loss became NaN/inf at step {step}"
        elif self.max_steps and step >= self.max_steps:
            self.stop_reason = f"reached {self.max_steps} steps"
        elif self.deadline and self.decide(time.monotonic() >= self.deadline):
            self.stop_reason = "time budget used"
        else:
            return
        self.model.stop_training = True


class EpochEnd(keras.callbacks.Callback):
    """At each good epoch end: checkpoint, keep the best generator, write state.json (inpaint/run_folder.py)."""

    def __init__(self, run: Path, checkpoint, guard: Guard, state: dict, on_best=None):
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


class EpochProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar with epoch headers that show the time budget.

    A time budget alone trains "until the time is up" (epochs = UNTIL_BUDGET), and Keras would print
    "Epoch 3/1000000"; this prints "Epoch 3 (4.1 of 20 min)" instead.
    """

    def __init__(self, guard: Guard):
        super().__init__()
        self.guard = guard

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(self.header(epoch + 1), flush=True)
        epochs, self.epochs = self.epochs, 1  # Keras prints its own header only when epochs > 1
        super().on_epoch_begin(epoch, logs)
        self.epochs = epochs

    def _finalize_progbar(self, logs):
        # An epoch cut short by a step or time budget ran `seen` steps: show "1/17", not Keras's "17/17".
        if self.target is not None and 0 < self.seen < self.target:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=True)
        else:
            super()._finalize_progbar(logs)

    def header(self, epoch: int) -> str:
        """"Epoch 3/50", or with a step or time budget the budget the student set and how much of it is
        used: "Epoch 17 (step 32 of 50)", "Epoch 3 (4.1 of 20 min)"."""
        text = f"Epoch {epoch}" if self.epochs >= UNTIL_BUDGET else f"Epoch {epoch}/{self.epochs}"
        used = []
        if self.guard.max_steps:
            model = getattr(self, "_model", None)
            done = int(model.g_optimizer.iterations.numpy()) if model is not None else 0
            used.append(f"step {done} of {self.guard.max_steps}")
        if self.guard.deadline is not None:
            minutes = self.guard.minutes - (self.guard.deadline - time.monotonic()) / 60
            used.append(f"{max(minutes, 0.0):.1f} of {self.guard.minutes:g} min")
        return f"{text} ({', '.join(used)})" if used else text


class SampleGrid(keras.callbacks.Callback):
    """Every `every` epochs: a grid of fixed validation examples to RUN/samples/ and to TensorBoard."""

    def __init__(self, white, real, mask, out_dir: Path, log_dir: Path, every: int):
        super().__init__()
        self.inputs = model_inputs(white, mask)
        self.white, self.real = white, real
        self.out_dir, self.every = Path(out_dir), max(1, every)
        self.writer = tf.summary.create_file_writer(str(Path(log_dir) / "samples"))

    def predict(self) -> np.ndarray:
        """The fixed faces inpainted by the generator that validates and predicts (the weight average
        when there is one), so the grids show what a submission would hold."""
        out = self.model(self.inputs, training=False, generator=self.model.inference_generator)
        return to_metric(np.asarray(out)[..., 0])

    def write_best(self, epoch: int) -> None:
        """RUN/samples/best.png: the faces as the generator just kept as the best (epoch `epoch`, from 1)
        inpaints them, the generator predict and submit use; EpochEnd calls it when it keeps one."""
        write_png(self.out_dir / BEST_SAMPLES, sample_grid(self.white, self.predict(), self.real))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or not all(math.isfinite(float(v)) for v in (logs or {}).values()):
            return  # a NaN epoch would draw a black or garbage grid
        grid = sample_grid(self.white, self.predict(), self.real)
        write_png(self.out_dir / f"epoch_{epoch + 1:04d}.png", grid)
        with self.writer.as_default():
            tf.summary.image("samples (White | prediction | Real | error)", grid[None, ..., ::-1], step=epoch + 1)

    def on_train_end(self, logs=None):
        self.writer.close()  # flushed now: the `inpaint` command ends without the interpreter's teardown


class EpochLog(keras.callbacks.CSVLogger):
    """RUN/log.csv with epochs counted from 1, as the console, the sample grids and the report count them
    (Keras's CSVLogger writes its 0-based epoch index)."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)


class BudgetBar(keras.callbacks.Callback):
    """One progress line for a whole run, redrawn in place: how much of the budget (minutes, steps or
    epochs) is used, the epoch, and the validation RMSE. For notebooks, where Keras's bar would print
    a line per epoch of a run that has hundreds."""

    def __init__(self, minutes: float, max_steps: int, epochs: int, out=None, every: float = 0.5):
        super().__init__()
        self.minutes, self.max_steps, self.epochs = minutes, max_steps, epochs
        self.out, self.every = out, every
        self.start, self.shown, self.epoch, self.first_step, self.val = time.monotonic(), 0.0, 0, 0, ""

    def fraction(self, step: int) -> float:
        if self.minutes:
            return (time.monotonic() - self.start) / (60 * self.minutes)
        if self.max_steps:
            return step / self.max_steps
        return (self.epoch + 1) / self.epochs if self.epochs < UNTIL_BUDGET else 0.0

    def line(self, step: int) -> str:
        done = min(max(self.fraction(step), 0.0), 1.0)
        minutes = (time.monotonic() - self.start) / 60
        budget = f" of {self.minutes:g}" if self.minutes else ""
        bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
        steps = f"step {step} of {self.max_steps}" if self.max_steps else f"step {step}"
        return f"training [{bar}] {minutes:.1f}{budget} min{self.time_left(step)}, epoch {self.epoch + 1}, {steps}{self.val}"

    def time_left(self, step: int) -> str:
        """", about 2.4 min left" from this session's pace over the step budget (a resumed run counts
        from the step it resumed at); nothing before there is a pace to go by."""
        seconds = time.monotonic() - self.start
        ran = step - self.first_step
        if not self.max_steps or ran <= 0 or seconds < 1.0:
            return ""
        return f", about {max(self.max_steps - step, 0) * seconds / ran / 60:.1f} min left"

    def draw(self, end: str = "") -> None:
        print("\r" + self.line(int(self.model.g_optimizer.iterations)), end=end, file=self.out or sys.stdout,
              flush=True)

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.first_step = int(self.model.g_optimizer.iterations)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.shown >= self.every:
            self.shown = time.monotonic()
            self.draw()

    def on_epoch_end(self, epoch, logs=None):
        if "val_rmse" in (logs or {}):
            self.val = f", validation RMSE {float(logs['val_rmse']):.5f}"
        self.draw()

    def on_train_end(self, logs=None):
        self.draw(end="\n")

