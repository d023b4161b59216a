"""What every page shares: the Jinja2 environment (autoescaped), who is asking, CSRF, rendering.

The pages call competition/service.py for every fact; nothing here decides who may see a
private score (the service's participant views leave it out until the deadline).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from competition.web.session import COOKIE, SessionCodec, WebSession, csrf_ok, new_session, secret_key

HERE = Path(__file__).parent
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               undefined=jinja2.StrictUndefined)
STATIC = HERE / "static"


def competition(request: Request):
    """The service.Competition the API built for this app."""
    return request.app.state.competition


def codec(request: Request) -> SessionCodec:
    state = request.app.state
    if getattr(state, "web_codec", None) is None:
        state.web_codec = SessionCodec(secret_key(competition(request).paths.secrets))
    return state.web_codec


@dataclass(frozen=True)
class User:
    """Who is asking, as the pages need it: a participant row, the organizer, or nobody."""

    session: WebSession
    is_new: bool  # the cookie must be (re)written with the response
    participant: object | None = None
    admin: bool = False

    @property
    def signed_in(self) -> bool:
        return self.participant is not None or self.admin

    @property
    def name(self) -> str:
        return "organizer" if self.admin else (self.participant.name if self.participant else "")


def current_user(request: Request) -> User:
    """The session's user; a missing, forged or stale cookie (or a participant since deleted) is a fresh anonymous session."""
    session = codec(request).load(request.cookies.get(COOKIE))
    if session is None:
        return User(new_session(), True)
    if session.admin:
        return User(session, False, admin=True)
    if session.participant_id is not None:
        person = participant_by_id(request, session.participant_id)
        if person is None:
            return User(new_session(), True)
        return User(session, False, participant=person)
    return User(session, False)


def participant_by_id(request: Request, participant_id: int):
    from competition.db import Participant

    with competition(request).db.session() as s:
        return s.get(Participant, participant_id)


def time_left(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return ""
    left = deadline - now
    if left <= timedelta(0):
        return "closed"
    days, seconds = left.days, left.seconds
    return f"{days} d {seconds // 3600} h" if days else f"{seconds // 3600} h {seconds % 3600 // 60} min"


def render(request: Request, user: User, template: str, page_title: str, status: int = 200, **context) -> HTMLResponse:
    comp = competition(request)
    now = comp.clock()
    html = TEMPLATES.get_template(template).render(
        settings=comp.settings, user=user, csrf=user.session.csrf, page_title=page_title, now=now,
        closed=comp.is_closed(), time_left=time_left(comp.settings.deadline, now),
        notice=context.pop("notice", None), **context)
    response = HTMLResponse(html, status_code=status)
    remember(request, response, user)
    return response


def _save_session(request: Request, response, session: WebSession) -> None:
    codec(request).secure = request.url.scheme == "https"
    codec(request).save(response, session)


def remember(request: Request, response, user: User) -> None:
    if user.is_new:
        _save_session(request, response, user.session)


def redirect(request: Request, url: str, session: WebSession | None = None) -> RedirectResponse:
    """303 after a POST; with `session`, the cookie now says who is signed in."""
    response = RedirectResponse(url, status_code=303)
    if session is not None:
        _save_session(request, response, session)
    return response


def signin_redirect(request: Request, user: User) -> RedirectResponse:
    """To the sign-in page, keeping a new visitor's session (and its CSRF token) in the cookie."""
    response = redirect(request, "/signin")
    remember(request, response, user)
    return response


def refuse(request: Request, user: User, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, user, "error.html", title, status=status, message=message)


def csrf_refusal(request: Request, user: User, form) -> HTMLResponse | None:
    """None when the form carries this session's CSRF token, else the 403 page."""
    if csrf_ok(user.session, form.get("csrf")):
        return None
    return refuse(request, user, 403, "Refused", "the form had no valid CSRF token; reload the page and try again")


async def posted_form(request: Request, user: User):
    """(form, None) for a POST with this session's CSRF token, else (form, the 403 page)."""
    form = await request.form()
    return form, csrf_refusal(request, user, form)
