"""Grades for the course's learning-management system: one line per roster line, grades out of 10.

What each system's CSV import reads (docs/grader.md, "Grades into the gradebook", cites the sources):

- Moodle, "Import grades from CSV": any header; the teacher maps one column to the user (e-mail
  address or ID number), one to a grade item and one, optionally, to that item's feedback. A row
  whose user Moodle cannot find aborts the whole import, so every row must carry the key.
- Canvas, Gradebook import: the first columns must be Student, ID, SIS User ID, SIS Login ID and
  Section; each further column is an assignment named by its header (a new one if no assignment has
  that name), so the file has no note column; a first data row "Points Possible" sets the points.

Which grade (decided here, written in docs/grader.md): after the deadline, the grade of the private
leaderboard as the organizer's standings compute it (submission/grading.py, float64): each
participant's final choice, their disqualified submissions counting for nothing. A participant with
no accepted submission gets 0 ("absent"), and so does one whose every accepted submission was
disqualified. Before the deadline only a provisional file, from the public leaderboard, and only
when asked for: its grade column says so.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import case, func, select

from competition.db import Submission
from competition.settings import iso
from submission.errors import UserError
from submission.grading import grades
from submission.image_files import atomic_write_bytes
from submission.spreadsheet_cells import inert_cell, inert_row

LMS = ("moodle", "canvas")
KEYS = {"email": ("Email address", "e-mail"), "student_id": ("ID number", "student id")}
MAX_GRADE = 10.0
ABSENT = "absent: no accepted submission"
ALL_DISQUALIFIED = "every accepted submission was disqualified by the organizer"
NO_SCORE = "no finite score (a row from before the value rule)"


@dataclass(frozen=True)
class GradeLine:
    """One roster line's grade: `note` says why a grade is 0 without a score ('' when it has one)."""

    name: str
    email: str
    student_id: str
    grade: float
    note: str


def grade_lines(comp, provisional: bool = False) -> list[GradeLine]:
    """Every registered participant with a grade out of 10, in the order of their names.

    Final grades need the deadline to have passed; `provisional` grades come from the public
    leaderboard before it (a UserError in every other case, with the one line that says why)."""
    closed = comp.is_closed()
    if provisional and closed:
        raise UserError(f"the competition closed at {iso(comp.settings.deadline)}: the final grades are ready; "
                        "leave out --provisional")
    if not provisional and not closed:
        when = (f"closes at {iso(comp.settings.deadline)}" if comp.settings.deadline
                else "has no deadline (set one in COMP/competition.toml)")
        raise UserError(f"the competition {when}: final grades exist only after the deadline; add --provisional "
                        "for grades from the public leaderboard as it is now (the grade column says so)")
    scored = _public_grades(comp) if provisional else {r["participant_id"]: r["grade"] for r in comp.standings()}
    accepted, dropped = _accepted_counts(comp)
    people = sorted(comp.participants(), key=lambda p: (p["name"].casefold(), p["id"]))
    if not people:
        raise UserError("no participants are registered: nothing to grade")
    lines = []
    for p in people:
        grade = scored.get(p["id"])
        if p["id"] in scored:
            note = "" if grade is not None else NO_SCORE
        else:
            note = ALL_DISQUALIFIED if accepted.get(p["id"], 0) and accepted[p["id"]] == dropped.get(p["id"], 0) \
                else ABSENT
        lines.append(GradeLine(p["name"], p["email"], p["student_id"], 0.0 if grade is None else float(grade), note))
    return lines


def _public_grades(comp) -> dict[int, float | None]:
    """participant id -> the course grade of their best public RMSE (the public leaderboard)."""
    rows = comp.leaderboard()["rows"]
    scores = pd.Series([r["score"] for r in rows], dtype="float64")  # None -> NaN: no grade
    marks = grades(scores, comp.settings.baseline, comp.settings.strong)
    return {r["participant_id"]: (None if g != g else float(g)) for r, g in zip(rows, marks)}


