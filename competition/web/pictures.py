"""What the pages show of an upload: its images beside the blanked inputs, and a score plot.

The blanked test images come from the judge (competition/judge.py read_test_inputs: the White
values of COMP/sample_submission.csv and the boxes init stored), so the pages need nothing
students do not have and never touch the answers. The likely mistakes are not computed here: the judge stores them with the
submission, and the pages show the stored sentences, as the API and `inpaint remote upload` do.
"""
from __future__ import annotations

import functools
import html
import math
from datetime import datetime
from pathlib import Path

from inpaint.errors import SubmissionError
from submission import diagnose
from submission.csv_read import read_table
from submission.test_images import TestImages
from submission.thumbnails import thumbnail_png


def upload_thumbnails(csv_path: Path, inputs: TestImages) -> bytes | None:
    """PNG of the upload's images (as the scorer reads the file) under the blanked inputs; None when
    the file cannot be read or lined up with the test images (its error text says why)."""
    try:
        preds = diagnose.table_images(read_table(Path(csv_path)), inputs.names, inputs.white.shape[1:])
    except SubmissionError:
        return None
    return thumbnail_png(preds, inputs.white, inputs.names, boxes=inputs.boxes)


def score_plot_svg(points: list[tuple[datetime, float]], width: int = 480, height: int = 160) -> str:
    """An inline SVG of public RMSE over time (lower is better), or '' with fewer than one point."""
    points = [(t, s) for t, s in points if s is not None and math.isfinite(s)]
    if not points:
        return ""
    pad = 32
    times = [t.timestamp() for t, _ in points]
    scores = [s for _, s in points]
    t0, t1 = min(times), max(times)
    s0, s1 = min(scores), max(scores)
    if s1 - s0 < 1e-9:
        s0, s1 = s0 - 0.005, s1 + 0.005

    def x(t):
        return pad + (width - 2 * pad) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)

    def y(s):
        return pad / 2 + (height - 1.5 * pad) * (s - s0) / (s1 - s0)  # lower RMSE drawn higher: up is better

    coords = " ".join(f"{x(t):.1f},{y(s):.1f}" for t, s in zip(times, scores))
    dots = "".join(f'<circle cx="{x(t):.1f}" cy="{y(s):.1f}" r="3"><title>{html.escape(f"{s:.5f}")}</title></circle>'
                   for t, s in zip(times, scores))
    return (f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="public RMSE of my uploads over time">'
            f'<text x="4" y="{pad / 2 - 4:.0f}">RMSE {s0:.4f}</text>'
            f'<text x="4" y="{height - pad / 2 + 12:.0f}">RMSE {s1:.4f}</text>'
            f'<polyline points="{coords}" fill="none" stroke="#2563eb" stroke-width="2"/>{dots}</svg>')


@functools.lru_cache(maxsize=64)
def _thumbnails_cached(csv_path: str, judge) -> bytes | None:
    # Stored files are named by their SHA-256, so a path always holds the same content.
    return upload_thumbnails(Path(csv_path), judge.test_inputs())


def stored_thumbnails(comp, csv_path: Path | None) -> bytes | None:
    """Thumbnails PNG of a stored upload of competition `comp` (service.Competition); cached by file."""
    if csv_path is None or not Path(csv_path).exists():
        return None
    return _thumbnails_cached(str(csv_path), comp.judge)
