"""The public pages and signing in and out: overview, data, leaderboard, sign in, sign out.

Overview, the data page and the sign-in page are open to anyone; the leaderboard and the data
files need a sign-in, as /api/leaderboard and /api/data need a token. Who may see each page is
the guard in its signature (competition/web/guards.py).
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from competition.web.boards import leaderboard_context
from competition.web.guards import CheckedForm, PageRefused, SignedIn, Visitor
from competition.web.render import STATIC, competition, redirect, render
from competition.web.session import new_session

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, user: Visitor):
    return render(request, user, "overview.html", "Overview")


@router.get("/data")
def data_page(request: Request, user: Visitor):
    return render(request, user, "data.html", "Data")


@router.get("/data/{name}")
def data_file(request: Request, name: str, user: SignedIn):
    paths = competition(request).paths
    files = {"student_data.zip": paths.student_zip, "sample_submission.csv": paths.sample}
    if name not in files or not files[name].exists():
        raise PageRefused(404, f"no file {name!r} to download")
    return FileResponse(files[name], filename=name)


@router.get("/static/style.css")
def stylesheet():
    return FileResponse(STATIC / "style.css", media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/leaderboard")
def leaderboard(request: Request, user: SignedIn):
    return render(request, user, "leaderboard.html", "Leaderboard", **leaderboard_context(competition(request), user))


@router.get("/signin")
def signin_page(request: Request, user: Visitor):
    return render(request, user, "signin.html", "Sign in", error=None)


@router.post("/signin")
async def signin(request: Request, user: Visitor, form: CheckedForm):
    comp, token = competition(request), str(form.get("token", "")).strip()
    person = await run_in_threadpool(comp.authenticate, token)
    if person is not None:
        session_id = await run_in_threadpool(comp.open_sign_in, person)
        landing = "/name" if person.name_source == "generated" else "/submissions"  # a generated name: keep or choose
        return redirect(request, landing, new_session(session_id))
    if await run_in_threadpool(comp.is_admin, token):
        session_id = await run_in_threadpool(comp.open_sign_in, None, True)
        return redirect(request, "/organizer", new_session(session_id))
    return render(request, user, "signin.html", "Sign in", status=401, error="unknown token: check it and try again")


@router.post("/signout")
async def signout(request: Request, user: Visitor, form: CheckedForm):
    await run_in_threadpool(competition(request).end_sign_in, user.session.session_id)
    return redirect(request, "/", new_session())
