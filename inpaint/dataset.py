"""What a data folder holds once checked and read (inpaint/data.py reads it), how it was read, and
what `inpaint check-data` says about it."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inpaint import masks
from inpaint.errors import DataError
from submission.test_images import TestImages


@dataclass
class ImageSet:
    """Images of one role, in natural order of their names, as (n, M, N) float32 in [0, 1]."""

    names: list[str]
    images: np.ndarray


@dataclass(repr=False)
class Dataset:
    """What a data folder holds once checked and read. `train_*` share names; so do `test_*`.

    The model works at `size`; `csv_test` holds the test images at their own size when they all
    share one, since Kaggle's solution is built from the answers as they are. When the test
    images are `size` already (the course set, generated sets), it is the same arrays.
    """

    size: tuple[int, int]
    train_real: ImageSet | None = None
    train_white: ImageSet | None = None
    train_mask: np.ndarray | None = None
    test_white: ImageSet | None = None
    test_mask: np.ndarray | None = None
    test_real: ImageSet | None = None  # the answers, on graders' copies and generated sets
    csv_test: TestImages | None = None  # the test images at the submission's size, with their boxes
    train_boxes: np.ndarray | None = None  # (n, 4) painted boxes (top, left, bottom, right), from the pairs
    test_boxes: np.ndarray | None = None  # (n, 4) chosen with the training boxes as a guide
    unlike_boxes: dict = field(default_factory=dict)  # test image name -> why its box looks unlike training's
    facts: dict = field(default_factory=dict)  # sizes, formats, mask areas: what check-data prints
    folder: Path | None = None  # the data folder, as it was given
    mask_threshold: float = masks.DEFAULT_THRESHOLD  # how the masks were found (config keys of the same names)
    mask_grow: int = 1

    def check_read_as(self, cfg, purpose: str) -> None:
        """A DataError unless this set was read at the config's image_size, mask_threshold and mask_grow:
        a run's config.toml must say how its data was read. `purpose`: "this run trains", ..."""
        read = {"image_size": tuple(self.size), "mask_threshold": self.mask_threshold, "mask_grow": self.mask_grow}
        differ = [key for key, value in read.items() if value != (tuple(cfg.image_size) if key == "image_size"
                                                                    else getattr(cfg, key))]
        if differ:
            said = ", ".join(f"{key} = {getattr(cfg, key)}" for key in differ)
            seen = ", ".join(f"{key} = {read[key]}" for key in differ)
            raise DataError(f"{purpose} with {said} but the data was read with {seen}; read it with the "
                            "run's values (--size, --mask-threshold; the run's config.toml says them)")

    def __repr__(self) -> str:
        """What check-data prints, so a notebook cell that ends with the data set shows what it holds."""
        return "\n".join([f"Dataset {self.folder}:"] + [f"  {key}: {value}" for key, value in self.facts.items()])


def mask_agreement(ds: Dataset, threshold: float = masks.DEFAULT_THRESHOLD) -> tuple[int, list[str]]:
    """How many training pairs the test-image finder gets right (within a pixel of the pair's own box),
    each judged with the other pairs' boxes as its guide; and the names it gets wrong."""
    known, wrong = ds.train_boxes, []
    for i, (name, img) in enumerate(zip(ds.train_white.names, ds.train_white.images)):
        box, _ = masks.choose_box(img, np.delete(known, i, axis=0), threshold)
        if box is None or np.abs(np.asarray(box) - known[i]).max() > 1:
            wrong.append(name)
    return len(known) - len(wrong), wrong


def describe(ds: Dataset, formats: Counter) -> dict:
    """What check-data prints (and a notebook shows): sizes, formats, counts, the CSV shape, mask areas."""
    facts = {
        "size": f"{ds.size[0]}x{ds.size[1]}",
        "native sizes and formats": dict(formats.most_common()),
        "training pairs": len(ds.train_real.names) if ds.train_real else 0,
        "test images": len(ds.test_white.names) if ds.test_white else 0,
        "test answers": "yes" if ds.test_real is not None else "no",
    }
    if ds.csv_test is not None:
        n, rows, cols = ds.csv_test.white.shape
        facts["submission CSV"] = f"{rows * cols} rows ({rows}x{cols} pixels) x {n} image columns"
    for label, mask in (("training", ds.train_mask), ("test", ds.test_mask)):
        if mask is not None and len(mask):
            area = mask.reshape(len(mask), -1).mean(axis=1) * 100
            facts[f"{label} mask area % (min/median/max)"] = (
                f"{area.min():.1f} / {np.median(area):.1f} / {area.max():.1f}"
            )
    return facts
