"""A run folder's generator -> inpainted images in [0, 1] at the submission's size, and PNGs of them.

The submission CSV is written from these arrays by submission/csv_io.py (`inpaint submit`); here are
the ways of predicting (best or last generator, flip averaging, checkpoint averaging), their comparison
on the validation pairs, and the check of the kept generator against the classical fill.
"""
from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from inpaint import crops, imaging
from inpaint.classical_fill import opencv_fill
from inpaint.config import Config
from inpaint.data import Dataset
from inpaint.masks import composite
from inpaint.run_folder import checkpoint_generators, checkpoint_paths, load_config, load_generator, read_state
from submission.scoring import rmse


def inpaint_images(
    generator: keras.Model, white: np.ndarray, mask: np.ndarray, use_composite: bool = True, tta_flip: bool = True,
    names: list[str] | None = None,
) -> np.ndarray:
    """(n, M, N) White images and masks in [0, 1] -> (n, M, N) predictions in [0, 1].

    With `tta_flip` the generator also sees each face mirrored and the two outputs are
    averaged: faces are nearly symmetric, so this cancels part of the generator's noise.
    A generator trained on windows around the box (`crop_size`) sees the centred window of
    each face, and its output is pasted back; outside the window the prediction is White.
    """
    x = imaging.to_model(white[..., None].astype(np.float32))
    m = mask[..., None].astype(np.float32)
    window = tuple(generator.inputs[0].shape[1:3])
    corners = None
    if window != x.shape[1:3]:
        crops.check_fits(mask, window, names or [f"image {i + 1}" for i in range(len(mask))], "of these")
        corners = crops.windows(mask, window)
        inputs = crops.cut(x, corners, window)
    else:
        inputs = x
    generated = np.asarray(generator.predict(inputs, verbose=0, batch_size=16), dtype=np.float32)
    if tta_flip:
        mirrored = np.asarray(generator.predict(inputs[:, :, ::-1], verbose=0, batch_size=16), dtype=np.float32)
        generated = 0.5 * (generated + mirrored[:, :, ::-1])
    if corners is not None:
        generated = crops.paste(x, generated, corners)
    if use_composite:
        generated = composite(generated, x, m)
    return imaging.to_metric(generated[..., 0])


def spaced_checkpoints(paths: list[str], k: int, min_gap: int) -> list[str]:
    """The last k of `paths` (`.../ckpt-STEP`, oldest first) at least `min_gap` steps apart, the newest kept.

    A run stopped by its budget one step into an epoch saves a checkpoint one step after the previous
    one: averaging those two would average one generator with itself."""
    chosen, last = [], None
    for path in reversed(paths):
        step = checkpoint_steps([path])[0]
        if last is None or last - step >= min_gap:
            chosen.append(path)
            last = step
        if len(chosen) == k:
            break
    return chosen[::-1]


def checkpoint_steps(paths: list[str]) -> list[int]:
    return [int(p.rsplit("-", 1)[1]) for p in paths]


def averaged_checkpoints(run: Path, last_k: int) -> list[str]:
    """The checkpoints that checkpoint averaging uses: the last k, each at least half an epoch apart."""
    half_epoch = math.ceil(read_state(run).get("train_pairs", 0) / load_config(run).batch_size) // 2
    return spaced_checkpoints(checkpoint_paths(run), last_k, half_epoch)


def average_checkpoints(generator: keras.Model, run: Path, last_k: int) -> int:
    """Load into `generator` the mean of the last k checkpoints' weights (`averaged_checkpoints`); returns
    how many were used."""
    snapshots = checkpoint_generators(run, averaged_checkpoints(run, last_k))
    if snapshots:
        generator.set_weights([np.mean(ws, axis=0) for ws in zip(*snapshots)])
    return len(snapshots)


def to_csv_size(preds: np.ndarray, data: Dataset, use_composite: bool = True) -> np.ndarray:
    """Predictions at the working size -> at the size of `data.csv_test` (the test images' own).

    Only the box is enlarged from the model's output; every other pixel is the full-size White
    image itself, so the known pixels lose nothing to the round trip through the working size.
    """
    target = data.csv_test
    if target.white.shape == preds.shape:
        return preds
    enlarged = np.stack([imaging.resize_metric(p, target.white.shape[1:]) for p in preds])
    return composite(enlarged, target.white, target.mask) if use_composite else enlarged


def trained_generator(run: Path, which: str = "best", average_last: int = 1) -> tuple[keras.Model, Config]:
    """The run's generator: the best by validation RMSE, the last checkpoint, or (average_last > 1)
    the mean of the last k checkpoints' weights."""
    generator, cfg = load_generator(run, which="last" if average_last > 1 else which)
    if average_last > 1:
        average_checkpoints(generator, run, average_last)
    return generator, cfg


def _test_predictions(generator: keras.Model, cfg: Config, data: Dataset, tta_flip: bool) -> np.ndarray:
    data.check_read_as(cfg, "the run was trained")
    preds = inpaint_images(generator, data.test_white.images, data.test_mask, cfg.composite, tta_flip,
                           data.test_white.names)
    return to_csv_size(preds, data, cfg.composite)


