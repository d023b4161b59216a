"""What judging hands back and stores: the facts of a file's bytes, the verdict with everything derived
from it, and the stored form of findings and copy features.

No parsing here: the server's own processes import this module (competition/judge.py, which
parses, runs only in the judging processes).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from competition.db import Judgement


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    problem: str | None  # why the file is refused before parsing; None if it may be parsed


@dataclass(frozen=True)
class Verdict:
    status: str  # "accepted" or "rejected"
    public_rmse: float | None
    private_rmse: float | None
    findings: list[dict] = field(default_factory=list)  # {"level": "error"|"warning", "message": ...}
    diagnoses: list[str] = field(default_factory=list)  # the likely export mistakes (submission/diagnose.py)
    flags: list[str] = field(default_factory=list)  # submission/flags.py, accepted files only
    copy_features: bytes | None = None  # copies.participant_features as .npy float32, accepted files only
    thumbnails: bytes | None = None  # PNG of the predictions under the blanked inputs; None if unreadable

    @property
    def finding_lines(self) -> list[str]:
        """The findings as "level: message" lines, as the API and `inpaint remote upload` print them."""
        return finding_lines(self.findings)


def finding(level: str, message: str) -> dict:
    return {"level": level, "message": message}


def finding_lines(findings: list[dict]) -> list[str]:
    return [f"{f['level']}: {f['message']}" for f in findings]


def features_bytes(features: np.ndarray | None) -> bytes | None:
    """Copy features as stored: float32 is ample for a statistic compared with 7-10% limits, and
    halves the 0.5-1 MB of a 50-image set; identical files still give identical bytes."""
    if features is None:
        return None
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(features, np.float32), allow_pickle=False)
    return buffer.getvalue()


def features_from_bytes(data: bytes | None) -> np.ndarray | None:
    return None if data is None else np.load(io.BytesIO(data), allow_pickle=False).astype(np.float64)




def judgement_row(submission_id: int, verdict: Verdict) -> Judgement:
    """The stored form of what judging derived."""
    return Judgement(submission_id=submission_id, findings=verdict.findings, diagnoses=verdict.diagnoses,
                     flags=verdict.flags, copy_features=verdict.copy_features, thumbnails=verdict.thumbnails)
