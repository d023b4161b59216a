"""Signed-in sessions of the web pages, kept on the server (the `sign_ins` table).

A session is a random id held in the browser's signed cookie; the database keeps its SHA-256,
who it belongs to, the hash of the token it was opened with, and when it expires. So a copied
cookie stops working when its owner signs out (the row is deleted), after SESSION_DAYS, when its
owner has signed in MAX_SESSIONS more times since (the oldest sessions end), and
when the token it was opened with is replaced (an organizer token rotation): the row is checked
against the current token on every request. A mixin of competition.service.Competition (db, clock).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from competition.db import Meta, Participant, SignIn
from competition.tokens import hash_token

SESSION_DAYS = 14
MAX_SESSIONS = 5  # live sign-ins per participant (and for the organizer): a phone, a laptop, a lab machine...


@dataclass(frozen=True)
class SignedIn:
    """Who a live session belongs to: a participant row, or the organizer (participant None)."""

    participant: Participant | None
    admin: bool


class SignIns:
    def open_sign_in(self, participant: Participant | None = None, admin: bool = False) -> str:
        """A new session for a participant (or the organizer); returns the id for the cookie. The
        holder's oldest sessions end beyond MAX_SESSIONS, so a script signing in all day keeps
        MAX_SESSIONS rows, not one per sign-in; expired rows of anyone are deleted too."""
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        with self.db.session(write=True) as s, s.begin():
            s.execute(delete(SignIn).where(SignIn.expires <= now))  # expired ones are only clutter
            token_hash = self._admin_token_hash(s) if admin else participant.token_hash
            new = hash_token(session_id)
            s.add(SignIn(id_hash=new, participant_id=None if admin else participant.id,
                         admin=admin, token_hash=token_hash, created=now, expires=now + timedelta(days=SESSION_DAYS)))
            holder = SignIn.admin.is_(True) if admin else SignIn.participant_id == participant.id
            others = (SignIn.id_hash != new, holder)
            kept = select(SignIn.id_hash).where(*others).order_by(SignIn.created.desc()).limit(MAX_SESSIONS - 1)
            s.execute(delete(SignIn).where(*others, SignIn.id_hash.not_in(kept.scalar_subquery())))
        return session_id

    def signed_in(self, session_id: str | None) -> SignedIn | None:
        """Who holds this session id, or None: unknown, signed out, expired, or opened with a token
        that has since been replaced."""
        if not session_id:
            return None
        with self.db.session() as s:
            found = s.execute(select(SignIn, Participant).outerjoin(Participant, SignIn.participant_id == Participant.id)
                              .where(SignIn.id_hash == hash_token(session_id))).first()
            if found is None or found[0].expires <= self.clock():
                return None
            row, person = found
            current = self._admin_token_hash(s) if row.admin else (person.token_hash if person else None)
        if current is None or current != row.token_hash:
            return None
        return SignedIn(None if row.admin else person, row.admin)

    def end_sign_in(self, session_id: str | None) -> None:
        """Sign out: the session is deleted, so every copy of its cookie stops working."""
        if session_id:
            with self.db.session(write=True) as s, s.begin():
                s.execute(delete(SignIn).where(SignIn.id_hash == hash_token(session_id)))

    @staticmethod
    def end_sign_ins_of(s, participant_id: int) -> None:
        """Every session of one participant ends, in the caller's transaction (their token was replaced)."""
        s.execute(delete(SignIn).where(SignIn.participant_id == participant_id))

    @staticmethod
    def _admin_token_hash(s) -> str | None:
        return s.scalar(select(Meta.value).where(Meta.key == "admin_token_hash"))
