"""`inpaint competition export --format codabench|kaggle`: read a competition folder, write a platform's package."""
from __future__ import annotations

import tempfile
from pathlib import Path

from competition.platforms import codabench, kaggle
from competition.platforms.zips import write_atomically
from competition.settings import CompetitionPaths, Settings, load_settings
from submission.errors import UserError

FORMATS = ("codabench", "kaggle")


def load_competition(comp_dir) -> tuple[CompetitionPaths, Settings]:
    """The folder's paths and rules, or a UserError naming what is missing."""
    paths = CompetitionPaths(Path(comp_dir))
    settings = load_settings(paths.root)
    missing = [p.name for p in (paths.solution, paths.split, paths.sample, paths.student_zip) if not p.is_file()]
    if missing:
        raise UserError(f"{paths.root}: missing {', '.join(missing)}; was `inpaint competition init` interrupted?")
    paths.require_test_boxes()
    return paths, settings


def export_competition(comp_dir, out, fmt: str) -> dict:
    """Write the `fmt` package of the competition folder to `out`; returns what the CLI prints."""
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    paths, settings = load_competition(comp_dir)
    if fmt == "codabench":
        if Path(out).suffix.lower() != ".zip":
            raise UserError(f"{out}: a Codabench bundle is a zip; give a name ending in .zip")
        files, note = codabench.codabench_files(paths, settings)
    else:
        files, note = kaggle.kaggle_files(paths, settings)
    written = write_atomically(Path(out), files)
    return {"out": written, "format": fmt, "files": sorted(files), "note": note}


def export_data_folder(data_dir, out, fmt: str, **rules) -> dict:
    """The same from a data folder with answers: a throw-away competition folder is built first."""
    from competition.setup import init_competition

    with tempfile.TemporaryDirectory(prefix="inpaint-export-") as tmp:
        comp = Path(tmp) / "competition"
        init_competition(data_dir, comp, db_url=f"sqlite:///{Path(tmp) / 'competition.db'}", **rules)
        return export_competition(comp, out, fmt)
