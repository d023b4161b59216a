"""A worker that waits too long for the others stops the job, instead of hanging in a collective forever.

Why a watchdog and not CommunicationOptions(timeout_seconds=...): TensorFlow arms each
collective's timeout with a thread that sleeps for the whole timeout, one per all-reduce. A
training step all-reduces every gradient, so with a 300 s timeout a 2-worker run of the standard
preset held about 15,000 threads per process after a few minutes and aborted ("Resource
temporarily unavailable"). One thread that watches the time since the last finished step costs
nothing per step. A worker whose process dies is noticed sooner still: its sockets close and the
next all-reduce fails, or MultiWorkerMirroredStrategy's health check of its peers aborts.
"""
from __future__ import annotations

import threading
import time

import keras
import tensorflow as tf


def abort_collectives(message: str) -> None:
    # The call MultiWorkerMirroredStrategy's own health check makes when a peer is down: every
    # pending and future collective of this process fails with DeadlineExceededError.
    from tensorflow.python.eager import context

    context.context().abort_collective_ops(tf.errors.DEADLINE_EXCEEDED, message)


class StepWatchdog(keras.callbacks.Callback):
    """Calls `on_timeout(message)` once when no train or validation step has finished for `timeout` s.

    The first step's allowance is the same timeout, so it must cover tracing the model.
    """

    def __init__(self, timeout: float, on_timeout=abort_collectives, poll_seconds: float = 1.0):
        super().__init__()
        self.timeout, self.on_timeout, self.poll_seconds = timeout, on_timeout, poll_seconds
        self.last_progress = time.monotonic()
        self.fired = False
        self._stop = threading.Event()
        self._thread = None

    def _progress(self, *args, **kwargs):
        self.last_progress = time.monotonic()

    on_train_batch_end = on_test_batch_end = on_epoch_end = _progress

    def on_train_begin(self, logs=None):
        self._progress()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="inpaint-step-watchdog", daemon=True)
        self._thread.start()

    def on_train_end(self, logs=None):
        self._stop.set()

    def _watch(self):
        while not self._stop.wait(self.poll_seconds):
            idle = time.monotonic() - self.last_progress
            if idle > self.timeout:
                self.fired = True
                self.on_timeout(f"no training step finished for {idle:.0f} s (--collective-timeout {self.timeout:g}): "
                                "a worker hangs or is gone")
                return