def _accepted_counts(comp) -> tuple[dict[int, int], dict[int, int]]:
    """participant id -> accepted submissions, and -> those of them disqualified."""
    accepted = Submission.status == "accepted"
    with comp.db.session() as s:
        rows = s.execute(select(Submission.participant_id, func.count(),
                                func.sum(case((Submission.disqualified.is_(True), 1), else_=0)))
                         .where(accepted).group_by(Submission.participant_id)).all()
    return {pid: n for pid, n, _ in rows}, {pid: int(d or 0) for pid, _, d in rows}


def grade_item(title: str, provisional: bool, now: datetime) -> str:
    """The grade column's header: the name Canvas gives the assignment and Moodle offers to map."""
    return f"{title} (provisional, public leaderboard {now:%Y-%m-%d %H:%M} UTC)" if provisional else title


def check_keys(lines: list[GradeLine], lms: str, key: str) -> None:
    """Moodle needs the key on every line; neither system can tell two lines with one key apart."""
    label = KEYS[key][1]
    if lms == "moodle":
        missing = [line.name for line in lines if not getattr(line, key)]
        if missing:
            other = "student_id" if key == "email" else "email"
            raise UserError(f"{len(missing)} participant(s) have no {label} in the roster ({', '.join(missing[:5])}); "
                            f"Moodle stops an import at a row it cannot match: use --key {other}, or grade them by hand")
    for field, what in (("email", "e-mail"), ("student_id", "student id")):
        values = [getattr(line, field) for line in lines if getattr(line, field)]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise UserError(f"the {what} {repeated[0]} belongs to more than one participant; the gradebook would give "
                            "both grades to one student")


def gradebook_csv(lines: list[GradeLine], lms: str, item: str, key: str = "email") -> bytes:
    """The file for `lms`: Moodle (key, name, grade, feedback) or Canvas (its five student columns,
    the grade, a Points Possible row). Grades are written as Python prints a float64 (round-trip); the text
    cells are inert (submission/spreadsheet_cells.py: a roster name cannot be a formula in the gradebook)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if lms == "moodle":
        writer.writerow(inert_row([KEYS[key][0], "Full name", item, "Feedback"]))
        writer.writerows([*inert_row([getattr(line, key), line.name]), repr(line.grade), inert_cell(line.note)]
                         for line in lines)
    else:
        writer.writerow(inert_row(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", item]))
        writer.writerow(["Points Possible", "", "", "", "", f"{MAX_GRADE:g}"])
        writer.writerows([*inert_row([line.name, "", line.student_id, line.email, ""]), repr(line.grade)]
                         for line in lines)
    return out.getvalue().encode("utf-8")


def export_gradebook(comp, out: Path, lms: str, key: str = "email", item: str | None = None,
                     provisional: bool = False) -> list[GradeLine]:
    """Write the gradebook file (atomically: a refused export leaves no file); returns its lines."""
    if lms not in LMS or key not in KEYS:
        raise UserError(f"--lms must be one of {', '.join(LMS)} and --key one of {', '.join(KEYS)}")
    lines = grade_lines(comp, provisional)
    check_keys(lines, lms, key)
    header = grade_item(item or comp.settings.title, provisional, comp.clock())
    atomic_write_bytes(Path(out), gradebook_csv(lines, lms, header, key))
    return lines


def summary(lines: list[GradeLine], lms: str, provisional: bool) -> str:
    """What the organizer reads after an export: how many, for which system, who got 0 and why."""
    kind = "provisional grades from the public leaderboard" if provisional else "final grades"
    zero = {note: [line.name for line in lines if line.note == note] for note in (ABSENT, ALL_DISQUALIFIED, NO_SCORE)}
    said = "".join(f"\n  0 for {len(who)} ({note}): {', '.join(who)}" for note, who in zero.items() if who)
    return f"{kind} out of 10 of {len(lines)} participants for {lms.title()}{said}"
