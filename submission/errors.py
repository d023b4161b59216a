"""Errors a user can cause, shared by every package: the CLI prints their message on one line and exits 2.

They live in the TensorFlow-free base so that the scorer, the server and the Codabench scoring
program raise the same errors as the training library (inpaint/errors.py re-exports them).
"""


class UserError(Exception):
    """Base of every error whose cause is the user's input, not a bug in the kit."""


class DataError(UserError):
    """A data folder or image file does not follow data_spec.md."""


class SubmissionError(UserError):
    """A submission or solution CSV does not follow the CSV contract."""


class ConfigError(UserError):
    """A config file, preset or option value (a run's or a competition's) is not valid."""


def list_names(names, limit: int = 10) -> str:
    """'a, b, c (+5 more)': long lists stay readable in a one-line error."""
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    extra = len(names) - limit
    return f"{shown} (+{extra} more, {len(names)} in all)" if extra > 0 else shown


def count(n: int, noun: str) -> str:
    """'1 problem', '2 problems': counts in messages read as sentences."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
