"""Every baseline on one data folder, scored on the answers when there are some."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from baselines import classical, pix2pix_lite
from submission import export_predictions


def image_metrics(preds: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict:
    """RMSE over all pixels (Kaggle's score), RMSE inside the mask, mean PSNR and SSIM per image."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    p, t = preds.astype(np.float64), truth.astype(np.float64)
    inside = mask > 0
    return {
        "RMSE": float(np.sqrt(np.mean((p - t) ** 2))),
        "RMSE in mask": float(np.sqrt(np.mean((p[inside] - t[inside]) ** 2))),
        # PSNR is infinite for a perfect image; cap at 100 dB so the mean stays a number.
        "PSNR": float(np.mean([min(peak_signal_noise_ratio(a, b, data_range=1.0), 100.0) for a, b in zip(t, p)])),
        "SSIM": float(np.mean([structural_similarity(a, b, data_range=1.0) for a, b in zip(t, p)])),
    }


def run_all(data, out: Path, iterations: int = pix2pix_lite.DECK_ITERATIONS, batch: int = pix2pix_lite.DECK_BATCH,
            seed: int = 0) -> pd.DataFrame:
    """Write OUT/<method>.csv for every baseline; return the table (metrics only with answers)."""
    out = Path(out)
    rows = []
    test, names = data.csv_test, data.test_white.names  # at the submission's size, as Kaggle scores
    white, mask = test.white, test.mask
    methods = [*classical.METHODS, "pix2pix-lite"]
    for method in methods:
        start = time.monotonic()
        if method == "pix2pix-lite":
            preds = pix2pix_lite.train_and_predict(data, out / "pix2pix_lite_run", iterations, batch, seed)
        else:
            preds = classical.run(method, white, mask)
        seconds = time.monotonic() - start
        csv = export_predictions(preds, names, out / f"{method}.csv")
        row = {"method": method, "csv": str(csv), "seconds": round(seconds, 1)}
        if test.real is not None:
            row.update(image_metrics(preds, test.real, mask))
        rows.append(row)
    table = pd.DataFrame(rows)
    if "RMSE" in table:
        table = table.sort_values("RMSE").reset_index(drop=True)
    return table
