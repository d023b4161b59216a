"""JSON that is valid whatever the database holds: a score of inf or NaN (a row written before the
value rule refused such uploads) is sent as null instead of failing the whole response."""
from __future__ import annotations

import math

from fastapi.responses import JSONResponse


def finite_json(value):
    """`value` with every float that is not finite replaced by None, in dicts, lists and tuples."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


class FiniteJSONResponse(JSONResponse):
    """Every JSON answer of the server (the app's default response class and its error handlers)."""

    def render(self, content) -> bytes:
        return super().render(finite_json(content))
