"""Copy flags for the organizer: each participant's counted submission (the one their standings row
counts: the best of their final choice) compared with every other participant's inside the mouth
boxes (submission/copies.py). One submission per participant, so nobody's own submissions are
compared with each other.

The flags are stored (db.CopyFlagRow) and kept up to date at each change of a participant's counted
submission (an accepted upload, a new final choice, a disqualification or its undoing), from the
copy features the judge stored with each accepted upload: no view computes a flag or reads a CSV.
One change costs
- the pairs: the changed participant's features (as submitted and blurred) against every other
  participant's, `copies.find_copies` over it and PAIR_GROUP others at a time: O(N) feature
  comparisons, most of the work with reading the N stored feature sets;
- the mixes (is anyone a blend of two others?): `copies.find_copies` over everyone's unblurred
  features, whose mixes are those of the full check once the pairs above are left out (a mix is
  flagged only when neither of its pairs is). Its Gram matrix is O(N^2 K) and the search O(N^3)
  scalars, without the 19 blurs (docs/hosting.md gives the measured cost).
Several changes are compared in one pass (`update_stale_copy_flags`), which reads everyone's
features once per STALE_BATCH changed participants and looks for mixes once.

When and where: the change marks the participant's flags stale in its own transaction
(`mark_copy_flags_stale`, a `meta` row), and the flags are updated after its commit by the judging
side (competition/judge_pool.py): in `inpaint serve` in a judging process, one pass at a time per
server process, woken by each change and run once at its start, so neither the upload's answer nor
any server thread waits for the comparisons; on the command line (InlineJudging) in the calling
thread. A process killed between the commit and the update leaves the marker, and the next pass
(the next change, the next server start, `inpaint competition rescore --fill-judgements`) takes it.
Flags inform the organizer: they change no score and no grade.
"""
from __future__ import annotations

import logging
import uuid

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from competition.db import CopyFlagRow, Judgement, Meta, Participant
from competition.verdicts import features_from_bytes
from submission import copies

