"""Register participants from a roster, hand out their tokens (written once, to COMP/secrets), and
name them to others.

A roster is a UTF-8 CSV. With a header line its columns are named: `name` (required), and any of
`email`, `student_id` (the gradebook export's key) and `display_name` (shown instead of the name);
without one, each line is `name[,email]`. Everyone gets a display name: the roster's, or a generated
one the participant may replace on first sign-in (competition/display_names.py has the rules).
"""
from __future__ import annotations

import csv
import io
import random
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from competition import display_names as names
from competition.db import MAX_ID, Database, Participant, Submission
from competition.settings import CompetitionPaths, load_settings
from competition.tokens import hash_token, new_token, write_secret
from submission.errors import UserError
from submission.spreadsheet_cells import inert_row, starts_a_formula

ROSTER_COLUMNS = ("name", "email", "student_id", "display_name")
# Who gave the display name: the roster, the kit (generated, not yet confirmed by the participant),
# the participant, or the organizer (`inpaint competition participants --display-name`).
NAME_SOURCES = ("roster", "generated", "chosen", "organizer")
RENAMABLE = ("generated", "chosen")  # by the participant, until their first accepted upload


class RosterLine(NamedTuple):
    name: str
    email: str = ""
    student_id: str = ""
    display_name: str = ""


def public_name(person: Participant) -> str:
    """The one place that decides how a participant is named to other participants and to visitors
    (leaderboards, the pages' "signed in as", /api/me); the organizer's views add the roster's name,
    e-mail and student id."""
    return person.display_name


def may_rename(person: Participant, accepted_uploads: int) -> bool:
    """A participant may change a name the kit generated or they chose, until a file of theirs has
    been accepted: from then on others have seen the name on the leaderboard next to a score."""
    return person.name_source in RENAMABLE and accepted_uploads == 0


def read_roster(path: Path) -> list[RosterLine]:
    """The roster's lines, checked: names given and unique, student ids and display names unique."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the roster as a UTF-8 CSV") from None
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    header = ["email" if h == "e-mail" else h.replace(" ", "_") for h in (c.lower() for c in rows[0])] if rows else []
    if "name" in header:
        rows = rows[1:]
        unknown = [h for h in header if h not in ROSTER_COLUMNS]
        if unknown or len(set(header)) < len(header):
            raise UserError(f"{path}: header {','.join(header)}: the columns are name (required), "
                            f"{', '.join(ROSTER_COLUMNS[1:])}, each at most once")
    else:
        header = ["name", "email"]
    if not rows:
        raise UserError(f"{path}: no participants (expected lines of name[,email] or a header naming the columns)")
    people = []
    for number, row in enumerate(rows, start=1):
        cells = dict(zip(header, row))
        if len(row) > len(header) or not cells.get("name"):
            raise UserError(f"{path}: row {number} {row!r}: expected {','.join(header)}, with a name")
        people.append(RosterLine(cells["name"][:200], cells.get("email", ""), cells.get("student_id", ""),
                                 names.tidy(cells.get("display_name", ""))))
    check_unique(path, people)
    return people


def formula_cells(people: list[RosterLine]) -> list[str]:
    """The roster's names, e-mails and student ids a spreadsheet would read as a formula: the exports write
    them with a leading ' (submission/spreadsheet_cells.py), which the organizer should know at --add."""
    return [cell for p in people for cell in (p.name, p.email, p.student_id) if starts_a_formula(cell)]


def everyones_parts(people) -> frozenset[str]:
    """display_names.others_parts of each of `people` (rows or roster lines), in one set."""
    return frozenset().union(*(names.others_parts(p.name, p.email, p.student_id) for p in people))


def revealing_display_names(people: list[RosterLine]) -> list[str]:
    """The roster's names whose given display name holds a part of theirs or of another's (the organizer
    is warned: a roster's display names are theirs to choose)."""
    found = []
    for p in people:
        others = everyones_parts(q for q in people if q is not p)
        key = names.lookalike_key(p.display_name)
        if p.display_name and (names.reveals(p.display_name, p.name, p.email, p.student_id)
                               or any(part in key for part in others)):
            found.append(p.name)
    return found


