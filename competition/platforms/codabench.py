"""The Codabench bundle: competition.yaml (version 2), its pages, and one task per phase.

What Codabench does with it, as read in its source (github.com/codalab/codabench, src/ and compute_worker/):

- Two phases. "Development" runs from the competition's creation to the deadline; its task's
  reference data holds the public part of the answers only, so its scoring program cannot compute a
  private score. "Final" starts one minute after the deadline (the V2 unpacker refuses a phase that
  starts when the previous one ends: base_unpacker._validate_phase_ordering) with the full answers,
  and `auto_migrate_to_this_phase`: Codabench's beat task do_phase_migrations (every 300 s,
  settings/base.py) copies into it every Development submission that is on the leaderboard
  (Competition.apply_phase_migration) and runs it with the Final phase's own task (tasks._run_submission).
- The rule `Force_Best` keeps each participant's best submission on the leaderboard
  (leaderboards/strategies.py BestModeStrategy), ordered by the primary column, then by the others
  in index order. The primary column is the private RMSE: in the Development phase no submission has
  one, so the public RMSE decides there; in the Final phase the private RMSE ranks. The unpacker gives
  every phase the first leaderboard (base_unpacker._save_competition), hence one leaderboard for both.
- Codabench has no phase without uploads (a limit of 0 means none: Phase.can_user_make_submissions),
  and its page offers uploads only while a phase is current (submission_upload.tag): the Final phase
  lasts one minute and takes one submission per person, which the migrated copy already is.
- Scores are stored with 10 decimals (leaderboards/models.py SubmissionScore) and shown rounded to
  the column's precision on the leaderboard (api/views/competitions.py get_leaderboard).
"""
from __future__ import annotations

import importlib.util
import zipfile
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from competition.platforms import codabench_pages as texts
from competition.platforms import pages
from competition.platforms.zips import zip_bytes
from competition.settings import CompetitionPaths, Settings
from submission.csv_read import read_table
from submission.errors import UserError
from submission.grading import split_masks

# The default image (codalab-legacy:py37) carries Anaconda 2019's pandas 0.25, older than the
# pandas the kit's CSV reader is written for; py312 is the platform's own image with numpy 1.26
# and pandas 2.2 (codalab/codalab-dockers Dockerfile-py312).
CODABENCH_IMAGE = "codalab/codalab-legacy:py312"
SCORING_COMMAND = "python3 /app/program/score.py /app/input /app/output"
SCORING_ENTRY = Path(__file__).with_name("scoring_program") / "score.py"
# The kit modules score.py imports, directly or not: only numpy, pandas and the standard library below them.
BUNDLED_MODULES = ("submission.errors", "submission.csv_read", "submission.scoring")
# submission/__init__.py imports the CSV writers (and through them OpenCV): the bundle gets its own.
BUNDLED_PACKAGE_INIT = {"submission/__init__.py": '"""The kit\'s scoring modules, bundled by `inpaint competition export`."""\n'}
SUBMISSION_NAME = "Predict.csv"
# The reference data's files, as score.py reads them: the layout (every id and image name, not secret)
# and the answers of each part, each scoring the leaderboard column of the same key.
LAYOUT = "sample_submission.csv"
PART_FILES = {"rmse_public": "public_answers.csv", "rmse_private": "private_answers.csv"}
COLUMN_PRECISION = 5  # Codabench's default is 2; the course's thresholds have 5
FINAL_DELAY = timedelta(minutes=1)  # after the deadline, and the Final phase's length


# ---------------------------------------------------------------- reference data and scoring program


def answer_parts(paths: CompetitionPaths) -> dict[str, bytes]:
    """{column key: CSV of that part's answers}: the rows or columns of solution.csv the split gives it.

    The text of each cell is kept as written, so the scoring program reads the numbers `inpaint score`
    reads; rows and columns keep their order, so the RMSE sums the same values in the same order.
    """
    masks = split_masks(pd.read_csv(paths.split), read_table(paths.solution))
    cells = pd.read_csv(paths.solution, dtype=str, keep_default_na=False)
    parts = {}
    for key, part in (("rmse_public", "public"), ("rmse_private", "private")):
        mask = masks[part]
        rows, columns = mask.any(axis=1), mask.any(axis=0)
        if not mask[np.ix_(rows, columns)].all():  # a split by image or by pixel always gives a block
            raise UserError(f"{paths.split}: the {part} part is not whole rows or whole columns")
        block = cells.loc[rows, [cells.columns[0], *cells.columns[1:][columns]]]
        parts[key] = block.to_csv(index=False, lineterminator="\n").encode()
    return parts


def reference_zips(paths: CompetitionPaths, s: Settings) -> dict[str, bytes]:
    """The Development reference (public answers only) and, with a deadline, the Final one (both parts)."""
    layout = {LAYOUT: paths.sample.read_bytes()}
    parts = {PART_FILES[key]: content for key, content in answer_parts(paths).items()}
    public = {PART_FILES["rmse_public"]: parts[PART_FILES["rmse_public"]]}
    return {"reference_public.zip": zip_bytes(layout | public)} | (
        {"reference_full.zip": zip_bytes(layout | parts)} if s.deadline else {})


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


# ---------------------------------------------------------------- competition.yaml


def utc_text(moment) -> str:
    """Codabench reads phase dates with dateutil and takes them as UTC (unpackers/utils.get_datetime)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def submission_limit(s: Settings) -> int:
    """A total cap that never binds before the daily limit does: Codabench's default of 100 would."""
    days = (s.deadline - s.created).days + 2 if s.deadline else 365
    return s.daily_limit * max(days, 1)


