"""The JSON API under /api, and the app that serves it with the web pages (competition/api/app.py)."""
from competition.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
