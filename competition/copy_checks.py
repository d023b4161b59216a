"""Copy flags for the organizer: each participant's counted submission (the one their standings row
counts: the best of their final choice) compared with every other participant's inside the mouth
boxes (submission/copies.py). One submission per participant, so nobody's own submissions are
compared with each other.

The flags are stored (db.CopyFlagRow) and kept up to date at each change of a participant's counted
submission (an accepted upload, a new final choice, a disqualification or its undoing), from the
copy features the judge stored with each accepted upload: no view computes a flag or reads a CSV.
One change costs
- the pairs: the changed participant's features (as submitted and blurred) against every other
  participant's, one `copies.find_copies` call per pair: O(N) feature comparisons, most of the work;
- the mixes (is anyone a blend of two others?): `copies.find_copies` over everyone's unblurred
  features, whose mixes are those of the full check once the pairs above are left out (a mix is
  flagged only when neither of its pairs is). Its Gram matrix is O(N^2 K) and the search O(N^3)
  scalars, without the 19 blurs (docs/hosting.md gives the measured cost).
Flags inform the organizer: they change no score and no grade.
"""
from __future__ import annotations

import logging

from sqlalchemy import delete, select, text
from sqlalchemy.exc import OperationalError

from competition.db import CopyFlagRow, Judgement, Participant
from competition.verdicts import features_from_bytes
from submission import copies

PAIR, MIX = "pair", "mix"
# PostgreSQL: one advisory lock serialises the writers of copy flags across server processes (SQLite's
# write lock does it there); any number no other part of the kit takes.
LOCK = text("SELECT pg_advisory_xact_lock(33)")
log = logging.getLogger(__name__)


class CopyChecks:
    """A mixin of competition.service.Competition (db, answer_features, counted_ids, standings)."""

    def standings_with_copies(self) -> tuple[list[dict], list[str]]:
        """`standings` rows, each with "copies" (short notes, '' for none), and the flags' full sentences."""
        rows = self.standings()
        flags = self.stored_copy_flags()
        notes = copies.flags_by_participant(flags)
        for row in rows:
            row["copies"] = "; ".join(notes.get(row["name"], []))
        return rows, [flag.sentence() for flag in flags]

    def stored_copy_flags(self) -> list[copies.CopyFlag]:
        """The stored flags, named by the roster's names, closest first."""
        with self.db.session() as s:
            names = dict(s.execute(select(Participant.id, Participant.name)).all())
            rows = s.scalars(select(CopyFlagRow)).all()
        flags = []
        for row in rows:
            who = [names.get(pid, f"participant {pid}") for pid in row.participant_ids]
            details = dict(row.details)
            blurred = details.pop("blurred", None)
            flags.append(copies.CopyFlag(tuple(who), row.ratio, blurred=names.get(blurred, "") if blurred else "",
                                         **details))
        return sorted(flags, key=lambda f: (f.ratio, f.names))

    def refresh_copy_flags(self, participant_id: int) -> None:
        """`update_copy_flags` after a change that is already committed: a database too busy to take
        the flags (a lock timeout) leaves them as they were and says how to rebuild them, rather than
        failing an upload or a choice that was recorded."""
        try:
            self.update_copy_flags(participant_id)
        except OperationalError as exc:
            log.warning("copy flags of participant %s not updated (%s); `inpaint competition rescore "
                        "--fill-judgements` rebuilds them all", participant_id, str(exc.orig or exc).splitlines()[0])

    def update_copy_flags(self, participant_id: int, attempts: int = 3) -> None:
        """Replace the flags that involve `participant_id` (their counted submission just changed) and
        the mixes. The comparisons run outside any lock; the rows are replaced in a write transaction
        (SQLite's write lock, a PostgreSQL advisory lock) only if the counted submissions are still the
        ones compared, else compared again: two changes at once end compared with each other's new
        submission, never an old one, and no upload waits for the comparisons of another."""
        truth = self.answer_features()
        if truth is None:  # a set without white boxes has no copy features
            return
        for attempt in range(attempts):
            locked = attempt == attempts - 1  # the last try compares under the lock: it cannot be overtaken
            with self.db.session(write=locked) as s, s.begin():
                if locked and not self.db.is_sqlite:
                    s.execute(LOCK)
                counted = self.counted_ids(s)
                pairs, mixes = self._compare(s, participant_id, counted, truth)
                if locked:
                    self._replace(s, participant_id, counted, pairs, mixes)
                    return
            with self.db.session(write=True) as s, s.begin():
                if not self.db.is_sqlite:
                    s.execute(LOCK)
                if self.counted_ids(s) == counted:
                    self._replace(s, participant_id, counted, pairs, mixes)
                    return

    def _compare(self, s, participant_id: int, counted: dict[int, int], truth) -> tuple[list, list]:
        """(pair flags between the participant's counted submission and every other one, the full
        check's mixes before the blurred pairs leave some out), reading each stored feature set once."""
        mine = counted.get(participant_id)
        own = None if mine is None else features_from_bytes(
            s.scalar(select(Judgement.copy_features).where(Judgement.submission_id == mine)))
        pairs, unblurred = [], {}
        for other, features in self._stored_features(s, counted):
            if features is None:
                continue
            unblurred[other] = features[0]
            if own is not None and other != participant_id:
                pair = sorted([(participant_id, own), (other, features)], key=lambda p: p[0])  # names in id order
                pairs += copies.find_copies({str(pid): f for pid, f in pair}, truth)
        everyone = {str(pid): unblurred[pid] for pid in sorted(unblurred)}
        return pairs, [flag for flag in copies.find_copies(everyone, truth) if flag.is_mix]

    @staticmethod
    def _replace(s, participant_id: int, counted: dict[int, int], pairs: list, mixes: list) -> None:
        s.execute(delete(CopyFlagRow).where(CopyFlagRow.kind == MIX))
        for row in s.scalars(select(CopyFlagRow)).all():
            if participant_id in row.participant_ids:
                s.delete(row)
        s.flush()
        s.add_all(_row(PAIR, flag, counted) for flag in pairs)
        s.flush()
        paired = {frozenset(map(str, row.participant_ids)) for row in s.scalars(select(CopyFlagRow))}
        s.add_all(_row(MIX, flag, counted) for flag in mixes
                  if not {frozenset(flag.names[:2]), frozenset((flag.names[0], flag.names[2]))} & paired)

    @staticmethod
    def _stored_features(s, counted: dict[int, int]):
        """(participant id, copy features or None) of each counted submission, read a few rows at a time."""
        by_submission = {sid: pid for pid, sid in counted.items()}
        query = (select(Judgement.submission_id, Judgement.copy_features)
                 .where(Judgement.submission_id.in_(list(by_submission))).execution_options(yield_per=16))
        for submission_id, data in s.execute(query):
            yield by_submission[submission_id], features_from_bytes(data)


def _row(kind: str, flag: copies.CopyFlag, counted: dict[int, int]) -> CopyFlagRow:
    ids = [int(name) for name in flag.names]
    return CopyFlagRow(id=f"{kind}:{'-'.join(map(str, ids))}", kind=kind, participant_ids=ids, submission_ids=[counted[i] for i in ids], ratio=flag.ratio,
                       details={"distance": flag.distance, "error": flag.error, "weight": flag.weight,
                                "blur": flag.blur, "blurred": int(flag.blurred) if flag.blurred else None})
