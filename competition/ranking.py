"""Which submissions count and how rows are ranked: Kaggle's rules as small pure functions."""
from __future__ import annotations


def best_public(subs: list) -> object:
    """The submission with the lowest public RMSE; the earlier one wins a tie."""
    return min(subs, key=lambda s: (s.public_rmse, s.id))


def final_choice(subs: list, picks: int) -> list:
    """The submissions that count on the private leaderboard: the selected ones, or when none
    were selected the best `picks` by public RMSE (what Kaggle does for a team that did not choose)."""
    selected = [s for s in subs if s.selected]
    return selected[:picks] if selected else sorted(subs, key=lambda s: (s.public_rmse, s.id))[:picks]


def rank_rows(rows: list[dict]) -> list[dict]:
    """Sort by "score" (lower is better) and number them; equal scores share the lower rank (1, 1, 3)."""
    ordered = sorted(rows, key=lambda r: (r["score"], r["name"]))
    ranked, previous = [], None
    for position, row in enumerate(ordered, start=1):
        rank = ranked[-1]["rank"] if previous is not None and row["score"] == previous else position
        ranked.append({"rank": rank, **row})
        previous = row["score"]
    return ranked


def by_participant(pairs) -> list[tuple]:
    """(submission, participant) pairs -> [(participant, [their submissions])], in order of first appearance."""
    grouped: dict[int, tuple] = {}
    for sub, person in pairs:
        grouped.setdefault(person.id, (person, []))[1].append(sub)
    return list(grouped.values())
