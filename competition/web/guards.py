"""Who may see a page and the CSRF check of every form, as FastAPI dependencies in each route's
signature (so a route without its guard shows where it is declared), and the one handler that
turns a refusal into its answer: a redirect to the sign-in page, or a page saying why.

    Visitor        anyone; the cookie's user (a new anonymous session if it has none)
    SignedIn       a participant or the organizer (leaderboard, data files: the API's rule)
    ParticipantOf  a participant (their submissions, uploads)
    Organizer      the organizer (a participant gets 403, nobody is sent to sign in)
    CheckedForm    the posted form, carrying this session's CSRF token (else 403)
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from competition.web.render import User, current_user, redirect, remember, render
from competition.web.session import csrf_ok

API_PATHS = ("/api/", "/docs", "/openapi.json")  # their errors stay JSON
ERROR_TITLES = {403: "Refused", 404: "Not found", 405: "Not allowed", 408: "Too slow", 413: "Too large"}


class PageRefusal(Exception):
    """A guard's (or a page's) refusal; `response` is what the visitor gets."""

    def response(self, request: Request, user: User):
        raise NotImplementedError


class SignInNeeded(PageRefusal):
    def response(self, request: Request, user: User):
        """To the sign-in page, keeping a new visitor's session (and its CSRF token) in the cookie."""
        answer = redirect(request, "/signin")
        remember(request, answer, user)
        return answer


class PageRefused(PageRefusal):
    def __init__(self, status: int, message: str, title: str | None = None):
        super().__init__(message)
        self.status, self.message, self.title = status, message, title or ERROR_TITLES.get(status, "Refused")

    def response(self, request: Request, user: User):
        return render(request, user, "error.html", self.title, status=self.status, message=self.message)


def visitor(request: Request) -> User:
    user = current_user(request)
    request.state.user = user  # for the handlers below, whatever happens next
    return user


Visitor = Annotated[User, Depends(visitor)]


def signed_in(user: Visitor) -> User:
    if not user.signed_in:
        raise SignInNeeded()
    return user


def participant(user: Visitor) -> User:
    if user.participant is None:
        raise SignInNeeded()
    return user


def organizer(user: Visitor) -> User:
    if user.admin:
        return user
    if user.participant is not None:
        raise PageRefused(403, "these pages need the organizer's token", "Organizer only")
    raise SignInNeeded()


async def checked_form(request: Request, user: Visitor) -> FormData:
    """The posted form (a small one: the body limit in front of every route is 64 KiB) if it carries
    this session's CSRF token."""
    form = await request.form()
    require_csrf(user, form)
    return form


def require_csrf(user: User, form: FormData) -> None:
    if not csrf_ok(user.session, form.get("csrf")):
        raise PageRefused(403, "the form had no valid CSRF token; reload the page and try again")


SignedIn = Annotated[User, Depends(signed_in)]
ParticipantOf = Annotated[User, Depends(participant)]
Organizer = Annotated[User, Depends(organizer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def the_user(request: Request) -> User:
    return getattr(request.state, "user", None) or visitor(request)


def install_handlers(app: FastAPI) -> None:
    """Refusals become their answer; HTTP errors and bad path parameters become pages outside the API."""

    async def refusal(request: Request, exc: PageRefusal):
        return exc.response(request, the_user(request))

    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith(API_PATHS):
            return await http_exception_handler(request, exc)
        return PageRefused(exc.status_code, str(exc.detail)).response(request, the_user(request))

    async def invalid(request: Request, exc: RequestValidationError):
        if request.url.path.startswith(API_PATHS):
            return await request_validation_exception_handler(request, exc)
        return PageRefused(404, f"no page {request.url.path}").response(request, the_user(request))

    app.add_exception_handler(PageRefusal, refusal)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
