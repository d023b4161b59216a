"""The student's side of the JSON API, with the standard library only (urllib): `inpaint remote ...`
works on a laptop that has none of the server's packages."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from inpaint.errors import UserError

TIMEOUT_S = 300  # an upload of a full CSV is judged before the answer comes back


class RemoteError(UserError):
    """The server refused the request, or could not be reached; the message says which and why."""

    def __init__(self, message: str, status: int | None = None, detail=None):
        super().__init__(message)
        self.status, self.detail = status, detail


class Remote:
    def __init__(self, server: str | None, token: str | None, timeout: float = TIMEOUT_S):
        if not server:
            raise UserError("no server: give --server URL or set INPAINT_SERVER")
        if not server.startswith(("http://", "https://")):
            raise UserError(f"--server {server!r}: expected a URL such as http://127.0.0.1:8000")
        self.server, self.token, self.timeout = server.rstrip("/"), token, timeout

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
             query: dict | None = None):
        url = self.server + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = _detail(exc.read())
            hint = " (check --token or INPAINT_TOKEN)" if exc.code == 401 else ""
            raise RemoteError(f"server answered {exc.code}: {_text(detail)}{hint}", exc.code, detail) from None
        except urllib.error.URLError as exc:
            raise RemoteError(f"cannot reach {self.server}: {exc.reason}") from None
        except (TimeoutError, ConnectionError) as exc:
            raise RemoteError(f"{self.server}: {exc}") from None

    def rules(self) -> dict:
        return self.call("GET", "/api/competition")

    def upload(self, csv_path: Path, message: str = "") -> dict:
        """Send a CSV; returns the server's result (status, public_rmse, rank, uploads_left, findings)."""
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
        return self.call("POST", "/api/submissions", csv_path.read_bytes(), "text/csv",
                         {"message": message, "filename": csv_path.name})

    def submissions(self) -> list[dict]:
        return self.call("GET", "/api/submissions")

    def leaderboard(self) -> dict:
        return self.call("GET", "/api/leaderboard")

    def select_finals(self, ids: list[int]) -> dict:
        return self.call("PUT", "/api/finals", json.dumps({"ids": ids}).encode(), "application/json")

    def me(self) -> dict:
        return self.call("GET", "/api/me")


def _detail(raw: bytes):
    try:
        return json.loads(raw).get("detail", raw.decode("utf-8", "replace"))
    except (ValueError, AttributeError):
        return raw.decode("utf-8", "replace")[:500]


def _text(detail) -> str:
    return detail if isinstance(detail, str) else json.dumps(detail)
