"""`inpaint competition export --format codabench|kaggle`: the competition folder for a hosted platform.

Codabench, as its documentation describes a bundle (docs.codabench.org: Yaml-Structure,
Competition-Bundle-Structure, Leaderboard-Functionality, Submission-Docker-Container-Layout):
a zip with competition.yaml (version 2) at its root, the pages, a logo, and the task's
reference-data and scoring-program zips; the scoring program's metadata.yaml holds the `command`
the compute worker runs. The scoring program is generated, never written twice: score.py (in
competition/scoring_program/) plus the kit's own modules, copied as they are.

Kaggle (Kaggle in Class host guide): solution.csv with the ids, the values and a Usage column
(Public/Private per row), sample_submission.csv, the data zip and the page texts.
"""
from __future__ import annotations

import importlib.util
import io
import shutil
import tempfile
import zipfile
from datetime import timezone
from pathlib import Path

import pandas as pd
import yaml

from competition import platform_pages as pages
from competition.settings import CompetitionPaths, Settings, load_settings
from inpaint.errors import UserError
from inpaint.imaging import atomic_write_bytes
from submission.csv_read import read_table
from submission.grading import make_split

FORMATS = ("codabench", "kaggle")
# The default image (codalab-legacy:py37) carries Anaconda 2019's pandas 0.25, older than the
# pandas the kit's CSV reader is written for; py312 is the platform's own image with numpy 1.26
# and pandas 2.2 (codalab/codalab-dockers Dockerfile-py312).
CODABENCH_IMAGE = "codalab/codalab-legacy:py312"
SCORING_COMMAND = "python3 /app/program/score.py /app/input /app/output"
SCORING_ENTRY = Path(__file__).with_name("scoring_program") / "score.py"
# The kit modules score.py imports, directly or not: only numpy, pandas and the standard library below them.
BUNDLED_MODULES = ("submission.errors", "submission.csv_read", "submission.scoring", "submission.grading")
# submission/__init__.py imports the CSV writers (and through them OpenCV): the bundle gets its own.
BUNDLED_PACKAGE_INIT = {"submission/__init__.py": '"""The kit\'s scoring modules, bundled by `inpaint competition export`."""\n'}
SUBMISSION_NAME = "Predict.csv"


# ---------------------------------------------------------------- reading the competition


def load_competition(comp_dir) -> tuple[CompetitionPaths, Settings]:
    """The folder's paths and rules, or a UserError naming what is missing."""
    paths = CompetitionPaths(Path(comp_dir))
    settings = load_settings(paths.root)
    missing = [p.name for p in (paths.solution, paths.split, paths.sample, paths.student_zip) if not p.is_file()]
    if missing:
        raise UserError(f"{paths.root}: missing {', '.join(missing)}; was `inpaint competition init` interrupted?")
    return paths, settings


# ---------------------------------------------------------------- zips


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


# ---------------------------------------------------------------- Codabench


def module_files() -> dict[str, bytes]:
    """The kit's scoring modules as {path in the zip: source}, read from wherever the kit is installed."""
    files = {}
    for name in BUNDLED_MODULES:
        origin = Path(importlib.util.find_spec(name).origin)
        files[name.replace(".", "/") + ("/__init__.py" if origin.name == "__init__.py" else ".py")] = origin.read_bytes()
    return files | {name: text.encode() for name, text in BUNDLED_PACKAGE_INIT.items()}


def scoring_program_files() -> dict[str, bytes]:
    """Everything in scoring_program.zip: metadata.yaml, score.py and the kit modules it imports."""
    metadata = yaml.safe_dump({"command": SCORING_COMMAND}, sort_keys=False).encode()
    return {"metadata.yaml": metadata, "score.py": SCORING_ENTRY.read_bytes()} | module_files()


def utc_text(moment) -> str:
    """Codabench reads phase dates as 'YYYY-MM-DD HH:MM:SS' in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def submission_limit(s: Settings) -> int:
    """A total cap that never binds before the daily limit does: Codabench's default of 100 would."""
    days = (s.deadline - s.created).days + 2 if s.deadline else 365
    return s.daily_limit * max(days, 1)


def competition_yaml(s: Settings, logo: str) -> dict:
    phase = {
        "index": 0, "name": "Competition", "description": pages.phase_description(s),
        "start": utc_text(s.created), "max_submissions_per_day": s.daily_limit,
        "max_submissions": submission_limit(s), "execution_time_limit": 300,
        "accepts_only_result_submissions": True,
        # The scoring output holds scores.json, private RMSE included: only the organizers may read it.
        "hide_score_output": True,
        "tasks": [0], "starting_kit": "starting_kit", "public_data": "student_data.zip",
    }
    if s.deadline is not None:  # without an end the last phase never closes
        phase["end"] = utc_text(s.deadline)
    column = {"sorting": "asc", "precision": 5}  # lower RMSE is better
    return {
        "version": 2, "title": s.title, "description": pages.one_line(s), "image": logo,
        "registration_auto_approve": True, "docker_image": CODABENCH_IMAGE, "enable_detailed_results": False,
        "terms": "pages/terms.md",
        "pages": [{"title": title, "file": f"pages/{name}.md"} for name, title in pages.CODABENCH_PAGES],
        "tasks": [{"index": 0, "name": "Mouth inpainting", "description": pages.one_line(s),
                   "reference_data": "reference_data.zip", "scoring_program": "scoring_program.zip"}],
        "solutions": [{"index": 0, "path": "identity_submission.zip", "tasks": [0]}],
        "phases": [phase],
        "leaderboards": [{
            "index": 0, "title": "Results", "key": "main",
            # Each participant's best (public) submission stands, as on Kaggle when nobody picks: no
            # one is left off the board for forgetting to add a submission, and Codabench cannot cap picks.
            "submission_rule": "Force_Best",
            "columns": [
                {"title": "Public RMSE", "key": "rmse_public", "index": 0, **column, "hidden": False},
                # Shown by the organizer after the deadline (editor: unhide, make it the primary column).
                {"title": "Private RMSE", "key": "rmse_private", "index": 1, **column, "hidden": True},
            ],
        }],
    }


