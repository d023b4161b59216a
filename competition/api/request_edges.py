"""What the server makes of a request's edges before any route sees it (issue 34, item 9):

- the scheme a proxy on the same machine reports, in any case: uvicorn's ProxyHeadersMiddleware
  only takes a lower-case `X-Forwarded-Proto`, so `HTTPS` (which some proxies send) would make the
  answer http and drop the cookie's Secure flag;
- HEAD answered as GET without a body (FastAPI's routes declare GET only, so HEAD was 405);
- the trailing-slash redirect built from the path alone: Starlette's copies the Host header into
  Location (`Host: evil.example` -> `http://evil.example/leaderboard`), a redirect to any site.
"""
from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match

FORWARDED_PROTO = b"x-forwarded-proto"


class ForwardedProtoAnyCase:
    """ASGI middleware, outside uvicorn's ProxyHeadersMiddleware: the X-Forwarded-Proto value in lower case."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            scope = {**scope, "headers": [(name, value.strip().lower() if name == FORWARDED_PROTO else value)
                                          for name, value in scope["headers"]]}
        await self.app(scope, receive, send)


class HeadAsGet:
    """ASGI middleware: a HEAD request runs as GET, and only the answer's status and headers are sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class RelativeSlashRedirect:
    """ASGI middleware replacing Starlette's redirect_slashes: `/leaderboard/` -> 307 to `/leaderboard`
    when that is a route, with a Location that names no host (so no Host header can choose it)."""

    def __init__(self, app, routes):
        self.app, self.routes = app, routes

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        bare = path.rstrip("/")
        # "//host" would be a link to another site: such a path is never redirected
        if path != bare and bare.startswith("/") and not bare.startswith("//") and self._routed({**scope, "path": bare}):
            query = scope.get("query_string", b"").decode("latin-1")
            location = quote(bare) + (f"?{query}" if query else "")
            return await RedirectResponse(location, status_code=307)(scope, receive, send)
        await self.app(scope, receive, send)

    def _routed(self, scope) -> bool:
        return any(route.matches(scope)[0] != Match.NONE for route in self.routes)
