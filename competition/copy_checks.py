"""Copy flags for the organizer: each participant's chosen submission (the one their standings row
counts: the best of their final choice) compared with every other participant's inside the mouth
boxes (submission/copies.py). One submission per participant, so nobody's own submissions are
compared with each other.

Flags inform the organizer: they change no score and no grade, and only the organizer's views call
this (the Organizer page, GET /api/admin/standings, leaderboard.csv); the participants' final
ranking reads `standings`, which has no copy flags.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from competition.db import Submission
from inpaint.errors import SubmissionError
from submission import copies


class CopyChecks:
    """A mixin of competition.service.Competition (db, paths, judge, standings)."""

    def standings_with_copies(self) -> tuple[list[dict], list[str]]:
        """`standings` rows, each with "copies" (short notes, '' for none), and the flags' full sentences."""
        rows = self.standings()
        flags = self.copy_flags(rows)
        notes = copies.flags_by_participant(flags)
        for row in rows:
            row["copies"] = "; ".join(notes.get(row["name"], []))
        return rows, [flag.sentence() for flag in flags]

    def copy_flags(self, rows: list[dict]) -> list[copies.CopyFlag]:
        """The copy flags among the submissions `rows` (standings) count, named by the roster's names."""
        truth = self.judge.answer_features()
        if truth is None:
            return []
        with self.db.session() as s:
            sha256 = dict(s.execute(select(Submission.id, Submission.sha256)
                                    .where(Submission.id.in_([r["submission_id"] for r in rows]))).all())
        features = {row["name"]: self._copy_features(sha256[row["submission_id"]]) for row in rows}
        return copies.find_copies({name: f for name, f in features.items() if f is not None}, truth)

    def _copy_features(self, sha256: str) -> np.ndarray | None:
        """A stored file's features, computed once per file content (None if it cannot be read)."""
        cache = self.__dict__.setdefault("_copy_feature_cache", {})
        if sha256 not in cache:
            try:
                cache[sha256] = self.judge.copy_features(self.paths.submissions / f"{sha256}.csv")
            except (SubmissionError, OSError):  # a stored file gone or damaged: rescore says so
                cache[sha256] = None
        return cache[sha256]
