"""The JSON API's rules, through FastAPI's TestClient on SQLite in tmp_path."""
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition.db import Judgement, Submission  # noqa: E402
from competition_fixtures import Clock, make_competition, noisy_csv, offset_csv, transposed_csv  # noqa: E402

DEADLINE = datetime(2026, 12, 20, 23, 59, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def setup(tmp_path):
    comp = make_competition(tmp_path, daily_limit=3, final_picks=1, deadline=DEADLINE)
    clock = Clock()
    app = create_app(comp.dir, clock=clock)
    with TestClient(app) as client:
        yield comp, client, clock, app
    app.state.competition.close()


def upload(client, comp, name, body, message=""):
    return client.post("/api/submissions", params={"message": message}, content=body,
                       headers={**comp.auth(name), "Content-Type": "text/csv"})


def rows_in_db(app) -> list:
    with app.state.competition.db.session() as s:
        return s.query(Submission).all()


def test_upload_returns_exact_public_score_rank_and_uploads_left(setup):
    comp, client, _, _ = setup
    first = upload(client, comp, "ann", offset_csv(comp.dir, 0.25, 0.5), "first try")
    assert first.status_code == 201
    result = first.json()
    assert result["status"] == "accepted"
    assert result["public_rmse"] == pytest.approx(0.25, rel=1e-12)
    assert result["rank"] == 1 and result["uploads_left"] == 2
    assert result["resets_at"] == "2026-12-02T00:00:00+00:00"
    assert "private_rmse" not in result
    second = upload(client, comp, "bob", offset_csv(comp.dir, 0.125, 0.5)).json()
    assert second["rank"] == 1
    board = client.get("/api/leaderboard", headers=comp.auth("ann")).json()
    assert board["kind"] == "public"
    assert [(r["name"], r["rank"]) for r in board["rows"]] == [("bob", 1), ("ann", 2)]
    assert board["rows"][1]["score"] == pytest.approx(0.25, rel=1e-12)


def test_missing_or_wrong_token_is_401(setup):
    comp, client, _, _ = setup
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Basic {comp.tokens['ann']}"}):
        for method, path in (("get", "/api/submissions"), ("get", "/api/leaderboard"), ("get", "/api/me"),
                             ("get", "/api/admin/standings"), ("put", "/api/finals")):
            assert getattr(client, method)(path, headers=headers).status_code == 401, (path, headers)
    assert client.get("/api/admin/standings", headers=comp.auth("ann")).status_code == 401
    assert client.get("/api/admin/standings", headers=comp.admin_auth).status_code == 200


def test_someone_elses_submission_is_404_not_403(setup):
    comp, client, _, _ = setup
    own = upload(client, comp, "ann", noisy_csv(comp.dir, 1)).json()["id"]
    assert client.get(f"/api/submissions/{own}", headers=comp.auth("ann")).status_code == 200
    for path in (f"/api/submissions/{own}", f"/api/submissions/{own}/file", "/api/submissions/999"):
        response = client.get(path, headers=comp.auth("bob"))
        assert response.status_code == 404, path
    assert client.put("/api/finals", json={"ids": [own]}, headers=comp.auth("bob")).status_code == 404
    assert client.get(f"/api/submissions/{own}/file", headers=comp.auth("ann")).content == noisy_csv(comp.dir, 1)


def test_daily_limit_429_with_reset_time_and_rejected_files_do_not_count(setup):
    comp, client, clock, app = setup
    assert upload(client, comp, "ann", b"id,x\n1,2\n").json()["status"] == "rejected"
    for seed in range(3):
        assert upload(client, comp, "ann", noisy_csv(comp.dir, seed)).status_code == 201
    refused = upload(client, comp, "ann", noisy_csv(comp.dir, 9))
    assert refused.status_code == 429
    assert "2026-12-02T00:00:00+00:00" in refused.json()["detail"]
    assert refused.headers["Retry-After"] == str(12 * 3600)
    assert len(rows_in_db(app)) == 4  # 3 accepted + 1 rejected; the refused one left no row
    assert upload(client, comp, "bob", noisy_csv(comp.dir, 9)).status_code == 201  # per participant
    clock.now = datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)  # the next UTC day
    assert upload(client, comp, "ann", noisy_csv(comp.dir, 9)).json()["uploads_left"] == 2


@pytest.mark.parametrize("body, expected", [
    (b"", "empty file"),
    (b"PK\x03\x04" + bytes(100), "zip archive"),
    (bytes(range(256)) * 4, "binary data"),
    ("id,a\n0,caf\u00e9\n".encode("latin-1"), "not a readable CSV"),
    (b"hello, world\n", "header differs from the sample"),
])
def test_hostile_files_are_rejected_with_the_reason_and_kept(setup, body, expected):
    comp, client, _, app = setup
    result = upload(client, comp, "ann", body).json()
    assert result["status"] == "rejected" and result["public_rmse"] is None
    assert any(expected in line for line in result["findings"]), result["findings"]
    assert (comp.dir / "submissions" / f"{result['sha256']}.csv").read_bytes() == body
    assert not any("/comp/" in line for line in result["findings"])  # no server path in messages


