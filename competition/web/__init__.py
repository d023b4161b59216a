"""The competition's web pages (server-rendered Jinja2, plain CSS, no JavaScript).

    pages.py        overview, data, leaderboard, sign in and out
    submissions.py  a participant's uploads, submissions, final choice, pictures
    names.py        a participant's display name
    organizer.py    the organizer's pages
    guards.py       who may see each page, the CSRF check, and the refusal handler
    render.py       templates, who is asking, rendering; session.py the cookie
"""
from fastapi import FastAPI

from competition.web import names, organizer, pages, submissions
from competition.web.guards import install_handlers

UPLOAD_PATHS = {"/submit"}  # the routes that read a large body (competition/api/limits.py)


def install(app: FastAPI) -> None:
    """Add every page to the server app, and the handler that answers a page's refusals."""
    for module in (pages, submissions, names, organizer):
        app.include_router(module.router)
    install_handlers(app)
