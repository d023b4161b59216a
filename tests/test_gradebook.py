"""`inpaint competition export --format gradebook`: the file Moodle or Canvas imports, read back line by line
against grades computed by hand (float64), with absent and disqualified participants, the refusal before the
deadline and the provisional file from the public leaderboard."""
import csv
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition.gradebook import ABSENT, ALL_DISQUALIFIED  # noqa: E402
from competition_fixtures import Clock, make_competition, offset_csv  # noqa: E402

B, S = 0.14744, 0.03568  # the course's baseline and strong baseline (grade 3 and grade 8)
NOW = datetime.now(timezone.utc).replace(microsecond=0)
TITLE = "Mouth generation 2026"
# (name, email, student_id, display_name) and (public RMSE, private RMSE) of their one upload
ROSTER = [("Ann Archer", "ann@uni.example", "S01", ""), ("Bob Baker", "bob@uni.example", "S02", ""),
          ("Cat Carter", "cat@uni.example", "S03", ""), ("Dan Dunn", "dan@uni.example", "", ""),
          ("Eve Evans", "eve@uni.example", "S05", ""), ("Fay Fisher", "fay@uni.example", "S06", ""),
          ("Gus Grant", "gus@uni.example", "S07", "")]
UPLOADS = {"Ann Archer": (0.02, 0.1), "Bob Baker": (0.05, 0.03), "Cat Carter": (0.12, 0.2), "Eve Evans": (0.01, 0.01),
           "Gus Grant": (0.04, 0.033)}
# By hand, from the course's rules (docs/grader.md): bob has the class's best private RMSE (0.03).
EXPECTED = {"Ann Archer": (3 + 5 * (B - 0.1) / (B - S), ""), "Bob Baker": (10.0, ""), "Cat Carter": (0.0, ""),
            "Dan Dunn": (0.0, ABSENT), "Eve Evans": (0.0, ALL_DISQUALIFIED), "Fay Fisher": (0.0, ABSENT),
            "Gus Grant": (8 + 2 * (S - 0.033) / (S - 0.03), "")}


def run_class(tmp_path, deadline: datetime, uploads_at: datetime):
    """The roster, each one's upload (Eve's then disqualified, Fay's rejected), through the API at `uploads_at`."""
    comp = make_competition(tmp_path, people=ROSTER, deadline=deadline, title=TITLE)
    with TestClient(create_app(comp.dir, clock=Clock(uploads_at))) as client:
        for who, (public, private) in UPLOADS.items():
            answer = client.post("/api/submissions", content=offset_csv(comp.dir, public, private),
                                 headers={**comp.auth(who), "Content-Type": "text/csv"}).json()
            assert answer["status"] == "accepted", answer
            if who == "Eve Evans":
                assert client.post(f"/api/admin/submissions/{answer['id']}/disqualify", headers=comp.admin_auth).is_success
        rejected = client.post("/api/submissions", content=b"id,x\n0,1\n",
                               headers={**comp.auth("Fay Fisher"), "Content-Type": "text/csv"}).json()
        assert rejected["status"] == "rejected"
    return comp


@pytest.fixture
def closed_class(tmp_path):
    """Uploads a day before a deadline that passed an hour ago (the export reads the real clock)."""
    deadline = NOW - timedelta(hours=1)
    return run_class(tmp_path, deadline, deadline - timedelta(days=1))


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_moodle_file_has_every_roster_line_with_its_hand_computed_grade(closed_class, run_cli, tmp_path):
    out = tmp_path / "moodle.csv"
    code, said, err = run_cli("competition", "export", "--dir", closed_class.dir, "--format", "gradebook",
                              "--lms", "moodle", "--csv", out)
    assert code == 0, err
    assert "final grades out of 10 of 7 participants for Moodle" in said
    assert "0 for 2 (absent: no accepted submission): Dan Dunn, Fay Fisher" in said
    header, *rows = read_csv(out)
    assert header == ["Email address", "Full name", TITLE, "Feedback"]
    assert [r[1] for r in rows] == [line[0] for line in ROSTER]  # every roster line once, by name
    for email, name, grade, feedback in rows:
        expected, note = EXPECTED[name]
        assert email == next(line[1] for line in ROSTER if line[0] == name)
        assert float(grade) == pytest.approx(expected, rel=1e-12, abs=1e-12) and feedback == note, name
    assert float(rows[0][2]) != round(float(rows[0][2]), 5)  # all float64 digits, not a rounded print


