"""The JSON API under /api (FastAPI; the generated OpenAPI page is /docs), plus the web pages if built.

    uvicorn --factory competition.api:app_from_env     (INPAINT_COMP_DIR, INPAINT_DB_URL)
    create_app(comp_dir, db_url=None, clock=None)      (tests, `inpaint serve`)

Bearer token auth; 401 without a valid token; 404 for anything not the caller's (ids do not leak).
An upload is the raw CSV as the request body, streamed to COMP/submissions/.incoming/ with a size
cut-off (413, nothing kept), then judged and recorded in a worker thread so the event loop keeps
answering (a leaderboard request during a burst of uploads is not queued behind the scoring).
"""
from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from competition.db import Participant
from competition.service import Competition, DayCapReached, NotFound, Refused
from inpaint.errors import UserError

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}}
bearer = HTTPBearer(auto_error=False, description="the token from the organizer (participant) or the admin token")


class Finals(BaseModel):
    ids: list[int]


def unauthorized() -> HTTPException:
    return HTTPException(401, "missing or wrong token; send the header Authorization: Bearer YOUR_TOKEN",
                         headers={"WWW-Authenticate": "Bearer"})


def refused(exc: Refused) -> HTTPException:
    headers = {}
    if isinstance(exc, DayCapReached):
        seconds = max(1, int(exc.seconds_left))
        headers = {"Retry-After": str(seconds), "X-RateLimit-Reset": exc.resets_at.isoformat()}
    return HTTPException(exc.status, str(exc), headers=headers)


