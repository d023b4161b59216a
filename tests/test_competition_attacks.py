"""What a hostile participant tries, one test per attack (issue 23). Attacks on processes, memory,
cookies or timing run against a real `inpaint serve` on 127.0.0.1; rules are checked in-process.

Each test names what the server must do; the numbers it waits for are bounded (a few seconds each).
"""
import math
import os
import re
import signal
import socket
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition.db import Submission  # noqa: E402
from competition_fixtures import (Clock, alive, command_line, http as request_json, make_competition,  # noqa: E402
                                  noisy_csv, offset_csv, process_tree, public_images, real_part_missing, resident_mb,
                                  running_server, spawned_children)

DEADLINE = datetime(2026, 12, 20, 12, 0, tzinfo=timezone.utc)
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, token: str) -> httpx.Response:
    """Through the sign-in form, as a browser does; the client keeps the cookie."""
    page = client.get("/signin")
    answer = client.post("/signin", data={"csrf": csrf_of(page.text), "token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer


def session_cookie(response) -> str:
    return re.search(r"inpaint_session=([^;]+)", response.headers["set-cookie"]).group(1)


def with_cookie(url: str, cookie: str) -> httpx.Client:
    """A second browser that holds a copied cookie and nothing else."""
    return httpx.Client(base_url=url, timeout=30, headers={"Cookie": f"inpaint_session={cookie}"})


def stored_rows(app) -> list:
    with app.state.competition.db.session() as s:
        return s.scalars(select(Submission).order_by(Submission.id)).all()


@pytest.fixture
def site(tmp_path):
    """The app in-process (FastAPI's TestClient) on a competition with a settable clock."""
    comp = make_competition(tmp_path, daily_limit=5, deadline=DEADLINE)
    clock = Clock(DEADLINE - timedelta(days=2))
    app = create_app(comp.dir, clock=clock)
    with TestClient(app) as client:
        yield comp, app, client, clock
    app.state.competition.close()


def api_upload(client, comp, name: str, body: bytes):
    return client.post("/api/submissions", content=body, headers={**comp.auth(name), "Content-Type": "text/csv"})


# ---------------------------------------------------------------- 1. values that overflow the score
def with_cell(comp_dir, image: str, value: str) -> bytes:
    """The answers themselves, with one cell of `image` replaced by the text `value`."""
    lines = offset_csv(comp_dir, 0.0, 0.0).decode().splitlines()
    column = lines[0].split(",").index(image)
    cells = lines[7].split(",")
    cells[column] = value
    lines[7] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def test_values_beyond_the_limit_are_rejected_with_the_readers_message_and_cost_no_upload(site):
    comp, app, client, _ = site
    private_image = sorted(set(offset_csv(comp.dir, 0, 0).decode().split("\n")[0].split(",")[1:])
                           - public_images(comp.dir))[0]
    everywhere = offset_csv(comp.dir, 1e200, 1e200)
    for body in (everywhere, with_cell(comp.dir, private_image, "1e200"), with_cell(comp.dir, private_image, "1e308"),
                 with_cell(comp.dir, private_image, "-inf"), with_cell(comp.dir, private_image, "nan")):
        answer = api_upload(client, comp, "ann", body)
        assert answer.status_code == 201, answer.text
        result = answer.json()
        assert result["status"] == "rejected" and result["public_rmse"] is None
        errors = [line for line in result["findings"] if line.startswith("error:")]
        assert any("beyond +-1000" in line or "infinite" in line or "NaN" in line for line in errors), errors
    assert client.get("/api/me", headers=comp.auth("ann")).json()["uploads_left"] == 5
    board = client.get("/api/leaderboard", headers=comp.auth("bob"))
    assert board.status_code == 200 and board.json()["rows"] == []
    assert {r.status for r in stored_rows(app)} == {"rejected"}


def test_a_stored_infinite_or_nan_score_breaks_no_response_and_ranks_last(site):
    """A row from an older database with inf/NaN scores: every response stays valid JSON (null) or a
    page ("-"), and the row is ranked after every finite one."""
    comp, app, client, clock = site
    good = api_upload(client, comp, "ann", offset_csv(comp.dir, 0.02, 0.03)).json()["id"]
    broken = api_upload(client, comp, "bob", offset_csv(comp.dir, 0.05, 0.05)).json()["id"]
    with app.state.competition.db.session(write=True) as s, s.begin():
        row = s.get(Submission, broken)
        row.public_rmse, row.private_rmse = math.inf, math.nan
    pages = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    organizer = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    sign_in(pages, comp.tokens["bob"])
    sign_in(organizer, comp.admin)
    for when in ("open", "closed"):
        board = client.get("/api/leaderboard", headers=comp.auth("ann"))
        assert board.status_code == 200
        assert [(r["name"], r["score"]) for r in board.json()["rows"]] == [
            ("ann", pytest.approx(0.02 if when == "open" else 0.03, rel=1e-12)), ("bob", None)]
        mine = client.get("/api/submissions", headers=comp.auth("bob"))
        assert mine.status_code == 200 and mine.json()[0]["public_rmse"] is None
        assert client.get(f"/api/submissions/{broken}", headers=comp.auth("bob")).json()["public_rmse"] is None
        standings = client.get("/api/admin/standings", headers=comp.admin_auth)
        assert standings.status_code == 200
        assert [(r["name"], r["private_rmse"], r["grade"]) for r in standings.json()] == [
            ("ann", pytest.approx(0.03, rel=1e-12), pytest.approx(10.0)), ("bob", None, None)]
        assert client.get("/api/admin/submissions", headers=comp.admin_auth).status_code == 200
        shown = [pages.get(url) for url in ("/leaderboard", "/submissions", f"/submissions/{broken}")]
        shown += [organizer.get(url) for url in ("/organizer", "/organizer/leaderboard.csv")]
        for page in shown:
            assert page.status_code == 200, page.request.url
            assert not re.search(r"[>,]\s*-?(inf|nan)\s*[<,\n]", page.text, re.I), page.request.url
        assert re.search(r'<td class="num">-</td>', shown[0].text)  # bob's score is shown as "-"
        assert good != broken
        clock.now = DEADLINE + timedelta(minutes=1)


# ---------------------------------------------------------------- 2. memory: a huge body without a token
def send_body(url: str, method: str, path: str, megabytes: int, chunked: bool, server_pids,
              content_type: str = "application/json") -> tuple[int | None, float]:
    """Send a body of `megabytes` MB (from a generator, never held) and sample the server's resident
    memory meanwhile; returns (the status if one came back before the connection closed, peak MB)."""
    host, port = url.removeprefix("http://").split(":")
    peak = resident_mb(server_pids)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {megabytes * 2**20}"
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{length}\r\n\r\n".encode())
        piece = b"7" * 2**20
        framed = b"100000\r\n" + piece + b"\r\n" if chunked else piece
        try:
            for sent in range(megabytes):
                sock.sendall(framed)
                if sent % 4 == 0:
                    peak = max(peak, resident_mb(server_pids))
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server answered and closed the connection: what it should do
        peak = max(peak, resident_mb(server_pids))
        try:
            head = sock.recv(4096)
        except OSError:
            head = b""
    status = re.match(rb"HTTP/1.1 (\d{3})", head)
    return (int(status.group(1)) if status else None), peak


@pytest.mark.slow
def test_a_large_body_without_a_token_is_refused_before_it_is_read_and_memory_stays_flat(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server:
        request_json("GET", server.url + "/api/leaderboard", comp.admin)  # every import done, every cache warm
        pids = process_tree(server.process.pid)
        before = resident_mb(pids)
        started = time.monotonic()
        form = "application/x-www-form-urlencoded"
        for method, path, chunked, kind in (("PUT", "/api/finals", True, "application/json"),
                                            ("PUT", "/api/finals", False, "application/json"),
                                            ("POST", "/api/submissions", True, "text/csv"),
                                            ("POST", "/signin", False, form), ("POST", "/signin", True, form),
                                            ("GET", "/api/leaderboard", True, "text/plain")):
            status, peak = send_body(server.url, method, path, 300, chunked, pids, kind)
            assert peak - before < 60, f"{method} {path}: the server grew from {before:.0f} to {peak:.0f} MB"
            assert status in (None, 401, 413), (method, path, status)
        assert time.monotonic() - started < 20
        assert request_json("GET", server.url + "/api/leaderboard", comp.admin)[0] == 200


# ---------------------------------------------------------------- 3. a judging process killed
def cpu_ticks(pid: int) -> int:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.slow
def test_a_killed_judging_process_is_replaced_and_the_upload_it_was_judging_is_retried(tmp_path):
    comp = make_competition(tmp_path, size=96, n_test=10, daily_limit=50)
    with running_server(comp.dir, judge_processes=1) as server:
        upload = lambda seed: request_json("POST", server.url + "/api/submissions", comp.tokens["ann"],  # noqa: E731
                                           noisy_csv(comp.dir, seed), timeout=120)
        assert upload(0)[0] == 201
        for round_ in (1, 2):  # killed while idle, then killed while judging an upload
            [judge] = spawned_children(server.process.pid)
            if round_ == 1:
                os.kill(judge, signal.SIGKILL)
                status, result = upload(round_)
            else:
                with ThreadPoolExecutor(1) as pool:
                    answer = pool.submit(upload, round_)
                    ticks, deadline = cpu_ticks(judge), time.monotonic() + 30
                    while cpu_ticks(judge) < ticks + 2 and time.monotonic() < deadline:
                        time.sleep(0.002)  # the judge is busy with our upload once its CPU time grows
                    os.kill(judge, signal.SIGKILL)
                    status, result = answer.result(timeout=120)
            assert status == 201 or (status == 503 and "try again" in result["detail"]), (status, result)
            if status == 201:
                assert result["status"] == "accepted" and math.isfinite(result["public_rmse"])
            assert upload(10 + round_)[0] == 201  # and every later upload is judged
            assert spawned_children(server.process.pid) != [judge]
        status, rows = request_json("GET", server.url + "/api/admin/submissions", comp.admin)
        assert status == 200 and all(math.isfinite(r["public_rmse"]) and math.isfinite(r["private_rmse"]) for r in rows)


@pytest.mark.slow
def test_a_hung_judging_process_is_killed_after_the_timeout_and_its_upload_refused(tmp_path):
    comp = make_competition(tmp_path, size=96, n_test=10, daily_limit=50)
    with running_server(comp.dir, judge_processes=1, env={"INPAINT_JUDGE_TIMEOUT_S": "3"}) as server:
        upload = lambda seed: request_json("POST", server.url + "/api/submissions", comp.tokens["ann"],  # noqa: E731
                                           noisy_csv(comp.dir, seed), timeout=120)
        assert upload(0)[0] == 201
        [judge] = spawned_children(server.process.pid)
        os.kill(judge, signal.SIGSTOP)  # hung: alive, holding its place, never answering
        started = time.monotonic()
        status, result = upload(1)
        waited = time.monotonic() - started
        assert status == 503 and "took longer than 3 s" in result["detail"], (status, result)
        assert "nothing was recorded" in result["detail"] and 3 <= waited < 30, waited
        deadline = time.monotonic() + 10
        while alive(judge) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(judge)  # killed, not left stopped
        assert upload(2)[0] == 201  # a new judging process judges the next upload
        assert spawned_children(server.process.pid) not in ([], [judge])
        status, rows = request_json("GET", server.url + "/api/admin/submissions", comp.admin)
        assert status == 200 and len(rows) == 2  # the refused upload left no row
    assert len(list((comp.dir / "submissions").glob("*.csv"))) == 2  # and no file


# ---------------------------------------------------------------- 4. the rejected-file cap
def test_past_the_rejected_cap_an_upload_is_refused_before_it_is_read_or_judged(tmp_path):
    comp = make_competition(tmp_path, daily_limit=3, rejected_daily_limit=2)
    app = create_app(comp.dir, clock=Clock())
    judge, judged = app.state.competition.judge, []
    original = judge.judge
    judge.judge = lambda *args, **kwargs: judged.append(1) or original(*args, **kwargs)
    with TestClient(app) as client:
        for n in range(2):
            assert api_upload(client, comp, "ann", f"id,x\n{n},2\n".encode()).json()["status"] == "rejected"
        assert len(judged) == 2
        files = sorted((comp.dir / "submissions").glob("*.csv"))
        commas = b"\n".join([b"," * 40] * 200_000)  # 8 MB a parser would chew on
        for body in (commas, noisy_csv(comp.dir, 0)):
            refused = api_upload(client, comp, "ann", body)
            assert refused.status_code == 429 and "2 rejected uploads today" in refused.json()["detail"]
        assert len(judged) == 2 and sorted((comp.dir / "submissions").glob("*.csv")) == files
        assert api_upload(client, comp, "bob", noisy_csv(comp.dir, 0)).status_code == 201  # per participant
    app.state.competition.close()


# ---------------------------------------------------------------- 5. sessions end on the server
@pytest.mark.slow
def test_a_copied_cookie_dies_with_sign_out_and_the_organizers_with_a_token_rotation(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server, httpx.Client(base_url=server.url, timeout=30) as browser:
        cookie = session_cookie(sign_in(browser, comp.tokens["ann"]))
        with with_cookie(server.url, cookie) as thief:
            assert thief.get("/submissions").status_code == 200
            browser.post("/signout", data={"csrf": csrf_of(browser.get("/").text)})
            assert thief.get("/submissions").status_code == 303  # to the sign-in page
            assert "signed in as" not in thief.get("/").text

        assert request_json("POST", server.url + "/api/submissions", comp.tokens["ann"], noisy_csv(comp.dir, 0))[0] == 201
        organizer_cookie = session_cookie(sign_in(browser, comp.admin))
        with with_cookie(server.url, organizer_cookie) as thief:
            page = thief.get("/organizer")
            assert page.status_code == 200 and 'id="disqualify-1"' in page.text
            rotated = browser.post("/organizer/rotate-token", data={"csrf": csrf_of(browser.get("/organizer").text)})
            assert rotated.status_code == 303 and rotated.headers["location"] == "/signin"
            assert thief.get("/organizer").status_code == 303
            late = thief.post("/organizer/submissions/1/disqualify", data={"csrf": csrf_of(page.text)})
            assert late.status_code == 303 and late.headers["location"] == "/signin"
            assert browser.get("/organizer").status_code == 303  # the rotating session ended too
        new_token = (comp.dir / "secrets" / "admin_token.txt").read_text().strip()
        assert new_token != comp.admin
        assert request_json("GET", server.url + "/api/admin/standings", comp.admin)[0] == 401
        assert request_json("GET", server.url + "/api/admin/standings", new_token)[0] == 200
        assert stat.S_IMODE((comp.dir / "secrets" / "admin_token.txt").stat().st_mode) == 0o600
        assert request_json("GET", server.url + "/api/submissions/1", comp.tokens["ann"])[1]["disqualified"] is False


def test_a_session_expires_after_fourteen_days(site):
    comp, app, client, clock = site
    sign_in(client, comp.tokens["ann"])
    assert client.get("/submissions", follow_redirects=False).status_code == 200
    clock.advance(days=14, minutes=1)
    assert client.get("/submissions", follow_redirects=False).headers["location"] == "/signin"


# ---------------------------------------------------------------- 6. absurd ids
@pytest.mark.parametrize("bad", ["99999999999999999999", "2147483648", "-1", "0"])
def test_absurd_ids_are_not_found_never_a_server_error(site, bad):
    comp, app, client, _ = site
    api_upload(client, comp, "ann", noisy_csv(comp.dir, 0))
    answers = [client.get(f"/api/submissions/{bad}", headers=comp.auth("ann")),
               client.get(f"/api/submissions/{bad}/file", headers=comp.auth("ann")),
               client.post(f"/api/admin/submissions/{bad}/disqualify", headers=comp.admin_auth),
               client.post(f"/api/admin/submissions/{bad}/restore", headers=comp.admin_auth),
               client.put("/api/finals", json={"ids": [int(bad)]}, headers=comp.auth("ann"))]
    pages = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    sign_in(pages, comp.tokens["ann"])
    answers += [pages.get(f"/submissions/{bad}"), pages.get(f"/submissions/{bad}/thumbnails.png"),
                pages.post("/submissions/final", data={"csrf": csrf_of(pages.get("/").text), "final": bad})]
    organizer = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    sign_in(organizer, comp.admin)
    answers.append(organizer.post(f"/organizer/submissions/{bad}/disqualify",
                                  data={"csrf": csrf_of(organizer.get("/").text)}))
    for answer in answers:
        assert answer.status_code in (400, 404, 422), (answer.request.url, answer.status_code, answer.text[:200])
    assert not any(r.disqualified for r in stored_rows(app))


# ---------------------------------------------------------------- 7. the Secure flag, per request
@pytest.mark.slow
def test_the_secure_cookie_flag_follows_each_requests_scheme_under_concurrent_sign_ins(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server:
        def visit(i: int) -> tuple[bool, bool]:
            https = i % 2 == 0
            headers = {"X-Forwarded-Proto": "https"} if https else {}  # a TLS proxy in front, on this machine
            with httpx.Client(base_url=server.url, timeout=30) as browser:
                if i % 3 == 0:
                    page = browser.get("/signin", headers=headers)
                    answer = browser.post("/signin", headers=headers, follow_redirects=False,
                                          data={"csrf": csrf_of(page.text), "token": comp.tokens["ann"]})
                else:
                    answer = browser.get("/", headers=headers)
            return https, "secure" in answer.headers["set-cookie"].lower().split("; ")

        with ThreadPoolExecutor(16) as pool:
            seen = list(pool.map(visit, range(240)))
    assert [secure for _, secure in seen] == [https for https, _ in seen]


# ---------------------------------------------------------------- 8. private files
@pytest.mark.slow
def test_everything_under_the_competition_folder_that_holds_private_data_is_owner_only(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server:
        assert request_json("POST", server.url + "/api/submissions", comp.tokens["ann"], noisy_csv(comp.dir, 0))[0] == 201
        assert request_json("POST", server.url + "/api/submissions", comp.tokens["ann"], b"id,x\n0,1\n")[0] == 201
        private = [comp.dir / name for name in ("competition.db", "competition.db-wal", "competition.db-shm",
                                                 "solution.csv", "split.csv", "submissions", "secrets")]
        private += list((comp.dir / "submissions").rglob("*")) + list((comp.dir / "secrets").iterdir())
        for path in private:
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name}: {oct(path.stat().st_mode)}"


# ---------------------------------------------------------------- 9. headers, timeouts, workers, sign-in rule
def test_every_response_carries_the_security_headers_and_pages_need_no_inline_script(site):
    comp, app, client, _ = site
    sid = api_upload(client, comp, "ann", noisy_csv(comp.dir, 0)).json()["id"]
    pages = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    sign_in(pages, comp.tokens["ann"])
    answers = [pages.get(url) for url in ("/", "/data", "/leaderboard", "/submit", "/submissions", f"/submissions/{sid}",
                                          f"/submissions/{sid}/thumbnails.png", "/static/style.css", "/nowhere",
                                          "/organizer", "/submissions/1x")]
    answers += [client.get("/api/leaderboard"), client.get("/api/competition"), client.get("/openapi.json"),
                client.put("/api/finals", content=b"x" * 200_000, headers=comp.auth("ann")),
                client.get("/api/submissions/7", headers=comp.auth("ann")), client.get("/docs")]
    for answer in answers:
        assert {k: answer.headers.get(k) for k in HEADERS} == HEADERS, answer.request.url
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and policy.startswith("default-src 'none'"), answer.request.url
        if answer.request.url.path == "/docs":  # Swagger UI: its files, its inline script by hash, inline styles
            script = next(d for d in policy.split("; ") if d.startswith("script-src"))
            assert "'sha256-" in script and "unsafe" not in script
        else:
            assert "script-src" not in policy and "unsafe" not in policy
        if answer.headers.get("content-type", "").startswith("text/html") and answer.request.url.path != "/docs":
            assert "<script" not in answer.text and " style=" not in answer.text, answer.request.url


def raw_socket(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def closed_after(sock: socket.socket, limit_s: float) -> tuple[float, bytes]:
    """Seconds until the server closes the connection (reading what it says), at most `limit_s`."""
    sock.settimeout(limit_s)
    start, said = time.monotonic(), b""
    try:
        while chunk := sock.recv(4096):
            said += chunk
    except TimeoutError:
        return math.inf, said
    except ConnectionResetError:
        pass
    return time.monotonic() - start, said


@pytest.mark.slow
def test_half_sent_requests_are_dropped_after_the_header_and_body_timeouts(tmp_path):
    comp = make_competition(tmp_path)
    timeouts = {"INPAINT_HEADER_TIMEOUT_S": "1", "INPAINT_BODY_TIMEOUT_S": "2"}
    with running_server(comp.dir, env=timeouts) as server:
        with raw_socket(server.url) as silent, raw_socket(server.url) as slow_head, raw_socket(server.url) as slow_body:
            slow_head.sendall(b"GET /api/leaderboard HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow_body.sendall(f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                              f"{comp.tokens['ann']}\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\nid,".encode())
            for sock in (silent, slow_head):
                waited, _ = closed_after(sock, 8)
                assert waited < 5, "a connection that never finished its headers was kept open"
            waited, said = closed_after(slow_body, 10)
            assert waited < 8 and said.startswith(b"HTTP/1.1 408"), said[:200]
        with raw_socket(server.url) as keep_alive:  # a normal request is not cut short
            keep_alive.sendall(b"GET /api/competition HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert keep_alive.recv(4096).startswith(b"HTTP/1.1 200")
        assert list((comp.dir / "submissions" / ".incoming").iterdir()) == []
        assert request_json("GET", server.url + "/api/me", comp.tokens["ann"])[1]["uploads_left"] == 20


@pytest.mark.slow
def test_workers_and_their_judging_processes_exit_when_the_master_is_killed(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir, workers=2) as server:
        master = server.process.pid
        deadline = time.monotonic() + 60
        while len(workers := spawned_children(master)) < 2 or not all(spawned_children(w) for w in workers):
            assert time.monotonic() < deadline, "workers or their judging processes did not start"
            time.sleep(0.2)
        tree = [pid for pid in process_tree(master) if pid != master and "spawn_main" in command_line(pid)]
        assert len(tree) >= 4  # 2 workers, each with a judging process
        try:
            os.kill(master, signal.SIGKILL)
            server.process.wait(timeout=10)
            deadline = time.monotonic() + 15
            while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not [pid for pid in tree if alive(pid)], "orphaned processes kept running after the master died"
        finally:
            for pid in tree:  # whatever the outcome, nothing of ours keeps running
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_leaderboard_and_data_files_need_a_sign_in_as_the_api_does(site):
    comp, _, client, _ = site
    anonymous = httpx.Client(transport=client._transport, base_url="http://testserver", follow_redirects=False)
    for url in ("/leaderboard", "/data/student_data.zip", "/data/sample_submission.csv"):
        assert anonymous.get(url).headers.get("location") == "/signin", url
    for url in ("/api/leaderboard", "/api/data"):
        assert client.get(url).status_code == 401
    assert anonymous.get("/").status_code == 200 and anonymous.get("/data").status_code == 200
    sign_in(anonymous, comp.tokens["ann"])
    for url in ("/leaderboard", "/data/student_data.zip", "/data/sample_submission.csv"):
        assert anonymous.get(url).status_code == 200, url


def test_a_missing_real_part_skips_on_a_laptop_and_fails_under_ci(monkeypatch):
    """CI must not be green when the Chromium or PostgreSQL tests did not run."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromedriver"):
        real_part_missing("no chromedriver")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromedriver; CI is set"):
        real_part_missing("no chromedriver")


def test_the_judging_clock_starts_when_a_judgement_runs_and_a_judges_own_timeout_error_is_not_a_hang():
    from concurrent.futures import Future

    from competition.judge_pool import _Hung, result_within

    queued = Future()  # waiting for a free judging process: not timed
    with ThreadPoolExecutor(1) as waiter:
        pending = waiter.submit(result_within, queued, 0.2)
        time.sleep(0.5)
        assert not pending.done()
        queued.set_running_or_notify_cancel()
        started = time.monotonic()
        with pytest.raises(_Hung):
            pending.result(timeout=10)
        assert 0.2 <= time.monotonic() - started < 5
    failed = Future()
    failed.set_running_or_notify_cancel()
    failed.set_exception(TimeoutError("the judge's own"))
    with pytest.raises(TimeoutError, match="the judge's own"):
        result_within(failed, 0.2)
    done = Future()
    done.set_result(7)
    assert result_within(done, 0.2) == 7
