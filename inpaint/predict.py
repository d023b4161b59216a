"""Trained generator -> inpainted test images in metric space, PNGs, and the submission CSV."""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from inpaint import imaging
from inpaint.config import Config
from inpaint.data import Dataset
from inpaint.errors import DataError
from inpaint.masks import composite
from inpaint.train import checkpoint_generators, load_generator


def inpaint_images(
    generator: keras.Model, white: np.ndarray, mask: np.ndarray, use_composite: bool = True, tta_flip: bool = True
) -> np.ndarray:
    """(n, M, N) White images and masks in [0, 1] -> (n, M, N) predictions in [0, 1].

    With `tta_flip` the generator also sees each face mirrored and the two outputs are
    averaged: faces are nearly symmetric, so this cancels part of the generator's noise.
    """
    x = imaging.to_model(white[..., None].astype(np.float32))
    generated = np.asarray(generator.predict(x, verbose=0, batch_size=16), dtype=np.float32)
    if tta_flip:
        mirrored = np.asarray(generator.predict(x[:, :, ::-1], verbose=0, batch_size=16), dtype=np.float32)
        generated = 0.5 * (generated + mirrored[:, :, ::-1])
    if use_composite:
        generated = composite(generated, x, mask[..., None])
    return imaging.to_metric(generated[..., 0])


def average_checkpoints(generator: keras.Model, run: Path, last_k: int) -> int:
    """Load into `generator` the mean of the last k checkpoints' weights; returns how many were used."""
    snapshots = checkpoint_generators(run, last_k)
    if snapshots:
        generator.set_weights([np.mean(ws, axis=0) for ws in zip(*snapshots)])
    return len(snapshots)


def predict_run(run: Path, data: Dataset, tta_flip: bool | None = None, average_last: int | None = None) -> np.ndarray:
    """Predictions for the data set's test images with the run's generator, (n, M, N) in [0, 1]."""
    generator, cfg = load_generator(run)
    _check_size(cfg, data)
    k = cfg.average_last if average_last is None else average_last
    if k > 1:
        average_checkpoints(generator, run, k)
    flip = cfg.tta_flip if tta_flip is None else tta_flip
    return inpaint_images(generator, data.test_white.images, data.test_mask, cfg.composite, flip)


def validation_rmse(run: Path, data: Dataset, tta_flip: bool, average_last: int = 1, which: str = "best") -> float:
    """RMSE on the run's held-out validation pairs for one way of predicting (to choose the defaults)."""
    from inpaint.pipeline import split_indices

    generator, cfg = load_generator(run, which=which)
    if average_last > 1:
        average_checkpoints(generator, run, average_last)
    _, val = split_indices(len(data.train_real.names), cfg.val_fraction, cfg.seed)
    preds = inpaint_images(generator, data.train_white.images[val], data.train_mask[val], cfg.composite, tta_flip)
    diff = preds.astype(np.float64) - data.train_real.images[val]
    return float(np.sqrt(np.mean(diff * diff)))


def _check_size(cfg: Config, data: Dataset) -> None:
    if tuple(cfg.image_size) != tuple(data.size):
        raise DataError(f"the run was trained at {cfg.image_size} but the data was read at {data.size}; pass --size")


def write_pngs(out_dir: Path, names: list[str], images: np.ndarray) -> list[Path]:
    """One PNG per test image, named like it, so `inpaint export` can turn the folder into a CSV."""
    paths = [Path(out_dir) / f"{name}.png" for name in names]
    for path, img in zip(paths, images):
        imaging.write_png(path, img)
    return paths
