"""Which submissions count and how rows are ranked: Kaggle's rules as small pure functions.

A score that is not a finite number (a row of an older database, from before the value rule)
never wins: it sorts after every finite one and is shown as missing (`finite_or_none`).
"""
from __future__ import annotations

import math


def finite_or_none(score: float | None) -> float | None:
    """The score if it is a finite number, else None (JSON null, "-" on a page)."""
    return score if score is not None and math.isfinite(score) else None


def score_key(score: float | None) -> tuple[int, float]:
    """Sort key, lower is better: every finite score before a missing or non-finite one."""
    return (0, score) if finite_or_none(score) is not None else (1, 0.0)


def best_public(subs: list) -> object:
    """The submission with the lowest public RMSE; the earlier one wins a tie."""
    return min(subs, key=lambda s: (score_key(s.public_rmse), s.id))


def best_private(subs: list) -> object:
    """The submission with the lowest private RMSE; the earlier one wins a tie."""
    return min(subs, key=lambda s: (score_key(s.private_rmse), s.id))


def final_choice(subs: list, picks: int) -> list:
    """The submissions that count on the private leaderboard: the selected ones, or when none
    were selected the best `picks` by public RMSE (what Kaggle does for a team that did not choose)."""
    selected = [s for s in subs if s.selected]
    return selected[:picks] if selected else sorted(subs, key=lambda s: (score_key(s.public_rmse), s.id))[:picks]


def rank_rows(rows: list[dict]) -> list[dict]:
    """Sort by "score" (lower is better) and number them; equal scores share the lower rank (1, 1, 3).
    A non-finite score becomes None and ranks last."""
    ordered = sorted(({**r, "score": finite_or_none(r["score"])} for r in rows),
                     key=lambda r: (score_key(r["score"]), r["name"]))
    ranked, previous = [], None
    for position, row in enumerate(ordered, start=1):
        key = score_key(row["score"])
        rank = ranked[-1]["rank"] if previous is not None and key == previous else position
        ranked.append({"rank": rank, **row})
        previous = key
    return ranked


def by_participant(pairs) -> list[tuple]:
    """(submission, participant) pairs -> [(participant, [their submissions])], in order of first appearance."""
    grouped: dict[int, tuple] = {}
    for sub, person in pairs:
        grouped.setdefault(person.id, (person, []))[1].append(sub)
    return list(grouped.values())
