"""A real `inpaint serve` process on 127.0.0.1: bursts of simultaneous uploads against the daily limit on SQLite
(one and two workers) and PostgreSQL, through the API and the web form, SIGKILL during a burst, and
the student's `inpaint remote` commands."""
import http.client
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("uvicorn")
from sqlalchemy import select  # noqa: E402

from competition import db as database  # noqa: E402
from competition.maintenance import rescore  # noqa: E402
from competition.service import Competition  # noqa: E402
from competition_fixtures import (http as request_json, make_competition, noisy_csv, postgres, running_server,  # noqa: E402,F401
                                  transposed_csv)

pytestmark = pytest.mark.slow  # real `inpaint serve` processes (and PostgreSQL)


def stored_rows(comp_dir, db_url=None) -> list:
    db = database.connect(db_url or f"sqlite:///{comp_dir / 'competition.db'}")
    try:
        with db.session() as s:
            return s.scalars(select(database.Submission).order_by(database.Submission.id)).all()
    finally:
        db.dispose()


def simultaneous_uploads(url: str, token: str, bodies: list[bytes]) -> list[tuple[int, dict]]:
    """All requests leave together (a barrier), one thread each."""
    start = threading.Barrier(len(bodies))

    def send(body):
        start.wait(timeout=30)
        return request_json("POST", url + "/api/submissions", token, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


IN_FLIGHT = "refused before it was read"  # competition/upload_slots.py's 429s: an upload in flight
LIMIT_REACHED = "resets at"


@pytest.mark.parametrize("backend, workers", [("sqlite", 1), ("sqlite", 2), ("postgresql", 2)])
def test_simultaneous_uploads_with_limit_five_accept_exactly_five(tmp_path, backend, workers, request):
    """Bursts of 20 at once until the limit is used up: each burst gets at most the uploads left (one
    at a time is taken in flight, the rest 429 at once), and never more than 5 in all."""
    db_url = request.getfixturevalue("postgres")("burst") if backend == "postgresql" else None
    comp = make_competition(tmp_path, db_url=db_url, daily_limit=5)
    accepted_ids = []
    with running_server(comp.dir, db_url, workers=workers) as server:
        for round_, name in enumerate(("ann", "bob")):  # two participants: two chances for a race to show
            left, bursts = 5, 0
            while left > 0 and bursts < 5:  # every burst's first upload takes a slot and is accepted
                bodies = [noisy_csv(comp.dir, 100 * round_ + 20 * bursts + seed) for seed in range(20)]
                results = simultaneous_uploads(server.url, comp.tokens[name], bodies)
                accepted = sum(status == 201 for status, _ in results)
                assert 1 <= accepted <= left, (name, bursts, accepted)
                assert all(status == 429 and (IN_FLIGHT in body["detail"] or LIMIT_REACHED in body["detail"])
                           for status, body in results if status != 201)
                accepted_ids += [body["id"] for status, body in results if status == 201]
                left, bursts = left - accepted, bursts + 1
            assert left == 0, name
            results = simultaneous_uploads(server.url, comp.tokens[name], bodies[:5])
            assert all(status == 429 and LIMIT_REACHED in body["detail"] for status, body in results)
            status, me = request_json("GET", server.url + "/api/me", comp.tokens[name])
            assert (status, me["uploads_left"]) == (200, 0)
    rows = stored_rows(comp.dir, db_url)
    assert len(rows) == 10 and {r.status for r in rows} == {"accepted"}
    assert sorted(r.id for r in rows) == sorted(accepted_ids)
    assert all((comp.dir / "submissions" / f"{r.sha256}.csv").exists() for r in rows)


def test_simultaneous_uploads_through_the_web_form_accept_exactly_the_daily_limit(tmp_path):
    httpx = pytest.importorskip("httpx")
    comp = make_competition(tmp_path, daily_limit=3)
    with running_server(comp.dir) as server, httpx.Client(base_url=server.url, timeout=60) as browser:
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        signed_in = browser.post("/signin", data={"csrf": csrf, "token": comp.tokens["ann"]})
        assert signed_in.status_code == 303
        cookie = signed_in.cookies["inpaint_session"]
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/submit").text).group(1)

        def send(seed: int, start: threading.Barrier):  # ten tabs of the same browser press Upload at once
            with httpx.Client(base_url=server.url, timeout=60, cookies={"inpaint_session": cookie}) as tab:
                start.wait(timeout=30)
                return tab.post("/submit", data={"csrf": csrf, "message": f"tab {seed}"},
                                files={"file": ("Predict.csv", noisy_csv(comp.dir, seed), "text/csv")})

        answers = []
        for burst in range(3):  # each burst has at least its first upload accepted (one at a time in flight)
            start = threading.Barrier(10)
            with ThreadPoolExecutor(10) as pool:
                answers += list(pool.map(send, range(10 * burst, 10 * burst + 10), [start] * 10))
            if sum(a.status_code == 303 for a in answers) == 3:
                break
    assert sorted(a.status_code for a in answers) == [303] * 3 + [429] * (len(answers) - 3)
    assert all("daily limit of 3" in a.text or IN_FLIGHT in a.text
               for a in answers if a.status_code == 429)
    rows = stored_rows(comp.dir)
    assert len(rows) == 3 and {r.status for r in rows} == {"accepted"}
    assert sorted(f"/submissions/{r.id}" for r in rows) == sorted(a.headers["location"] for a in answers
                                                                   if a.status_code == 303)


def test_sigkill_during_a_burst_loses_no_accepted_upload_and_leaves_no_row_without_a_file(tmp_path):
    comp = make_competition(tmp_path, people=[f"p{i}" for i in range(8)], size=32, daily_limit=100)
    bodies = [(f"p{i % 8}", noisy_csv(comp.dir, i)) for i in range(48)]
    answered: list[tuple[int, dict]] = []
    with running_server(comp.dir) as server:
        def send(item):
            name, body = item
            try:
                result = request_json("POST", server.url + "/api/submissions", comp.tokens[name], body)
            except (OSError, http.client.HTTPException):  # the server died under this request: no promise made
                return
            answered.append(result)

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, item) for item in bodies]
            deadline = time.monotonic() + 60
            while sum(s == 201 for s, _ in answered) < 10 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            for future in futures:
                future.result(timeout=60)
    accepted = {body["id"]: body for status, body in answered if status == 201}
    assert len(accepted) >= 10 and len(accepted) < len(bodies)  # killed in the middle of the burst
    stale = comp.dir / "submissions" / ".incoming" / "left-by-a-crash.part"
    stale.write_bytes(b"id,half")

    with running_server(comp.dir) as server:  # the restart cleans interrupted uploads
        assert list((comp.dir / "submissions" / ".incoming").iterdir()) == []
        status, mine = request_json("GET", server.url + "/api/submissions", comp.tokens["p0"])
        assert status == 200
    rows = {r.id: r for r in stored_rows(comp.dir)}
    for sub_id, body in accepted.items():
        assert rows[sub_id].sha256 == body["sha256"] and rows[sub_id].public_rmse == body["public_rmse"]
    assert all((comp.dir / "submissions" / f"{r.sha256}.csv").exists() for r in rows.values())
    competition = Competition(comp.dir)
    try:
        report = rescore(competition)
    finally:
        competition.close()
    assert report["checked"] == len(rows) and report["mismatches"] == [] and report["missing_files"] == []


