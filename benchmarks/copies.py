"""`inpaint bench copies`: the calibration of copy detection (submission/copies.py) in docs/grader.md.

Given independently produced submissions on a set with answers, it measures the statistic for
every pair of them and for each one's closest mix of two others (none should be flagged), then
plants the disguised copies a student could make of each (verbatim, plus a constant, plus noise,
blurred, the average of two) and measures the statistic of each copy against its source(s), with
what the disguise costs in RMSE. Submissions too flat to be judged (a gray box in each image) are
listed as such, and no copy of them is planted: none would be judged either. No TensorFlow.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np

from submission import copies
from submission.csv_io import read_table
from submission.diagnose import table_images
from submission.errors import SubmissionError
from submission.scoring import rmse

CONSTANTS = (0.01, 0.03, 0.05)
NOISE = (0.01, 0.03, 0.05)
BLURS = (1.0, 2.5, 5.2, 8.5, 12.0)
MIX_WEIGHTS = (0.5, 0.3)


def disguises(pred: np.ndarray, seed: int) -> dict[tuple[str, str], np.ndarray]:
    """(kind, strength) -> a disguised copy of the (n, M, N) predictions, clipped to [0, 1] as a CSV holds them.

    The whole image is changed, as a student editing Predict.csv would; a blur uses OpenCV's
    reflected border.
    """
    rng = np.random.default_rng(seed)
    out = {("verbatim", "-"): pred.copy()}
    for c in CONSTANTS:
        out[("constant", f"+{c:g}")] = np.clip(pred + c, 0, 1)
    for s in NOISE:
        out[("noise", f"sd {s:g}")] = np.clip(pred + rng.normal(0, s, pred.shape), 0, 1)
    for s in BLURS:
        out[("blur", f"sigma {s:g} px")] = np.stack([cv2.GaussianBlur(p, (0, 0), s) for p in pred])
    return out


def read_submissions(paths: list[Path], names: list[str], shape: tuple[int, int]) -> tuple[dict[str, np.ndarray], list[str]]:
    """name -> (n, M, N) predictions of each readable CSV, and one line for each file left out."""
    preds, skipped = {}, []
    for path in paths:
        try:
            preds[Path(path).stem] = table_images(read_table(path), names, shape)
        except SubmissionError as exc:
            skipped.append(f"{path}: {exc}")
    return preds, skipped


PLANTED = "planted copy"
NOT_JUDGED = "not judged: flat boxes"


def calibrate(preds: dict[str, np.ndarray], answers: np.ndarray, mask: np.ndarray, seed: int = 0) -> list[dict]:
    """One row per measurement: independent pairs, each one's closest independent mix, planted copies."""
    feats = {name: copies.participant_features(p, mask) for name, p in preds.items()}
    truth = copies.box_features(answers, mask)
    flat = [name for name, f in feats.items() if not copies.is_judged(f)]
    rows = [_row(NOT_JUDGED, "-", name, np.inf) for name in flat]
    rows += [_row("independent pair", "-", " / ".join(f.names), f.ratio)
            for f in copies.find_copies(feats, truth, pair_limit=np.inf, mix_limit=-1)]
    rows += [_row("independent, closest mix", "-", f"{f.names[0]} ~ {1 - f.weight:.2f} {f.names[1]} + {f.weight:.2f} {f.names[2]}",
                  f.ratio) for f in copies.find_copies(feats, truth, pair_limit=-1, mix_limit=np.inf)]
    inside = mask > 0.5
    for i, (name, pred) in enumerate(preds.items()):
        if name in flat:
            continue
        base = rmse(pred, answers)
        for (kind, strength), copy in disguises(pred, seed + i).items():
            # The statistic sees only the box: a copier who changes nothing else pays less for it.
            rows.append(_row(kind, strength, f"copy of {name}", _statistic(copy, mask, {name: feats[name]}, truth),
                             rmse(copy, answers) - base, rmse(np.where(inside, copy, pred), answers) - base))
    for (a, pa), (b, pb) in itertools.combinations(preds.items(), 2):
        if a in flat and b in flat:
            continue  # their average is as flat
        for w in MIX_WEIGHTS:
            mix = (1 - w) * pa + w * pb
            rows.append(_row("average of two", f"w {w:g}", f"{1 - w:g} {a} + {w:g} {b}",
                             _statistic(mix, mask, {a: feats[a], b: feats[b]}, truth),
                             rmse(mix, answers) - min(rmse(pa, answers), rmse(pb, answers))))
    return rows


def _row(kind: str, strength: str, names: str, ratio: float, cost: float | None = None,
         box_cost: float | None = None) -> dict:
    """cost: what the disguise adds to the RMSE when applied to the whole image; box_cost: to the box only."""
    return {"kind": kind, "strength": strength, "names": names, "ratio": ratio, "RMSE cost": cost, "box-only cost": box_cost}


def _statistic(copy: np.ndarray, mask: np.ndarray, sources: dict[str, np.ndarray], truth: np.ndarray) -> float:
    """The statistic of a planted copy against its one source (a pair) or two (a mix), as find_copies computes it."""
    group = {**sources, PLANTED: copies.participant_features(copy, mask)}
    if len(sources) == 1:
        return copies.find_copies(group, truth, pair_limit=np.inf, mix_limit=-1)[0].ratio
    mixes = copies.find_copies(group, truth, pair_limit=-1, mix_limit=np.inf)
    return next((f.ratio for f in mixes if f.names[0] == PLANTED), np.inf)  # inf: the mix is too flat to judge


def summary(rows: list[dict]) -> list[dict]:
    """Per kind and strength: how many, the lowest, median and highest ratio, how many flagged (docs/grader.md)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["strength"]), []).append(row)
    out = []
    for (kind, strength), members in groups.items():
        ratios = np.array([m["ratio"] for m in members])
        limit = copies.PAIR_LIMIT if kind in ("independent pair", "verbatim", "constant", "noise", "blur") else copies.MIX_LIMIT
        out.append({"kind": kind, "strength": strength, "n": len(members), "lowest": float(ratios.min()),
                    "median": float(np.median(ratios)), "highest": float(ratios.max()),
                    "flagged": int((ratios < limit).sum()),
                    "RMSE cost": _median(members, "RMSE cost"), "box-only cost": _median(members, "box-only cost")})
    return out


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows]
    return None if None in values else float(np.median(values))
