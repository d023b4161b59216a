"""`inpaint competition init`: build a competition folder from a data folder that has the answers.

See competition/settings.py for the folder layout. competition.toml is written last, so a
failed init leaves a folder that a second init can still fill.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from competition import db as database
from competition.private_files import create_private_database_file, protect_private_files
from competition.settings import CompetitionPaths, Settings, write_settings
from competition.tokens import hash_token, new_token, secrets_folder, write_secret
from submission.csv_io import export_folder, read_table, solution_from_answers
from submission.errors import DataError, UserError
from submission.grading import make_split
from submission.image_files import atomic_write_bytes
from submission.test_images import write_boxes

STUDENT_FOLDERS = ("Training/Real", "Training/White", "Testing/White")  # never Testing/Real


def check_data_folder(data_dir: Path) -> None:
    """One clear line if the folder cannot make a competition (answers first: the usual mistake)."""
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: folder not found")
    if not (data_dir / "Testing" / "Real").is_dir():
        raise UserError(f"{data_dir}: no Testing/Real folder; a competition needs the answers "
                        "(use the graders' copy of the data, or `inpaint synth`)")
    missing = [f for f in STUDENT_FOLDERS if not (data_dir / f).is_dir()]
    if missing:
        raise UserError(f"{data_dir}: missing folders {', '.join(missing)} (see data_spec.md)")


def write_student_zip(data_dir: Path, sample: Path, out: Path) -> int:
    """Zip what students download (plus the sample submission); returns the number of files."""
    count = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for folder in STUDENT_FOLDERS:
                for path in sorted((data_dir / folder).iterdir()):
                    if path.is_file() and not path.name.startswith("."):
                        archive.write(path, f"{folder}/{path.name}")
                        count += 1
            archive.write(sample, sample.name)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def store_test_boxes(data_dir: Path, paths: CompetitionPaths) -> Path:
    """COMP/test_boxes.csv: each test image's box, chosen by the kit's own finder with the training boxes
    as a guide, exactly as `inpaint check-data --data DATA` reads the folder (the working size 128x128,
    then scaled to the submission's size). Found once, so that judging, diagnoses, flags, copy checks,
    pictures and the exports all judge the boxes the student's tools showed."""
    from inpaint.data import load_data

    try:
        test = load_data(data_dir).csv_test
    except DataError as exc:
        raise UserError(f"{exc} (the test boxes are found as `inpaint check-data --data {data_dir}` finds them)") from None
    names = list(read_table(paths.sample).columns)
    if test.names != names:
        raise UserError(f"{data_dir}: its test images ({', '.join(test.names[:3])}, ...) are not the competition's "
                        f"({', '.join(names[:3])}, ...); give the data folder {paths.root} was made from")
    solution_shape = read_table(paths.solution).shape
    if test.white.shape[1] * test.white.shape[2] != solution_shape[0]:
        raise UserError(f"{data_dir}: its test images are {test.white.shape[1]}x{test.white.shape[2]}, the "
                        f"solution has {solution_shape[0]} pixels per image; give the data folder {paths.root} was made from")
    return write_boxes(paths.test_boxes, names, test.boxes)


def init_competition(data_dir, comp_dir, db_url: str | None = None, **rules) -> dict:
    """Build COMP from DATA: solution, split, sample submission, student zip, secrets, database, rules.

    `rules` are Settings fields (title, deadline, daily_limit, rejected_daily_limit, final_picks, public_fraction,
    split_by, seed, baseline, strong, max_upload_mb); image_size and n_images come from the answers.
    Returns a summary dict (paths, sizes, the admin token file). Refuses (UserError) a data folder
    without Testing/Real and a folder that already holds a competition.
    """
    data_dir, paths = Path(data_dir), CompetitionPaths(Path(comp_dir))
    check_data_folder(data_dir)
    if paths.settings.exists():
        raise UserError(f"{paths.root}: already holds a competition ({paths.settings.name}); choose another --dir")
    Settings(**rules)  # check the rules before spending time on files
    paths.incoming.mkdir(parents=True, exist_ok=True)

    solution = solution_from_answers(data_dir / "Testing" / "Real", paths.solution)
    sample = export_folder(data_dir / "Testing" / "White", paths.sample, size=solution["size"])
    answer_table = read_table(paths.solution)
    answers = list(answer_table.columns)
    tests = list(read_table(paths.sample).columns)
    if answers != tests:
        raise UserError(f"{data_dir}: Testing/Real and Testing/White hold different names ({answers[:3]} vs {tests[:3]})")
    settings = Settings(**rules, image_size=tuple(solution["size"]), n_images=solution["images"])
    store_test_boxes(data_dir, paths)

    split = make_split(answer_table, settings.public_fraction, settings.split_by, settings.seed)
    atomic_write_bytes(paths.split, split.to_csv(index=False, lineterminator="\n").encode())
    protect_private_files(paths)  # the answers, which part is private, the uploads folder: organizer only
    n_files = write_student_zip(data_dir, sample["csv"], paths.student_zip)

    secrets_folder(paths.secrets)
    admin = new_token()
    write_secret(paths.admin_token, admin + "\n")
    if db_url is None:
        create_private_database_file(paths)  # 0600 before SQLite writes a byte (its -wal and -shm follow)
    db = database.open_database(db_url or paths.default_db_url(), admin_token_hash=hash_token(admin))
    db.dispose()
    write_settings(paths.root, settings)
    return {"dir": paths.root, "settings": settings, "student_files": n_files,
            "admin_token_file": paths.admin_token, "db": database.safe_url(db.url),
            "public_parts": int((split["Usage"] == "Public").sum()), "parts": len(split)}
