"""A participant's pages: the upload form, my submissions (with the final choice), one submission
with its pictures. Every route needs a signed-in participant (the ParticipantOf guard).

An upload is refused before its body is read when the competition is closed, today's caps are
used up or another upload of the participant is in flight (competition/upload_slots.py); the form
is read with a size limit, then its CSRF token checked, then the file judged (awaited, holding no
thread).
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from competition.db import MAX_ID
from competition.refusals import Refused
from competition.web.guards import CheckedForm, PageRefusal, PageRefused, ParticipantOf, require_csrf
from competition.web.pictures import score_plot_svg
from competition.web.render import User, competition, redirect, render
from competition.web.upload import UploadTooLarge, read_upload_form
from submission.errors import UserError

router = APIRouter(include_in_schema=False)
SubmissionId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class UploadRefused(PageRefusal):
    """An upload the rules or the size limit do not allow: the upload form again, saying why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message

    def response(self, request: Request, user: User):
        return submit_form(request, user, self.status, self.message)


def submit_form(request: Request, user: User, status: int = 200, error: str | None = None):
    """The upload form, with today's count and (after a refused upload) why it was refused."""
    comp = competition(request)
    used = comp.settings.daily_limit - comp.uploads_left(user.participant)
    return render(request, user, "submit.html", "Submit", status=status, error=error, used_today=used)


async def upload_slot(request: Request, user: ParticipantOf):
    """A slot for this upload (competition/upload_slots.py), taken before a byte of the form is read:
    closed, today's caps used up or another upload in flight are refused here. Given back
    when the upload ends without a row."""
    comp = competition(request)
    try:
        slot = await run_in_threadpool(comp.reserve_upload, user.participant)
    except Refused as exc:
        raise UploadRefused(exc.status, str(exc)) from None
    try:
        yield slot
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(comp.release_upload, slot)  # nothing left to release once recorded


async def upload_form(request: Request, user: ParticipantOf, _slot: Annotated[str, Depends(upload_slot)]) -> FormData:
    """The multipart form, read with the upload size limit, carrying this session's CSRF token."""
    try:
        form = await read_upload_form(request, competition(request).settings.max_upload_bytes)
    except UploadTooLarge as exc:
        raise UploadRefused(413, str(exc)) from None
    require_csrf(user, form)
    return form


@router.get("/submit")
def submit_page(request: Request, user: ParticipantOf):
    return submit_form(request, user)


@router.post("/submit")
async def submit(request: Request, user: ParticipantOf, form: Annotated[FormData, Depends(upload_form)],
                 slot: Annotated[str, Depends(upload_slot)]):
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadRefused(400, "choose a CSV file to upload")
    comp = competition(request)
    name = Path(upload.filename).name[:255]
    path = await run_in_threadpool(_copy_to_incoming, comp, upload)
    try:
        facts, verdict = await comp.judge_upload_async(path, name)  # awaited: no thread held while judging
        result = await run_in_threadpool(comp.record, user.participant, path, facts, verdict,
                                         str(form.get("message", "")), name, slot)
    except UserError as exc:  # Refused (closed, daily limit), judging failed, or a file the service would not take
        raise UploadRefused(getattr(exc, "status", 400), str(exc)) from None
    finally:
        path.unlink(missing_ok=True)  # already moved into place when the service took it
    return redirect(request, f"/submissions/{result['id']}")


def _copy_to_incoming(comp, upload: UploadFile) -> Path:
    """The parsed upload, copied into COMP/submissions/.incoming (the file system `record` renames on)."""
    comp.paths.incoming.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="web-", suffix=".csv", dir=comp.paths.incoming)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.file.seek(0)
            while chunk := upload.file.read(1 << 20):
                fh.write(chunk)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _row(view: dict) -> dict:
    return {"id": view["id"], "created": datetime.fromisoformat(view["created"]), "message": view["message"],
            "status": view["status"], "public": view["public_rmse"], "private": view.get("private_rmse"),
            "selected": view["selected"], "filename": view["filename"], "errors": view["errors"],
            "diagnoses": view["diagnoses"], "disqualified": view["disqualified"], "warnings": view["warnings"]}


def _mine(request: Request, user: User, status: int = 200, notice: str | None = None):
    comp = competition(request)
    rows = [_row(v) for v in comp.submissions(user.participant)]
    points = sorted((r["created"], r["public"]) for r in rows if r["status"] == "accepted" and r["public"] is not None)
    return render(request, user, "mine.html", "My submissions", status=status, rows=rows, plot=score_plot_svg(points),
                  show_private=comp.is_closed(), notice=notice)


@router.get("/submissions")
def my_submissions(request: Request, user: ParticipantOf, saved: int = 0, named: int = 0):
    notice = "Final choice saved." if saved else f"Display name saved: {user.name}." if named else None
    return _mine(request, user, notice=notice)


@router.post("/submissions/final")
async def choose_finals(request: Request, user: ParticipantOf, form: CheckedForm):
    comp = competition(request)
    try:
        ids = [int(v) for v in form.getlist("final")]
        await run_in_threadpool(comp.select_finals, user.participant, ids)
    except (UserError, ValueError) as exc:
        return _mine(request, user, status=400, notice=f"Not saved: {exc}")
    return redirect(request, "/submissions?saved=1")


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, user: ParticipantOf, submission_id: SubmissionId):
    comp = competition(request)
    view = comp.submission(user.participant, submission_id)
    if view is None:
        raise PageRefused(404, f"no submission {submission_id} among yours")
    return render(request, user, "submission.html", f"Submission {submission_id}", sub=_row(view),
                  pictures_shown=view["pictures"])


@router.get("/submissions/{submission_id}/thumbnails.png")
def submission_thumbnails(request: Request, user: ParticipantOf, submission_id: SubmissionId):
    png = competition(request).thumbnails(user.participant, submission_id)  # drawn by the judge, stored
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png")  # no-store (competition/api/headers.py): gone with the sign-out
