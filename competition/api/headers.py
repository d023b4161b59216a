"""Security headers on every response, error pages included (the outermost middleware).

The pages use no script at all and only the site's own stylesheet and images, so the policy
allows nothing else; no page may be framed (clickjacking); browsers must not guess content types;
other sites are not told which page a link was on. The API's /docs page brings its own policy
(competition/api/app.py: Swagger UI's files and its one inline script, by hash). Nothing is kept in
a cache unless its route says so: pages, JSON, thumbnails, downloads may all be behind a sign-in,
and a browser's cache outlives the sign-out (only the stylesheet and Swagger UI's files, the same
for everyone, say they may be cached).
"""
from __future__ import annotations

PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {b"content-security-policy": PAGE_POLICY.encode(), b"x-frame-options": b"DENY",
           b"x-content-type-options": b"nosniff", b"referrer-policy": b"same-origin"}
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """ASGI middleware adding HEADERS (a header the route set itself wins), and no-store to every
    answer that sets no Cache-Control."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower(): value for name, value in headers}
                headers += [(name, value) for name, value in HEADERS.items() if name not in present]
                if b"cache-control" not in present:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
