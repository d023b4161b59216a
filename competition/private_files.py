"""The parts of a competition folder that hold private data, kept readable by their owner only.

Private: the database (scores, e-mails; SQLite's -wal and -shm files take the database's mode),
the answers (solution.csv) and which part is private (split.csv), every upload (submissions/),
and the tokens (secrets/). The rules, sample_submission.csv and student_data.zip stay as the
umask makes them: they are what students get anyway.
"""
from __future__ import annotations

import os

from competition.settings import CompetitionPaths

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_folders(paths: CompetitionPaths) -> list:
    return [paths.submissions, paths.incoming, paths.secrets]


def private_files(paths: CompetitionPaths) -> list:
    db = paths.database
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal"),
            paths.solution, paths.split]


def create_private_database_file(paths: CompetitionPaths) -> None:
    """An empty (0600) file where SQLite will put the database, so that it is never readable by
    others, not even for the moment between its creation and a chmod."""
    fd = os.open(paths.database, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
    os.close(fd)


def protect_private_files(paths: CompetitionPaths) -> None:
    """Owner-only modes on what exists of the private parts (of a folder made by an older kit too).
    Nobody else can enter submissions/ (0700); the uploads in it are created 0600 as well."""
    for folder in private_folders(paths):
        if folder.is_dir():
            os.chmod(folder, PRIVATE_FOLDER_MODE)
    for path in private_files(paths):
        if path.is_file():
            os.chmod(path, PRIVATE_FILE_MODE)
