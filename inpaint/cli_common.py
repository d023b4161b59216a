"""Pieces every group of CLI commands shares: progress bars, data loading from options, tables."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from inpaint.masks import DEFAULT_THRESHOLD


def progress(label: str):
    """A one-line progress bar on terminals, silent in logs; returns a (done, total) callback."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.monotonic() - start, 1e-9)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate:.0f}/s", end=end, file=sys.stderr)

    return report


def opt_path(value) -> Path | None:
    return Path(value) if value else None


def answers_folder(path: Path) -> Path:
    """The Testing/Real folder itself, or the one inside a whole data folder."""
    inner = Path(path) / "Testing" / "Real"
    return inner if inner.is_dir() else Path(path)


def size_of(args, default=(128, 128)) -> tuple[int, int]:
    return tuple(args.size) if getattr(args, "size", None) else default


def load_data(args, size, need_train=True, need_test=True):
    from inpaint.data import load_data as load

    return load(
        Path(args.data),
        size=size,
        need_train=need_train,
        need_test=need_test,
        by_order=getattr(args, "pair_by_order", False),
        mask_threshold=getattr(args, "mask_threshold", None) or DEFAULT_THRESHOLD,
    )


# Digits that mean something for each column; RMSE-like columns get 5.
COLUMN_FORMATS = {"seconds": "{:.1f}", "PSNR": "{:.2f}", "SSIM": "{:.4f}"}


def print_table(table) -> None:
    formatters = {c: f.format for c, f in COLUMN_FORMATS.items() if c in table}
    print(table.to_string(index=False, formatters=formatters, float_format=lambda v: f"{v:.5f}"))


def data_options(p, size=True):
    p.add_argument("--data", required=True, help="data folder in the data_spec.md layout")
    if size:
        p.add_argument("--size", type=int, nargs=2, metavar=("M", "N"), help="image rows and columns (default 128 128)")
    p.add_argument("--pair-by-order", action="store_true",
                   help="pair Real and White by sorted order instead of by name (only for sets whose names differ)")
    p.add_argument("--mask-threshold", type=float, help="near-white level of the painted box in [0, 1] (default 0.94)")
