"""The server app: the JSON API (competition/api/routes.py), the web pages if built (competition/web/),
and what stands in front of every route (security headers, body limits).

    uvicorn --factory competition.api:app_from_env     (INPAINT_COMP_DIR, INPAINT_DB_URL; `inpaint serve`)
    create_app(comp_dir, db_url=None, clock=None)      (tests)
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse

from competition.api import routes
from competition.api.headers import SecurityHeaders
from competition.api.limits import BodyLimit
from competition.api.request_edges import ForwardedProtoAnyCase, HeadAsGet, RelativeSlashRedirect
from competition.api.responses import FiniteJSONResponse
from competition.judge_pool import JudgingFailed
from competition.lifeline import terminate_with_parent
from competition.service import Competition, NotFound
from submission.errors import UserError

# Swagger UI's files for /docs, served by the server itself from a pip package (a fixed version, no CDN,
# works offline); the one FastAPI names by default is a floating version on a CDN, with no integrity hash.
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                 "favicon-32x32.png": "image/png"}
STATIC_CACHE = "public, max-age=86400"  # the same for everyone and signed-in to nobody


class ServerApp(FastAPI):
    """FastAPI with the security headers and body limits outside everything, even the 500 handler."""

    upload_paths: set[str] = set()

    def build_middleware_stack(self):
        limited = BodyLimit(super().build_middleware_stack(), self.upload_paths,
                            self.state.competition.settings.max_upload_bytes)
        return SecurityHeaders(HeadAsGet(RelativeSlashRedirect(limited, self.routes)))


def create_app(comp_dir, db_url: str | None = None, clock=None, judge_processes: int = 0) -> FastAPI:
    """The server for one competition folder. `clock` (a function returning an aware UTC datetime)
    replaces the real time, for tests of the deadline and the daily reset; `judge_processes` > 0
    judges uploads in separate processes (`inpaint serve` does), 0 in the server's threads."""
    comp = Competition(comp_dir, db_url=db_url, clock=clock, judge_processes=judge_processes)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        comp.close()  # the judging processes and the database connections

    app = ServerApp(lifespan=lifespan, title=f"{comp.settings.title}: competition server", version="1",
                    description="Upload Predict.csv, see your submissions and the leaderboard, select final submissions.",
                    default_response_class=FiniteJSONResponse, docs_url=None, redoc_url=None,
                    redirect_slashes=False)  # competition/api/request_edges.py redirects, naming no host
    app.state.competition = comp
    app.upload_paths = set(routes.UPLOAD_PATHS)

    @app.exception_handler(UserError)
    async def user_error(_request, exc: UserError):
        status = 404 if isinstance(exc, NotFound) else getattr(exc, "status", 400)
        headers = {"Retry-After": "60"} if isinstance(exc, JudgingFailed) else None
        return FiniteJSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    app.include_router(routes.router)
    _add_docs_page(app)
    _include_web_pages(app)
    return app


def _add_docs_page(app: FastAPI) -> None:
    """FastAPI's Swagger UI page with Swagger UI's files from the `swagger-ui-bundle-v2` package (no /docs
    without it), and a policy that allows only them and, by hash, the page's one inline script; Swagger UI
    also sets inline styles and data: icons (swagger-api/swagger-ui#10655, #7540), which this page alone
    allows: styles cannot run code."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title}: API",
                               swagger_js_url="/docs/swagger-ui-bundle.js", swagger_css_url="/docs/swagger-ui.css",
                               swagger_favicon_url="/docs/favicon-32x32.png")
    scripts = re.findall(r"<script>(.*?)</script>", page.body.decode(), re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    policy = (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
              f"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return page.__class__(page.body, headers={"Content-Security-Policy": policy})

    @app.get("/docs/{name}", include_in_schema=False)
    def docs_file(name: str):
        if name not in SWAGGER_FILES:
            return FiniteJSONResponse({"detail": "Not Found"}, status_code=404)
        return FileResponse(swagger_ui_path / name, media_type=SWAGGER_FILES[name], headers={"Cache-Control": STATIC_CACHE})


def _include_web_pages(app: FastAPI) -> None:
    """The pages (competition/web/) are another part of the kit; the API works without them."""
    try:
        from competition import web
    except ImportError as exc:
        if exc.name != "competition.web":
            raise
        return
    web.install(app)
    app.upload_paths |= web.UPLOAD_PATHS


def app_from_env():
    """For uvicorn's --factory and several workers: each worker process builds its own app, and
    exits when the master process dies (INPAINT_SERVE_PID: competition/api/serve.py sets it).

    uvicorn's proxy headers are applied here (serve.py turns uvicorn's own off) so that the scheme's
    case is folded first; the proxies trusted are uvicorn's default, FORWARDED_ALLOW_IPS or 127.0.0.1."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    master = int(os.environ.get("INPAINT_SERVE_PID", "0"))
    if master and master != os.getpid():  # a worker of `--workers N`, not the single process of `--workers 1`
        terminate_with_parent(master)
    app = create_app(os.environ["INPAINT_COMP_DIR"], os.environ.get("INPAINT_DB_URL") or None,
                     judge_processes=int(os.environ.get("INPAINT_JUDGE_PROCESSES", "1")))
    trusted = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    return ForwardedProtoAnyCase(ProxyHeadersMiddleware(app, trusted_hosts=trusted))