def logo_png(student_zip: Path) -> bytes:
    """The first blanked training face of the student data, as PNG: the competition's picture on Codabench."""
    import cv2
    import numpy as np

    with zipfile.ZipFile(student_zip) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("Training/White/") and not n.endswith("/"))
        image = cv2.imdecode(np.frombuffer(archive.read(names[0]), np.uint8), cv2.IMREAD_GRAYSCALE) if names else None
    if image is None:  # data folders may hold .tif or .pgm: a logo must be an image a browser shows
        raise UserError(f"{student_zip}: no readable Training/White image to use as the logo")
    return cv2.imencode(".png", image)[1].tobytes()


def codabench_files(paths: CompetitionPaths, s: Settings) -> dict[str, bytes]:
    sample = paths.sample.read_bytes()
    files = {
        "competition.yaml": yaml.safe_dump(competition_yaml(s, "logo.png"), sort_keys=False, allow_unicode=True).encode(),
        "logo.png": logo_png(paths.student_zip),
        "reference_data.zip": zip_bytes({"solution.csv": paths.solution.read_bytes(), "split.csv": paths.split.read_bytes()}),
        "scoring_program.zip": zip_bytes(scoring_program_files()),
        "student_data.zip": paths.student_zip.read_bytes(),
        # The White images uploaded as they are: the course's identity baseline, and a check that scoring runs.
        "identity_submission.zip": zip_bytes({SUBMISSION_NAME: sample}),
        "starting_kit/sample_submission.csv": sample,
    }
    files |= {f"starting_kit/{name}": text.encode() for name, text in pages.starting_kit(s).items()}
    files |= {f"pages/{name}.md": text.encode() for name, text in pages.codabench_pages(s).items()}
    return files


# ---------------------------------------------------------------- Kaggle


def kaggle_usage(paths: CompetitionPaths, s: Settings) -> tuple[pd.Series, str]:
    """Public/Private per pixel id, and a note when the competition's own split could not be kept.

    Kaggle's Usage column marks rows, and a row is one pixel of every image: a split by image
    cannot be written there, so it becomes a split by pixel with the same fraction and seed.
    """
    if s.split_by == "pixel":
        split, note = pd.read_csv(paths.split), ""
    else:
        split = make_split(read_table(paths.solution), s.public_fraction, "pixel", s.seed)
        note = ("split by image here; Kaggle's Usage column marks rows (pixels), so the Kaggle solution is split "
                f"by pixel ({s.public_fraction:g} public, seed {s.seed}): its public scores differ from `inpaint serve`'s")
    return pd.Series(split["Usage"].to_numpy(), index=split["id"].astype("int64")), note


def kaggle_files(paths: CompetitionPaths, s: Settings) -> tuple[dict[str, bytes], str]:
    usage, note = kaggle_usage(paths, s)
    cells = pd.read_csv(paths.solution, dtype=str, keep_default_na=False)  # text kept exactly as written
    cells["Usage"] = usage.reindex(pd.to_numeric(cells.iloc[:, 0]).astype("int64")).to_numpy()
    solution = cells.to_csv(index=False, lineterminator="\n").encode()
    files = {
        "solution.csv": solution,
        "sample_submission.csv": paths.sample.read_bytes(),
        "student_data.zip": paths.student_zip.read_bytes(),
    }
    files |= {name: text.encode() for name, text in pages.kaggle_pages(s, note).items()}
    return files, note


# ---------------------------------------------------------------- entry points


def export_competition(comp_dir, out, fmt: str) -> dict:
    """Write the `fmt` package of the competition folder to `out`; returns what the CLI prints."""
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    paths, settings = load_competition(comp_dir)
    note = ""
    if fmt == "codabench":
        if Path(out).suffix.lower() != ".zip":
            raise UserError(f"{out}: a Codabench bundle is a zip; give a name ending in .zip")
        files = codabench_files(paths, settings)
    else:
        files, note = kaggle_files(paths, settings)
    written = write_atomically(Path(out), files)
    return {"out": written, "format": fmt, "files": sorted(files), "note": note}


def export_data_folder(data_dir, out, fmt: str, **rules) -> dict:
    """The same from a data folder with answers: a throw-away competition folder is built first."""
    from competition.setup import init_competition

    with tempfile.TemporaryDirectory(prefix="inpaint-export-") as tmp:
        comp = Path(tmp) / "competition"
        init_competition(data_dir, comp, db_url=f"sqlite:///{Path(tmp) / 'competition.db'}", **rules)
        return export_competition(comp, out, fmt)
