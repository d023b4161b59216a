"""Curves of a run from its log (log.csv): the losses, and D's outputs on real and generated pairs."""
from __future__ import annotations

from pathlib import Path

from inpaint.imaging import save_figure


def loss_figure(log, out: Path) -> None:
    """Four panels from a training log (pandas DataFrame of log.csv): G adversarial, G L1, D, RMSE."""
    # A Figure of its own, not pyplot's: no display needed, and a notebook's pyplot backend and figures
    # are left as they were.
    from matplotlib.figure import Figure

    panels = [
        ("Generator adversarial loss (G_GAN)", ["G_GAN", "val_G_GAN"]),
        ("Generator L1 loss (G_L1)", ["G_L1", "val_G_L1"]),
        ("Discriminator losses", ["D_real", "D_fake", "val_D_real", "val_D_fake"]),
        ("RMSE in [0, 1] (what Kaggle scores)", ["rmse", "val_rmse"]),
    ]
    epoch = log["epoch"]  # counted from 1 (report.read_log)
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2)
    for ax, (title, columns) in zip(axes.flat, panels):
        for column in columns:
            if column in log:
                style = "--" if column.startswith("val_") else "-"
                label = column.replace("val_", "validation ") if column.startswith("val_") else f"training {column}"
                ax.plot(epoch, log[column], style, marker="o" if len(log) < 30 else None, label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if "RMSE" not in title else "RMSE")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, out)


def separation_figure(log, out: Path) -> bool:
    """D's mean output on real and generated pairs, training vs validation (inpaint/d_separation.py).

    Returns False, drawing nothing, for a log written before these columns existed.
    """
    columns = ["D_out_real", "D_out_fake", "val_D_out_real", "val_D_out_fake"]
    if not all(c in log for c in columns):
        return False
    from matplotlib.figure import Figure  # not pyplot: see loss_figure

    epoch = log["epoch"]  # counted from 1 (report.read_log)
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for column, color in zip(columns, ("tab:blue", "tab:red") * 2):
        pairs = "validation" if column.startswith("val_") else "training"
        kind = "real" if column.endswith("real") else "generated"
        ax.plot(epoch, log[column], "--" if pairs == "validation" else "-", color=color,
                marker="o" if len(log) < 30 else None, label=f"{pairs} pairs, {kind}")
    # Two lines: on one, the title ran past the figure's edges and was cut (issue 36).
    ax.set_title("Discriminator's mean output (real 1, generated 0)\ntraining and validation curves parting = "
                 "D memorising the training pairs", fontsize=9)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean D output")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, out)
    return True
