"""The student's side of the JSON API, with the standard library only (http.client): `inpaint remote ...`
works on a laptop that has none of the server's packages.

The client trusts the server with nothing but the answers it asked for (issue 34, item 6): a redirect is
never followed (the token would go wherever it points), an answer is read up to MAX_ANSWER_BYTES, each
request has one deadline for everything (connecting, sending, a server that dribbles its answer a byte at
a time), every string of an answer is cleaned of control characters before anyone prints it, and an
answer that is not JSON of the expected shape is one RemoteError (one line, exit 2), never a traceback.
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from pathlib import Path

from submission.errors import UserError

TIMEOUT_S = 300  # the whole request: an upload of a full CSV is judged before the answer comes back
MAX_ANSWER_BYTES = 8 * 2**20  # a class's leaderboard is a few kB, a rejected file's findings a few more
# C0 and C1 controls (escape sequences that move the cursor or clear the screen), DEL, and the Unicode
# format and separator characters that reorder or hide text (U+202E, U+2028, ...)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")

NUMBER, TEXT, OPTIONAL_TEXT, OPTIONAL_NUMBER = (int, float), str, (str, type(None)), (int, float, type(None))
# What the kit reads of each answer (the server's competition/api/routes.py); anything else is refused.
RULES = {"closed": bool, "deadline": OPTIONAL_TEXT, "max_upload_mb": NUMBER}
ME = {"name": TEXT, "name_editable": bool, "uploads_left": int, "resets_at": TEXT}
UPLOADED = {"id": int, "status": TEXT, "public_rmse": OPTIONAL_NUMBER, "rank": (int, type(None)), "uploads_left": int,
            "resets_at": TEXT, "findings": list, "diagnoses": list}
SUBMISSION = {"id": int, "created": TEXT, "status": TEXT, "public_rmse": OPTIONAL_NUMBER, "selected": bool,
              "disqualified": bool, "filename": TEXT, "message": TEXT, "findings": list, "diagnoses": list}
BOARD = {"kind": TEXT, "closes": OPTIONAL_TEXT, "rows": list}
BOARD_ROW = {"rank": int, "name": TEXT, "score": OPTIONAL_NUMBER, "entries": int}


class RemoteError(UserError):
    """The server refused the request, could not be reached, or answered what the kit cannot read; the
    message says which and why."""

    def __init__(self, message: str, status: int | None = None, detail=None):
        super().__init__(message)
        self.status, self.detail = status, detail


def clean(value):
    """The answer with every string's control characters replaced by '?' (dict keys too): safe to print."""
    if isinstance(value, str):
        return CONTROL.sub("?", value)
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    return value


def check_shape(answer, fields: dict, what: str) -> dict:
    """`answer` if it is an object with each field of the expected type; else RemoteError naming the first miss."""
    if not isinstance(answer, dict):
        raise RemoteError(f"the server's answer to {what} is not what the kit expects (a JSON object): "
                          "is --server this course's competition server?")
    for key, kind in fields.items():
        value = answer.get(key, KeyError)
        if value is KeyError or not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
            raise RemoteError(f"the server's answer to {what} is not what the kit expects ({key!r} missing or of "
                              "another type): is --server this course's competition server?")
    return answer


