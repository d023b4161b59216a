"""Before the deadline no participant ever receives a private score, a grade or a solution value: every
response (headers and body) of every API endpoint and web page a participant can reach, with the query
strings a curious participant would try, is collected and searched for every way a number could be printed."""
import json
import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
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


def test_no_private_score_or_solution_value_in_any_response_before_the_deadline(tmp_path):
    comp = make_competition(tmp_path, deadline=datetime(2026, 12, 20, tzinfo=timezone.utc))
    app = create_app(comp.dir, clock=Clock())
    api, pages = TestClient(app), TestClient(app)
    responses = []

    def keep(response):
        headers = "".join(f"{k}: {v}\n" for k, v in response.headers.items()).encode()
        responses.append((response.request.method, str(response.request.url), response.status_code,
                          headers + response.content))
        return response

    auth = {**comp.auth("ann"), "Content-Type": "text/csv"}
    own = keep(api.post("/api/submissions", content=offset_csv(comp.dir, 0.0212, PRIVATE_OFFSET), headers=auth)).json()
    keep(api.post("/api/submissions", content=b"id,x\n0,1\n", headers=auth))
    keep(api.put("/api/finals", json={"ids": [own["id"]]}, headers=comp.auth("ann")))
    keep(api.put("/api/finals", json={"ids": [own["id"] + 100]}, headers=comp.auth("ann")))

    signed_in = False
    if any(p == "/signin" for p in get_routes(app.routes)):  # the web pages are built: sign in as ann
        csrf = re.search(r'name="csrf" value="([^"]+)"', keep(pages.get("/signin")).text).group(1)
        keep(pages.post("/signin", data={"csrf": csrf, "token": comp.tokens["ann"]}))
        signed_in = True

    params = {"submission_id": own["id"], "participant_id": 1, "name": "sample_submission.csv", "action": "disqualify"}
    paths = get_routes(app.routes)
    assert {"/api/leaderboard", "/api/submissions", "/api/submissions/{submission_id}"} <= set(paths)
    for path in paths:
        for query in QUERY_VARIANTS:
            url = re.sub(r"{(\w+)}", lambda m: str(params.get(m.group(1), 1)), path) + query
            keep(api.get(url, headers=comp.auth("ann")))
            if signed_in:
                keep(pages.get(url))

    reached = [r for r in responses if r[2] == 200]
    assert len(reached) >= 8 * len(QUERY_VARIANTS), reached
    organizer_view = app.state.competition.organizer_submissions()[-1]  # hers, as the organizer sees it
    grade = app.state.competition.standings()[0]["grade"]
    identity = app.state.competition.judge.split_rmse(read_table(comp.dir / "sample_submission.csv"))["private"]
    figures = private_figures(comp.dir, [organizer_view["private_rmse"], grade, identity],
                              ["ann@example.org", "bob@example.org"])
    for method, url, status, body in responses:
        text = body.decode("latin-1")
        leaked = [f for f in figures if f in text]
        assert not leaked, f"{method} {url} ({status}) shows {leaked[:3]}"
    # the same search finds what it looks for: the solution file, and the private figures once closed
    assert sum(f in (comp.dir / "solution.csv").read_text() for f in figures) >= 5
    app.state.competition.clock.now = datetime(2026, 12, 21, tzinfo=timezone.utc)
    assert f"{PRIVATE_OFFSET:.6f}" in api.get("/api/submissions", headers=comp.auth("ann")).text
    if signed_in:  # again: her session of 2026-12-01 has expired (14 days)
        csrf = re.search(r'name="csrf" value="([^"]+)"', pages.get("/signin").text).group(1)
        pages.post("/signin", data={"csrf": csrf, "token": comp.tokens["ann"]})
        board = pages.get("/leaderboard").text
        assert f"{grade:.2f}" in board and f"{identity:.5f}" in board and f"{PRIVATE_OFFSET:.5f}" in board
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