async def receive_body(request: Request, folder: Path, max_bytes: int) -> Path:
    """Stream the request body to a new file in `folder`; 413 (and no file) past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, f"upload larger than the limit of {max_bytes / 2**20:g} MB")
    folder.mkdir(parents=True, exist_ok=True)
    path, size = folder / f"{uuid.uuid4().hex}.part", 0
    try:
        with open(path, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, f"upload larger than the limit of {max_bytes / 2**20:g} MB; nothing was stored")
                fh.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def create_app(comp_dir, db_url: str | None = None, clock=None, judge_processes: int = 0) -> FastAPI:
    """The server for one competition folder. `clock` (a function returning an aware UTC datetime)
    replaces the real time, for tests of the deadline and the daily reset; `judge_processes` > 0
    judges uploads in separate processes (`inpaint serve` does), 0 in the server's threads."""
    comp = Competition(comp_dir, db_url=db_url, clock=clock, judge_processes=judge_processes)
    @asynccontextmanager
    async def lifespan(_app):
        yield
        comp.close()  # the judging processes and the database connections

    app = FastAPI(lifespan=lifespan, title=f"{comp.settings.title}: competition server",
                  description="Upload Predict.csv, see your submissions and the leaderboard, select final submissions.",
                  version="1")
    app.state.competition = comp

    def participant(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Participant:
        found = comp.authenticate(creds.credentials if creds else None)
        if found is None:
            raise unauthorized()
        return found

    def organizer(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if not comp.is_admin(creds.credentials if creds else None):
            raise unauthorized()

    def anyone(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        token = creds.credentials if creds else None
        if comp.authenticate(token) is None and not comp.is_admin(token):
            raise unauthorized()

    @app.exception_handler(UserError)
    async def user_error(_request, exc: UserError):
        status = 404 if isinstance(exc, NotFound) else getattr(exc, "status", 400)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.get("/api/competition", tags=["competition"])
    def competition_rules():
        """The rules everyone may read (no token needed)."""
        s = comp.settings
        return {"title": s.title, "deadline": s.deadline.isoformat() if s.deadline else None, "closed": comp.is_closed(),
                "daily_limit": s.daily_limit, "rejected_daily_limit": s.rejected_daily_limit,
                "final_picks": s.final_picks, "max_upload_mb": s.max_upload_mb,
                "image_size": list(s.image_size), "n_images": s.n_images, "public_fraction": s.public_fraction}

    @app.get("/api/me", tags=["participant"])
    def me(who: Participant = Depends(participant)):
        return {"name": who.name, "uploads_left": comp.uploads_left(who), "resets_at": comp.resets_at().isoformat()}

    @app.post("/api/submissions", status_code=201, tags=["participant"], openapi_extra=CSV_BODY)
    async def upload(request: Request, message: str = "", filename: str = "", who: Participant = Depends(participant)):
        """Upload a Predict.csv as the request body (Content-Type: text/csv). Answers after the row is committed:
        status, public_rmse, rank, uploads_left, findings (the validator's messages), diagnoses (the likely
        export mistakes, such as transposed images or values in [-1, 1]). 429 once today's accepted uploads
        (daily_limit) or rejected ones (rejected_daily_limit) are used up."""
        try:
            await run_in_threadpool(comp.check_can_upload, who)
            path = await receive_body(request, comp.paths.incoming, comp.settings.max_upload_bytes)
            try:
                return await run_in_threadpool(comp.submit, who, path, message, filename or "Predict.csv")
            finally:
                path.unlink(missing_ok=True)  # moved into place by submit unless it was refused
        except Refused as exc:
            raise refused(exc) from None

    @app.get("/api/submissions", tags=["participant"])
    def my_submissions(who: Participant = Depends(participant)):
        return comp.submissions(who)

    @app.get("/api/submissions/{submission_id}", tags=["participant"])
    def my_submission(submission_id: int, who: Participant = Depends(participant)):
        view = comp.submission(who, submission_id)
        if view is None:
            raise HTTPException(404, f"no submission {submission_id} among yours")
        return view

    @app.get("/api/submissions/{submission_id}/file", tags=["participant"])
    def my_submission_file(submission_id: int, who: Participant = Depends(participant)):
        path = comp.submission_file(who, submission_id)
        if path is None or not path.exists():
            raise HTTPException(404, f"no submission {submission_id} among yours")
        return FileResponse(path, media_type="text/csv", filename=f"submission_{submission_id}.csv")

    @app.put("/api/finals", tags=["participant"])
    def select_finals(body: Finals, who: Participant = Depends(participant)):
        """Choose the submissions for the private leaderboard (at most final_picks; [] = the best public ones)."""
        return {"ids": comp.select_finals(who, body.ids)}

    @app.get("/api/leaderboard", tags=["competition"], dependencies=[Depends(anyone)])
    def leaderboard():
        """Public RMSE before the deadline; private RMSE of the final submissions after it."""
        return comp.leaderboard()

    @app.get("/api/data", tags=["competition"], dependencies=[Depends(anyone)])
    def student_data():
        """The training pairs, the blanked test images and sample_submission.csv, as one zip."""
        return FileResponse(comp.paths.student_zip, media_type="application/zip", filename="student_data.zip")

    @app.get("/api/admin/standings", tags=["organizer"], dependencies=[Depends(organizer)])
    def standings():
        return comp.standings()

    @app.get("/api/admin/submissions", tags=["organizer"], dependencies=[Depends(organizer)])
    def all_submissions():
        return comp.organizer_submissions()

    @app.get("/api/admin/participants", tags=["organizer"], dependencies=[Depends(organizer)])
    def participants():
        return comp.participants()

    @app.post("/api/admin/submissions/{submission_id}/disqualify", tags=["organizer"], dependencies=[Depends(organizer)])
    def disqualify(submission_id: int):
        """Take one submission off every leaderboard and out of the finals (404 for an unknown id)."""
        return comp.disqualify(submission_id)

    @app.post("/api/admin/submissions/{submission_id}/restore", tags=["organizer"], dependencies=[Depends(organizer)])
    def restore(submission_id: int):
        """Undo `disqualify`: the submission counts again."""
        return comp.restore(submission_id)

    _include_web_pages(app)
    return app


def _include_web_pages(app: FastAPI) -> None:
    """The pages (competition/web.py) are another part of the kit; the API works without them."""
    try:
        from competition import web
    except ImportError as exc:
        if exc.name != "competition.web":
            raise
        return
    app.include_router(web.router)


def app_from_env() -> FastAPI:
    """For uvicorn's --factory and several workers: each worker process builds its own app."""
    return create_app(os.environ["INPAINT_COMP_DIR"], os.environ.get("INPAINT_DB_URL") or None,
                      judge_processes=int(os.environ.get("INPAINT_JUDGE_PROCESSES", "1")))
