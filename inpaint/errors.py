"""Errors a user can cause. The CLI prints their message on one line and exits 2.

They live in the TensorFlow-free base (submission/errors.py), which the server and the scorer import
directly; this module is the library's one name for them.
"""
from submission.errors import ConfigError, DataError, SubmissionError, UserError, count, list_names

__all__ = ["ConfigError", "DataError", "SubmissionError", "UserError", "count", "list_names"]
