"""Pictures of a run: sample grids (White | prediction | Real | error) and loss curves."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaint.imaging import metric_to_u8, save_figure

COLUMNS = ("White", "prediction", "Real", "|error|")
ERROR_FULL_SCALE = 0.5  # an absolute error of 0.5 (half the grey range) is shown as the hottest colour


def sample_grid(white: np.ndarray, pred: np.ndarray, real: np.ndarray, scale: int = 2) -> np.ndarray:
    """(n, M, N) arrays in [0, 1] -> a BGR uint8 grid, one example per row, with a header row."""
    rows = []
    for w, p, r in zip(white, pred, real):
        gray = [cv2.cvtColor(metric_to_u8(x), cv2.COLOR_GRAY2BGR) for x in (w, p, r)]
        error = cv2.applyColorMap(metric_to_u8(np.abs(p - r) / ERROR_FULL_SCALE), cv2.COLORMAP_INFERNO)
        cells = [*gray, error]
        rows.append(np.concatenate([_pad(c) for c in cells], axis=1))
    grid = np.concatenate(rows, axis=0)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return np.concatenate([_header(grid.shape[1], len(COLUMNS)), grid], axis=0)


def _pad(cell: np.ndarray, width: int = 1) -> np.ndarray:
    return cv2.copyMakeBorder(cell, width, width, width, width, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _header(width: int, columns: int, height: int = 22, scale_height: int = 16) -> np.ndarray:
    """Column names, and under |error| its colour scale: black at 0, the hottest colour at ERROR_FULL_SCALE
    and above, so the error panel can be read as numbers."""
    header = np.full((height + scale_height, width, 3), 255, np.uint8)
    step = width // columns
    for i, name in enumerate(COLUMNS):
        cv2.putText(header, name, (i * step + 4, height - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.35
    low, high = "0", f"{ERROR_FULL_SCALE:g}+"
    left = (columns - 1) * step + 4 + cv2.getTextSize(low, font, size, 1)[0][0] + 3
    right = columns * step - 4 - cv2.getTextSize(high, font, size, 1)[0][0] - 3
    if right - left >= 8:  # room for a readable bar (not on tiny test grids)
        ramp = np.linspace(0, 255, right - left).astype(np.uint8)[None, :].repeat(scale_height - 6, axis=0)
        header[height:height + scale_height - 6, left:right] = cv2.applyColorMap(ramp, cv2.COLORMAP_INFERNO)
        baseline = height + scale_height - 7
        cv2.putText(header, low, ((columns - 1) * step + 4, baseline), font, size, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(header, high, (right + 3, baseline), font, size, (0, 0, 0), 1, cv2.LINE_AA)
    return header


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
