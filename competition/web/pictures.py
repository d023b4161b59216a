"""What the pages draw themselves: the score plot. The thumbnails of an upload are drawn by the judge
(competition/judge.py, inside the boxes `inpaint competition init` stored) when it is judged and
stored with it; the pages serve the stored PNG.
"""
from __future__ import annotations

import html
import math
from datetime import datetime


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