def check_unique(source, people: list[RosterLine]) -> None:
    for what, values in (("names", [p.name for p in people]),
                         ("student ids", [p.student_id for p in people if p.student_id]),
                         ("display names", [names.name_key(p.display_name) for p in people if p.display_name])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise UserError(f"{source}: {what} appear twice: {', '.join(repeated[:10])}")


def add_participants(db: Database, comp_dir, people) -> Path:
    """Create the participants (RosterLine or (name, email, ...) tuples) with fresh tokens and
    display names; returns the 0600 file (name,email,student_id,display_name,token) holding them.

    Refuses (UserError, nothing added) a name, student id or display name already registered, and a
    roster display name that breaks the form rules. The rows are inserted in a random order, so that
    the ids the leaderboard carries do not follow the roster's (often alphabetical) order. The tokens
    file is written before the database commit, so a token is never in the database without its file.
    """
    people = [RosterLine(*p) for p in people]
    check_unique("the roster", people)
    given = {p.name: names.check_form(p.display_name) for p in people if p.display_name}
    settings = load_settings(comp_dir)
    salt = f"{settings.created.isoformat()}|{settings.seed}"
    now = datetime.now(timezone.utc)
    tokens = {p.name: new_token() for p in people}
    try:
        return _register(db, comp_dir, people, given, salt, now, tokens)
    except IntegrityError:  # a participant chose one of the new names (or a second roster was added) meanwhile
        raise UserError("a name of the roster was registered by someone else meanwhile; nothing was added, "
                        "run the command again") from None


def _register(db: Database, comp_dir, people: list[RosterLine], given: dict[str, str], salt: str, now: datetime,
              tokens: dict[str, str]) -> Path:
    with db.session(write=True) as s, s.begin():
        _refuse_registered(s, people, given)
        registered = s.execute(select(Participant.name, Participant.email, Participant.student_id,
                                      Participant.display_name)).all()
        taken = {names.lookalike_key(r.display_name) for r in registered} | {names.lookalike_key(n) for n in given.values()}
        others = everyones_parts([*registered, *people])
        rows = []
        for p in random.SystemRandom().sample(people, len(people)):
            display = given.get(p.name, "")
            row = Participant(name=p.name, email=p.email, student_id=p.student_id, token_hash=hash_token(tokens[p.name]),
                              created=now, display_name=display, display_key=names.name_key(display),
                              name_source="roster" if display else "generated")
            if not display:  # the id is needed to generate it; a placeholder key until then
                row.display_key = f"#{secrets.token_hex(8)}"
            s.add(row)
            rows.append(row)
        s.flush()
        for row in rows:
            if row.name_source == "generated":
                row.display_name = names.generated_name(salt, row.id, taken, row.name, row.email, row.student_id,
                                                        others)
                row.display_key = names.name_key(row.display_name)
                taken.add(names.lookalike_key(row.display_name))
        s.flush()  # a unique index refuses here, before the tokens file exists
        shown = {row.name: row.display_name for row in rows}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "email", "student_id", "display_name", "token"])
        writer.writerows([*inert_row([p.name, p.email, p.student_id, shown[p.name]]), tokens[p.name]] for p in people)
        path = write_secret(CompetitionPaths(Path(comp_dir)).secrets / f"tokens-{now:%Y%m%dT%H%M%S%f}.csv", out.getvalue())
    return path


def _refuse_registered(s, people: list[RosterLine], given: dict[str, str]) -> None:
    checks = ((Participant.name, [p.name for p in people], "names"),
              (Participant.student_id, [p.student_id for p in people if p.student_id], "student ids"),
              (Participant.display_key, [names.name_key(n) for n in given.values()], "display names"))
    for column, values, what in checks:
        taken = set(s.scalars(select(column).where(column.in_(values)))) if values else set()
        if taken:
            raise UserError(f"{what} already registered: {', '.join(sorted(taken)[:10])}; nothing was added")


class ParticipantNames:
    """Changing display names; a mixin of competition.service.Competition (db)."""

    def accepted_uploads(self, s, participant_id: int) -> int:
        return s.scalar(select(func.count()).select_from(Submission).where(
            Submission.participant_id == participant_id, Submission.status == "accepted")) or 0

    def name_editable(self, participant: Participant) -> bool:
        with self.db.session() as s:
            return may_rename(participant, self.accepted_uploads(s, participant.id))

    def choose_display_name(self, participant: Participant, wanted: str) -> str:
        """The participant's own choice (also to keep the generated one): the rules of
        display_names.check_chosen (nothing of theirs nor of anyone registered), then stored if still
        editable and free. Returns the name."""
        with self.db.session() as s:
            others = everyones_parts(s.execute(select(Participant.name, Participant.email, Participant.student_id)
                                               .where(Participant.id != participant.id)).all())
        wanted = names.check_chosen(wanted, participant.name, participant.email, participant.student_id, others)
        return self._store_display_name(participant.id, wanted, "chosen", by_participant=True)

    def set_display_name(self, participant_id: int, wanted: str) -> str:
        """The organizer's choice for anyone (an offensive name, a mix-up): the form rules only."""
        return self._store_display_name(participant_id, names.check_form(wanted), "organizer", by_participant=False)

    def _store_display_name(self, participant_id: int, wanted: str, source: str, by_participant: bool) -> str:
        key = names.name_key(wanted)
        try:
            with self.db.session(write=True) as s, s.begin():
                row = s.scalar(select(Participant).where(Participant.id == participant_id).with_for_update()) \
                    if 1 <= participant_id <= MAX_ID else None
                if row is None:
                    raise UserError(f"no participant {participant_id}")
                if by_participant and not may_rename(row, self.accepted_uploads(s, row.id)):
                    raise names.DisplayNameFixed(f"your display name stays {row.display_name!r}: "
                                                 + ("the organizer gave it" if row.name_source not in RENAMABLE
                                                    else "it is on the leaderboard since your first accepted upload"))
                holder = s.scalar(select(Participant.id).where(Participant.display_key == key))
                if holder is not None and holder != row.id:
                    raise names.DisplayNameTaken(f"display name {wanted!r} is taken; choose another")
                alike = names.lookalike_key(wanted)
                twin = next((n for i, n in s.execute(select(Participant.id, Participant.display_name))
                             if i != row.id and names.lookalike_key(n) == alike), None)
                if twin is not None:  # a few hundred names, folded in microseconds each
                    raise names.DisplayNameTaken(f"display name {wanted!r} looks like {twin!r}, which is taken; "
                                                 "choose another")
                row.display_name, row.display_key, row.name_source = wanted, key, source
        except IntegrityError:  # another participant took it between the check and the commit
            raise names.DisplayNameTaken(f"display name {wanted!r} is taken; choose another") from None
        return wanted

