"""The organizer's pages: every submission with public and private scores, grades, flags;
disqualify / restore a submission; leaderboard.csv; a new organizer token; a new token for one
participant (shown on the answer page once). Only a session signed
in with the admin token gets them (the Organizer guard): a participant gets 403, anyone else is
sent to sign in."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from competition.maintenance import standings_csv
from competition.web.boards import ORGANIZER_PAGE_ROWS, organizer_rows
from competition.web.guards import CheckedForm, Organizer, PageRefused
from competition.web.render import competition, redirect, render
from competition.web.session import new_session
from competition.web.submissions import SubmissionId
from submission.errors import UserError

router = APIRouter(include_in_schema=False)


@router.get("/organizer")
def organizer_page(request: Request, user: Organizer, page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1):
    """Standings and copy flags, and one page (ORGANIZER_PAGE_ROWS, newest first) of every submission."""
    comp = competition(request)
    standings, subs, copy_sentences = organizer_rows(comp, page)
    pages = max(1, -(-comp.submission_count() // ORGANIZER_PAGE_ROWS))
    return render(request, user, "organizer.html", "Organizer", standings=standings, rows=subs,
                  copy_sentences=copy_sentences, page=page, pages=pages, people=comp.participants())


@router.post("/organizer/submissions/{submission_id}/{action}")
async def disqualify_or_restore(request: Request, user: Organizer, form: CheckedForm, submission_id: SubmissionId,
                                action: Literal["disqualify", "restore"]):
    comp = competition(request)
    try:
        await run_in_threadpool(comp.disqualify if action == "disqualify" else comp.restore, submission_id)
    except UserError as exc:
        raise PageRefused(404, str(exc)) from None
    return redirect(request, "/organizer")


@router.post("/organizer/rotate-token")
async def rotate_token(request: Request, user: Organizer, form: CheckedForm):
    """A new organizer token in COMP/secrets/admin_token.txt; every organizer session ends, this one too."""
    await run_in_threadpool(competition(request).rotate_admin_token)
    return redirect(request, "/signin", new_session())


@router.post("/organizer/participant-token")
async def rotate_participant_token(request: Request, user: Organizer, form: CheckedForm):
    """A new token for one participant, shown on this answer only (no-store, never in a URL); their old token
    and sessions end."""
    number = str(form.get("participant", ""))
    try:
        new = await run_in_threadpool(competition(request).rotate_participant_token, int(number))
    except (UserError, ValueError):
        raise PageRefused(404, f"no participant {number[:20]!r}") from None
    return render(request, user, "new_token.html", "New token", new=new)


@router.get("/organizer/leaderboard.csv")
def leaderboard_csv(request: Request, user: Organizer):
    _, text = standings_csv(competition(request))
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="leaderboard.csv"'})
