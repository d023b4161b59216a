"""The leaderboard tables of the pages: public (always), final ranking (after the deadline), reference rows.

The public table is built here from public RMSEs only, so it can be shown after the deadline
too, beside the final ranking (the service's leaderboard switches to private scores then).
Reference rows: the identity baseline (the White images, i.e. sample_submission.csv, scored
like any upload) and the strong baseline of the grade formula.
"""
from __future__ import annotations

from datetime import datetime

from competition.participants import public_name
from competition.ranking import best_public, by_participant, rank_rows, score_key

ORGANIZER_PAGE_ROWS = 100  # submissions per page of the organizer's list


def identity_scores(comp) -> dict[str, float]:
    """{"public": ..., "private": ...} of the White images themselves (the course's 'Baseline Setting'),
    judged once per server process on the judging side."""
    return comp.reference_scores()


def public_rows(comp) -> list[dict]:
    """Each eligible participant's best public RMSE, ranked: rank, participant_id, name, public, uploads, last."""
    rows = [{"participant_id": person.id, "name": public_name(person), "score": best_public(subs).public_rmse,
             "uploads": len(subs), "last": max(s.created for s in subs)}
            for person, subs in by_participant(comp.counted_submissions())]
    return [dict(r, public=r.pop("score")) for r in rank_rows(rows)]


def _with_references(rows: list[dict], references: list[dict], key: str) -> list[dict]:
    """Reference rows slotted in by score, without a rank of their own; rows without a score last."""
    return sorted(rows + references, key=lambda r: score_key(r[key]))


def reference_rows(comp, part: str) -> list[dict]:
    strong = comp.settings.strong
    blank = {"rank": None, "uploads": None, "last": None, "reference": True, "me": False, "grade": None}
    return [dict(blank, name="reference: identity (the White images unchanged)", public=identity_scores(comp)["public"],
                 private=identity_scores(comp)["private"] if part == "private" else None),
            dict(blank, name="reference: strong baseline (grade 8)", public=strong if part == "public" else None,
                 private=strong if part == "private" else None)]


def leaderboard_context(comp, user) -> dict:
    """What leaderboard.html shows: `rows` (public) and, once closed, `final_rows` (private, grades)."""
    me = user.participant.id if user.participant is not None else None
    # the viewers who arrive together (after the deadline, a class) share one computation of each table
    # (competition/shared_reads.py): read here, never changed
    shared = comp.shared.get(("public rows",), lambda: public_rows(comp))
    rows = [dict(r, reference=False, me=r["participant_id"] == me) for r in shared]
    context = {"rows": _with_references(rows, reference_rows(comp, "public"), "public"), "final_rows": []}
    if comp.is_closed():
        # ranked as the private leaderboard everyone gets from the API, named as it names them
        graded = comp.shared.get(("graded",), lambda: {r["participant_id"]: r
                                                       for r in comp.standings(with_flags=False)})  # no flags shown
        final = [{"rank": r["rank"], "name": r["name"], "private": r["score"], "reference": False,
                  "public": graded[r["participant_id"]]["public_rmse"], "grade": graded[r["participant_id"]]["grade"]}
                 for r in comp.leaderboard()["rows"]]
        context["final_rows"] = _with_references(final, reference_rows(comp, "private"), "private")
    return context


def notes(flags: list[str], errors: list[str], diagnoses: list[str]) -> list[str]:
    """The organizer's notes on one submission: a flag that a diagnosis already says (the identity
    upload is both flagged and diagnosed) is said once."""
    return [f for f in flags if not any(f in d for d in diagnoses)] + errors + diagnoses


def organizer_rows(comp, page: int = 1) -> tuple[list[dict], list[dict], list[str]]:
    """(standings with grades, flags and copy flags, one page of the submissions with both scores, newest
    first, the copy flags' sentences) for the organizer page; all read from stored rows."""
    standings, copy_sentences = comp.standings_with_copies()
    grade_of = {r["submission_id"]: r["grade"] for r in standings}
    subs = []
    for v in comp.organizer_submissions((page - 1) * ORGANIZER_PAGE_ROWS, ORGANIZER_PAGE_ROWS):
        errors = [f["message"] for f in v["findings"] if f["level"] == "error"]
        subs.append({"id": v["id"], "created": datetime.fromisoformat(v["created"]), "name": v["name"],
                     "display_name": v["display_name"], "participant_id": v["participant_id"], "message": v["message"], "status": v["status"],
                     "public": v["public_rmse"], "private": v["private_rmse"], "grade": grade_of.get(v["id"]),
                     "selected": v["selected"], "disqualified": v["disqualified"],
                     "notes": "; ".join(notes(v["flags"], errors, v["diagnoses"]))})
    return standings, subs, copy_sentences
