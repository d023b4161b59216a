"""`inpaint remote` (competition/client.py) against a real `inpaint serve` and against a server written to
misbehave (issue 34, items 3 and 6).

Item 3, a real server: a participant who only uses `inpaint remote` sees their generated name, is told at
each upload until the first accepted one which name the board will show and how to change it, changes it
with `inpaint remote name NEW`, and `inpaint remote submissions` gives a rejected file's reasons.

Item 6, a hostile HTTP server (the standard library's, in a thread of the test on 127.0.0.1): a redirect to
another origin, a huge answer, an answer dribbled a byte at a time, escape sequences in its strings, answers
of an unexpected shape. Each must end in one clear line and exit code 2, with the token sent nowhere else,
memory bounded and the time bounded by --timeout (2 s here; the dribble would take 50 s).
"""
import json
import threading
import time
import tracemalloc
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from competition.client import MAX_ANSWER_BYTES

TOKEN = "secret-token-of-ann"


# ---------------------------------------------------------------- a hostile server
class Hostile(BaseHTTPRequestHandler):
    """Answers each path with the behaviour the test put in `server.routes` (path -> function(handler))."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        self.server.routes.get(self.path.split("?")[0], not_found)(self)

    do_POST = do_PUT = do_GET

    def log_message(self, *args):  # quiet
        pass


def send_json(handler, value, status: int = 200) -> None:
    body = json.dumps(value).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def not_found(handler) -> None:
    send_json(handler, {"detail": "Not Found"}, 404)


@contextmanager
def hostile_server(routes: dict):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.routes, server.seen = routes, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def one_clear_line(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err


RULES = {"title": "t", "closed": False, "deadline": None, "max_upload_mb": 50}
ME = {"name": "swift-heron-12", "name_editable": True, "uploads_left": 3, "resets_at": "2026-12-08T00:00:00+00:00"}


def test_a_redirect_to_another_origin_is_not_followed_and_the_token_goes_nowhere_else(run_cli):
    with hostile_server({}) as (other, other_url), hostile_server({}) as (server, url):
        def away(handler):
            handler.send_response(302)
            handler.send_header("Location", other_url + "/api/leaderboard")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        server.routes["/api/leaderboard"] = away
        code, out, err = run_cli("remote", "leaderboard", "--server", url, "--token", TOKEN)
        one_clear_line(code, out, err, "302", "not followed", other_url)
        server.routes["/api/leaderboard"] = lambda h: (h.send_response(307), h.send_header("Location", "/api/x"),
                                                      h.send_header("Content-Length", "0"), h.end_headers())
        code, out, err = run_cli("remote", "leaderboard", "--server", url, "--token", TOKEN)
        one_clear_line(code, out, err, "307", "not followed")  # not even on the same server
    assert other.seen == [] and [path for _, path, _ in server.seen] == ["/api/leaderboard"] * 2


def test_a_huge_answer_is_not_read_past_the_cap(run_cli):
    sent = {"bytes": 0}

    def endless(handler):  # no Content-Length: the answer ends when the connection does, 100 MB later
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b"[" + b"1," * 32767
        try:
            for _ in range(100 * 2**20 // len(chunk)):
                handler.wfile.write(chunk)
                sent["bytes"] += len(chunk)
        except OSError:
            pass

    def declared(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(600 * 2**20))
        handler.end_headers()
        handler.wfile.write(b"[" * 1000)

    with hostile_server({"/api/leaderboard": endless, "/api/submissions": declared}) as (_, url):
        tracemalloc.start()
        try:
            code, out, err = run_cli("remote", "leaderboard", "--server", url, "--token", TOKEN)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        one_clear_line(code, out, err, "larger than the 8 MB the kit reads")
        assert peak < 3 * MAX_ANSWER_BYTES, peak  # the cap and its copies, not the 100 MB
        code, out, err = run_cli("remote", "submissions", "--server", url, "--token", TOKEN)
        one_clear_line(code, out, err, "600 MB", "not read")
    assert sent["bytes"] < 100 * 2**20 - 2**20  # the client hung up long before the end


def test_an_answer_dribbled_a_byte_at_a_time_ends_at_the_timeout(run_cli):
    def dribble(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        try:
            for _ in range(100):  # 50 s in all, each byte well within any per-read timeout
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def slow_headers(handler):
        try:
            for _ in range(100):
                handler.wfile.write(b"HTTP/1.1 200 OK\r\n"[:1] if _ == 0 else b"X")
                handler.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    with hostile_server({"/api/leaderboard": dribble, "/api/me": slow_headers}) as (_, url):
        for command in ("leaderboard", "name"):
            start = time.monotonic()
            code, out, err = run_cli("remote", command, "--server", url, "--token", TOKEN, "--timeout", "2")
            took = time.monotonic() - start
            one_clear_line(code, out, err, "no complete answer within 2 s")
            assert 1.9 < took < 5, took


def test_escape_sequences_in_the_servers_strings_are_never_printed(run_cli):
    evil = "\x1b[2J\x1b[H\x1b]0;owned\x07\u202epwned\x9b31m"
    board = {"kind": "public", "closes": None,
             "rows": [{"rank": 1, "name": evil, "score": 0.1, "entries": 1, "participant_id": 1, "last": evil}]}
    rows = [{"id": 1, "created": "2026-12-01T12:00:00" + evil, "status": "rejected", "public_rmse": None,
             "selected": False, "disqualified": False, "filename": evil, "message": evil,
             "findings": [f"error: {evil}"], "diagnoses": [evil]}]
    routes = {"/api/leaderboard": lambda h: send_json(h, board), "/api/submissions": lambda h: send_json(h, rows),
              "/api/me": lambda h: send_json(h, {"detail": f"no {evil}"}, 401)}
    with hostile_server(routes) as (_, url):
        said = []
        for command in ("leaderboard", "submissions", "name"):
            code, out, err = run_cli("remote", command, "--server", url, "--token", TOKEN)
            said.append(out + err)
            assert code == (2 if command == "name" else 0), err
        for text in said:
            assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) <= 0x9f or c == "\u202e" for c in text), text
        assert "pwned" in said[0] and "pwned" in said[1] and "401" in said[2]


@pytest.mark.parametrize("command,routes,words", [
    ("upload", {"/api/competition": lambda h: send_json(h, {"title": "no rules"})}, ["'closed' missing"]),
    ("upload", {"/api/competition": lambda h: send_json(h, {**RULES, "closed": "no"})}, ["'closed'"]),
    ("upload", {"/api/competition": lambda h: send_json(h, RULES), "/api/me": lambda h: send_json(h, ME),
                "/api/submissions": lambda h: send_json(h, {"id": 1, "status": "accepted"}, 201)}, ["'public_rmse'"]),
    ("leaderboard", {"/api/leaderboard": lambda h: send_json(h, [1, 2])}, ["a JSON object"]),
    ("leaderboard", {"/api/leaderboard": lambda h: send_json(h, {"kind": "public", "closes": None, "rows": [{}]})},
     ["'rank'"]),
    ("submissions", {"/api/submissions": lambda h: send_json(h, {"rows": []})}, ["a JSON list"]),
    ("name", {"/api/me": lambda h: (h.send_response(200), h.send_header("Content-Length", "6"), h.end_headers(),
                                    h.wfile.write(b"<html>"))}, ["not JSON"]),
    ("name", {"/api/me": lambda h: (h.send_response(200), h.send_header("Content-Length", "4"), h.end_headers(),
                                    h.wfile.write(b"\xff\xfe\xfd\xfc"))}, ["not JSON"]),
    ("finals", {"/api/finals": lambda h: send_json(h, {"ids": ["1"]})}, ["ids"]),
])
def test_an_answer_of_an_unexpected_shape_is_one_clear_line(run_cli, tmp_path, command, routes, words):
    csv_file = tmp_path / "Predict.csv"
    csv_file.write_text("id,test_1\n0,0.5\n")
    with hostile_server(routes) as (_, url):
        extra = {"upload": [csv_file], "finals": ["1"]}.get(command, [])
        code, out, err = run_cli("remote", command, *extra, "--server", url, "--token", TOKEN)
        one_clear_line(code, out, err, "not", *words)


# ---------------------------------------------------------------- item 3, against the real server
@pytest.mark.slow
def test_a_remote_only_participant_sees_their_name_changes_it_and_sees_why_a_file_was_rejected(tmp_path, run_cli,
                                                                                               monkeypatch):
    pytest.importorskip("uvicorn")
    from competition_fixtures import make_competition, noisy_csv, running_server

    comp = make_competition(tmp_path, people=[("Zelda Quuxworth", "zq@uni.example", "S7310042", ""), "bob"])
    bad, good = tmp_path / "bad.csv", tmp_path / "Predict.csv"
    bad.write_text("id,test_1\n0,0.5\n1,x\n")
    good.write_bytes(noisy_csv(comp.dir, 0))
    with running_server(comp.dir) as server:
        monkeypatch.setenv("INPAINT_SERVER", server.url)
        monkeypatch.setenv("INPAINT_TOKEN", comp.tokens["Zelda Quuxworth"])
        code, out, err = run_cli("remote", "name")
        assert code == 0, err
        generated = out.split("'")[1]
        assert generated.count("-") == 2 and "inpaint remote name NEW" in out
        code, out, err = run_cli("remote", "upload", bad)
        assert code == 2 and f"the leaderboard will show you as {generated!r}" in err and "inpaint remote name NEW" in err
        code, out, err = run_cli("remote", "submissions")
        assert code == 0 and "rejected" in out
        assert "\n         error: bad.csv: 1 non-numeric cells" in out and "missing ids" in out
        code, out, err = run_cli("remote", "name", "Quuxworth")  # the rules of the web page: not your own name
        assert code == 2 and "400" in err
        code, out, err = run_cli("remote", "name", "quiet-otter")
        assert code == 0 and "'quiet-otter'" in out, err
        code, out, err = run_cli("remote", "upload", good)
        assert code == 0 and "shows you as 'quiet-otter', fixed from this first accepted upload" in out, err
        code, out, _ = run_cli("remote", "leaderboard")
        assert "quiet-otter" in out and "Zelda" not in out and generated not in out
        code, out, err = run_cli("remote", "name", "other-name")
        assert code == 2 and "403" in err and "quiet-otter" in err
        code, out, err = run_cli("remote", "upload", good.rename(tmp_path / "again.csv"))
        assert code == 0 and "shows you as" not in out  # said once, at the upload that fixed it
        code, out, err = run_cli("remote", "name")
        assert code == 0 and "can no longer change" in out