def test_zip_bomb_is_refused_without_being_opened(setup):
    comp, client, _, _ = setup
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Predict.csv", b"0" * 20_000_000)  # 20 MB of zeros in ~20 KB
    result = upload(client, comp, "ann", buffer.getvalue()).json()
    assert result["status"] == "rejected"
    assert result["findings"] == ["error: this is a zip archive, not a CSV file; upload the CSV itself"]


def test_ten_million_rows_are_refused_by_counting_lines(setup):
    comp, client, _, _ = setup
    result = upload(client, comp, "ann", b"id,a\n" + b"0,0\n" * 10_000_000).json()
    assert result["status"] == "rejected"
    assert result["findings"] == ["error: more than 258 lines; a submission has a header and one row per pixel "
                                  "(reading stopped there)"]


def test_upload_over_the_size_limit_is_413_and_nothing_is_stored(tmp_path):
    comp = make_competition(tmp_path, max_upload_mb=0.01)
    app = create_app(comp.dir)
    client = TestClient(app)

    def chunks():  # no Content-Length: the server must cut the stream itself
        for _ in range(100):
            yield b"0" * 1024

    for kwargs in ({"content": b"0" * 20_000}, {"content": chunks()}):
        response = client.post("/api/submissions", headers={**comp.auth("ann"), "Content-Type": "text/csv"}, **kwargs)
        assert response.status_code == 413
    assert [p.name for p in (comp.dir / "submissions").iterdir()] == [".incoming"]
    assert list((comp.dir / "submissions" / ".incoming").iterdir()) == []
    assert rows_in_db(app) == []
    app.state.competition.close()


def test_after_the_deadline_uploads_are_refused_and_the_private_board_ranks_final_picks(setup):
    comp, client, clock, _ = setup
    # ann: better public, worse private; she selects her second (worse public, better private) one.
    upload(client, comp, "ann", offset_csv(comp.dir, 0.1, 0.4))
    chosen = upload(client, comp, "ann", offset_csv(comp.dir, 0.2, 0.15)).json()["id"]
    assert client.put("/api/finals", json={"ids": [chosen]}, headers=comp.auth("ann")).json() == {"ids": [chosen]}
    # bob selects nothing: his best public one (private 0.3) counts, not his best private (0.05).
    upload(client, comp, "bob", offset_csv(comp.dir, 0.12, 0.3))
    upload(client, comp, "bob", offset_csv(comp.dir, 0.5, 0.05))
    clock.now = DEADLINE.astimezone(timezone.utc)
    refused = upload(client, comp, "ann", noisy_csv(comp.dir, 3))
    assert refused.status_code == 403 and "closed" in refused.json()["detail"]
    board = client.get("/api/leaderboard", headers=comp.auth("bob")).json()
    assert board["kind"] == "private"
    assert [(r["name"], r["rank"]) for r in board["rows"]] == [("ann", 1), ("bob", 2)]
    assert [r["score"] for r in board["rows"]] == [pytest.approx(0.15, rel=1e-12), pytest.approx(0.3, rel=1e-12)]
    assert "private_rmse" in client.get("/api/submissions", headers=comp.auth("ann")).json()[0]
    assert client.put("/api/finals", json={"ids": []}, headers=comp.auth("ann")).status_code == 403


def test_selecting_more_finals_than_allowed_or_a_rejected_file_is_refused(setup):
    comp, client, _, _ = setup
    good = [upload(client, comp, "ann", noisy_csv(comp.dir, s)).json()["id"] for s in range(2)]
    bad = upload(client, comp, "ann", b"nonsense").json()["id"]
    assert client.put("/api/finals", json={"ids": good}, headers=comp.auth("ann")).status_code == 400
    assert client.put("/api/finals", json={"ids": [bad]}, headers=comp.auth("ann")).status_code == 400


def test_organizer_sees_private_scores_grades_and_flags(setup):
    comp, client, _, _ = setup
    upload(client, comp, "ann", offset_csv(comp.dir, 0.02, 0.1))
    white = (comp.dir / "sample_submission.csv").read_bytes()  # the identity "prediction"
    upload(client, comp, "bob", white)
    standings = {r["name"]: r for r in client.get("/api/admin/standings", headers=comp.admin_auth).json()}
    assert standings["ann"]["private_rmse"] == pytest.approx(0.1, rel=1e-12)
    # ann is between strong (0.03568) and baseline (0.14744) and the class best is hers: 3 + 5*(b - r)/(b - s)
    assert standings["ann"]["grade"] == pytest.approx(3 + 5 * (0.14744 - 0.1) / (0.14744 - 0.03568), rel=1e-9)
    assert "identical to the White images" in standings["bob"]["flags"]