def _types(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def check_rows(rows, fields: dict, what: str) -> list[dict]:
    if not isinstance(rows, list):
        raise RemoteError(f"the server's answer to {what} is not what the kit expects (a JSON list)")
    for row in rows:
        check_shape(row, fields, what)
        for key in ("findings", "diagnoses"):
            if key in fields and not all(isinstance(line, str) for line in row[key]):
                raise RemoteError(f"the server's answer to {what} is not what the kit expects ({key!r} holds non-text)")
    return rows


class Remote:
    def __init__(self, server: str | None, token: str | None, timeout: float = TIMEOUT_S):
        if not server:
            raise UserError("no server: give --server URL or set INPAINT_SERVER")
        parts = urllib.parse.urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--server {server!r}: expected a URL such as http://127.0.0.1:8000")
        try:
            parts.port
        except ValueError:
            raise UserError(f"--server {server!r}: the port is not a number") from None
        self.server, self.token, self.timeout = server.rstrip("/"), token, timeout
        self.parts = parts

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
             query: dict | None = None):
        """The JSON answer, cleaned of control characters; RemoteError for anything but a 2xx JSON answer."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        target = self.parts.path.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
        status, location, raw = self._exchange(method, target, body, headers)
        if 300 <= status < 400:
            where = clean(location or "")[:200]
            raise RemoteError(f"{self.server} answered {status}, a redirect to {where!r}, which is not followed (it "
                              "would carry your token): give the server's own address with --server", status)
        if status >= 400:
            detail = _detail(raw)
            hint = " (check --token or INPAINT_TOKEN)" if status == 401 else ""
            raise RemoteError(f"server answered {status}: {_text(detail)}{hint}", status, detail)
        try:
            return clean(json.loads(raw or b"null"))
        except ValueError:  # UnicodeDecodeError is a ValueError too
            raise RemoteError(f"the server's answer to {method} {path} is not JSON: is --server this course's "
                              "competition server?") from None

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict) -> tuple[int, str, bytes]:
        """One request and its whole answer within self.timeout: a timer shuts the socket at the deadline,
        whatever the server does; no redirect is followed (http.client follows none)."""
        kind = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(self.parts.hostname, self.parts.port, timeout=self.timeout)
        late = threading.Event()

        def cut():
            late.set()
            if connection.sock is not None:
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(self.timeout, cut)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            raw = _read_capped(response, MAX_ANSWER_BYTES, self.server)
            status, location = response.status, response.getheader("Location", "")
        except (OSError, http.client.HTTPException) as exc:
            if late.is_set() or time.monotonic() - started >= self.timeout:
                raise RemoteError(f"{self.server}: no complete answer within {self.timeout:g} s") from None
            raise RemoteError(f"cannot reach {self.server}: {clean(str(exc)) or type(exc).__name__}") from None
        finally:
            timer.cancel()
            connection.close()
        if late.is_set():  # the socket was shut mid-answer: what was read is not the whole answer
            raise RemoteError(f"{self.server}: no complete answer within {self.timeout:g} s")
        return status, location, raw

    def rules(self) -> dict:
        return check_shape(self.call("GET", "/api/competition"), RULES, "GET /api/competition")

    def upload(self, csv_path: Path, message: str = "") -> tuple[dict, dict]:
        """Send a CSV; returns the server's result (status, public_rmse, rank, uploads_left, findings) and
        /api/me as it was before the upload (the display name, and whether it could still change)."""
        csv_path = Path(csv_path)
        if not csv_path.is_file():
            raise UserError(f"{csv_path}: file not found")
        rules = self.rules()
        if rules["closed"]:
            raise RemoteError(f"the competition closed at {rules['deadline']}; uploads are no longer accepted", 403)
        limit_mb = rules["max_upload_mb"]
        if csv_path.stat().st_size > limit_mb * 2**20:  # refused by the server anyway; do not send 50 MB for that
            raise UserError(f"{csv_path}: {csv_path.stat().st_size / 2**20:.1f} MB, over the server's limit of {limit_mb:g} MB")
        me = self.me()  # the server refuses before reading a body once the day's uploads are used up
        if me["uploads_left"] <= 0:
            raise RemoteError(f"no uploads left today for {me['name']}; the count resets at {me['resets_at']}", 429)
        result = self.call("POST", "/api/submissions", csv_path.read_bytes(), "text/csv",
                           {"message": message, "filename": csv_path.name})
        return check_rows([result], UPLOADED, "POST /api/submissions")[0], me

    def submissions(self) -> list[dict]:
        return check_rows(self.call("GET", "/api/submissions"), SUBMISSION, "GET /api/submissions")

    def leaderboard(self) -> dict:
        board = check_shape(self.call("GET", "/api/leaderboard"), BOARD, "GET /api/leaderboard")
        check_rows(board["rows"], BOARD_ROW, "GET /api/leaderboard")
        return board

    def select_finals(self, ids: list[int]) -> dict:
        answer = self.call("PUT", "/api/finals", json.dumps({"ids": ids}).encode(), "application/json")
        check_shape(answer, {"ids": list}, "PUT /api/finals")
        if not all(isinstance(i, int) for i in answer["ids"]):
            raise RemoteError("the server's answer to PUT /api/finals is not what the kit expects (ids)")
        return answer

    def me(self) -> dict:
        return check_shape(self.call("GET", "/api/me"), ME, "GET /api/me")

    def choose_name(self, name: str) -> str:
        """The display name everyone else sees, chosen before the first accepted upload (PUT /api/me)."""
        answer = self.call("PUT", "/api/me", json.dumps({"display_name": name}).encode(), "application/json")
        return check_shape(answer, {"name": TEXT}, "PUT /api/me")["name"]


def _read_capped(response: http.client.HTTPResponse, limit: int, server: str) -> bytes:
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RemoteError(f"{server}: an answer of {int(declared) / 2**20:.0f} MB, over the {limit / 2**20:g} MB "
                          "the kit reads; not read")
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise RemoteError(f"{server}: an answer larger than the {limit / 2**20:g} MB the kit reads; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _detail(raw: bytes):
    try:
        detail = json.loads(raw).get("detail", raw.decode("utf-8", "replace"))
    except (ValueError, AttributeError):
        detail = raw.decode("utf-8", "replace")[:500]
    return clean(detail)


def _text(detail) -> str:
    return (detail if isinstance(detail, str) else json.dumps(detail))[:2000]
