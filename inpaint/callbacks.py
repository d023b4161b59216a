"""Keras callbacks of a training run: budgets and NaN guard, per-epoch checkpoint, sample grids."""
from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inpaint.config import UNTIL_BUDGET
from inpaint.imaging import to_metric, write_png
from inpaint.pipeline import model_inputs
from inpaint.visuals import sample_grid


class Guard(keras.callbacks.Callback):
    """Stops at the end of the step where a budget (steps, minutes) is reached, or on a NaN loss."""

    def __init__(self, max_steps: int, minutes: float, decide=None):
        super().__init__()
        self.max_steps, self.minutes = max_steps, minutes
        # `decide` turns "my time is up" into the cluster's answer (inpaint/distribute.py ChiefDecides),
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

    def header(self, epoch: int) -> str:
        text = f"Epoch {epoch}" if self.epochs >= UNTIL_BUDGET else f"Epoch {epoch}/{self.epochs}"
        if self.guard.deadline is None:
            return text
        used = self.guard.minutes - (self.guard.deadline - time.monotonic()) / 60
        return f"{text} ({max(used, 0.0):.1f} of {self.guard.minutes:g} min)"


class SampleGrid(keras.callbacks.Callback):
    """Every `every` epochs: a grid of fixed validation examples to RUN/samples/ and to TensorBoard."""

    def __init__(self, white, real, mask, out_dir: Path, log_dir: Path, every: int, filled=None):
        super().__init__()
        self.inputs = model_inputs(white, mask, filled)  # `filled`: White with its box prefilled, if the run has it
        self.white, self.real = white, real
        self.out_dir, self.every = Path(out_dir), max(1, every)
        self.writer = tf.summary.create_file_writer(str(Path(log_dir) / "samples"))

    def predict(self) -> np.ndarray:
        """The fixed faces inpainted by the generator that validates and predicts (the weight average
        when there is one), so the grids show what a submission would hold."""
        out = self.model(self.inputs, training=False, generator=self.model.inference_generator)
        return to_metric(np.asarray(out)[..., 0])

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or not all(math.isfinite(float(v)) for v in (logs or {}).values()):
            return  # a NaN epoch would draw a black or garbage grid
        grid = sample_grid(self.white, self.predict(), self.real)
        write_png(self.out_dir / f"epoch_{epoch + 1:04d}.png", grid)
        with self.writer.as_default():
            tf.summary.image("samples (White | prediction | Real | error)", grid[None, ..., ::-1], step=epoch + 1)
