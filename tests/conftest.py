"""Shared test helpers: tiny data folders built in tmp_path, and running the CLI in-process."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from inpaint.cli import main  # noqa: E402


def blank(real: np.ndarray, box) -> np.ndarray:
    top, left, bottom, right = box
    white = real.copy()
    white[top:bottom, left:right] = 255
    return white


def face_like(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth grey blob with some texture: enough for loader, mask and training tests."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = 90 + 80 * np.exp(-((yy - 0.5) ** 2 + (xx - 0.5) ** 2) / 0.1)
    img = base + rng.normal(0, 8, (size, size))
    return np.clip(img, 0, 230).astype(np.uint8)


def mouth_box(size: int):
    h, w = size // 4, size * 3 // 8
    top, left = size * 5 // 8, (size - w) // 2
    return top, left, top + h, left + w


def write_set(root: Path, n_train: int = 12, n_test: int = 3, size: int = 32, seed: int = 0, answers: bool = True,
              ext: str = ".png") -> Path:
    """A data folder in the data_spec.md layout with `n_train` pairs and `n_test` test images."""
    rng = np.random.default_rng(seed)
    folders = {k: root / k for k in ("Training/Real", "Training/White", "Testing/White", "Testing/Real")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_train):
        real = face_like(rng, size)
        cv2.imwrite(str(folders["Training/Real"] / f"face_{i}{ext}"), real)
        cv2.imwrite(str(folders["Training/White"] / f"face_{i}{ext}"), blank(real, mouth_box(size)))
    for i in range(1, n_test + 1):
        real = face_like(rng, size)
        cv2.imwrite(str(folders["Testing/White"] / f"test_{i}{ext}"), blank(real, mouth_box(size)))
        if answers:
            cv2.imwrite(str(folders["Testing/Real"] / f"test_{i}{ext}"), real)
    if not answers:
        folders["Testing/Real"].rmdir()
    return root


@pytest.fixture
def tiny_set(tmp_path) -> Path:
    return write_set(tmp_path / "data")


@pytest.fixture
def run_cli(capsys):
    """Run `inpaint ARGS...` in-process; returns (exit code, stdout, stderr)."""

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
