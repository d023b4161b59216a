"""The display-name page: what everyone else calls this participant, and (until their first accepted
upload) the form to change it. A participant whose name the kit generated is sent here at sign-in
until they keep it or choose another; the rules are competition/display_names.py's."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from competition.display_names import RULES
from competition.web.guards import CheckedForm, ParticipantOf
from competition.web.render import User, competition, redirect, render
from submission.errors import UserError

router = APIRouter(include_in_schema=False)


def name_page(request: Request, user: User, status: int = 200, error: str | None = None, wanted: str | None = None):
    comp = competition(request)
    person = user.participant
    return render(request, user, "name.html", "Display name", status=status, error=error, rules=RULES,
                  wanted=wanted if wanted is not None else person.display_name, editable=comp.name_editable(person),
                  first_time=person.name_source == "generated", given_by_organizer=person.name_source in ("roster", "organizer"))


@router.get("/name")
def display_name_page(request: Request, user: ParticipantOf):
    return name_page(request, user)


@router.post("/name")
async def choose_display_name(request: Request, user: ParticipantOf, form: CheckedForm):
    wanted = str(form.get("display_name", ""))
    try:
        await run_in_threadpool(competition(request).choose_display_name, user.participant, wanted)
    except UserError as exc:
        return name_page(request, user, getattr(exc, "status", 400), str(exc), wanted[:200])
    return redirect(request, "/submissions?named=1")