def test_remote_commands_print_score_rank_uploads_left_the_validators_messages_and_the_likely_mistake(
        tmp_path, run_cli, monkeypatch):
    comp = make_competition(tmp_path, daily_limit=4)
    good = tmp_path / "Predict.csv"
    good.write_bytes(noisy_csv(comp.dir, 0))
    for seed in (1, 2):
        (tmp_path / f"p{seed}.csv").write_bytes(noisy_csv(comp.dir, seed))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,test_1\n0,0.5\n1,x\n")
    transposed = tmp_path / "Predict_T.csv"
    transposed.write_bytes(transposed_csv(comp.dir))
    with running_server(comp.dir) as server:
        code, out, err = run_cli("remote", "upload", good, "-m", "first", "--server", server.url,
                                 "--token", comp.tokens["ann"])
        assert code == 0, err
        expected = request_json("GET", server.url + "/api/submissions", comp.tokens["ann"])[1][0]["public_rmse"]
        assert f"public RMSE {expected:.5f}, your rank 1; 3 uploads left today" in out and "likely mistake" not in out
        code, out, err = run_cli("remote", "upload", bad, "--server", server.url, "--token", comp.tokens["ann"])
        assert code == 2
        assert "rejected" in err and "missing image columns: test_2, test_3" in err and "1 non-numeric cells" in err
        monkeypatch.setenv("INPAINT_SERVER", server.url)
        monkeypatch.setenv("INPAINT_TOKEN", comp.tokens["ann"])
        code, out, _ = run_cli("remote", "leaderboard")
        assert code == 0 and "public leaderboard" in out and "ann" in out and f"{expected:.5f}" in out
        code, out, err = run_cli("remote", "upload", transposed)
        assert code == 0, err
        assert "\n  likely mistake: your images look transposed (flattened column-major)" in out
        code, out, _ = run_cli("remote", "submissions")
        assert code == 0 and "accepted" in out and "rejected" in out and "first" in out
        assert "  likely mistake: your images look transposed" in out
        code, out, _ = run_cli("remote", "finals", "1")
        assert (code, out.strip()) == (0, "final submissions: 1")
        code, out, err = run_cli("remote", "upload", good.with_name("p1.csv"))
        assert code == 0 and "; 1 upload left today" in out, err
        assert run_cli("remote", "upload", good.with_name("p2.csv"))[0] == 0
        code, _, err = run_cli("remote", "upload", good)
        assert code == 2 and "no uploads left today for ann; the count resets at" in err
        code, _, err = run_cli("remote", "leaderboard", "--token", "wrong")
        assert code == 2 and "401" in err and err.count("\n") == 1


