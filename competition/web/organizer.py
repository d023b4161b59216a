"""The organizer's pages: every submission with public and private scores, grades, flags;
disqualify / restore a submission; leaderboard.csv. Only a session signed in with the admin
token gets them; a participant's session gets 403, an anonymous one is sent to sign in."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from competition.maintenance import standings_csv
from competition.web.boards import organizer_rows
from competition.web.render import competition, current_user, posted_form, redirect, refuse, render, signin_redirect
from inpaint.errors import UserError

router = APIRouter(include_in_schema=False)


def _organizer(request: Request):
    """(user, None) for the organizer; (user, response) refusing anyone else."""
    user = current_user(request)
    if user.admin:
        return user, None
    if user.participant is not None:
        return user, refuse(request, user, 403, "Organizer only", "these pages need the organizer's token")
    return user, signin_redirect(request, user)


@router.get("/organizer")
def organizer_page(request: Request):
    user, refused = _organizer(request)
    if refused:
        return refused
    standings, subs = organizer_rows(competition(request))
    return render(request, user, "organizer.html", "Organizer", standings=standings, rows=subs)


@router.post("/organizer/submissions/{submission_id}/{action}")
async def disqualify_or_restore(request: Request, submission_id: int, action: str):
    user, refused = _organizer(request)
    if refused:
        return refused
    form, refused = await posted_form(request, user)
    if refused:
        return refused
    comp = competition(request)
    if action not in ("disqualify", "restore"):
        return refuse(request, user, 404, "Not found", f"no action {action!r}")
    try:
        await run_in_threadpool(comp.disqualify if action == "disqualify" else comp.restore, submission_id)
    except UserError as exc:
        return refuse(request, user, 404, "Not found", str(exc))
    return redirect(request, "/organizer")


@router.get("/organizer/leaderboard.csv")
def leaderboard_csv(request: Request):
    user, refused = _organizer(request)
    if refused:
        return refused
    _, text = standings_csv(competition(request))
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="leaderboard.csv"'})