def test_disqualifying_a_submission_takes_only_it_off_the_boards_and_finals_until_restored(setup):
    comp, client, clock, _ = setup
    best = upload(client, comp, "ann", offset_csv(comp.dir, 0.1, 0.4)).json()["id"]
    upload(client, comp, "ann", offset_csv(comp.dir, 0.2, 0.15))
    bob = upload(client, comp, "bob", offset_csv(comp.dir, 0.3, 0.3)).json()["id"]

    def board():
        return [(r["name"], r["score"], r["entries"])
                for r in client.get("/api/leaderboard", headers=comp.auth("bob")).json()["rows"]]

    answer = client.post(f"/api/admin/submissions/{best}/disqualify", headers=comp.admin_auth)
    ann = next(p["id"] for p in client.get("/api/admin/participants", headers=comp.admin_auth).json() if p["name"] == "ann")
    assert answer.status_code == 200 and answer.json() == {"id": best, "participant_id": ann, "disqualified": True}
    assert board() == [("ann", pytest.approx(0.2, rel=1e-12), 1), ("bob", pytest.approx(0.3, rel=1e-12), 1)]
    mine = {r["id"]: r for r in client.get("/api/submissions", headers=comp.auth("ann")).json()}
    assert mine[best]["disqualified"] is True and mine[best]["status"] == "accepted"
    refused = client.put("/api/finals", json={"ids": [best]}, headers=comp.auth("ann"))
    assert refused.status_code == 400 and "disqualified" in refused.json()["detail"]
    standings = {r["name"]: r for r in client.get("/api/admin/standings", headers=comp.admin_auth).json()}
    assert standings["ann"]["disqualified_ids"] == [best] and standings["bob"]["disqualified_ids"] == []
    assert standings["ann"]["private_rmse"] == pytest.approx(0.15, rel=1e-12)  # her other one is her final now

    client.post(f"/api/admin/submissions/{bob}/disqualify", headers=comp.admin_auth)
    assert [name for name, _, _ in board()] == ["ann"]  # nothing of bob's counts any more
    client.post(f"/api/admin/submissions/{best}/restore", headers=comp.admin_auth)
    client.post(f"/api/admin/submissions/{bob}/restore", headers=comp.admin_auth)
    assert board() == [("ann", pytest.approx(0.1, rel=1e-12), 2), ("bob", pytest.approx(0.3, rel=1e-12), 1)]
    clock.now = DEADLINE.astimezone(timezone.utc)  # final_picks=1 and no choice: her best public one (private 0.4)
    private = {r["name"]: r["score"] for r in client.get("/api/leaderboard", headers=comp.auth("ann")).json()["rows"]}
    assert private == {"ann": pytest.approx(0.4, rel=1e-12), "bob": pytest.approx(0.3, rel=1e-12)}


def test_only_the_organizer_disqualifies_and_an_unknown_submission_is_404(setup):
    comp, client, _, _ = setup
    own = upload(client, comp, "ann", noisy_csv(comp.dir, 1)).json()["id"]
    assert client.post(f"/api/admin/submissions/{own}/disqualify", headers=comp.auth("ann")).status_code == 401
    assert client.post("/api/admin/submissions/999/disqualify", headers=comp.admin_auth).status_code == 404
    assert client.get(f"/api/submissions/{own}", headers=comp.auth("ann")).json()["disqualified"] is False


def test_upload_answer_and_my_submissions_name_the_likely_mistake(setup):
    comp, client, _, app = setup
    answer = upload(client, comp, "ann", transposed_csv(comp.dir)).json()
    assert answer["status"] == "accepted"
    assert len(answer["diagnoses"]) == 1 and answer["diagnoses"][0].startswith("your images look transposed")
    assert client.get(f"/api/submissions/{answer['id']}", headers=comp.auth("ann")).json()["diagnoses"] == answer["diagnoses"]
    with app.state.competition.db.session() as s:  # stored once, with the submission (schema 5: its judgement)
        assert s.get(Judgement, answer["id"]).diagnoses == answer["diagnoses"]
    right = upload(client, comp, "ann", offset_csv(comp.dir, 0.0, 0.0)).json()
    assert right["diagnoses"] == []
    assert [r["diagnoses"] for r in client.get("/api/submissions", headers=comp.auth("ann")).json()] == [
        [], answer["diagnoses"]]


