"""Shared by the platform export tests: tiny competitions, and a separate interpreter without the kit.

The platforms run what we ship on their own machines: Codabench's compute worker in its docker image,
Kaggle its metric in its own environment. Neither has the kit installed, so the tests run the
shipped files in a virtual environment that has numpy and pandas and nothing of ours, with `python -I`.
"""
import importlib.util
import subprocess
import venv
from pathlib import Path

import pytest

from competition.settings import parse_deadline
from competition.setup import init_competition
from conftest import write_set

DEADLINE = "2026-12-20T23:59:00+08:00"
# What pandas needs besides the standard library (python-dateutil, which needs six); wheels keep their
# compiled helpers in <name>.libs beside the package.
SCORING_IMAGE_PACKAGES = ("numpy", "pandas", "dateutil", "six")


def make_competition(root: Path, **rules) -> Path:
    rules.setdefault("deadline", parse_deadline(DEADLINE))
    data = write_set(root / "data", n_train=4, n_test=3, size=16)
    return init_competition(data, root / "comp", **rules)["dir"]


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory) -> Path:
    """A separate interpreter that has numpy and pandas and nothing else: the platform's, not this one."""
    env_dir = tmp_path_factory.mktemp("platform-python") / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in SCORING_IMAGE_PACKAGES:
        origin = Path(importlib.util.find_spec(name).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (site / source.name).symlink_to(source)
        libs = source.parent / f"{name}.libs"
        if libs.is_dir():
            (site / libs.name).symlink_to(libs)
    return python


def clean_run(python: Path, args: list, cwd: Path) -> subprocess.CompletedProcess:
    """`python -I` with an environment that holds nothing from the kit (no PYTHONPATH, no user site)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(python), "-I", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
