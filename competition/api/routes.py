"""The JSON API under /api: who may call each route is a dependency in its signature.

Bearer token auth; 401 without a valid token; 404 for anything not the caller's (ids do not leak);
422 for an id outside 1 .. 2^31-1. An upload is the raw CSV as the request body, streamed to
COMP/submissions/.incoming/ with a size cut-off (413, nothing kept), after a slot was taken for it
(competition/upload_slots.py: one at a time per participant, the rest 429 before the body is read);
it is judged in a judging process that the event loop awaits without holding a thread, then
recorded in a worker thread (a leaderboard request during a burst of uploads is not queued behind
the scoring, nor short of threads).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from competition.api.schemas import Leaderboard, OrganizerSubmission, StandingsRow, SubmissionOut
from competition.db import MAX_ID, Participant
from competition.participants import public_name
from competition.refusals import DayCapReached, Refused, UploadsInFlight
from competition.service import Competition

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}}
UPLOAD_PATHS = {"/api/submissions"}  # the routes that read a large body (competition/api/limits.py)
MAX_FINALS = 100  # far above any final_picks; a longer list is refused before it is looked at
MAX_PAGE = 500  # rows per answer of a paged organizer list (offset, limit; X-Total-Count says how many)

bearer = HTTPBearer(auto_error=False, description="the token from the organizer (participant) or the admin token")
router = APIRouter(prefix="/api")


def competition(request: Request) -> Competition:
    return request.app.state.competition


Comp = Annotated[Competition, Depends(competition)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
SubmissionId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="a submission id")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows to answer, at most {MAX_PAGE}")]


def unauthorized() -> HTTPException:
    return HTTPException(401, "missing or wrong token; send the header Authorization: Bearer YOUR_TOKEN",
                         headers={"WWW-Authenticate": "Bearer"})


def participant(comp: Comp, creds: Credentials) -> Participant:
    found = comp.authenticate(creds.credentials if creds else None)
    if found is None:
        raise unauthorized()
    return found


def organizer(comp: Comp, creds: Credentials) -> None:
    if not comp.is_admin(creds.credentials if creds else None):
        raise unauthorized()


def anyone(comp: Comp, creds: Credentials) -> None:
    """A participant or the organizer."""
    token = creds.credentials if creds else None
    if comp.authenticate(token) is None and not comp.is_admin(token):
        raise unauthorized()


Who = Annotated[Participant, Depends(participant)]


def refused(exc: Refused) -> HTTPException:
    headers = {}
    if isinstance(exc, DayCapReached):
        seconds = max(1, int(exc.seconds_left))
        headers = {"Retry-After": str(seconds), "X-RateLimit-Reset": exc.resets_at.isoformat()}
    elif isinstance(exc, UploadsInFlight):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return HTTPException(exc.status, str(exc), headers=headers)


async def receive_body(request: Request, folder: Path, max_bytes: int) -> Path:
    """Stream the request body to a new file (0600) in `folder`; 413 (and no file) past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, f"upload larger than the limit of {max_bytes / 2**20:g} MB")
    folder.mkdir(parents=True, exist_ok=True)
    path, size = folder / f"{uuid.uuid4().hex}.part", 0
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, f"upload larger than the limit of {max_bytes / 2**20:g} MB; nothing was stored")
                fh.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.get("/competition", tags=["competition"])
def competition_rules(comp: Comp):
    """The rules everyone may read (no token needed)."""
    s = comp.settings
    return {"title": s.title, "deadline": s.deadline.isoformat() if s.deadline else None, "closed": comp.is_closed(),
            "daily_limit": s.daily_limit, "rejected_daily_limit": s.rejected_daily_limit,
            "final_picks": s.final_picks, "max_upload_mb": s.max_upload_mb,
            "image_size": list(s.image_size), "n_images": s.n_images, "public_fraction": s.public_fraction}


@router.get("/me", tags=["participant"])
def me(comp: Comp, who: Who):
    """Your display name (the name everyone else sees), whether you may still change it, today's uploads left."""
    return {"name": public_name(who), "name_editable": comp.name_editable(who), "uploads_left": comp.uploads_left(who),
            "resets_at": comp.resets_at().isoformat()}


DisplayName = Annotated[str, Body(embed=True, max_length=200)]


@router.put("/me", tags=["participant"])
def choose_display_name(comp: Comp, who: Who, display_name: DisplayName):
    """Choose your display name (3 to 24 letters, digits, and single spaces, dots, hyphens or underscores
    between them; not your name, e-mail or student id, nor another participant's, nor a staff word): 400 if it
    breaks a rule, 409 if it or a look-alike of it is taken, 403 once your first upload has been accepted or if
    the organizer gave it."""
    return {"name": comp.choose_display_name(who, display_name)}


