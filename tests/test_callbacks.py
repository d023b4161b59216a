"""Epoch headers: a time budget shows minutes used, not Keras's "Epoch 3/1000000"."""
import io
import time
from types import SimpleNamespace

import numpy as np

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


def test_an_epoch_cut_short_by_the_budget_shows_the_steps_it_ran(capsys):
    """The last epoch of a budget used to show "17/17" when one step ran."""
    bar = progbar(20, UNTIL_BUDGET)
    bar.set_params({"verbose": 2, "epochs": UNTIL_BUDGET, "steps": 17})
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(0, {"G_L1": 0.5})
    bar.on_epoch_end(0, {"G_L1": 0.5})
    out = capsys.readouterr().out
    assert "\n 1/17 - " in out and "17/17" not in out
    bar.on_epoch_begin(1)
    for step in range(17):
        bar.on_train_batch_end(step, {"G_L1": 0.5})
    bar.on_epoch_end(1, {"G_L1": 0.5})
    assert "17/17 - " in capsys.readouterr().out


def test_budget_bar_fills_with_the_budget_it_trains_to():
    from inpaint.callbacks import BudgetBar

    steps = BudgetBar(minutes=0, max_steps=30, epochs=UNTIL_BUDGET)
    assert steps.line(15).startswith("training [" + "#" * 15 + "." * 15 + "] 0.0 min, epoch 1, step 15")
    out = io.StringIO()
    epochs = BudgetBar(minutes=0, max_steps=0, epochs=4, out=out)
    epochs.set_model(SimpleNamespace(g_optimizer=SimpleNamespace(iterations=np.int64(99))))
    epochs.on_epoch_begin(2)
    epochs.on_epoch_end(2, {"val_rmse": 0.031234})
    assert out.getvalue() == "\r" + epochs.line(99)  # redrawn in place: no new line until training ends
    assert "#" * 22 + "." * 8 in epochs.line(99) and epochs.line(99).endswith("epoch 3, step 99, validation RMSE 0.03123")
    clock = BudgetBar(minutes=20, max_steps=0, epochs=UNTIL_BUDGET)
    clock.start = time.monotonic() - 5 * 60
    assert clock.line(7).startswith("training [" + "#" * 7 + "." * 23 + "] 5.0 of 20 min")
