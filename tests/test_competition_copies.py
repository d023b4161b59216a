"""Copy flags on the server: each participant's counted submission compared with every other participant's
(submission/copies.py), shown to the organizer (standings API, Organizer page, leaderboard.csv), never to a
participant or a visitor, never changing a score, and never comparing a participant's own submissions."""
import csv
import re
from datetime import datetime, timezone

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("cv2")
from fastapi.testclient import TestClient  # noqa: E402

from baselines import classical  # noqa: E402
from competition.api import create_app  # noqa: E402
from competition.db import open_database  # noqa: E402
from competition.participants import add_participants  # noqa: E402
from competition.settings import CompetitionPaths  # noqa: E402
from competition.setup import init_competition  # noqa: E402
from competition_fixtures import Clock  # noqa: E402
from inpaint.data import load_data  # noqa: E402
from inpaint.datasets.synth import write_synth_set  # noqa: E402
from submission import export_predictions  # noqa: E402
from test_competition_privacy import QUERY_VARIANTS, Crawler, csrf_of  # noqa: E402,F401

SIZE = 64
DEADLINE = datetime(2026, 12, 20, tzinfo=timezone.utc)
AFTER = datetime(2026, 12, 21, tzinfo=timezone.utc)
COPIER, SOURCE, TWICE = "Carl Copier", "Tess Telea", "Nora Navier"


def mean_fill(white, mask):
    out = white.astype(np.float64).copy()
    for image, m in zip(out, mask > 0.5):
        image[m] = image[~m].mean()
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A synthetic 64 x 64 class: four independent fills, a copy of one (plus a constant), and Nora's two
    nearly identical uploads of her own; everything uploaded through the API before the deadline."""
    root = tmp_path_factory.mktemp("copies_server")
    write_synth_set(root / "data", n_train=2, n_test=8, size=SIZE, seed=3)
    data = load_data(root / "data", size=(SIZE, SIZE), need_train=False)
    white, mask, names = data.csv_test.white, data.csv_test.mask, data.test_white.names
    telea = classical.run("telea", white, mask)
    ns = classical.run("ns", white, mask)
    fills = {SOURCE: [telea], COPIER: [np.clip(telea + 0.02, 0, 1)], TWICE: [ns, np.clip(ns + 0.001, 0, 1)],
             "Bea Biharm": [classical.run("biharmonic", white, mask)], "Mona Mean": [mean_fill(white, mask)]}
    comp = root / "comp"
    init_competition(root / "data", comp, deadline=DEADLINE, title="copies on the server")
    db = open_database(CompetitionPaths(comp).default_db_url())
    tokens_file = add_participants(db, comp, [(name, f"{name.split()[0].lower()}@uni.example") for name in fills])
    db.dispose()
    tokens = {row["name"]: row["token"] for row in csv.DictReader(tokens_file.open())}
    admin = CompetitionPaths(comp).admin_token.read_text().strip()
    app = create_app(comp, clock=Clock())
    client = TestClient(app)
    for who, uploads in fills.items():
        for i, preds in enumerate(uploads):
            body = export_predictions(preds, names, root / f"{who}-{i}.csv").read_bytes()
            answer = client.post("/api/submissions", content=body,
                                 headers={"Authorization": f"Bearer {tokens[who]}", "Content-Type": "text/csv"})
            assert answer.json()["status"] == "accepted", answer.text
    yield app, client, tokens, {"Authorization": f"Bearer {admin}"}, admin, comp
    app.state.competition.close()


def test_the_copy_is_flagged_for_the_organizer_and_nobody_else_is(served):
    app, client, _, admin_auth, _, _ = served
    rows = {r["name"]: r for r in client.get("/api/admin/standings", headers=admin_auth).json()}
    flagged = {name for name, row in rows.items() if row["copies"]}
    assert flagged == {COPIER, SOURCE}, {n: r["copies"] for n, r in rows.items()}
    assert f"copy? close to {SOURCE}" in rows[COPIER]["copies"] and f"copy? close to {COPIER}" in rows[SOURCE]["copies"]
    assert rows[TWICE]["copies"] == "" and rows[TWICE]["entries"] == 2  # her two near-twins are never compared


def test_copy_flags_change_no_score_or_grade(served):
    app, client, _, admin_auth, _, _ = served
    comp = app.state.competition
    with_copies = {r["name"]: r for r in client.get("/api/admin/standings", headers=admin_auth).json()}
    plain = {r["name"]: r for r in comp.standings()}
    for name, row in with_copies.items():
        assert {k: v for k, v in row.items() if k != "copies"} == plain[name]
    copier = next(s for s in comp.organizer_submissions() if s["name"] == COPIER)
    assert with_copies[COPIER]["private_rmse"] == copier["private_rmse"] and with_copies[COPIER]["grade"] is not None


def test_organizer_page_and_leaderboard_csv_show_the_flags(served, run_cli, tmp_path):
    app, _, _, _, admin, comp = served
    pages = TestClient(app)
    pages.post("/signin", data={"csrf": csrf_of(pages), "token": admin})
    page = pages.get("/organizer").text
    listed = re.search(r'<ul class="diagnosis" id="copies">(.*?)</ul>', page, re.S).group(1)
    assert listed.count("<li>") == 1 and COPIER in listed and SOURCE in listed and "look copied" in listed
    table = pages.get("/organizer/leaderboard.csv").text
    assert "copies" in table.splitlines()[0].split(",")
    code, _, err = run_cli("competition", "export", "--dir", comp, "--csv", tmp_path / "final.csv")
    assert code == 0, err
    with open(tmp_path / "final.csv", newline="") as fh:
        exported = {row["name"]: row["copies"] for row in csv.DictReader(fh)}
    assert f"copy? close to {SOURCE}" in exported[COPIER] and exported["Mona Mean"] == ""


@pytest.mark.slow
def test_no_participant_or_visitor_ever_sees_a_copy_flag(served):
    app, client, tokens, _, _, _ = served
    crawler = Crawler(app)
    params = {"submission_id": 1, "participant_id": 1, "name": "sample_submission.csv", "action": "disqualify"}
    for now in (Clock().now, AFTER):
        app.state.competition.clock.now = now
        signed_in = TestClient(app)
        crawler.sign_in(signed_in, tokens[COPIER])
        crawler.visit(client, {"Authorization": f"Bearer {tokens[COPIER]}"}, signed_in, params)
        crawler.visit(client, {}, TestClient(app), params)
    app.state.competition.clock.now = Clock().now
    assert len([r for r in crawler.responses if r[2] == 200]) >= 8 * len(QUERY_VARIANTS)
    assert not crawler.leaks(["copy?", "look copied", "looks like a", SOURCE, COPIER], ignore_case=True)
