"""Register participants from a roster and hand out their tokens (written once, to COMP/secrets)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from competition.db import Database, Participant
from competition.settings import CompetitionPaths
from competition.tokens import hash_token, new_token, write_secret
from inpaint.errors import UserError


def public_name(person: Participant) -> str:
    """The one place that decides how a participant is named to other participants (leaderboards,
    the pages' "signed in as"); the organizer's views show the registered name and e-mail."""
    return person.name


def read_roster(path: Path) -> list[tuple[str, str]]:
    """`name[,email]` lines (a first line `name,email` is a header) -> [(name, email)], checked."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the roster as a UTF-8 CSV") from None
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if rows and rows[0][0].lower() == "name":
        rows = rows[1:]
    if not rows:
        raise UserError(f"{path}: no participants (expected lines of name[,email])")
    people = []
    for number, row in enumerate(rows, start=1):
        if len(row) > 2 or not row[0]:
            raise UserError(f"{path}: row {number} {row!r}: expected name[,email]")
        people.append((row[0][:200], row[1] if len(row) > 1 else ""))
    names = [n for n, _ in people]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"{path}: names appear twice: {', '.join(repeated[:10])}")
    return people


def add_participants(db: Database, comp_dir, people: list[tuple[str, str]]) -> Path:
    """Create the participants with fresh tokens; returns the 0600 file (name,email,token) holding them.

    Refuses (UserError, nothing added) names that are already registered. The tokens file is
    written before the database commit, so a token is never in the database without its file.
    """
    paths = CompetitionPaths(Path(comp_dir))
    now = datetime.now(timezone.utc)
    tokens = [new_token() for _ in people]
    with db.session(write=True) as s, s.begin():
        taken = set(s.scalars(select(Participant.name).where(Participant.name.in_([n for n, _ in people]))))
        if taken:
            raise UserError(f"already registered: {', '.join(sorted(taken)[:10])}; nothing was added")
        for (name, email), token in zip(people, tokens):
            s.add(Participant(name=name, email=email, token_hash=hash_token(token), created=now))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "email", "token"])
        writer.writerows([name, email, token] for (name, email), token in zip(people, tokens))
        path = write_secret(paths.secrets / f"tokens-{now:%Y%m%dT%H%M%S%f}.csv", out.getvalue())
    return path
