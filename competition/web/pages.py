"""The competition's web pages: overview, data, sign in/out, submit, my submissions, leaderboard.

Server-rendered Jinja2 (autoescaped), plain CSS, no JavaScript. competition/api.py includes
`router`; every fact comes from competition/service.py. The organizer's pages are in
competition/web_organizer.py, the cookie session and CSRF in competition/web_session.py.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competition.web import organizer as web_organizer
from competition.service import Refused
from competition.web.boards import leaderboard_context
from competition.web.render import (STATIC, User, competition, csrf_refusal, current_user, posted_form, redirect,
                                    refuse, render, signin_redirect)
from competition.web.pictures import score_plot_svg, stored_thumbnails
from competition.web.session import new_session
from competition.web.upload import UploadTooLarge, read_upload_form
from inpaint.errors import UserError

router = APIRouter(include_in_schema=False)
router.include_router(web_organizer.router)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _participant_or_redirect(request: Request):
    user = current_user(request)
    if user.participant is None:
        return user, signin_redirect(request, user)
    return user, None


# ---------------------------------------------------------------- public pages


@router.get("/")
def overview(request: Request):
    return render(request, current_user(request), "overview.html", "Overview")


@router.get("/data")
def data_page(request: Request):
    return render(request, current_user(request), "data.html", "Data")


@router.get("/data/{name}")
def data_file(request: Request, name: str):
    paths = competition(request).paths
    files = {"student_data.zip": paths.student_zip, "sample_submission.csv": paths.sample}
    if name not in files or not files[name].exists():
        return refuse(request, current_user(request), 404, "Not found", f"no file {name!r} to download")
    return FileResponse(files[name], filename=name)


@router.get("/static/style.css")
def stylesheet():
    return FileResponse(STATIC / "style.css", media_type="text/css")


@router.get("/leaderboard")
def leaderboard(request: Request):
    user = current_user(request)
    return render(request, user, "leaderboard.html", "Leaderboard", **leaderboard_context(competition(request), user))


# ---------------------------------------------------------------- signing in and out


@router.get("/signin")
def signin_page(request: Request):
    return render(request, current_user(request), "signin.html", "Sign in", error=None)


@router.post("/signin")
async def signin(request: Request):
    user = current_user(request)
    form, refused = await posted_form(request, user)
    if refused:
        return refused
    comp, token = competition(request), str(form.get("token", "")).strip()
    person = await run_in_threadpool(comp.authenticate, token)
    if person is not None:
        return redirect(request, "/submissions", new_session(participant_id=person.id))
    if await run_in_threadpool(comp.is_admin, token):
        return redirect(request, "/organizer", new_session(admin=True))
    return render(request, user, "signin.html", "Sign in", status=401, error="unknown token: check it and try again")


@router.post("/signout")
async def signout(request: Request):
    user = current_user(request)
    form, refused = await posted_form(request, user)
    if refused:
        return refused
    return redirect(request, "/", new_session())


# ---------------------------------------------------------------- uploads


@router.get("/submit")
def submit_page(request: Request):
    user, away = _participant_or_redirect(request)
    if away:
        return away
    return submit_form(request, user)


@router.post("/submit")
async def submit(request: Request):
    user, away = _participant_or_redirect(request)
    if away:
        return away
    comp = competition(request)
    try:
        await run_in_threadpool(comp.check_can_upload, user.participant)  # refused before the file is read
    except Refused as exc:
        return submit_form(request, user, exc.status, str(exc))
    try:
        form = await read_upload_form(request, comp.settings.max_upload_bytes)
    except UploadTooLarge as exc:
        return submit_form(request, user, 413, str(exc))
    refused = csrf_refusal(request, user, form)
    if refused:
        return refused
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return submit_form(request, user, 400, "choose a CSV file to upload")
    result = await run_in_threadpool(_store_and_submit, comp, user.participant, upload, str(form.get("message", "")))
    if isinstance(result, UserError):
        return submit_form(request, user, getattr(result, "status", 400), str(result))
    return redirect(request, f"/submissions/{result['id']}")


def _store_and_submit(comp, participant, upload: UploadFile, message: str):
    """Copy the parsed upload into COMP/submissions/.incoming (same file system) and hand it to the service."""
    comp.paths.incoming.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="web-", suffix=".csv", dir=comp.paths.incoming)
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.file.seek(0)
            while chunk := upload.file.read(1 << 20):
                fh.write(chunk)
        return comp.submit(participant, Path(tmp), message, Path(upload.filename).name)
    except UserError as exc:  # Refused (closed, daily limit) or a file the service would not take
        return exc
    finally:
        Path(tmp).unlink(missing_ok=True)  # already moved into place when the service took it


def submit_form(request: Request, user: User, status: int = 200, error: str | None = None):
    """The upload form, with today's count and (after a refused upload) why it was refused."""
    comp = competition(request)
    used = comp.settings.daily_limit - comp.uploads_left(user.participant)
    return render(request, user, "submit.html", "Submit", status=status, error=error, used_today=used)


# ---------------------------------------------------------------- my submissions


def _row(view: dict) -> dict:
    errors = [line.split(": ", 1)[-1] for line in view["findings"] if line.startswith("error:")]
    return {"id": view["id"], "created": _when(view["created"]), "message": view["message"], "status": view["status"],
            "public": view["public_rmse"], "private": view.get("private_rmse"), "selected": view["selected"],
            "filename": view["filename"], "errors": errors,
            "diagnoses": view["diagnoses"], "disqualified": view["disqualified"],
            "warnings": [line.split(": ", 1)[-1] for line in view["findings"] if line.startswith("warning:")]}


@router.get("/submissions")
def my_submissions(request: Request, saved: int = 0):
    user, away = _participant_or_redirect(request)
    if away:
        return away
    comp = competition(request)
    rows = [_row(v) for v in comp.submissions(user.participant)]
    points = sorted((r["created"], r["public"]) for r in rows if r["status"] == "accepted")
    return render(request, user, "mine.html", "My submissions", rows=rows, plot=score_plot_svg(points),
                  show_private=comp.is_closed(), notice="Final choice saved." if saved else None)


@router.post("/submissions/final")
async def choose_finals(request: Request):
    user, away = _participant_or_redirect(request)
    if away:
        return away
    form, refused = await posted_form(request, user)
    if refused:
        return refused
    comp = competition(request)
    try:
        ids = [int(v) for v in form.getlist("final")]
        await run_in_threadpool(comp.select_finals, user.participant, ids)
    except (UserError, ValueError) as exc:
        rows = [_row(v) for v in comp.submissions(user.participant)]
        return render(request, user, "mine.html", "My submissions", status=400, rows=rows, plot="",
                      show_private=comp.is_closed(), notice=f"Not saved: {exc}")
    return redirect(request, "/submissions?saved=1")


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: int):
    user, away = _participant_or_redirect(request)
    if away:
        return away
    comp = competition(request)
    view = comp.submission(user.participant, submission_id)
    if view is None:
        return refuse(request, user, 404, "Not found", f"no submission {submission_id} among yours")
    png = stored_thumbnails(comp, comp.submission_file(user.participant, submission_id))
    return render(request, user, "submission.html", f"Submission {submission_id}", sub=_row(view),
                  pictures_shown=png is not None)


@router.get("/submissions/{submission_id}/thumbnails.png")
def submission_thumbnails(request: Request, submission_id: int):
    user = current_user(request)
    comp = competition(request)
    path = comp.submission_file(user.participant, submission_id) if user.participant else None
    png = stored_thumbnails(comp, path) if path is not None else None
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
