"""The organizer's views of a competition: private scores, grades, flags, disqualifying submissions,
a new organizer token, a new token for one participant.

A mixin of competition.service.Competition (which supplies db, settings, paths, judge and
counted_submissions); nothing here is ever sent to a participant.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, func, select

from competition.db import MAX_ID, Judgement, Meta, Participant, SignIn, Submission
from competition.ranking import best_private, by_participant, final_choice, finite_or_none, rank_rows
from competition.settings import iso
from competition.tokens import hash_token, new_token, write_secret
from submission.errors import UserError
from submission.grading import grades


class NotFound(UserError):
    """Nothing of that id among what the caller may see (the API answers 404, never 403)."""


class OrganizerViews:
    def standings(self, with_flags: bool = True) -> list[dict]:
        """Final standings as they are now, for the organizer: ranked by private RMSE of each
        participant's final choice, with public RMSE, course grade (submission/grading.py) and flags
        (submission/flags.py, as the judge stored them; "" without `with_flags`) of the chosen
        submission. Disqualified submissions count for nothing (`disqualified_ids` lists them); a
        participant left with none is not ranked."""
        import pandas as pd

        rows = []
        dropped = self._disqualified_ids()
        counted = [(participant, subs, self.counted_one(subs)) for participant, subs in
                   by_participant(self.counted_submissions())]
        flags = self._stored_flags([best.id for _, _, best in counted]) if with_flags else {}
        for participant, subs, best in counted:
            chosen = final_choice(subs, self.settings.final_picks)
            private = finite_or_none(best.private_rmse)
            rows.append({"participant_id": participant.id, "name": participant.name,
                         "display_name": participant.display_name, "email": participant.email,
                         "student_id": participant.student_id,
                         "score": private, "private_rmse": private, "public_rmse": finite_or_none(best.public_rmse),
                         "submission_id": best.id, "final_ids": [s.id for s in chosen], "entries": len(subs),
                         "disqualified_ids": dropped.get(participant.id, []),
                         "flags": "; ".join(flags.get(best.id, []))})
        ranked = rank_rows(rows)
        scores = pd.Series([r["private_rmse"] for r in ranked], dtype="float64")  # None -> NaN: no grade
        for row, grade in zip(ranked, grades(scores, self.settings.baseline, self.settings.strong)):
            row["grade"] = None if grade != grade else float(grade)
            del row["score"]
        return ranked

    def counted_one(self, subs: list) -> Submission:
        """Of one participant's counted submissions, the one their standings row (and copy flags) count."""
        return best_private(final_choice(subs, self.settings.final_picks))

    def counted_ids(self, session=None) -> dict[int, int]:
        """participant id -> the id of the submission their standings row counts."""
        return {person.id: self.counted_one(subs).id
                for person, subs in by_participant(self.counted_submissions(session))}

    def _stored_flags(self, submission_ids: list[int]) -> dict[int, list[str]]:
        with self.db.session() as s:
            return dict(s.execute(select(Judgement.submission_id, Judgement.flags)
                                  .where(Judgement.submission_id.in_(submission_ids))).all())

    def submission_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(Submission)) or 0

    def organizer_submissions(self, offset: int = 0, limit: int = 100) -> list[dict]:
        """One page of every submission of everyone, newest first, with public and private RMSE, the
        stored findings, diagnoses and flags (`submission_count` says how many there are)."""
        with self.db.session() as s:
            rows = s.execute(select(Submission, Participant, Judgement).join(Participant)
                             .outerjoin(Judgement, Judgement.submission_id == Submission.id)
                             .order_by(Submission.id.desc()).offset(offset).limit(limit)).all()
        return [{"id": sub.id, "participant_id": p.id, "name": p.name, "display_name": p.display_name,
                 "created": iso(sub.created),
                 "filename": sub.filename, "message": sub.message, "status": sub.status,
                 "public_rmse": finite_or_none(sub.public_rmse), "private_rmse": finite_or_none(sub.private_rmse),
                 "selected": sub.selected, "disqualified": sub.disqualified,
                 "findings": list(judged.findings) if judged else [], "diagnoses": list(judged.diagnoses) if judged else [],
                 "flags": list(judged.flags) if judged else [], "sha256": sub.sha256} for sub, p, judged in rows]

    def participants(self) -> list[dict]:
        """Everyone registered: id, name, display_name (and who gave it: name_source), email, student_id,
        number of submissions, number disqualified."""
        with self.db.session() as s:
            counts = dict(s.execute(select(Submission.participant_id, func.count()).group_by(Submission.participant_id)).all())
            people = s.scalars(select(Participant).order_by(Participant.id)).all()
        dropped = self._disqualified_ids()
        return [{"id": p.id, "name": p.name, "display_name": p.display_name, "name_source": p.name_source,
                 "email": p.email, "student_id": p.student_id, "submissions": counts.get(p.id, 0),
                 "disqualified": len(dropped.get(p.id, []))} for p in people]

    def _disqualified_ids(self) -> dict[int, list[int]]:
        """participant id -> ids of their disqualified submissions."""
        with self.db.session() as s:
            pairs = s.execute(select(Submission.participant_id, Submission.id)
                              .where(Submission.disqualified.is_(True)).order_by(Submission.id)).all()
        found: dict[int, list[int]] = {}
        for participant_id, submission_id in pairs:
            found.setdefault(participant_id, []).append(submission_id)
        return found

    def set_disqualified(self, submission_id: int, disqualified: bool) -> dict:
        """Take one submission off (True) or put it back on (False) every leaderboard and the finals;
        returns {"id", "participant_id", "disqualified"}."""
        with self.db.session(write=True) as s, s.begin():
            row = s.get(Submission, submission_id) if 1 <= submission_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no submission {submission_id}")
            row.disqualified = disqualified
            answer = {"id": row.id, "participant_id": row.participant_id, "disqualified": disqualified}
            self.mark_copy_flags_stale(s, [row.participant_id])
        self.judging.copy_flags_changed(self)
        return answer

    def disqualify(self, submission_id: int) -> dict:
        return self.set_disqualified(submission_id, True)

    def restore(self, submission_id: int) -> dict:
        return self.set_disqualified(submission_id, False)

    def rotate_admin_token(self) -> Path:
        """A new organizer token in COMP/secrets/admin_token.txt (0600): the old token and every
        organizer session stop working at once. Returns the file's path; the token is never sent.

        The new token is written to admin_token.txt.new before the database changes, so a crash in
        between leaves it on disk; the rename after the commit puts it in place."""
        token = new_token()
        pending = write_secret(self.paths.admin_token.with_name(self.paths.admin_token.name + ".new"), token + "\n")
        with self.db.session(write=True) as s, s.begin():
            stored = s.get(Meta, "admin_token_hash")
            if stored is None:
                s.add(Meta(key="admin_token_hash", value=hash_token(token)))
            else:
                stored.value = hash_token(token)
            s.execute(delete(SignIn).where(SignIn.admin.is_(True)))
        os.replace(pending, self.paths.admin_token)
        return self.paths.admin_token

    def rotate_participant_token(self, participant_id: int) -> dict:
        """A new token for one participant (theirs leaked): the old token and every session of theirs end at
        once. Returns {"id", "name", "token"}: the token is shown to the organizer this once, the database
        keeps only its hash."""
        token = new_token()
        with self.db.session(write=True) as s, s.begin():
            row = s.get(Participant, participant_id) if 1 <= participant_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no participant {participant_id}")
            row.token_hash = hash_token(token)
            self.end_sign_ins_of(s, participant_id)
            return {"id": row.id, "name": row.name, "token": token}
