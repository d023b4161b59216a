"""What the JSON API's read routes answer: declared response models (FastAPI `response_model`), so that
a field is sent only when it is declared here and the OpenAPI page documents each answer."""
from __future__ import annotations

from pydantic import BaseModel


class Finding(BaseModel):
    level: str  # "error" or "warning"
    message: str


class SubmissionOut(BaseModel):
    """One of the caller's own submissions; `private_rmse` only once the competition has closed."""

    id: int
    created: str
    filename: str
    message: str
    status: str
    public_rmse: float | None
    private_rmse: float | None = None
    selected: bool
    findings: list[str]  # "level: message" lines, as `inpaint remote upload` prints them
    errors: list[str]
    warnings: list[str]
    diagnoses: list[str]
    disqualified: bool
    size_bytes: int
    pictures: bool | None = None  # on GET /api/submissions/ID: whether the judge drew its thumbnails


class BoardRow(BaseModel):
    rank: int
    participant_id: int
    name: str
    score: float | None
    entries: int
    last: str


class Leaderboard(BaseModel):
    kind: str  # "public" or "private"
    closes: str | None
    rows: list[BoardRow]


class StandingsRow(BaseModel):
    rank: int
    participant_id: int
    name: str
    display_name: str
    email: str
    student_id: str
    private_rmse: float | None
    public_rmse: float | None
    grade: float | None
    submission_id: int
    final_ids: list[int]
    entries: int
    disqualified_ids: list[int]
    flags: str
    copies: str


class OrganizerSubmission(BaseModel):
    id: int
    participant_id: int
    name: str
    display_name: str
    created: str
    filename: str
    message: str
    status: str
    public_rmse: float | None
    private_rmse: float | None
    selected: bool
    disqualified: bool
    findings: list[Finding]
    diagnoses: list[str]
    flags: list[str]
    sha256: str