def test_bench_serve_runs_a_small_load_and_checks_accepted_stored_scored(tmp_path, run_cli):
    code, out, err = run_cli("bench", "serve", "--out", tmp_path / "bench", "--participants", "2", "--uploads", "4",
                             "--concurrency", "2", "--size", "32", "32")
    assert code == 0, err
    row = json.loads((tmp_path / "bench" / "serve.json").read_text())["rows"][0]
    assert (row["accepted"], row["stored"], row["scored"], row["consistent"]) == (4, 4, 4, True)
    assert row["upload_p50_ms"] > 0 and "uploads_per_s" in out


def test_bench_serve_class_quick_runs_every_phase_and_the_burst_is_refused_unread(tmp_path, run_cli):
    """The class scenario at its --quick size (12 participants, 6 images of 32 x 32, a burst of 20): a
    smoke test of its phases, not of its timings."""
    code, out, err = run_cli("bench", "serve", "--scenario", "class", "--quick", "--out", tmp_path / "class",
                             "--timeout", "60")
    assert code == 0, err
    row = json.loads((tmp_path / "class" / "serve_class.json").read_text())["rows"][0]
    assert (row["organizer_page_status"], row["admin_standings_status"], row["other_upload_status"]) == (200, 200, 201)
    assert row["board_ok"] == row["board_requests"] == 2 * row["viewers"]
    assert row["burst_accepted"] + row["burst_refused"] == row["burst"] and row["burst_accepted"] <= row["daily_limit"]
    assert row["burst_refused_before_body"] >= row["burst"] // 2  # one in flight at a time (before issue 33: none)
    assert row["rss_max_group_MB"] >= row["rss_max_process_MB"] > 0 and row["seed_s"] >= 0
