"""Errors a user can cause. The CLI prints their message on one line and exits 2.

The shared ones come from the TensorFlow-free base (submission/errors.py); the library adds
`ConfigError` for its settings.
"""
from submission.errors import DataError, SubmissionError, UserError, count, list_names

__all__ = ["ConfigError", "DataError", "SubmissionError", "UserError", "count", "list_names"]


class ConfigError(UserError):
    """A config file, preset or option value is not valid."""