def phases(s: Settings) -> list[dict]:
    development = {
        "index": 0, "name": texts.DEVELOPMENT, "description": texts.development_description(s),
        "start": utc_text(s.created), **({"end": utc_text(s.deadline)} if s.deadline else {}),
        "max_submissions_per_day": s.daily_limit, "max_submissions": submission_limit(s), "execution_time_limit": 300,
        "tasks": [0], "starting_kit": "starting_kit", "public_data": "student_data.zip",
    }
    if s.deadline is None:  # without an end there is no after: one phase, public scores only
        return [development]
    final_start = s.deadline + FINAL_DELAY
    final = {
        "index": 1, "name": texts.FINAL, "description": texts.final_description(),
        "start": utc_text(final_start), "end": utc_text(final_start + FINAL_DELAY),
        # migrated copies skip the limits (Submission.save(ignore_submission_limit=True)); an upload sent
        # through the API while the phase is open meets them: the copy is already the one allowed
        "max_submissions_per_day": 1, "max_submissions": 1, "execution_time_limit": 300,
        "auto_migrate_to_this_phase": True, "tasks": [1],
    }
    return [development, final]


def leaderboard() -> dict:
    column = {"sorting": "asc", "precision": COLUMN_PRECISION, "hidden": False}  # lower RMSE is better
    return {
        "index": 0, "title": "Results", "key": "main",
        # Each participant's best submission stands, and is the one migrated at the deadline: as on Kaggle
        # when nobody picks, no one is left out for forgetting to pick, and Codabench cannot cap picks.
        "submission_rule": "Force_Best",
        "primary_index": 1,  # the private RMSE; absent before the deadline, so the public one decides there
        # Column titles: at most 36 characters (leaderboards/models.py Column.title)
        "columns": [{"title": "Public RMSE", "key": "rmse_public", "index": 0, **column},
                    {"title": "Private RMSE (Final phase)", "key": "rmse_private", "index": 1, **column}],
    }


def tasks(s: Settings) -> list[dict]:
    """One task per phase: the same scoring program, each with the answers its phase may score."""
    program = {"scoring_program": "scoring_program.zip"}
    development = {"index": 0, "name": "Public part", "description": "Scores the public part: its answers only.",
                   "reference_data": "reference_public.zip", **program}
    final = {"index": 1, "name": "Both parts", "description": "Scores the public and the private part.",
             "reference_data": "reference_full.zip", **program}
    return [development, final] if s.deadline else [development]


def competition_yaml(s: Settings, logo: str) -> dict:
    return {
        "version": 2, "title": s.title, "description": pages.one_line(s), "image": logo,
        "registration_auto_approve": True, "docker_image": CODABENCH_IMAGE, "enable_detailed_results": False,
        # The Terms page forbids sharing predictions; the V2 unpacker's default lets participants publish them.
        "can_participants_make_submissions_public": False,
        "make_programs_available": False, "make_input_data_available": False,
        "terms": "pages/terms.md",
        "pages": [{"title": title, "file": f"pages/{name}.md"} for name, title in texts.PAGES],
        "tasks": tasks(s),
        "solutions": [{"index": 0, "path": "identity_submission.zip", "tasks": [t["index"] for t in tasks(s)]}],
        "phases": phases(s),
        "leaderboards": [leaderboard()],
    }


# ---------------------------------------------------------------- the bundle


def logo_png(student_zip: Path) -> bytes:
    """The first blanked training face of the student data, as PNG: the competition's picture on Codabench."""
    import cv2

    with zipfile.ZipFile(student_zip) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("Training/White/") and not n.endswith("/"))
        image = cv2.imdecode(np.frombuffer(archive.read(names[0]), np.uint8), cv2.IMREAD_GRAYSCALE) if names else None
    if image is None:  # data folders may hold .tif or .pgm: a logo must be an image a browser shows
        raise UserError(f"{student_zip}: no readable Training/White image to use as the logo")
    return cv2.imencode(".png", image)[1].tobytes()


def codabench_files(paths: CompetitionPaths, s: Settings) -> tuple[dict[str, bytes], str]:
    """The bundle's files, and a note for the organizer (empty when there is nothing to say)."""
    sample = paths.sample.read_bytes()
    files = {
        "competition.yaml": yaml.safe_dump(competition_yaml(s, "logo.png"), sort_keys=False, allow_unicode=True).encode(),
        "logo.png": logo_png(paths.student_zip),
        **reference_zips(paths, s),
        "scoring_program.zip": zip_bytes(scoring_program_files()),
        "student_data.zip": paths.student_zip.read_bytes(),
        # The White images uploaded as they are: the course's identity baseline, and a check that scoring runs.
        "identity_submission.zip": zip_bytes({SUBMISSION_NAME: sample}),
        "starting_kit/sample_submission.csv": sample,
        "starting_kit/test_boxes.csv": paths.test_boxes.read_bytes(),
    }
    files |= {f"starting_kit/{name}": text.encode() for name, text in texts.starting_kit(s).items()}
    files |= {f"pages/{name}.md": text.encode() for name, text in texts.codabench_pages(s).items()}
    note = "" if s.deadline else ("no deadline: the bundle has the Development phase only (public scores); "
                                  "give the competition a deadline to have a Final phase with private scores")
    return files, note
