"""Access tokens: random, shown once, written only to files the organizer can read; the database keeps a hash.

A SHA-256 of a 192-bit random token needs no salt or slow hash: nobody can guess the token, so
the hash only has to keep a stolen database from being usable to log in.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

TOKEN_BYTES = 24


def new_token() -> str:
    """Never beginning with "-": a spreadsheet opening the tokens file would read that as a formula."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(token: str, stored_hash: str | None) -> bool:
    """Constant-time check of a presented token against a stored hash."""
    return stored_hash is not None and hmac.compare_digest(hash_token(token), stored_hash)


def secrets_folder(path: Path) -> Path:
    """COMP/secrets, created (or tightened) to mode 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_secret(path: Path, text: str) -> Path:
    """Write a file readable by its owner only (0600 from the first byte), via temp file + rename."""
    secrets_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