def test_a_rejected_file_that_parses_is_diagnosed_too(setup):
    comp, client, _, _ = setup
    header = offset_csv(comp.dir, 0.0, 0.0).decode().splitlines()[0]  # 16x16 test images: 256 rows
    at_12 = header + "\n" + "".join(f"{i}" + ",0.5" * 3 + "\n" for i in range(12 * 12))
    answer = upload(client, comp, "ann", at_12.encode()).json()
    assert answer["status"] == "rejected"
    assert answer["diagnoses"] == ["your CSV has 144 rows, images of 12x12; the test images are 16x16 (256 rows): "
                                   "predict at the test size or resize each image with "
                                   "cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA) before flattening"]


def test_rejected_uploads_have_their_own_daily_cap_past_which_nothing_is_taken_that_day(tmp_path):
    comp = make_competition(tmp_path, daily_limit=1, rejected_daily_limit=2)
    clock = Clock()
    app = create_app(comp.dir, clock=clock)
    with TestClient(app) as client:
        for n in range(2):
            assert upload(client, comp, "ann", f"id,x\n{n},2\n".encode()).json()["status"] == "rejected"
        stored = sorted((comp.dir / "submissions").glob("*.csv"))
        refused = upload(client, comp, "ann", b"id,x\n7,2\n")
        assert refused.status_code == 429 and "2 rejected uploads today" in refused.json()["detail"]
        assert refused.headers["Retry-After"] == str(12 * 3600)
        assert sorted((comp.dir / "submissions").glob("*.csv")) == stored and len(rows_in_db(app)) == 2
        assert list((comp.dir / "submissions" / ".incoming").iterdir()) == []
        assert upload(client, comp, "ann", noisy_csv(comp.dir, 0)).status_code == 429  # a valid file neither: not judged
        assert upload(client, comp, "bob", b"id,x\n7,2\n").status_code == 201  # per participant
        clock.advance(hours=12)  # the next UTC day
        assert upload(client, comp, "ann", b"id,x\n7,2\n").json()["status"] == "rejected"
        assert upload(client, comp, "ann", noisy_csv(comp.dir, 0)).json()["status"] == "accepted"
    app.state.competition.close()


def test_openapi_page_lists_the_api(setup):
    _, client, _, _ = setup
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/submissions", "/api/leaderboard", "/api/finals"} <= set(paths)
    assert "text/csv" in paths["/api/submissions"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


def test_a_deadline_that_passes_while_an_upload_is_judged_leaves_no_row_and_no_file(tmp_path):
    comp = make_competition(tmp_path, deadline=DEADLINE)
    clock = Clock(DEADLINE.astimezone(timezone.utc) - timedelta(seconds=1))  # open when the upload arrives
    app = create_app(comp.dir, clock=clock)
    judge = app.state.competition.judge
    original = judge.judge

    def judged_past_the_deadline(*args, **kwargs):
        clock.advance(seconds=2)
        return original(*args, **kwargs)

    judge.judge = judged_past_the_deadline
    with TestClient(app) as client:
        late = upload(client, comp, "ann", noisy_csv(comp.dir, 0))
        assert late.status_code == 403 and "closed" in late.json()["detail"] and "not recorded" in late.json()["detail"]
        assert rows_in_db(app) == []
        assert list((comp.dir / "submissions").glob("*.csv")) == []
        assert list((comp.dir / "submissions" / ".incoming").iterdir()) == []
        assert client.get("/api/leaderboard", headers=comp.auth("bob")).json() == {
            "kind": "private", "closes": DEADLINE.isoformat(), "rows": []}
    app.state.competition.close()


def test_two_uploads_of_the_same_bytes_share_one_file_through_disqualify_and_rescore(setup):
    from competition.maintenance import rescore

    comp, client, _, app = setup
    body = offset_csv(comp.dir, 0.125, 0.25)
    first = upload(client, comp, "ann", body).json()
    second = upload(client, comp, "bob", body).json()
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert [p.name for p in (comp.dir / "submissions").glob("*.csv")] == [f"{first['sha256']}.csv"]
    client.post(f"/api/admin/submissions/{first['id']}/disqualify", headers=comp.admin_auth)
    board = client.get("/api/leaderboard", headers=comp.auth("bob")).json()["rows"]
    assert [(r["name"], r["score"]) for r in board] == [("bob", pytest.approx(0.125, rel=1e-12))]
    assert client.get(f"/api/submissions/{first['id']}/file", headers=comp.auth("ann")).content == body
    assert rescore(app.state.competition) == {"checked": 2, "mismatches": [], "missing_files": []}
    client.post(f"/api/admin/submissions/{first['id']}/restore", headers=comp.admin_auth)
    board = client.get("/api/leaderboard", headers=comp.auth("bob")).json()["rows"]
    assert [(r["rank"], r["score"]) for r in board] == [(1, pytest.approx(0.125, rel=1e-12))] * 2  # a tie: both 1
