"""The JSON API under /api, and the app that serves it with the web pages."""
from competition.api.routes import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
