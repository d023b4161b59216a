"""What a request may send before the app has decided anything: a body-size limit per route and a
deadline for a body that stops arriving. In front of every route, as a middleware.

A body larger than its route needs is refused with 413 without being read: a declared
Content-Length over the limit, or a chunked body as soon as it passes the limit. An upload route
takes up to the upload limit (the routes check the exact limit themselves); every other route
takes SMALL_BODY (a sign-in form, a list of final ids). The app answers, so the 413 (or 408) is a
page or JSON like every other error; a response sent before the whole body was read closes the
connection, so a client cannot make the server read and discard hundreds of megabytes after a 401.
"""
from __future__ import annotations

import asyncio
import os

from fastapi import HTTPException

SMALL_BODY = 64 * 1024
UPLOAD_MARGIN = 1 << 20  # the multipart form's boundaries and fields around the file
BODY_TIMEOUT_S = float(os.environ.get("INPAINT_BODY_TIMEOUT_S", "30"))  # between two pieces of a body


def size_text(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n / 1024:g} KiB"


class BodyLimit:
    """ASGI middleware: `upload_paths` may send up to `upload_bytes` (+ UPLOAD_MARGIN), the rest SMALL_BODY."""

    def __init__(self, app, upload_paths: set[str], upload_bytes: int, idle_timeout_s: float = BODY_TIMEOUT_S):
        self.app, self.upload_paths, self.idle_timeout_s = app, upload_paths, idle_timeout_s
        self.upload_limit = upload_bytes + UPLOAD_MARGIN

    def limit(self, scope) -> int:
        return self.upload_limit if scope["method"] == "POST" and scope["path"] in self.upload_paths else SMALL_BODY

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        expects_body = (declared not in (b"", b"0")) or b"transfer-encoding" in headers
        declared_too_large = declared and (not declared.isdigit() or int(declared) > limit)
        state = {"received": 0, "done": not expects_body}

        def too_large() -> HTTPException:
            return HTTPException(413, f"request body larger than the {size_text(limit)} this route accepts")

        async def limited_receive():
            if declared_too_large:
                raise too_large()
            if state["done"]:
                return await receive()  # after the body: only the disconnect is left to wait for
            try:
                message = await asyncio.wait_for(receive(), self.idle_timeout_s)
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body stopped arriving for {self.idle_timeout_s:g} s") from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                state["done"] = not message.get("more_body", False)
                if state["received"] > limit:
                    raise too_large()
            return message

        async def closing_send(message):
            if message["type"] == "http.response.start" and not state["done"]:
                # the rest of the body is never read: close rather than drain it for a next request
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, limited_receive, closing_send)
