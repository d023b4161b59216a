"""The competition's web pages (server-rendered Jinja2, plain CSS, no JavaScript); `router` holds them all."""
from competition.web.pages import router

__all__ = ["router"]
