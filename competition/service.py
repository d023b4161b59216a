"""The competition's business logic, independent of HTTP: the JSON API and the web pages both call it.

    comp = Competition(comp_dir, db_url=None, clock=None)
    p = comp.authenticate(token)          # Participant or None
    slot = comp.reserve_upload(p)         # before reading the body: raises UploadsInFlight (429) / DailyLimitReached / ...
    result = comp.submit(p, path, message, filename, slot)   # judge_upload + record; raises DailyLimitReached / ...
    comp.submissions(p); comp.submission(p, id); comp.leaderboard(); comp.select_finals(p, ids)
    comp.organizer_submissions(); comp.standings(); comp.disqualify(sid); comp.restore(sid)
    comp.standings_with_copies()          # the organizer's: standings with the stored copy flags (copy_checks.py)
    comp.choose_display_name(p, "blue-fox")   # the participant's; comp.set_display_name(id, name) the organizer's

Every view a participant can receive is built by `participant_view` / `leaderboard`, which leave
out private scores until the deadline has passed; only the organizer_* functions and `standings`
show them earlier. All times are timezone-aware UTC datetimes.

Nothing here parses a submission: judging (competition/judge_pool.py) derives everything a view
shows once, and the views read the stored rows (db.Judgement, db.CopyFlagRow).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import anyio.to_thread
from sqlalchemy import case, delete, func, select

from competition import db as database
from competition.copy_checks import CopyChecks
from competition.judge_pool import InlineJudging, JudgePool
from competition.organizer import NotFound, OrganizerViews
from competition.refusals import CompetitionClosed, DailyLimitReached, RejectedLimitReached, day_start, utc_now
from competition.participants import ParticipantNames, public_name
from competition.private_files import protect_private_files
from competition.ranking import best_public, by_participant, final_choice, finite_or_none, rank_rows, score_key
from competition.settings import CompetitionPaths, iso, load_settings
from competition.shared_reads import SharedReads
from competition.sign_ins import SignIns
from competition.upload_slots import UploadSlots
from competition.tokens import hash_token, same_hash
from submission.errors import UserError

from competition.verdicts import FileFacts, Verdict, features_from_bytes, finding_lines, judgement_row

Participant, Submission, Judgement = database.Participant, database.Submission, database.Judgement
UploadSlot = database.UploadSlot
REJECTED_KEEP_BYTES = 64 * 1024  # of a rejected file: its first lines show why (the findings name the rest)
# 256 such beginnings; past it a rejected file keeps its row only (the environment variable: for tests)
REJECTED_BYTES_PER_PARTICIPANT = int(os.environ.get("INPAINT_REJECTED_BYTES_PER_PARTICIPANT", str(16 * 2**20)))


class Competition(OrganizerViews, CopyChecks, SignIns, ParticipantNames, UploadSlots):
    def __init__(self, comp_dir, db_url: str | None = None, clock=None, judge_processes: int = 0):
        """Open a competition folder: rules, solution and split (read once), database (schema checked).

        judge_processes > 0 judges uploads in that many separate processes (the server does, so
        that parsing CSVs does not slow its other requests), which also keep the copy flags up to
        date; 0 does both in the calling thread."""
        self.paths = CompetitionPaths(Path(comp_dir))
        self.settings = load_settings(self.paths.root)
        self.paths.require_test_boxes()  # judged in other processes: a folder without them stops here, in one line
        protect_private_files(self.paths)  # a folder made by an older kit, too
        self.clock = clock or utc_now
        admin = self.paths.admin_token.read_text().strip() if self.paths.admin_token.exists() else None
        self.db = database.open_database(db_url or self.paths.default_db_url(), hash_token(admin) if admin else None)
        self.shared = SharedReads()  # the boards a crowd asks for at once, computed once for it
        self.judging = (JudgePool(self.paths, judge_processes, db_url=self.db.url) if judge_processes > 0
                        else InlineJudging(self.paths))

    @property
    def judge(self):
        """The in-thread competition.judge.Judge (InlineJudging only: the command line and tests)."""
        return self.judging.judge

    def reference_scores(self) -> dict[str, float]:
        """{"public", "private"} RMSE of the White images (the identity reference row), judged once."""
        return self.judging.references()[0]

    def answer_features(self):
        """The answers' copy features (submission/copies.py), the yardstick of every copy flag; None
        for a set without white boxes."""
        return features_from_bytes(self.judging.references()[1])

    # ------------------------------------------------------------ who is asking
    def authenticate(self, token: str | None) -> Participant | None:
        """The participant holding this token, or None. Looked up by hash, confirmed in constant time."""
        if not token:
            return None
        with self.db.session() as s:
            found = s.scalar(select(Participant).where(Participant.token_hash == hash_token(token)))
        return found if found is not None and same_hash(token, found.token_hash) else None

    def is_admin(self, token: str | None) -> bool:
        """True for the organizer's token (COMP/secrets/admin_token.txt)."""
        if not token:
            return False
        with self.db.session() as s:
            stored = self._admin_token_hash(s)
        return same_hash(token, stored)

    def is_closed(self) -> bool:
        """The deadline has passed: no uploads, private leaderboard visible."""
        return self.settings.is_closed(self.clock())

    # ------------------------------------------------------------ uploads
    def uploads_left(self, participant: Participant) -> int:
        """Accepted uploads still allowed today (UTC day); rejected files never count."""
        with self.db.session() as s:
            return self.settings.daily_limit - self._used_today(s, participant.id)

    def resets_at(self) -> datetime:
        """When today's count starts again: the next UTC midnight."""
        return day_start(self.clock()) + timedelta(days=1)

    def judge_upload(self, file_path: Path, filename: str) -> tuple[FileFacts, Verdict]:
        """The file's facts and verdict, from a judging process if there are any (waits in this thread)."""
        return self.judging.facts_and_verdict(file_path, filename)

    async def judge_upload_async(self, file_path: Path, filename: str) -> tuple[FileFacts, Verdict]:
        """`judge_upload` for the server's event loop: waiting for a judging process holds no thread
        (a burst of uploads would otherwise fill the thread pool every page needs)."""
        if isinstance(self.judging, JudgePool):
            return await self.judging.facts_and_verdict_async(file_path, filename)
        return await anyio.to_thread.run_sync(self.judge_upload, file_path, filename)

    def submit(self, participant: Participant, file_path, message: str = "", filename: str = "",
               slot: str | None = None) -> dict:
        """Judge a file (`judge_upload`) and `record` it; returns the result dict (see `record`)."""
        file_path = Path(file_path)
        filename = (filename or file_path.name)[:255]
        facts, verdict = self.judge_upload(file_path, filename)
        return self.record(participant, file_path, facts, verdict, message, filename, slot)

    def record(self, participant: Participant, file_path: Path, facts: FileFacts, verdict: Verdict,
               message: str = "", filename: str = "", slot: str | None = None) -> dict:
        """Store a judged file as COMP/submissions/<sha256>.csv and write its row; returns the result dict.

        The file at `file_path` is moved (renamed) into place after an fsync, so it should live on
        the same file system (COMP/submissions/.incoming/ does). A rejected file keeps only its first
        REJECTED_KEEP_BYTES (enough to show why), and none once the participant's rejected files
        would pass REJECTED_BYTES_PER_PARTICIPANT; the row keeps the whole file's size and SHA-256.
        The row is written in one transaction that counts today's accepted uploads under a lock,
        deletes the upload's `slot` (competition/upload_slots.py) and marks the participant's copy
        flags stale; the call returns after the commit, without waiting for the flags (the judging
        side updates them: competition/copy_checks.py). Result keys: id, status ("accepted"/"rejected"), public_rmse (None if rejected),
        rank (public rank of the participant's best, None if none), uploads_left, resets_at,
        findings (validator messages, the full list for a rejected file), diagnoses (the likely
        export mistakes of a file that parses; [] if none found), sha256, stored_as (None: not kept).
        Raises DailyLimitReached, RejectedLimitReached or CompetitionClosed (then nothing is
        recorded and the file is not stored; the caller deletes it and releases the slot).
        """
        filename = (filename or file_path.name)[:255]
        if verdict.status == "rejected" and facts.size > REJECTED_KEEP_BYTES:
            os.truncate(file_path, REJECTED_KEEP_BYTES)
        self._fsync(file_path)  # the slow part of storing, done before the lock that serialises uploads
        with self.db.session(write=True) as s, s.begin():
            # PostgreSQL: FOR UPDATE serialises one participant's uploads. SQLite: the write
            # engine's BEGIN IMMEDIATE already holds the database's write lock.
            s.scalar(select(Participant).where(Participant.id == participant.id).with_for_update())
            now = self.clock()
            if self.settings.is_closed(now):
                raise CompetitionClosed(f"the competition closed at {iso(self.settings.deadline)}; the upload was not recorded")
            used = self._used_today(s, participant.id, now)
            if verdict.status == "accepted" and used >= self.settings.daily_limit:
                raise DailyLimitReached(self.settings.daily_limit, now)
            if verdict.status == "rejected" and self._used_today(s, participant.id, now, "rejected") >= \
                    self.settings.rejected_daily_limit:
                raise RejectedLimitReached(self.settings.rejected_daily_limit, now)
            if slot:
                s.execute(delete(UploadSlot).where(UploadSlot.id == slot))
            # Renamed into place under the lock, after the checks: a refused upload leaves no file in
            # submissions/, and the file of a committed row was there before its row.
            keep = verdict.status == "accepted" or self._rejected_bytes_kept(s, participant.id) + \
                min(facts.size, REJECTED_KEEP_BYTES) <= REJECTED_BYTES_PER_PARTICIPANT
            stored = self._store(file_path, facts.sha256) if keep else None
            row = Submission(participant_id=participant.id, created=now, sha256=facts.sha256, filename=filename,
                             size_bytes=facts.size, message=(message or "")[:2000], status=verdict.status,
                             public_rmse=verdict.public_rmse, private_rmse=verdict.private_rmse,
                             selected=False, disqualified=False)
            s.add(row)
            s.flush()
            s.add(judgement_row(row.id, verdict))
            if verdict.status == "accepted":
                self.mark_copy_flags_stale(s, [participant.id])  # updated after the commit, by the judging side
            left = self.settings.daily_limit - used - (verdict.status == "accepted")
        if verdict.status == "accepted":
            self.judging.copy_flags_changed(self)
        board = self.leaderboard()
        rank = next((r["rank"] for r in board["rows"] if r["participant_id"] == participant.id), None)
        return {"id": row.id, "status": verdict.status, "public_rmse": verdict.public_rmse, "rank": rank,
                "uploads_left": left, "resets_at": iso(day_start(now) + timedelta(days=1)),
                "findings": verdict.finding_lines, "diagnoses": verdict.diagnoses, "sha256": facts.sha256,
                "stored_as": stored.name if stored else None}

    @staticmethod
    def _rejected_bytes_kept(s, participant_id: int) -> int:
        """What the participant's rejected files hold on disk at most: each row's size up to REJECTED_KEEP_BYTES
        (a row whose file was not kept counts too, so once the cap is reached it stays reached)."""
        return s.scalar(select(func.coalesce(func.sum(case((Submission.size_bytes > REJECTED_KEEP_BYTES,
                                                            REJECTED_KEEP_BYTES), else_=Submission.size_bytes)), 0))
                        .where(Submission.participant_id == participant_id, Submission.status == "rejected")) or 0

    @staticmethod
    def _fsync(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _store(self, file_path: Path, sha256: str) -> Path:
        """Rename the (already fsynced) file into its content name, then fsync the folder: the file
        exists before its row."""
        target = self.paths.submissions / f"{sha256}.csv"
        os.replace(file_path, target)  # same content, same name: replacing a twin changes nothing
        self._fsync(self.paths.submissions)
        return target

    def _used_today(self, s, participant_id: int, now: datetime | None = None, status: str = "accepted") -> int:
        """The participant's uploads of this status since the last UTC midnight."""
        start = day_start(now or self.clock())
        return s.scalar(select(func.count()).select_from(Submission).where(
            Submission.participant_id == participant_id, Submission.status == status,
            Submission.created >= start)) or 0

    # ------------------------------------------------------------ a participant's own submissions
    def participant_view(self, row: Submission, judged: Judgement | None) -> dict:
        """One submission as its owner may see it: the private score only once the competition is closed.
        "findings" are "level: message" lines (as the client prints them), "errors" and "warnings" the
        messages alone, from the stored structure."""
        findings = judged.findings if judged is not None else []
        view = {"id": row.id, "created": iso(row.created), "filename": row.filename, "message": row.message,
                "status": row.status, "public_rmse": finite_or_none(row.public_rmse), "selected": row.selected,
                "findings": finding_lines(findings),
                "errors": [f["message"] for f in findings if f["level"] == "error"],
                "warnings": [f["message"] for f in findings if f["level"] == "warning"],
                "diagnoses": list(judged.diagnoses) if judged is not None else [],
                "disqualified": row.disqualified, "size_bytes": row.size_bytes}
        if self.is_closed():
            view["private_rmse"] = finite_or_none(row.private_rmse)
        return view

    def submissions(self, participant: Participant) -> list[dict]:
        """The participant's submissions, newest first, as `participant_view` dicts."""
        with self.db.session() as s:
            rows = s.execute(with_judgement(select(Submission)).where(Submission.participant_id == participant.id)
                             .order_by(Submission.id.desc())).all()
        return [self.participant_view(*r) for r in rows]

    def _own(self, s, participant: Participant, submission_id: int) -> Submission | None:
        row = s.get(Submission, submission_id) if 1 <= submission_id <= database.MAX_ID else None
        return row if row is not None and row.participant_id == participant.id else None

    def submission(self, participant: Participant, submission_id: int) -> dict | None:
        """One of the participant's own submissions, or None (also for someone else's: callers answer 404).
        "pictures": whether the judge drew its thumbnails (`thumbnails`)."""
        with self.db.session() as s:
            row = self._own(s, participant, submission_id)
            judged = None if row is None else s.get(Judgement, row.id)
        if row is None:
            return None
        return {**self.participant_view(row, judged), "pictures": judged is not None and judged.thumbnails is not None}

    def thumbnails(self, participant: Participant, submission_id: int) -> bytes | None:
        """The stored PNG of one of the participant's own submissions, or None (none drawn, or not theirs)."""
        with self.db.session() as s:
            row = self._own(s, participant, submission_id)
            return None if row is None else s.scalar(select(Judgement.thumbnails)
                                                     .where(Judgement.submission_id == row.id))

    def submission_file(self, participant: Participant, submission_id: int) -> Path | None:
        """Path of the participant's own stored file (to download), or None like `submission`."""
        with self.db.session() as s:
            row = self._own(s, participant, submission_id)
        return None if row is None else self.paths.submissions / f"{row.sha256}.csv"

    def select_finals(self, participant: Participant, ids: list[int]) -> list[int]:
        """Choose the submissions that count on the private leaderboard (replaces the previous choice).

        At most `final_picks` ids, each an accepted submission of this participant; an empty list
        returns to the default (the best public ones). Raises UserError (unknown id: a
        LookupError-like message the API turns into 404) or Refused after the deadline.
        """
        ids = sorted(set(int(i) for i in ids))
        if self.is_closed():
            raise CompetitionClosed("the competition has closed; final submissions can no longer change")
        if len(ids) > self.settings.final_picks:
            raise UserError(f"at most {self.settings.final_picks} final submissions may be selected, got {len(ids)}")
        with self.db.session(write=True) as s, s.begin():
            rows = s.scalars(select(Submission).where(Submission.participant_id == participant.id)).all()
            mine = {r.id: r for r in rows}
            unknown = [i for i in ids if i not in mine]
            if unknown:
                raise NotFound(f"no submission {unknown[0]} among yours")
            rejected = [i for i in ids if mine[i].status != "accepted"]
            if rejected:
                raise UserError(f"submission {rejected[0]} was rejected and cannot be a final one")
            disqualified = [i for i in ids if mine[i].disqualified]
            if disqualified:
                raise UserError(f"submission {disqualified[0]} was disqualified by the organizer and cannot be a final one")
            for r in rows:
                r.selected = r.id in ids
            self.mark_copy_flags_stale(s, [participant.id])
        self.judging.copy_flags_changed(self)
        return ids

    # ------------------------------------------------------------ leaderboards
    def counted_submissions(self, session=None) -> list[tuple[CountedSubmission, CountedPerson]]:
        """Every accepted submission that the organizer has not disqualified, with its participant
        (read in `session` when given: a transaction that must see its own lock's state), as plain
        named tuples of the columns the boards and standings read: 2,000 rows as ORM objects took
        0.04-0.1 s, most of a board's time. Without a session, reads that arrive together share one
        (competition/shared_reads.py)."""
        query = (select(*[getattr(Submission, c) for c in CountedSubmission._fields],
                        *[getattr(Participant, c) for c in CountedPerson._fields]).join(Participant)
                 .where(Submission.status == "accepted", Submission.disqualified.is_(False)).order_by(Submission.id))

        def read(s) -> list[tuple[CountedSubmission, CountedPerson]]:
            people, pairs, split = {}, [], len(CountedSubmission._fields)
            for row in s.execute(query):
                sub = CountedSubmission(*row[:split])
                person = people.get(sub.participant_id) or people.setdefault(sub.participant_id,
                                                                             CountedPerson(*row[split:]))
                pairs.append((sub, person))
            return pairs

        if session is not None:
            return read(session)

        def shared() -> list[tuple[CountedSubmission, CountedPerson]]:
            with self.db.session() as s:
                return read(s)

        return list(self.shared.get(("counted submissions",), shared))

    def leaderboard(self) -> dict:
        """What everyone may see: {"kind": "public"|"private", "closes": iso, "rows": [...]}.

        Before the deadline each row is the participant's best public RMSE; afterwards the private
        RMSE of their final choice (selected ones, else the best `final_picks` public ones, as
        Kaggle does). Rows: rank, participant_id, name, score, entries, last (iso); a score that is not
        finite (a row from before the value rule) is None and ranks last. Calls that arrive together
        share one computation (competition/shared_reads.py); each gets its own rows to change.
        """
        closed = self.is_closed()
        board = self.shared.get(("leaderboard", closed), lambda: self._leaderboard(closed))
        return {**board, "rows": [dict(row) for row in board["rows"]]}

    def _leaderboard(self, closed: bool) -> dict:
        rows = []
        for person, subs in by_participant(self.counted_submissions()):
            chosen = final_choice(subs, self.settings.final_picks) if closed else [best_public(subs)]
            scores = [s.private_rmse if closed else s.public_rmse for s in chosen]
            rows.append({"participant_id": person.id, "name": public_name(person), "score": min(scores, key=score_key),
                         "entries": len(subs),
                         "last": iso(max(s.created for s in subs))})
        return {"kind": "private" if closed else "public", "closes": iso(self.settings.deadline), "rows": rank_rows(rows)}

    def close(self) -> None:
        self.judging.close()
        self.db.dispose()


class CountedSubmission(NamedTuple):
    """The columns of a counted submission that the boards and standings read (`counted_submissions`)."""

    id: int
    participant_id: int
    created: datetime
    public_rmse: float | None
    private_rmse: float | None
    selected: bool


class CountedPerson(NamedTuple):
    """The columns of a participant that the boards and standings read (`counted_submissions`)."""

    id: int
    name: str
    display_name: str
    email: str
    student_id: str


def with_judgement(query):
    """`query` (of Submission) with each row's Judgement beside it (None for a row judged by an older kit)."""
    return query.add_columns(Judgement).outerjoin(Judgement, Judgement.submission_id == Submission.id)
