"""Copied submissions: participants whose predictions inside the mouth boxes are far closer to
each other than independently trained models' are.

Outside the boxes everyone has the answer (the White image), so only box pixels are compared. Inside
them each prediction is smoothed (a Gaussian over box pixels only, its sigma a quarter of the
box's height: 8 pixels for a 33-pixel mouth box at 128 x 128) and one offset over all boxes is
removed: pixel noise and an added constant, cheap disguises of a copy, nearly vanish, while what
tells two trainings apart (where the lips, teeth and shadows are) stays. A blurred copy is met by
blurring the other side of each pair as much (BLURS), and an average of two others by comparing
each participant with the closest mix of two others. A distance is then put over the smaller of
the two errors (distances to the answers, measured the same way): two good models are
necessarily close to each other, a copy is close for its error. It is also put over the more that
either of the two adds beyond a plane fitted to each of its boxes (a gray box, a gradient) when that
is smaller: two weak fills are close to each other because both are nearly flat, a copy is close for
what its source adds (a copy must reproduce it; the distance is at least the difference of the two). A
submission whose boxes add next to nothing beyond their planes (FLAT_ADDED) is not judged: nothing
in it tells two students apart. The limits come from the calibration in docs/grader.md
(`inpaint bench copies`). Flags inform the grader; they never change a score.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

SMOOTH_SHARE = 1 / 4  # sigma / the box's shorter side (its height): white noise keeps ~4% of its size
# The blurs a copier may apply (Gaussian sigma, pixels), each tried on either side of every pair.
# Squares about evenly spaced: a blur between two of them is matched as closely at 8 px as at 1.5.
# Up to 10 px: blurring a copy's box by up to 10 px still lowered its RMSE on every measured set
# (it smooths a training's mistakes), more no longer paid (docs/grader.md, calibration).
BLURS = tuple(round(float(np.sqrt(v)), 2) for v in (1, 2, 4, 6, 9, 12, 16, 20, 25, 30, 36, 42, 49, 56, 64, 72, 81, 90, 100))
PAIR_LIMIT = 0.10  # distance / smaller error below this: a copy (calibration, docs/grader.md)
MIX_LIMIT = 0.07  # lower: a mix has more freedom (every two others, any weight), so chance comes closer
FLAT_SPREAD = 1e-3  # box contents one constant overall (identity, constant fill): not compared
# Below this RMS beyond each box's plane (smoothed as the features are) a submission is not judged: a gray
# or gradient box per image. An undertrained pix2pix-lite (300 iterations) adds 0.0045, Telea 0.026
# (docs/grader.md, calibration); 8-bit rounding (sd 0.0011) keeps about 4% of itself after the smoothing.
FLAT_ADDED = 1e-3
IDENTICAL = 1e-6  # distances below this are the rounding of a CSV's 9 digits


@dataclass(frozen=True)
class CopyFlag:
    """`names[0]` and `names[1]` look copied (either way round), or `names[0]` a mix of `names[1:]`."""

    names: tuple[str, ...]
    ratio: float  # distance / the smaller error, the statistic compared with the limit
    distance: float  # RMSE between the two (or to the mix), smoothed box pixels
    error: float  # the smaller of their errors, smoothed box pixels
    weight: float = 0.0  # in a mix, the share of names[2]
    blur: float = 0.0  # pixels of Gaussian blur that bring the pair closest (0: as submitted)
    blurred: str = ""  # whose predictions were blurred: the sharper one, the likely original
    added: float = float("inf")  # the more either adds beyond a plane in each box (the accused one's, for a mix)

    @property
    def is_mix(self) -> bool:
        return len(self.names) == 3

    def sentence(self) -> str:
        """What the grader reads: who, how close, and against which yardstick."""
        where = "inside the mouth boxes (smoothed, one offset removed)"
        share = f"{100 * self.ratio:.1f}% of the smaller of their errors ({self.error:.4f})"
        if self.added < self.error:
            whose = "what it adds" if self.is_mix else "the more of what they add"
            share = f"{100 * self.ratio:.1f}% of {whose} beyond a flat fill of each box ({self.added:.4f})"
        if self.is_mix:
            c, a, b = self.names
            return (f"{c} looks like a mix of {a} and {b} ({1 - self.weight:.2f} x {a} + {self.weight:.2f} x {b}): "
                    f"{where} it is {self.distance:.4f} (RMSE) from that mix, {share}; flagged below {100 * MIX_LIMIT:.0f}%")
        a, b = self.names
        if self.blur:
            other = b if self.blurred == a else a
            return (f"{other} looks like a blurred copy of {self.blurred}: {where} {other}'s predictions and "
                    f"{self.blurred}'s blurred by {self.blur:g} px differ by {self.distance:.4f} (RMSE), {share}; "
                    f"flagged below {100 * PAIR_LIMIT:.0f}%")
        # Training is repeatable on CPU: one command, seed and budget give the same file twice.
        close = ("are identical (as two runs of one command with the same seed and budget also are)"
                 if self.distance < IDENTICAL else f"differ by {self.distance:.4f} (RMSE), {share}")
        return f"{a} and {b} look copied: {where} their predictions {close}; flagged below {100 * PAIR_LIMIT:.0f}%"


def box_features(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, M, N) images and masks -> the box pixels of every image, smoothed from box pixels only, float64."""
    parts = [_box_cells(image, m) for image, m in zip(np.asarray(images, np.float64), np.asarray(mask) > 0.5) if m.any()]
    return np.concatenate(parts) if parts else np.zeros(0)