def test_canvas_file_has_the_columns_canvas_reads_and_a_points_possible_row(closed_class, run_cli, tmp_path):
    out = tmp_path / "canvas.csv"
    code, _, err = run_cli("competition", "export", "--dir", closed_class.dir, "--format", "gradebook",
                           "--lms", "canvas", "--item", "Competition grade", "--csv", out)
    assert code == 0, err
    header, points, *rows = read_csv(out)
    # What Canvas's GradebookImporter checks of a header (app/models/gradebook_importer.rb, read 2026-11-28):
    # "Student" then "ID", "SIS User ID" then "SIS Login ID", "Section" as the last student column, then
    # one column per assignment; a first data row starting "Points Possible" sets the assignments' points.
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["Competition grade"] and points == ["Points Possible", "", "", "", "", "10"]
    assert len(rows) == len(ROSTER)
    for name, canvas_id, sis_user_id, sis_login_id, section, grade in rows:
        line = next(line for line in ROSTER if line[0] == name)
        assert (canvas_id, sis_user_id, sis_login_id, section) == ("", line[2], line[1], "")
        assert float(grade) == pytest.approx(EXPECTED[name][0], rel=1e-12, abs=1e-12), name


def test_moodle_by_student_id_refuses_a_roster_line_without_one_and_writes_nothing(closed_class, run_cli, tmp_path):
    out = tmp_path / "moodle.csv"
    code, _, err = run_cli("competition", "export", "--dir", closed_class.dir, "--format", "gradebook",
                           "--lms", "moodle", "--key", "student_id", "--csv", out)
    assert code == 2 and "1 participant(s) have no student id in the roster (Dan Dunn)" in err and "--key email" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_before_the_deadline_only_a_provisional_file_from_the_public_board(tmp_path, run_cli):
    comp = run_class(tmp_path, NOW + timedelta(days=7), NOW - timedelta(minutes=5))
    out = tmp_path / "grades.csv"
    code, _, err = run_cli("competition", "export", "--dir", comp.dir, "--format", "gradebook", "--lms", "moodle",
                           "--csv", out)
    assert code == 2 and "final grades exist only after the deadline; add --provisional" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    code, said, err = run_cli("competition", "export", "--dir", comp.dir, "--format", "gradebook", "--lms", "moodle",
                              "--provisional", "--csv", out)
    assert code == 0 and "provisional grades from the public leaderboard" in said, err
    header, *rows = read_csv(out)
    assert header[2].startswith(f"{TITLE} (provisional, public leaderboard ")
    # public RMSEs: ann 0.02 is the best of the class (eve's 0.01 is disqualified), bob 0.05, cat 0.12, gus 0.04
    expected = {"Ann Archer": 10.0, "Bob Baker": 3 + 5 * (B - 0.05) / (B - S), "Cat Carter": 3 + 5 * (B - 0.12) / (B - S),
                "Gus Grant": 3 + 5 * (B - 0.04) / (B - S), "Dan Dunn": 0.0, "Eve Evans": 0.0, "Fay Fisher": 0.0}
    assert {r[1]: pytest.approx(float(r[2]), rel=1e-12, abs=1e-12) for r in rows} == expected
    code, _, err = run_cli("competition", "export", "--dir", comp.dir, "--format", "gradebook", "--lms", "canvas",
                           "--key", "email", "--csv", out)
    assert code == 2 and "--key is for --lms moodle" in err
