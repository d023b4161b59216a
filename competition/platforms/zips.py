"""Packages as bytes: in-memory zips, and a package written whole or not at all.

A zip goes through a temporary file; a folder is built beside its final name and renamed.
"""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

from submission.errors import UserError
from submission.image_files import atomic_write_bytes


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """An in-memory zip of {name in the zip: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_atomically(out: Path, files: dict[str, bytes]) -> Path:
    """`out` as a zip (name ends in .zip) or a new folder, built beside it and renamed: never half written."""
    if out.suffix.lower() == ".zip":
        atomic_write_bytes(out, zip_bytes(files))
        return out
    if out.exists():
        raise UserError(f"{out}: already exists; give a new folder or a name ending in .zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, content in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(content)
        tmp.chmod(0o755)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