def _box_cells(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """One image's box, smoothed by a normalized convolution and read every sigma/2 pixels.

    Pixels outside the box weigh nothing, so a constant added inside the box stays a constant and
    the White pixels around it never leak in. A Gaussian of that sigma leaves nothing finer than
    sigma/2 to read (a 33 x 54 box keeps 9 x 14 values).
    """
    rows, cols = np.nonzero(inside)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    weight = inside[box].astype(np.float64)
    sigma = SMOOTH_SHARE * min(weight.shape)
    smooth = lambda x: cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    step = max(1, int(sigma / 2))
    read = np.zeros(weight.shape, bool)
    read[::step, ::step] = True
    return (smooth(image[box] * weight) / smooth(weight))[read & (weight > 0)]


def participant_features(images: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(2 + len(BLURS), K): `box_features` of the predictions as submitted, then blurred (the whole
    image, as a copier would blur it) by each of BLURS, then of what they add beyond a plane fitted
    to each box (`_beyond_plane`), the measure of how much there is to tell two submissions apart.

    Only a window around each box is blurred: OpenCV's kernel reaches 4 sigma, so the box's pixels
    come out as from the whole image (the window's edges are the image's, or farther than that).
    """
    reach = int(np.ceil(4 * max(BLURS))) + 2
    parts = [[] for _ in range(2 + len(BLURS))]
    for image, m in zip(np.asarray(images, np.float64), np.asarray(mask) > 0.5):
        rows, cols = np.nonzero(m)
        if not len(rows):
            continue
        window = (slice(max(rows.min() - reach, 0), rows.max() + 1 + reach),
                  slice(max(cols.min() - reach, 0), cols.max() + 1 + reach))
        crop, inside = image[window], m[window]
        parts[0].append(_box_cells(crop, inside))
        for j, sigma in enumerate(BLURS, 1):
            parts[j].append(_box_cells(cv2.GaussianBlur(crop, (0, 0), sigma), inside))
        parts[-1].append(_box_cells(_beyond_plane(crop, inside), inside))
    return np.array([np.concatenate(p) if p else np.zeros(0) for p in parts])


def _beyond_plane(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The image minus the least-squares plane a + b row + c column of its box pixels: 0 for a gray or
    gradient box, the lips, teeth and shadows of a real prediction. Linear, so the smoothing after it
    leaves a plane's residual 0 too."""
    rows, cols = np.nonzero(inside)
    design = np.stack([np.ones(len(rows)), rows, cols], axis=1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, image[rows, cols], rcond=None)
    grid_rows, grid_cols = np.indices(image.shape)
    return image - (coef[0] + coef[1] * grid_rows + coef[2] * grid_cols)


def is_judged(features: np.ndarray) -> bool:
    """Whether `participant_features` hold enough beyond each box's plane to be compared (FLAT_ADDED)."""
    rows = np.atleast_2d(features)
    return np.std(rows[0]) >= FLAT_SPREAD and _added(rows, len(BLURS)) >= FLAT_ADDED


def _added(row: np.ndarray, blurs: int) -> float:
    """RMS of what a participant's boxes add beyond their planes; inf for features without that row
    (a 1-D `box_features`), which are judged by their error alone."""
    return float(np.sqrt(np.mean(row[-1] ** 2))) if len(row) >= 2 + blurs and row.shape[1] else float("inf")


def _ratio(distance: np.ndarray, error: np.ndarray) -> np.ndarray:
    """distance / error; 0 where both are 0 (two perfect copies of the answers), inf where only the error is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(distance == 0, 0.0, distance / error)


def _errors(rows: list[np.ndarray], truth: np.ndarray) -> np.ndarray:
    """Each participant's features minus the answers', one offset each removed: (P, K) float64."""
    stacked = np.stack(rows).astype(np.float64)
    return stacked - stacked.mean(axis=1, keepdims=True) - (truth - truth.mean())


def find_copies(features: Mapping[str, np.ndarray], answers: np.ndarray,
                pair_limit: float = PAIR_LIMIT, mix_limit: float = MIX_LIMIT) -> list[CopyFlag]:
    """Every pair closer than `pair_limit`, and for each other participant the closest mix of two
    others when it is closer than `mix_limit`. Closest first.

    features: participant -> `participant_features` of their chosen submission (one per
    participant, so nobody is compared with themselves), or a 1-D `box_features` (no blur tried,
    judged by the errors alone); answers: `box_features` of the answers. A participant whose boxes
    add less than FLAT_ADDED beyond their planes is never accused (`is_judged`); they may be one
    side of another's mix.
    """
    rows = {n: np.atleast_2d(f) for n, f in features.items()}
    names = [n for n, f in rows.items() if np.std(f[0]) >= FLAT_SPREAD]
    if len(names) < 2:
        return []
    truth = np.asarray(answers, np.float64)
    errors = _errors([rows[n][0] for n in names], truth)
    gram = errors @ errors.T / errors.shape[1]  # every distance and error below comes from it
    own = np.diag(gram).copy()
    error = np.sqrt(own)
    added = np.array([_added(rows[n], len(BLURS)) for n in names])
    judged = added >= FLAT_ADDED  # the others may be part of a mix, never accused
    apart = np.maximum(own[:, None] + own[None, :] - 2 * gram, 0.0)  # squared distance of a and b
    closest, blur, blurred = _blur_matched(rows, names, errors, own, truth, apart)
    smaller = np.minimum(error[:, None], error[None, :])
    more_added = np.maximum(added[:, None], added[None, :])
    pair_ratio = _ratio(np.sqrt(closest), np.minimum(smaller, more_added))
    flags = [CopyFlag((names[a], names[b]), float(pair_ratio[a, b]), float(np.sqrt(closest[a, b])),
                      float(smaller[a, b]), blur=float(blur[a, b]),
                      blurred=names[blurred[a, b]] if blur[a, b] else "", added=float(more_added[a, b]))
             for a, b in zip(*np.triu_indices(len(names), 1))
             if pair_ratio[a, b] < pair_limit and judged[a] and judged[b]]
    copied = {frozenset(f.names) for f in flags}
    for c in np.flatnonzero(judged):
        mix = _closest_mix(c, gram, own, apart, added[c])
        if mix is None:
            continue
        ratio, a, b, w, distance, smaller_error = mix
        pairs = {frozenset((names[c], names[a])), frozenset((names[c], names[b]))}
        if ratio < mix_limit and not pairs & copied:
            flags.append(CopyFlag((names[c], names[a], names[b]), ratio, distance, smaller_error, w,
                                  added=float(added[c])))
    return sorted(flags, key=lambda f: (f.ratio, f.names))


def _blur_matched(rows: dict, names: list[str], errors: np.ndarray, own: np.ndarray, truth: np.ndarray,
                  apart: np.ndarray):
    """(squared distance, blur, index of the blurred one) of every pair at the blur that brings it closest.

    One of the two is blurred by each of BLURS in turn (one matrix product each); 0 = as submitted.
    """
    closest, blur, blurred = apart.copy(), np.zeros_like(apart), np.zeros(apart.shape, np.int64)
    if any(len(rows[n]) < 1 + len(BLURS) for n in names):
        return closest, blur, blurred
    index = np.arange(len(names))
    for j, sigma in enumerate(BLURS, 1):
        soft = _errors([rows[n][j] for n in names], truth)
        # a blurred against b as submitted, for every (a, b); its transpose blurs b instead.
        d2 = np.maximum((soft * soft).mean(axis=1)[:, None] + own[None, :] - 2 * soft @ errors.T / errors.shape[1], 0.0)
        for dist, who in ((d2, index[:, None]), (d2.T, index[None, :])):
            better = dist < closest
            closest = np.where(better, dist, closest)
            blur = np.where(better, sigma, blur)
            blurred = np.where(better, who, blurred)
    return closest, blur, blurred


def _closest_mix(c: int, gram: np.ndarray, own: np.ndarray, apart: np.ndarray, added: float = np.inf):
    """(ratio, a, b, weight of b, distance, smaller error) of the mix (1-w) a + w b closest to c, w in [0, 1];
    the ratio's yardstick is the smaller of the errors and of what c adds beyond its planes (`added`).

    Vectorised over every pair (a, b) from the Gram matrix of the errors: no box pixel is read again.
    """
    n = len(own)
    if n < 3:
        return None
    # c - a = r, b - a = d: the closest point of the segment is a + w d with w = <r, d> / <d, d>.
    to_a = own[c] - 2 * gram[c] + own  # |r|^2 for every a
    along = gram[c][None, :] - gram[c][:, None] - gram + own[:, None]  # <r, d> for every (a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.clip(np.where(apart > 0, along / apart, 0.0), 0.0, 1.0)
    left = np.maximum(to_a[:, None] - 2 * w * along + w * w * apart, 0.0)
    mix_error = np.sqrt(np.maximum(own[:, None] + 2 * w * (gram - own[:, None]) + w * w * apart, 0.0))
    ratio = _ratio(np.sqrt(left), np.minimum(np.minimum(np.sqrt(own[c]), mix_error), added))
    usable = np.triu(np.ones((n, n), bool), 1)
    usable[c, :] = usable[:, c] = False
    if not usable.any():
        return None
    ratio = np.where(usable, ratio, np.inf)
    a, b = np.unravel_index(np.argmin(ratio), ratio.shape)
    return (float(ratio[a, b]), int(a), int(b), float(w[a, b]), float(np.sqrt(left[a, b])),
            float(min(np.sqrt(own[c]), mix_error[a, b])))


def copies_of(predictions: Mapping[str, np.ndarray], answers: np.ndarray, mask: np.ndarray) -> list[CopyFlag]:
    """The call for a server or an export: participant -> (n, M, N) predictions of their chosen
    submission, the answers and the masks, all (n, M, N) in the test images' order."""
    return find_copies({name: participant_features(p, mask) for name, p in predictions.items()}, box_features(answers, mask))


def flags_by_participant(flags: list[CopyFlag]) -> dict[str, list[str]]:
    """participant -> short notes for a leaderboard's flags column (the full sentences are `sentence()`)."""
    notes: dict[str, list[str]] = {}
    for flag in flags:
        percent = f"{100 * flag.ratio:.1f}%"
        if flag.is_mix:
            c, a, b = flag.names
            notes.setdefault(c, []).append(f"copy? a mix of {a} and {b} ({percent})")
            for source in (a, b):
                notes.setdefault(source, []).append(f"copy? part of {c}'s mix ({percent})")
        else:
            a, b = flag.names
            notes.setdefault(a, []).append(f"copy? close to {b} ({percent})")
            notes.setdefault(b, []).append(f"copy? close to {a} ({percent})")
    return notes
