"""What every page shares: the Jinja2 environment (autoescaped), who is asking, rendering, redirects.

The pages call competition/service.py for every fact; nothing here decides who may see a
private score (the service's participant views leave it out until the deadline). Scores are
printed by one filter, `score`, which shows "-" for a missing or non-finite one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from competition.participants import public_name
from competition.web.session import COOKIE, SessionCodec, WebSession, new_session, secret_key
from submission.csv_read import VALUE_LIMIT

HERE = Path(__file__).parent
STATIC = HERE / "static"


def score_text(value, digits: int = 5) -> str:
    """A score as the pages print it: fixed digits, or "-" when there is none or it is not finite."""
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and math.isfinite(value) else "-"


TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               undefined=jinja2.StrictUndefined)
TEMPLATES.filters["score"] = score_text


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
        return "organizer" if self.admin else (public_name(self.participant) if self.participant else "")


def current_user(request: Request) -> User:
    """The cookie's user, checked against the server's sessions: a missing, forged or old cookie, or a
    session that was signed out, expired or opened with a replaced token, is a new anonymous visitor."""
    session = codec(request).load(request.cookies.get(COOKIE))
    if session is None:
        return User(new_session(), True)
    if session.session_id is None:
        return User(session, False)
    who = competition(request).signed_in(session.session_id)
    if who is None:
        return User(new_session(), True)
    return User(session, False, participant=who.participant, admin=who.admin)


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
        closed=comp.is_closed(), time_left=time_left(comp.settings.deadline, now), value_limit=VALUE_LIMIT,
        notice=context.pop("notice", None), **context)
    response = HTMLResponse(html, status_code=status)
    remember(request, response, user)
    return response


def _save_session(request: Request, response, session: WebSession) -> None:
    codec(request).save(response, session, secure=request.url.scheme == "https")  # this request's, nobody else's


def remember(request: Request, response, user: User) -> None:
    if user.is_new:
        _save_session(request, response, user.session)


def redirect(request: Request, url: str, session: WebSession | None = None) -> RedirectResponse:
    """303 after a POST; with `session`, the cookie now says who is signed in."""
    response = RedirectResponse(url, status_code=303)
    if session is not None:
        _save_session(request, response, session)
    return response
