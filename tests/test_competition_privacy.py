"""Before the deadline no participant ever receives a private score or a solution value: every response
of every API endpoint and web page a participant can reach is collected and searched."""
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


def private_figures(comp_dir, size: int = 16) -> list[str]:
    """The private RMSE as any page could print it, and the answers of the masked region (the pixels
    the White images do not give away) as a CSV row or a JSON list would show them."""
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
    v = PRIVATE_OFFSET
    return [repr(v)] + [f"{v:.{k}f}" for k in range(4, 12)] + [f"{v:.{k}g}" for k in range(3, 12)] + segments


def test_no_private_score_or_solution_value_in_any_response_before_the_deadline(tmp_path):
    comp = make_competition(tmp_path, deadline=datetime(2026, 12, 20, tzinfo=timezone.utc))
    app = create_app(comp.dir, clock=Clock())
    api, pages = TestClient(app), TestClient(app)
    responses = []

    def keep(response):
        responses.append((response.request.method, str(response.request.url), response.status_code, response.content))
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
        url = re.sub(r"{(\w+)}", lambda m: str(params.get(m.group(1), 1)), path)
        keep(api.get(url, headers=comp.auth("ann")))
        if signed_in:
            keep(pages.get(url))

    reached = [r for r in responses if r[2] == 200]
    assert len(reached) >= 8, reached
    figures = private_figures(comp.dir)
    for method, url, status, body in responses:
        text = body.decode("latin-1")
        leaked = [f for f in figures if f in text]
        assert not leaked, f"{method} {url} ({status}) shows {leaked[:3]}"
    # the same search finds what it looks for: the solution file, and the private score once closed
    assert sum(f in (comp.dir / "solution.csv").read_text() for f in figures) >= 5
    app.state.competition.clock.now = datetime(2026, 12, 21, tzinfo=timezone.utc)
    assert f"{PRIVATE_OFFSET:.6f}" in api.get("/api/submissions", headers=comp.auth("ann")).text
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
