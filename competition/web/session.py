"""Who is signed in to the web pages, and the CSRF token every form carries.

The session lives in one cookie signed with itsdangerous (tampering breaks the signature),
HttpOnly (page scripts cannot read it) and SameSite=Lax (other sites' forms do not send it).
Every visitor gets a session with a random CSRF token, signed in or not, so that the sign-in
form is protected too; every POST compares the form's token with the cookie's in constant time.
The signing key is COMP/secrets/web_secret.txt (0600), made on first start, so sessions
survive a server restart.
"""
from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from competition.tokens import write_secret

COOKIE = "inpaint_session"
MAX_AGE_S = 14 * 24 * 3600  # a signed cookie older than two weeks is refused
SALT = "inpaint-web-session"


@dataclass(frozen=True)
class WebSession:
    csrf: str
    participant_id: int | None = None
    admin: bool = False

    def to_dict(self) -> dict:
        return {"csrf": self.csrf, "pid": self.participant_id, "admin": self.admin}


def new_session(participant_id: int | None = None, admin: bool = False) -> WebSession:
    """A fresh CSRF token with every change of who is signed in (no session fixation)."""
    return WebSession(secrets.token_urlsafe(24), participant_id, admin)


def secret_key(secrets_dir: Path) -> str:
    """The cookie-signing key of this competition, made once; with several workers the first one's wins."""
    path = Path(secrets_dir) / "web_secret.txt"
    if not path.exists():
        tmp = write_secret(path.with_name(f".web_secret.{secrets.token_hex(4)}.new"), secrets.token_urlsafe(32) + "\n")
        try:
            os.link(tmp, path)  # unlike a rename, never replaces a key another worker already made
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


class SessionCodec:
    """Signs sessions into cookie values and reads them back; a bad or old cookie is no session."""

    def __init__(self, key: str, secure: bool = False):
        self.serializer = URLSafeTimedSerializer(key, salt=SALT)
        self.secure = secure

    def load(self, cookie: str | None) -> WebSession | None:
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=MAX_AGE_S)
            pid = data.get("pid")
            return WebSession(str(data["csrf"]), int(pid) if pid is not None else None, bool(data.get("admin")))
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return None

    def save(self, response, session: WebSession) -> None:
        response.set_cookie(COOKIE, self.serializer.dumps(session.to_dict()), max_age=MAX_AGE_S,
                            httponly=True, samesite="lax", secure=self.secure, path="/")


def csrf_ok(session: WebSession | None, presented) -> bool:
    return session is not None and isinstance(presented, str) and hmac.compare_digest(session.csrf, presented)