PAIR, MIX = "pair", "mix"
# PostgreSQL: one advisory lock serialises the writers of copy flags across server processes (SQLite's
# write lock does it there); any number no other part of the kit takes.
LOCK = text("SELECT pg_advisory_xact_lock(33)")
# A `meta` row per participant whose flags are stale: set in the transaction of the change, deleted
# when the flags are updated (its value a stamp, so that a marker set again meanwhile is kept).
STALE = "copy_flags_stale:"
STALE_BATCH = 16  # participants compared per reading of everyone's features (16 x 1 MB held at once)
PAIR_GROUP = 16  # others compared with them in one `find_copies` call (as many again held)
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

    # ------------------------------------------------------------ keeping them up to date
    def mark_copy_flags_stale(self, s, participant_ids) -> None:
        """In the transaction `s` that changes these participants' counted submissions: mark their flags
        stale (one `meta` row each, "copy_flags_stale:<id>", holding a new stamp). Committed with the
        change, so a process killed before the flags are updated leaves the marker, and the next pass
        (`update_stale_copy_flags`: after any change, at each server start, `rescore --fill-judgements`)
        updates them."""
        ids = sorted(set(participant_ids))
        if not ids:
            return
        stamp = uuid.uuid4().hex
        insert = sqlite_insert if s.get_bind().dialect.name == "sqlite" else postgresql_insert
        upsert = insert(Meta).values([{"key": f"{STALE}{pid}", "value": stamp} for pid in ids])
        s.execute(upsert.on_conflict_do_update(index_elements=[Meta.key], set_={"value": upsert.excluded.value}))

    def stale_copy_flags(self) -> dict[int, str]:
        """participant id -> the stamp of their marker, for every participant whose flags are stale."""
        with self.db.session() as s:
            rows = s.execute(select(Meta.key, Meta.value).where(Meta.key.startswith(STALE, autoescape=True))).all()
        return {int(key[len(STALE):]): stamp for key, stamp in rows}

    def update_stale_copy_flags(self, batch: int = STALE_BATCH, rounds: int = 1000) -> int:
        """Update the flags of every participant marked stale, `batch` of them per comparison (each
        batch reads every stored feature set once), until no marker is left; returns how many updates
        were made. A marker set meanwhile is taken in the next round; `rounds` bounds the loop."""
        done = 0
        for _ in range(rounds):
            stale = self.stale_copy_flags()
            if not stale:
                break
            for first in range(0, len(stale), batch):
                chosen = sorted(stale)[first:first + batch]
                self.update_copy_flags({pid: stale[pid] for pid in chosen})
                done += len(chosen)
        return done

    def refresh_stale_copy_flags(self) -> None:
        """`update_stale_copy_flags` after a change that is already committed, in the calling thread (the
        command line, in-process tests): a database too busy to take the flags (a lock timeout) leaves
        the markers, rather than failing the change that was recorded."""
        try:
            self.update_stale_copy_flags()
        except OperationalError as exc:
            log.warning("copy flags not updated (%s); the next change, the next server start or `inpaint "
                        "competition rescore --fill-judgements` updates them", str(exc.orig or exc).splitlines()[0])

    def update_copy_flags(self, stale: dict[int, str], attempts: int = 3) -> None:
        """Replace the flags that involve the participants of `stale` (id -> the stamp of their marker:
        their counted submission changed) and the mixes, then delete those markers still holding the
        stamps read (a marker set again meanwhile stays, for the next round). The comparisons run
        outside any lock; the rows are replaced in a write transaction (SQLite's write lock, a
        PostgreSQL advisory lock) only if the counted submissions are still the ones compared, else
        compared again: two passes at once (two server processes) end compared with each other's new
        submission, never an old one, and no upload waits for the comparisons."""
        truth = self.answer_features()
        ids = sorted(stale)
        for attempt in range(attempts):
            locked = attempt == attempts - 1  # the last try compares under the lock: it cannot be overtaken
            with self.db.session(write=locked) as s, s.begin():
                if locked and not self.db.is_sqlite:
                    s.execute(LOCK)
                counted = self.counted_ids(s)
                # a set without white boxes has no copy features: nothing to compare, the markers go
                pairs, mixes = self._compare(s, ids, counted, truth) if truth is not None else ([], [])
                if locked:
                    self._replace(s, ids, counted, pairs, mixes)
                    self._clear_stale(s, stale)
                    return
            with self.db.session(write=True) as s, s.begin():
                if not self.db.is_sqlite:
                    s.execute(LOCK)
                if self.counted_ids(s) == counted:
                    self._replace(s, ids, counted, pairs, mixes)
                    self._clear_stale(s, stale)
                    return

    @staticmethod
    def _clear_stale(s, stale: dict[int, str]) -> None:
        for pid, stamp in stale.items():
            s.execute(delete(Meta).where(Meta.key == f"{STALE}{pid}", Meta.value == stamp))

    def _compare(self, s, participant_ids: list[int], counted: dict[int, int], truth) -> tuple[list, list]:
        """(pair flags between each given participant's counted submission and every other one, each pair
        once; the full check's mixes before the blurred pairs leave some out), reading each stored
        feature set once.

        The pairs come from `copies.find_copies` over the given ones with PAIR_GROUP others at a time
        (pair flags are a property of the two alone, so the flags of pairs with one given participant
        are those of the pair compared by itself, to the bit), which does in one matrix product per blur
        what one call per pair did: 20 changed participants among 200 took 0.68 CPU s instead of 5.6."""
        own = {}
        for pid in participant_ids:
            if pid in counted:
                features = features_from_bytes(s.scalar(select(Judgement.copy_features)
                                                        .where(Judgement.submission_id == counted[pid])))
                if features is not None:
                    own[pid] = features
        pairs = self._pairs_with(own, own, truth, both_given=True)
        unblurred, group = {pid: f[0] for pid, f in own.items()}, {}
        for other, features in self._stored_features(s, counted):
            if features is None or other in own:
                continue
            unblurred[other] = features[0]
            group[other] = features
            if len(group) == PAIR_GROUP:
                pairs += self._pairs_with(own, group, truth)
                group = {}
        pairs += self._pairs_with(own, group, truth)
        everyone = {str(pid): unblurred[pid] for pid in sorted(unblurred)}
        return pairs, [flag for flag in copies.find_copies(everyone, truth) if flag.is_mix]

    @staticmethod
    def _pairs_with(own: dict, others: dict, truth, both_given: bool = False) -> list:
        """The pair flags of each participant of `own` with each of `others` (with each other when
        `both_given`), named by id in id order."""
        if not own or not others:
            return []
        everyone = own | others
        flags = copies.find_copies({str(pid): everyone[pid] for pid in sorted(everyone)}, truth)
        given = {str(pid) for pid in own}
        wanted = (lambda a, b: a in given and b in given) if both_given else (lambda a, b: (a in given) != (b in given))
        return [flag for flag in flags if not flag.is_mix and wanted(*flag.names)]

    @staticmethod
    def _replace(s, participant_ids: list[int], counted: dict[int, int], pairs: list, mixes: list) -> None:
        s.execute(delete(CopyFlagRow).where(CopyFlagRow.kind == MIX))
        changed = set(participant_ids)
        for row in s.scalars(select(CopyFlagRow)).all():
            if changed & set(row.participant_ids):
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
