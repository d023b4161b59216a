"""Errors a user can cause. The CLI prints their message on one line and exits 2."""


class UserError(Exception):
    """Base of every error whose cause is the user's input, not a bug in the kit."""


class DataError(UserError):
    """A data folder or image file does not follow data_spec.md."""


class SubmissionError(UserError):
    """A submission or solution CSV does not follow the CSV contract."""


class ConfigError(UserError):
    """A config file, preset or option value is not valid."""


def list_names(names, limit: int = 10) -> str:
    """'a, b, c (+5 more)': long lists stay readable in a one-line error."""
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    extra = len(names) - limit
    return f"{shown} (+{extra} more, {len(names)} in all)" if extra > 0 else shown