@router.post("/submissions", status_code=201, tags=["participant"], openapi_extra=CSV_BODY)
async def upload(request: Request, comp: Comp, who: Who, message: str = "", filename: str = ""):
    """Upload a Predict.csv as the request body (Content-Type: text/csv). Answers after the row is committed:
    status, public_rmse, rank, uploads_left, findings (the validator's messages), diagnoses (the likely
    export mistakes, such as transposed images or values in [-1, 1]). A cell beyond +-1000, empty, NaN or
    infinite makes the file rejected. 429 once today's accepted uploads (daily_limit) or rejected ones
    (rejected_daily_limit: then no more uploads today) are used up, or while another of your uploads is
    being received or judged (before this one's body is read; Retry-After); 503 if judging failed twice."""
    try:
        slot = await run_in_threadpool(comp.reserve_upload, who)  # 429 here, before a byte of the body is read
    except Refused as exc:
        raise refused(exc) from None
    recorded, shown = False, (filename or "Predict.csv")[:255]
    try:
        path = await receive_body(request, comp.paths.incoming, comp.settings.max_upload_bytes)
        try:
            facts, verdict = await comp.judge_upload_async(path, shown)
            result = await run_in_threadpool(comp.record, who, path, facts, verdict, message, shown, slot)
            recorded = True
            return result
        finally:
            path.unlink(missing_ok=True)  # moved into place by record unless it was refused
    except Refused as exc:
        raise refused(exc) from None
    finally:
        if not recorded:
            with anyio.CancelScope(shield=True):  # also when the request is cancelled (client gone, shutdown)
                await run_in_threadpool(comp.release_upload, slot)


@router.get("/submissions", tags=["participant"], response_model=list[SubmissionOut], response_model_exclude_unset=True)
def my_submissions(comp: Comp, who: Who):
    return comp.submissions(who)


@router.get("/submissions/{submission_id}", tags=["participant"], response_model=SubmissionOut,
            response_model_exclude_unset=True)
def my_submission(comp: Comp, who: Who, submission_id: SubmissionId):
    view = comp.submission(who, submission_id)
    if view is None:
        raise HTTPException(404, f"no submission {submission_id} among yours")
    return view


@router.get("/submissions/{submission_id}/file", tags=["participant"])
def my_submission_file(comp: Comp, who: Who, submission_id: SubmissionId):
    path = comp.submission_file(who, submission_id)
    if path is None or not path.exists():
        raise HTTPException(404, f"no submission {submission_id} among yours")
    return FileResponse(path, media_type="text/csv", filename=f"submission_{submission_id}.csv")


FinalIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Body(embed=True, max_length=MAX_FINALS)]


@router.put("/finals", tags=["participant"])
def select_finals(comp: Comp, who: Who, ids: FinalIds):
    """Choose the submissions for the private leaderboard (at most final_picks; [] = the best public ones)."""
    return {"ids": comp.select_finals(who, ids)}


@router.get("/leaderboard", tags=["competition"], dependencies=[Depends(anyone)], response_model=Leaderboard)
def leaderboard(comp: Comp):
    """Public RMSE before the deadline; private RMSE of the final submissions after it."""
    return comp.leaderboard()


@router.get("/data", tags=["competition"], dependencies=[Depends(anyone)])
def student_data(comp: Comp):
    """The training pairs, the blanked test images and sample_submission.csv, as one zip."""
    return FileResponse(comp.paths.student_zip, media_type="application/zip", filename="student_data.zip")


@router.get("/admin/standings", tags=["organizer"], dependencies=[Depends(organizer)],
            response_model=list[StandingsRow])
def standings(comp: Comp, response: Response, offset: Offset = 0, limit: Limit = 100):
    """Each participant's rank, private and public RMSE, grade and flags, and "copies": whom their counted
    submission looks copied from or by (submission/copies.py; informs, never changes a score). Ranked
    order, `limit` rows from `offset`; the header X-Total-Count says how many rows there are. All
    read from what the judge stored: no file is read."""
    rows = comp.standings_with_copies()[0]
    response.headers["X-Total-Count"] = str(len(rows))
    return rows[offset:offset + limit]


@router.get("/admin/submissions", tags=["organizer"], dependencies=[Depends(organizer)],
            response_model=list[OrganizerSubmission])
def all_submissions(comp: Comp, response: Response, offset: Offset = 0, limit: Limit = 100):
    """Every submission, newest first, `limit` from `offset` (X-Total-Count: how many there are)."""
    response.headers["X-Total-Count"] = str(comp.submission_count())
    return comp.organizer_submissions(offset, limit)


@router.get("/admin/participants", tags=["organizer"], dependencies=[Depends(organizer)])
def participants(comp: Comp):
    return comp.participants()


@router.post("/admin/submissions/{submission_id}/disqualify", tags=["organizer"], dependencies=[Depends(organizer)])
def disqualify(comp: Comp, submission_id: SubmissionId):
    """Take one submission off every leaderboard and out of the finals (404 for an unknown id)."""
    return comp.disqualify(submission_id)


@router.post("/admin/submissions/{submission_id}/restore", tags=["organizer"], dependencies=[Depends(organizer)])
def restore(comp: Comp, submission_id: SubmissionId):
    """Undo `disqualify`: the submission counts again."""
    return comp.restore(submission_id)


@router.post("/admin/rotate-token", tags=["organizer"], dependencies=[Depends(organizer)])
def rotate_admin_token(comp: Comp):
    """A new organizer token in COMP/secrets/admin_token.txt (read it there; it is never sent): the
    token of this request and every organizer session of the web pages stop working."""
    comp.rotate_admin_token()
    return {"token_file": "COMP/secrets/admin_token.txt"}
