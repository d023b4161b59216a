"""What participants and visitors must never receive, checked over every response (headers and body) of
every API endpoint and web page they can reach, with the query strings a curious participant would try:

- before the deadline, a private score, a grade or a solution value, searched for every way a number
  could be printed;
- before or after it, the roster's real names (and each word of them), e-mail addresses and student
  ids: names chosen to be findable ("Zelda Quuxworth"), searched case-insensitively."""
import json
import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition.maintenance import standings_csv  # noqa: E402
from competition_fixtures import Clock, make_competition, offset_csv, public_images  # noqa: E402
from submission.csv_read import read_table  # noqa: E402

PRIVATE_OFFSET = 0.0837291  # digits that appear nowhere else by chance


def get_routes(routes, found=None) -> list[str]:
    """Paths of every GET route, including routers included by the app (the web pages)."""
    found = [] if found is None else found
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None) or getattr(route, "routes", None)
        if inner:
            get_routes(inner, found)
        elif "GET" in (getattr(route, "methods", None) or ()):
            found.append(route.path)
    return found


QUERY_VARIANTS = ["", "?saved=1", "?private=1", "?kind=private", "?show_private=true", "?closed=1", "?admin=1",
                  "?format=csv", "?all=1", "?debug=1", "?participant_id=2", "?submission_id=1&private_rmse=1"]


def number_formats(value: float) -> list[str]:
    """Every way a page, a CSV or JSON could print `value` to at least 4 significant digits."""
    shown = [repr(value), str(value), json.dumps(value)] + [f"{value:.{k}f}" for k in range(4, 18)]
    shown += [f"{value:.{k}g}" for k in range(4, 18)] + [f"{value:.{k}e}" for k in range(3, 17)]
    shown += [f"{value:.{k}E}" for k in range(3, 17)] + [f"{value * 100:.{k}f}%" for k in range(2, 8)]
    return sorted(set(shown))


def private_figures(comp_dir, numbers: list[float] = (), texts: list[str] = (), size: int = 16) -> list[str]:
    """What no participant may receive before the deadline: the private RMSE (and `numbers`, other
    private numbers) as anything could print them, `texts` (private words: the e-mail addresses, a
    registered name behind a display name) as they are, and the answers of the masked region (the
    pixels the White images do not give away) as a CSV row or a JSON list would show them."""
    from inpaint.masks import find_box

    answers = pd.read_csv(comp_dir / "solution.csv", dtype=str)
    white = pd.read_csv(comp_dir / "sample_submission.csv").iloc[:, 1:].to_numpy()
    segments = []
    for i, column in enumerate(answers.columns[1:]):
        top, left, bottom, right = find_box(white[:, i].reshape(size, size))
        cells = answers[column].to_numpy().reshape(size, size)
        for row in cells[top:bottom]:
            segments += [",".join(row[left:right]), json.dumps([float(c) for c in row[left:right]])]
        masked_ids = np.flatnonzero(np.pad(np.ones((bottom - top, right - left)), ((top, size - bottom), (left, size - right))))
        lines = (comp_dir / "solution.csv").read_text().splitlines()[1:]
        segments += [lines[j] for j in masked_ids[:5]]  # the solution file's own lines, if it were served
    return [f for v in (PRIVATE_OFFSET, *numbers) for f in number_formats(v)] + list(texts) + segments


DEADLINE = datetime(2026, 12, 20, tzinfo=timezone.utc)
AFTER = datetime(2026, 12, 21, tzinfo=timezone.utc)
# Roster lines (name, email, student_id, display_name), findable anywhere: Zelda's display name is
# generated, Yorick's is the roster's, Xanthe chooses hers on the page she is sent to at first sign-in.
REAL_PEOPLE = [("Zelda Quuxworth", "zelda.quuxworth@uni.example", "S7310042", ""),
               ("Yorick Blennerhassett", "y.blennerhassett@uni.example", "S7310043", "swift-heron"),
               ("Xanthe Vorstrand", "xanthe.vorstrand@uni.example", "S7310044", "")]


