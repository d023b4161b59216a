"""Uploads in flight: at most MAX_UPLOADS_IN_FLIGHT per participant, each holding its place in the
daily limit while it is received and judged (the `upload_slots` table).

A slot is taken before a byte of the body is read, in the same kind of transaction as the daily
count (SQLite: BEGIN IMMEDIATE; PostgreSQL: the participant's row FOR UPDATE), so the rule holds
across several server processes: a burst of 150 uploads from one participant gets 149 answers 429
at once, and the one taken is judged while everyone else's uploads and pages go on. The slot becomes the
submission row in one transaction (competition/service.py record) or is released when the upload
is refused. A slot older than UPLOAD_SLOT_TTL_S was left by a server process that died (killed,
power cut) and no longer counts, so nobody stays blocked. A mixin of competition.service.Competition.
"""
from __future__ import annotations

import os
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select

from competition.db import Participant, UploadSlot
from competition.refusals import CompetitionClosed, DailyLimitReached, RejectedLimitReached, UploadsInFlight
from competition.settings import iso

# One: with the default two judging processes (one per core) a participant's burst then holds one of
# them and everyone else's uploads get the other at once (with two, the class benchmark's other
# participant waited for the attacker's judgement and then its own).
MAX_UPLOADS_IN_FLIGHT = 1
# Longer than any live upload: a 50 MB body at the body timeout's pace, a queue of judgements, and the
# judging timeout (competition/judge_pool.py); shorter than a participant would wait before asking.
UPLOAD_SLOT_TTL_S = float(os.environ.get("INPAINT_UPLOAD_SLOT_TTL_S", "600"))


class UploadSlots:
    def reserve_upload(self, participant: Participant) -> str:
        """Take a slot for an upload about to be received; returns its id (for `record` / `release_upload`).

        Raises CompetitionClosed, UploadsInFlight (MAX_UPLOADS_IN_FLIGHT already, or the places left
        today held by uploads still being judged), DailyLimitReached or RejectedLimitReached."""
        with self.db.session(write=True) as s, s.begin():
            s.scalar(select(Participant).where(Participant.id == participant.id).with_for_update())
            now = self.clock()
            if self.settings.is_closed(now):
                raise CompetitionClosed(f"the competition closed at {iso(self.settings.deadline)}; "
                                        "uploads are no longer accepted")
            s.execute(delete(UploadSlot).where(UploadSlot.started < now - timedelta(seconds=UPLOAD_SLOT_TTL_S)))
            in_flight = s.scalar(select(func.count()).select_from(UploadSlot)
                                 .where(UploadSlot.participant_id == participant.id)) or 0
            used = self._used_today(s, participant.id, now)
            if used >= self.settings.daily_limit:
                raise DailyLimitReached(self.settings.daily_limit, now)
            if self._used_today(s, participant.id, now, "rejected") >= self.settings.rejected_daily_limit:
                raise RejectedLimitReached(self.settings.rejected_daily_limit, now, judged=False)
            if in_flight >= MAX_UPLOADS_IN_FLIGHT:
                raise UploadsInFlight(f"{in_flight} of your uploads {'is' if in_flight == 1 else 'are'} still being "
                                      "received or judged, the most at a time")
            if used + in_flight >= self.settings.daily_limit:
                raise UploadsInFlight(f"the uploads left to you today ({self.settings.daily_limit - used}) are being "
                                      "judged; a place frees if one of them is rejected")
            slot = uuid.uuid4().hex
            s.add(UploadSlot(id=slot, participant_id=participant.id, started=now))
        return slot

    def release_upload(self, slot: str | None) -> None:
        """Give a slot back (the upload was refused, failed, or cut off); nothing happens for a slot
        already turned into a submission row or expired."""
        if slot:
            with self.db.session(write=True) as s, s.begin():
                s.execute(delete(UploadSlot).where(UploadSlot.id == slot))

    def uploads_in_flight(self, participant: Participant) -> int:
        """The participant's live slots (what the daily limit counts besides the rows)."""
        start = self.clock() - timedelta(seconds=UPLOAD_SLOT_TTL_S)
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(UploadSlot).where(
                UploadSlot.participant_id == participant.id, UploadSlot.started >= start)) or 0
