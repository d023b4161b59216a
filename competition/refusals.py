"""What the rules refuse, as exceptions carrying the HTTP status the API answers with, and the UTC day
the daily counts follow."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from submission.errors import UserError


class Refused(UserError):
    """An upload or action the rules do not allow; `status` is the HTTP code the API answers with."""

    status = 403


class DayCapReached(Refused):
    """A per-UTC-day count is used up; `resets_at` is the next UTC midnight (the API's Retry-After)."""

    status = 429

    def __init__(self, message: str, now: datetime):
        self.resets_at = day_start(now) + timedelta(days=1)
        self.seconds_left = (self.resets_at - now).total_seconds()
        super().__init__(f"{message}; it resets at {self.resets_at.isoformat()} (UTC midnight)")


class DailyLimitReached(DayCapReached):
    def __init__(self, limit: int, now: datetime):
        super().__init__(f"daily limit of {limit} accepted uploads reached", now)


class RejectedLimitReached(DayCapReached):
    """Rejected files do not use the daily limit, but each is stored and judged: this cap bounds the
    disk and the CPU. Once it is reached no upload of that participant is taken until the reset."""

    def __init__(self, limit: int, now: datetime, judged: bool = True):
        this_one = "this one was not stored" if judged else "this one was neither read nor judged"
        super().__init__(f"{limit} rejected uploads today is the cap for rejected files, so no more uploads are "
                         f"taken from you today ({this_one}); check your file with `inpaint validate` before "
                         "uploading again", now)


class UploadsInFlight(Refused):
    """Uploads of this participant are still being received or judged: this one was refused before
    a byte of it was read. Worth trying again once they are answered (Retry-After)."""

    status = 429
    retry_after_s = 10

    def __init__(self, reason: str):
        super().__init__(f"{reason}; this upload was refused before it was read: send it again once they are "
                         "answered")


class CompetitionClosed(Refused):
    status = 403


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(timezone.utc).date(), time(0), tzinfo=timezone.utc)
