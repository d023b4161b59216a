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

from sqlalchemy import delete, select, text

from competition.db import CopyFlagRow, Judgement, Participant
from competition.verdicts import features_from_bytes
from submission import copies

PAIR, MIX = "pair", "mix"


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

    def update_copy_flags(self, participant_id: int) -> None:
        """Replace the flags that involve `participant_id` (their counted submission just changed) and
        the mixes. In one write transaction (SQLite's write lock, a PostgreSQL advisory lock), so that
        two changes at once are compared with each other's new submission, never an old one."""
        truth = self.answer_features()
        if truth is None:  # a set without white boxes has no copy features
            return
        with self.db.session(write=True) as s, s.begin():
            if not self.db.is_sqlite:
                s.execute(text("SELECT pg_advisory_xact_lock(33)"))
            counted = self.counted_ids(s)
            s.execute(delete(CopyFlagRow).where(CopyFlagRow.kind == MIX))
            for row in s.scalars(select(CopyFlagRow)).all():
                if participant_id in row.participant_ids:
                    s.delete(row)
            mine = counted.get(participant_id)
            if mine is None:
                s.add_all(self._mixes(s, counted, truth))
                return
            own = features_from_bytes(s.scalar(select(Judgement.copy_features)
                                               .where(Judgement.submission_id == mine)))
            others = {pid: sid for pid, sid in counted.items() if pid != participant_id}
            for other, features in self._stored_features(s, others):
                if own is None or features is None:
                    continue
                pair = sorted([(participant_id, own), (other, features)], key=lambda p: p[0])  # names in id order
                for flag in copies.find_copies({str(pid): f for pid, f in pair}, truth):
                    s.add(_row(PAIR, flag, counted))
            s.flush()
            s.add_all(self._mixes(s, counted, truth))

    def _mixes(self, s, counted: dict[int, int], truth) -> list[CopyFlagRow]:
        """The mix flags among everyone's counted submission, given the stored pair flags."""
        unblurred = {str(pid): f[0] for pid, f in sorted(self._stored_features(s, counted), key=lambda p: p[0])
                     if f is not None}
        paired = {frozenset(map(str, row.participant_ids)) for row in s.scalars(select(CopyFlagRow))}
        mixes = [flag for flag in copies.find_copies(unblurred, truth) if flag.is_mix]
        return [_row(MIX, flag, counted) for flag in mixes
                if not {frozenset(flag.names[:2]), frozenset((flag.names[0], flag.names[2]))} & paired]

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