def csrf_of(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)


class Crawler:
    """Keeps every response it is given; `visit` GETs every GET route with every query variant through
    the API (with `headers`) and, if the web pages are built, through a pages client (its cookie)."""

    def __init__(self, app):
        self.app, self.responses = app, []
        self.paths = get_routes(app.routes)
        self.pages_built = "/signin" in self.paths

    def keep(self, response):
        headers = "".join(f"{k}: {v}\n" for k, v in response.headers.items()).encode()
        self.responses.append((response.request.method, str(response.request.url), response.status_code,
                               headers + response.content))
        return response

    def sign_in(self, pages, token: str):
        return self.keep(pages.post("/signin", data={"csrf": csrf_of(pages), "token": token}, follow_redirects=False))

    def visit(self, api, headers: dict, pages, params: dict) -> None:
        for path in self.paths:
            for query in QUERY_VARIANTS:
                url = re.sub(r"{(\w+)}", lambda m: str(params.get(m.group(1), 1)), path) + query
                self.keep(api.get(url, headers=headers))
                if self.pages_built:
                    self.keep(pages.get(url))

    def leaks(self, secrets: list[str], ignore_case: bool = False) -> list[str]:
        """'METHOD URL (status) shows ...' for every kept response holding one of `secrets`."""
        found = []
        for method, url, status, body in self.responses:
            text = body.decode("latin-1")
            text = text.lower() if ignore_case else text
            shown = [f for f in secrets if (f.lower() if ignore_case else f) in text]
            if shown:
                found.append(f"{method} {url} ({status}) shows {shown[:3]}")
        return found


@pytest.mark.slow
def test_no_private_score_or_solution_value_in_any_response_before_the_deadline(tmp_path):
    comp = make_competition(tmp_path, deadline=DEADLINE)
    app = create_app(comp.dir, clock=Clock())
    api, pages, crawler = TestClient(app), TestClient(app), Crawler(app)
    keep = crawler.keep

    auth = {**comp.auth("ann"), "Content-Type": "text/csv"}
    own = keep(api.post("/api/submissions", content=offset_csv(comp.dir, 0.0212, PRIVATE_OFFSET), headers=auth)).json()
    keep(api.post("/api/submissions", content=b"id,x\n0,1\n", headers=auth))
    keep(api.put("/api/finals", json={"ids": [own["id"]]}, headers=comp.auth("ann")))
    keep(api.put("/api/finals", json={"ids": [own["id"] + 100]}, headers=comp.auth("ann")))
    if crawler.pages_built:
        crawler.sign_in(pages, comp.tokens["ann"])

    params = {"submission_id": own["id"], "participant_id": 1, "name": "sample_submission.csv", "action": "disqualify"}
    assert {"/api/leaderboard", "/api/submissions", "/api/submissions/{submission_id}"} <= set(crawler.paths)
    crawler.visit(api, comp.auth("ann"), pages, params)

    reached = [r for r in crawler.responses if r[2] == 200]
    assert len(reached) >= 8 * len(QUERY_VARIANTS), reached
    organizer_view = app.state.competition.organizer_submissions()[-1]  # hers, as the organizer sees it
    grade = app.state.competition.standings()[0]["grade"]
    identity = app.state.competition.judge.split_rmse(read_table(comp.dir / "sample_submission.csv"))["private"]
    figures = private_figures(comp.dir, [organizer_view["private_rmse"], grade, identity],
                              ["ann@example.org", "bob@example.org"])
    assert not crawler.leaks(figures)
    # the same search finds what it looks for: the solution file, and the private figures once closed
    assert sum(f in (comp.dir / "solution.csv").read_text() for f in figures) >= 5
    app.state.competition.clock.now = AFTER
    assert f"{PRIVATE_OFFSET:.6f}" in api.get("/api/submissions", headers=comp.auth("ann")).text
    if crawler.pages_built:  # again: her session of 2026-12-01 has expired (14 days)
        crawler.sign_in(pages, comp.tokens["ann"])
        board = pages.get("/leaderboard").text
        assert f"{grade:.2f}" in board and f"{identity:.5f}" in board and f"{PRIVATE_OFFSET:.5f}" in board
    app.state.competition.close()


