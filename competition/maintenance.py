"""Organizer chores on a competition folder: rescore from the stored files, export the final table,
clean up uploads a stopped server left half-received."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from competition.db import Judgement, Participant, Submission
from competition.service import Competition
from competition.settings import CompetitionPaths
from competition.verdicts import judgement_row
from submission.image_files import atomic_write_bytes
from submission.spreadsheet_cells import inert_table

STALE_INCOMING_S = 3600  # a started server leaves younger .part files alone: another worker may be writing them


def clean_incoming(paths: CompetitionPaths, older_than_s: float = 0.0) -> int:
    """Delete interrupted uploads (COMP/submissions/.incoming/*); returns how many. They never had a row."""
    if not paths.incoming.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_s, 0
    for leftover in paths.incoming.iterdir():
        if leftover.is_file() and leftover.stat().st_mtime <= cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def rescore(comp: Competition) -> dict:
    """Judge every stored file again and compare with the database, exactly (float64 equality).

    Returns {"checked": n, "mismatches": [{"id", "stored": (status, public, private), "now": (...)}],
    "missing_files": [ids of accepted rows]}. Nothing is written.
    """
    with comp.db.session() as s:
        rows = s.scalars(select(Submission).order_by(Submission.id)).all()
    mismatches, missing = [], []
    for row in rows:
        path = comp.paths.submissions / f"{row.sha256}.csv"
        if not path.exists():
            if row.status != "rejected":  # a rejected file is kept only up to the participant's cap (service.py)
                missing.append(row.id)
            continue
        verdict = comp.judging.facts_and_verdict(path, row.filename)[1]
        stored = (row.status, row.public_rmse, row.private_rmse)
        now = (verdict.status, verdict.public_rmse, verdict.private_rmse)
        if stored != now:
            mismatches.append({"id": row.id, "stored": stored, "now": now})
    return {"checked": len(rows), "mismatches": mismatches, "missing_files": missing}


def fill_judgements(comp: Competition) -> int:
    """Judge again each stored file that has no judgement (a database upgraded to schema 5) and store
    what judging derives (findings, diagnoses, flags, copy features, thumbnails); then rebuild every
    participant's copy flags (also those a server killed after a change left stale). Scores are not changed (rescore compares them). Returns how many were filled."""
    with comp.db.session() as s:
        missing = s.execute(select(Submission.id, Submission.sha256, Submission.filename)
                            .outerjoin(Judgement, Judgement.submission_id == Submission.id)
                            .where(Judgement.submission_id.is_(None)).order_by(Submission.id)).all()
    filled = 0
    for submission_id, sha256, filename in missing:
        path = comp.paths.submissions / f"{sha256}.csv"
        if not path.exists():
            continue
        verdict = comp.judging.facts_and_verdict(path, filename)[1]
        with comp.db.session(write=True) as s, s.begin():
            s.add(judgement_row(submission_id, verdict))
        filled += 1
    with comp.db.session(write=True) as s, s.begin():
        comp.mark_copy_flags_stale(s, s.scalars(select(Participant.id)).all())
    comp.update_stale_copy_flags()
    return filled


STANDINGS_COLUMNS = ["rank", "name", "display_name", "email", "student_id", "private_rmse", "public_rmse", "grade",
                     "entries", "submission_id", "final_ids", "disqualified_ids", "flags", "copies"]


def standings_csv(comp: Competition) -> tuple[pd.DataFrame, bytes]:
    """The organizer's final table (private RMSE of the final choice, public RMSE, grade, flags, copy flags) and
    its CSV text: one table for `inpaint competition export` and the organizer page's leaderboard.csv. The text
    cells of the CSV are inert (a roster name cannot be a spreadsheet formula); numbers stay numbers."""
    table = pd.DataFrame(comp.standings_with_copies()[0], columns=STANDINGS_COLUMNS)
    for ids in ("final_ids", "disqualified_ids"):
        table[ids] = table[ids].apply(lambda ids: " ".join(map(str, ids)) if isinstance(ids, list) else "")
    table["rank"] = table["rank"].astype("Int64")
    return table, inert_table(table).to_csv(index=False, float_format="%.9g", lineterminator="\n").encode()


def export_leaderboard(comp: Competition, out: Path) -> pd.DataFrame:
    """Write the final table as CSV (atomically); returns it."""
    table, text = standings_csv(comp)
    atomic_write_bytes(Path(out), text)
    return table
