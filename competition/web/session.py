"""The pages' cookie: the CSRF token every form carries and, once signed in, a session id.

The cookie is signed with itsdangerous (tampering breaks the signature), HttpOnly (page scripts
cannot read it), SameSite=Lax (other sites' forms do not send it) and Secure when the request came
over https (decided for each response, never stored). Every visitor gets a CSRF token, signed in
or not, so that the sign-in form is protected too; every POST compares the form's token with the
cookie's in constant time. Who is signed in is not in the cookie but on the server
(competition/sign_ins.py), so signing out ends every copy of it. The signing key is
COMP/secrets/web_secret.txt (0600), made on first start, so cookies survive a server restart.
"""
from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from competition.sign_ins import SESSION_DAYS
from competition.tokens import write_secret

COOKIE = "inpaint_session"
MAX_AGE_S = SESSION_DAYS * 24 * 3600  # the server's session ends then too
SALT = "inpaint-web-session"


@dataclass(frozen=True)
class WebSession:
    """What the cookie holds: the CSRF token, and the server-side session id once signed in."""

    csrf: str
    session_id: str | None = None

    def to_dict(self) -> dict:
        return {"csrf": self.csrf, "sid": self.session_id}


def new_session(session_id: str | None = None) -> WebSession:
    """A fresh CSRF token with every change of who is signed in (no session fixation)."""
    return WebSession(secrets.token_urlsafe(24), session_id)


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

    def __init__(self, key: str):
        self.serializer = URLSafeTimedSerializer(key, salt=SALT)

    def load(self, cookie: str | None) -> WebSession | None:
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=MAX_AGE_S)
            sid = data.get("sid")
            return WebSession(str(data["csrf"]), str(sid) if sid is not None else None)
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return None

    def save(self, response, session: WebSession, secure: bool) -> None:
        response.set_cookie(COOKIE, self.serializer.dumps(session.to_dict()), max_age=MAX_AGE_S,
                            httponly=True, samesite="lax", secure=secure, path="/")


def csrf_ok(session: WebSession | None, presented) -> bool:
    return session is not None and isinstance(presented, str) and hmac.compare_digest(session.csrf, presented)
