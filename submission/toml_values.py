"""Values written as TOML text, for the kit's two settings files: a run's config.toml (inpaint/config.py)
and a competition's competition.toml (competition/settings.py).

The standard library reads TOML (tomllib) but writes none; both files hold flat keys of a few types,
so these lines write them rather than a dependency.
"""
from __future__ import annotations


def toml_value(value) -> str:
    """A boolean, number, string, or a list or tuple of them, as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
