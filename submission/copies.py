"""Copied submissions: participants whose predictions inside the mouth boxes are far closer to
each other than independently trained models' are.

Outside the boxes every submission is the White image, so only box pixels are compared. Inside
them each prediction is smoothed (a Gaussian of SMOOTH_SIGMA pixels over box pixels only) and one
offset over all boxes removed: pixel noise, a blur and an added constant, the cheap disguises of a
copy, nearly vanish, while what tells two trainings apart (the shapes of lips, teeth and shading)
stays. The distance between two participants is then put over the smaller of their own errors
(their distance to the answers, measured the same way), because two good models are necessarily
close to each other, and a copy is close for its error. An average of two others is found the
same way: a participant against the closest point between two others. The limits come from the
calibration in docs/grader.md. Flags inform the grader; they never change a score.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

SMOOTH_SIGMA = 2.0  # pixels: white noise keeps ~1/7 of its size, a face's features stay
PAIR_LIMIT = 0.15  # distance / smaller error below this: a copy (calibration, docs/grader.md)
MIX_LIMIT = 0.15  # the same for a participant against the closest mix of two others
FLAT_SPREAD = 1e-3  # box contents one constant overall (identity, constant fill): not compared


@dataclass(frozen=True)
class CopyFlag:
    """`names[0]` is a copy of `names[1]` (a pair, either way round), or of a mix of `names[1:]`."""

    names: tuple[str, ...]
    ratio: float  # distance / the smaller error, the statistic compared with the limit
    distance: float  # RMSE between the two (or to the mix), smoothed box pixels
    error: float  # the smaller of their errors, smoothed box pixels
    weight: float = 0.0  # in a mix, the share of names[2]

    @property
    def is_mix(self) -> bool:
        return len(self.names) == 3

    def sentence(self) -> str:
        """What the grader reads: who, how close, and against which yardstick."""
        where = "inside the mouth boxes (smoothed, one offset removed)"
        share = f"{100 * self.ratio:.1f}% of the smaller of their errors ({self.error:.4f})"
        if self.is_mix:
            c, a, b = self.names
            return (f"{c} looks like a mix of {a} and {b} ({1 - self.weight:.2f} x {a} + {self.weight:.2f} x {b}): "
                    f"{where} it is {self.distance:.4f} (RMSE) from that mix, {share}; flagged below {100 * MIX_LIMIT:.0f}%")
        a, b = self.names
        close = "are identical" if self.distance == 0 else f"differ by {self.distance:.4f} (RMSE), {share}"
        return f"{a} and {b} look copied: {where} their predictions {close}; flagged below {100 * PAIR_LIMIT:.0f}%"


def box_features(images: np.ndarray, mask: np.ndarray, sigma: float = SMOOTH_SIGMA) -> np.ndarray:
    """(n, M, N) images and masks -> the box pixels of every image, smoothed from box pixels only, float64.

    A normalized convolution: pixels outside the box weigh nothing, so a constant added inside the
    box stays a constant and the White pixels around it never leak in.
    """
    parts = []
    for image, m in zip(np.asarray(images, np.float64), np.asarray(mask) > 0.5):
        rows, cols = np.nonzero(m)
        if not len(rows):
            continue
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        weight = m[box].astype(np.float64)
        smooth = lambda x: cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        parts.append((smooth(image[box] * weight) / smooth(weight))[weight > 0])
    return np.concatenate(parts) if parts else np.zeros(0)


def _ratio(distance: np.ndarray, error: np.ndarray) -> np.ndarray:
    """distance / error; 0 where both are 0 (two perfect copies of the answers), inf where only the error is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(distance == 0, 0.0, distance / error)


def find_copies(features: Mapping[str, np.ndarray], answers: np.ndarray,
                pair_limit: float = PAIR_LIMIT, mix_limit: float = MIX_LIMIT) -> list[CopyFlag]:
    """Every pair closer than `pair_limit`, and for each other participant the closest mix of two
    others when it is closer than `mix_limit`. Closest first.

    features: participant -> `box_features` of their chosen submission (one per participant, so
    nobody is compared with themselves); answers: `box_features` of the answers.
    """
    names = [n for n, f in features.items() if np.std(f) >= FLAT_SPREAD]
    if len(names) < 2:
        return []
    truth = np.asarray(answers, np.float64)
    errors = np.stack([features[n] - features[n].mean() for n in names]) - (truth - truth.mean())
    gram = errors @ errors.T / errors.shape[1]  # every distance and error below comes from it
    own = np.diag(gram).copy()
    error = np.sqrt(own)
    apart = np.maximum(own[:, None] + own[None, :] - 2 * gram, 0.0)  # squared distance of a and b
    pair_ratio = _ratio(np.sqrt(apart), np.minimum(error[:, None], error[None, :]))
    flags = [CopyFlag((names[a], names[b]), float(pair_ratio[a, b]), float(np.sqrt(apart[a, b])),
                      float(min(error[a], error[b])))
             for a, b in zip(*np.triu_indices(len(names), 1)) if pair_ratio[a, b] < pair_limit]
    copied = {frozenset(f.names) for f in flags}
    for c in range(len(names)):
        mix = _closest_mix(c, gram, own, apart)
        if mix is None:
            continue
        ratio, a, b, w, distance, smaller = mix
        pairs = {frozenset((names[c], names[a])), frozenset((names[c], names[b]))}
        if ratio < mix_limit and not pairs & copied:
            flags.append(CopyFlag((names[c], names[a], names[b]), ratio, distance, smaller, w))
    return sorted(flags, key=lambda f: (f.ratio, f.names))


def _closest_mix(c: int, gram: np.ndarray, own: np.ndarray, apart: np.ndarray):
    """(ratio, a, b, weight of b, distance, smaller error) of the mix (1-w) a + w b closest to c, w in [0, 1].

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
    ratio = _ratio(np.sqrt(left), np.minimum(np.sqrt(own[c]), mix_error))
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
    return find_copies({name: box_features(p, mask) for name, p in predictions.items()}, box_features(answers, mask))


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