def _validation_pairs(cfg: Config, data: Dataset) -> np.ndarray:
    from inpaint.pipeline import split_indices

    data.check_read_as(cfg, "the run was trained")
    return split_indices(len(data.train_real.names), cfg.val_fraction, cfg.seed)[1]


def _validation_rmse(generator: keras.Model, cfg: Config, data: Dataset, tta_flip: bool) -> float:
    val = _validation_pairs(cfg, data)
    preds = inpaint_images(generator, data.train_white.images[val], data.train_mask[val], cfg.composite, tta_flip)
    return rmse(preds, data.train_real.images[val])


CLASSICAL = "telea"  # the classical fill a trained generator must beat


def kept_against_classical(run: Path, data: Dataset) -> dict:
    """Validation RMSE of the generator `submit` predicts with, beside OpenCV Telea's on the same pairs.

    The run's own held-out pairs, at the working size, composited; the generator as `predict_run`
    uses it (the best, or the mean of the last checkpoints, and flip averaging, as configured).
    """
    cfg = load_config(run)
    generator, cfg = trained_generator(run, "best", cfg.average_last)
    val = _validation_pairs(cfg, data)
    white, mask, real = data.train_white.images[val], data.train_mask[val], data.train_real.images[val]
    kept = _validation_rmse(generator, cfg, data, cfg.tta_flip)
    classical = rmse(opencv_fill(white, mask, CLASSICAL), real)
    return {"kept_val_rmse": kept, "classical": CLASSICAL, "classical_val_rmse": classical, "val_pairs": len(val),
            "better": bool(kept < classical)}


def classical_verdict(check: dict) -> str:
    """One plain line on `kept_against_classical`'s figures, and what to do when the run is not yet better."""
    figures = (f"validation RMSE {check['kept_val_rmse']:.5f} against OpenCV Telea's {check['classical_val_rmse']:.5f} "
               f"on the same {check['val_pairs']} held-out pairs")
    if check["better"]:
        return f"the kept generator beats the classical fill: {figures}"
    return (f"WARNING: the kept generator is NOT better than the classical fill: {figures}. A submission from this "
            "run would score worse than `inpaint baseline telea`. Train longer (resume this run with --resume and a "
            "new --minutes or --steps budget), and look at the sample grids and loss curves (inpaint report) "
            "before submitting. With the standard preset the test RMSE was below Telea's after 500 steps on every "
            "real photo set measured (docs/student.md, How long to train).")


def predict_run(run: Path, data: Dataset, tta_flip: bool | None = None, average_last: int | None = None,
                which: str = "best") -> np.ndarray:
    """Predictions for the data set's test images with the run's generator, (n, H, W) in [0, 1].

    H x W is the submission size (`Dataset.csv_test`), whatever size the model works at.
    Options left at None take the run's config (`tta_flip`, `average_last`).
    """
    cfg = load_config(run)
    generator, cfg = trained_generator(run, which, cfg.average_last if average_last is None else average_last)
    return _test_predictions(generator, cfg, data, cfg.tta_flip if tta_flip is None else tta_flip)


# (generator, flip averaging, checkpoints averaged): the ways of predicting `compare_predictions` weighs.
VARIANTS = (("best", False, 1), ("best", True, 1), ("last", False, 1), ("last", True, 1),
            ("last", True, 2), ("last", True, 3))


def compare_predictions(run: Path, data: Dataset) -> list[dict]:
    """Validation RMSE (and test RMSE when the answers are known) of each way of predicting.

    Validation favours "best", which was chosen on it; the test column, when there is one, does not.
    """
    rows = []
    for which, flip, k in VARIANTS:
        label = {"best": "best by validation RMSE", "last": "last checkpoint"}[which]
        if k > 1:  # the steps say which checkpoints were averaged: they are kept at least half an epoch apart
            steps = checkpoint_steps(averaged_checkpoints(run, k))
            label = f"mean of {len(steps)} checkpoints (steps {', '.join(map(str, steps))})"
        row = {"generator": label, "flip averaging": "on" if flip else "off"}
        if any(r["generator"] == label and r["flip averaging"] == row["flip averaging"] for r in rows):
            continue  # fewer checkpoints that far apart than asked for: the same average as the row above
        generator, cfg = trained_generator(run, which, k)
        row["validation RMSE"] = _validation_rmse(generator, cfg, data, flip)
        if data.csv_test.real is not None:
            row["test RMSE"] = rmse(_test_predictions(generator, cfg, data, flip), data.csv_test.real)
        rows.append(row)
    return rows


def write_pngs(out_dir: Path, names: list[str], images: np.ndarray) -> list[Path]:
    """One PNG per test image, named like it, so `inpaint export` can turn the folder into a CSV."""
    paths = [Path(out_dir) / f"{name}.png" for name in names]
    for path, img in zip(paths, images):
        imaging.write_png(path, img)
    return paths
