"""Epoch headers: a time budget shows minutes used, not Keras's "Epoch 3/1000000"."""
import time

from inpaint.callbacks import EpochProgbar, Guard
from inpaint.config import UNTIL_BUDGET


def progbar(minutes, epochs):
    bar = EpochProgbar(Guard(max_steps=0, minutes=minutes))
    bar.set_params({"verbose": 2, "epochs": epochs, "steps": 10})
    return bar


def test_header_without_a_time_budget_is_keras_own():
    assert progbar(0, 200).header(3) == "Epoch 3/200"


def test_header_with_a_time_budget_shows_minutes_used_and_no_huge_epoch_count():
    bar = progbar(20, UNTIL_BUDGET)
    bar.guard.deadline = time.monotonic() + 15.9 * 60  # 4.1 of 20 minutes used
    assert bar.header(3) == "Epoch 3 (4.1 of 20 min)"
    both = progbar(0.5, 50)
    assert both.header(1) == "Epoch 1/50 (0.0 of 0.5 min)"


def test_one_header_per_epoch_and_none_when_silent(capsys):
    bar = progbar(20, UNTIL_BUDGET)
    bar.on_epoch_begin(0)
    assert capsys.readouterr().out == "Epoch 1 (0.0 of 20 min)\n"
    quiet = EpochProgbar(Guard(0, 20))
    quiet.set_params({"verbose": 0, "epochs": UNTIL_BUDGET, "steps": 10})
    quiet.on_epoch_begin(0)
    assert capsys.readouterr().out == ""