def private_words(people) -> list[str]:
    """Each roster line's name and its words, e-mail address and its user part, student id."""
    words = []
    for name, email, student_id, _ in people:
        words += [name, *name.split(), email, email.split("@")[0], student_id]
    return words


@pytest.mark.slow
def test_no_real_name_email_or_student_id_reaches_a_participant_or_a_visitor_before_or_after_the_deadline(tmp_path):
    comp = make_competition(tmp_path, people=REAL_PEOPLE, deadline=DEADLINE)
    app = create_app(comp.dir, clock=Clock())
    api, crawler = TestClient(app), Crawler(app)
    zelda, yorick, xanthe = (line[0] for line in REAL_PEOPLE)

    def upload(who, public, private):
        return crawler.keep(api.post("/api/submissions", content=offset_csv(comp.dir, public, private),
                                     headers={**comp.auth(who), "Content-Type": "text/csv"})).json()

    own = upload(zelda, 0.02, 0.03)
    upload(yorick, 0.04, 0.05)
    if crawler.pages_built:  # Xanthe's first sign-in sends her to choose a name; she does
        pages = TestClient(app)
        assert crawler.sign_in(pages, comp.tokens[xanthe]).headers["location"] == "/name"
        chosen = crawler.keep(pages.post("/name", data={"csrf": csrf_of(pages), "display_name": "Night Owl 7"},
                                         follow_redirects=False))
        assert chosen.status_code == 303, chosen.text
    else:
        crawler.keep(api.put("/api/me", json={"display_name": "Night Owl 7"}, headers=comp.auth(xanthe)))
    upload(xanthe, 0.06, 0.01)
    params = {"submission_id": own["id"], "participant_id": 1, "name": "sample_submission.csv", "action": "disqualify"}
    for now in (Clock().now, AFTER):  # before the deadline and after it (the private board, with grades)
        app.state.competition.clock.now = now
        signed_in = TestClient(app)
        if crawler.pages_built:
            crawler.sign_in(signed_in, comp.tokens[zelda])
        crawler.visit(api, comp.auth(zelda), signed_in, params)
        crawler.visit(api, {}, TestClient(app), params)  # an anonymous visitor: no token, no cookie
    assert len([r for r in crawler.responses if r[2] == 200]) >= 16 * len(QUERY_VARIANTS)
    words = private_words(REAL_PEOPLE)
    assert not crawler.leaks(words, ignore_case=True)

    # The search is not blind: the organizer's table holds every word, the boards the display names.
    comp_service = app.state.competition
    table = api.get("/api/admin/standings", headers=comp.admin_auth).text.lower()
    exported = standings_csv(comp_service)[1]
    assert all(w.lower() in exported.decode().lower() for w in words) and "quuxworth" in table
    shown = {r["name"] for r in api.get("/api/leaderboard", headers=comp.auth(yorick)).json()["rows"]}
    zelda_shown = next(p["display_name"] for p in comp_service.participants() if p["name"] == zelda)
    assert shown == {zelda_shown, "swift-heron", "Night Owl 7"}
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d\d", zelda_shown)
    app.state.competition.close()


def test_split_by_image_puts_the_offsets_where_the_fixture_says(tmp_path):
    """offset_csv is what the privacy test relies on: check it against the split by hand."""
    comp = make_competition(tmp_path)
    table = pd.read_csv(pd.io.common.BytesIO(offset_csv(comp.dir, 0.25, 0.5)))
    solution = pd.read_csv(comp.dir / "solution.csv")
    shown = public_images(comp.dir)
    for column in solution.columns[1:]:
        expected = 0.25 if column in shown else 0.5
        assert np.allclose(table[column] - solution[column], expected, atol=1e-12)
