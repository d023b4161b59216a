"""Issue 33: the copy flags are derived after the upload's answer, by the judging side, never in the
request: an accepted upload marks its participant's flags stale in its own transaction, and the
server's keeper updates them in a judging process (competition/judge_pool.py). Against a real
`inpaint serve`: the answer arrives while the flags are not yet written, the flags are the full
check's afterwards, and a server killed between the commit and the update leaves a marker that the
next server start (or `inpaint competition rescore --fill-judgements`) takes.

Scaling: a class of 200 costs about a CPU second per change (docs/hosting.md); four participants
on 64 x 64 images (the smallest set with the mouth boxes the copy check reads) cost milliseconds,
so the tests do not time the comparisons. They hold the keeper back instead
(INPAINT_COPY_FLAGS_AFTER_S, the pause that lets a busy minute's changes share one pass): an
answer that waited for the flags would arrive after them.
"""
from __future__ import annotations

import csv
import time
from datetime import datetime, timezone

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("cv2")

from baselines import classical  # noqa: E402
from competition.db import Judgement, open_database  # noqa: E402
from competition.participants import add_participants  # noqa: E402
from competition.service import Competition  # noqa: E402
from competition.settings import CompetitionPaths  # noqa: E402
from competition.setup import init_competition  # noqa: E402
from competition.verdicts import features_from_bytes  # noqa: E402
from competition_fixtures import copy_flags_settled, http, postgres, running_server  # noqa: E402,F401 (postgres: a fixture)
from inpaint.data import load_data  # noqa: E402
from inpaint.datasets.synth import write_synth_set  # noqa: E402
from submission import copies, export_predictions  # noqa: E402

SIZE, N_TEST = 64, 4
COPIER, SOURCE = "Carl Copier", "Tess Telea"
HELD_S = 10  # the keeper's pause in the first test: far longer than an answer takes after its commit
SETTLE_S = 120  # a pass of four participants takes milliseconds; this leaves room for a loaded machine


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """The CSV bytes of four fills of one synthetic set (a copy of Telea plus a constant among them)."""
    root = tmp_path_factory.mktemp("flag_uploads")
    write_synth_set(root / "data", n_train=2, n_test=N_TEST, size=SIZE, seed=3)
    data = load_data(root / "data", size=(SIZE, SIZE), need_train=False)
    white, mask, names = data.csv_test.white, data.csv_test.mask, data.test_white.names
    telea = classical.run("telea", white, mask)
    fills = {SOURCE: telea, "Bea Biharm": classical.run("biharmonic", white, mask),
             "Nora Navier": classical.run("ns", white, mask), COPIER: np.clip(telea + 0.02, 0, 1)}
    return root / "data", {who: export_predictions(p, names, root / f"{who}.csv").read_bytes() for who, p in fills.items()}


def new_class(root, data, names, db_url=None):
    comp = root / "comp"
    init_competition(data, comp, deadline=datetime(2030, 1, 1, tzinfo=timezone.utc), title=f"flags {root.name}",
                     db_url=db_url)
    db = open_database(db_url or CompetitionPaths(comp).default_db_url())
    tokens_file = add_participants(db, comp, [(name, f"{name.split()[0].lower()}@uni.example") for name in names])
    db.dispose()
    tokens = {row["name"]: row["token"] for row in csv.DictReader(tokens_file.open())}
    return comp, tokens, CompetitionPaths(comp).admin_token.read_text().strip()


def stored_state(comp, db_url=None) -> tuple[set[str], list[str], list[str]]:
    """(the names of the participants marked stale, the stored flags' sentences, the full check's sentences over the stored
    features of everyone's counted submission), read from the database as the server left it."""
    service = Competition(comp, db_url)
    try:
        names = {p["id"]: p["name"] for p in service.participants()}
        stale = {names[pid] for pid in service.stale_copy_flags()}
        with service.db.session() as s:
            features = {names[pid]: features_from_bytes(s.get(Judgement, sid).copy_features)
                        for pid, sid in sorted(service.counted_ids(s).items())}  # names in id order, as stored
        full = copies.find_copies(features, service.answer_features()) if len(features) > 1 else []
        return stale, [f.sentence() for f in service.stored_copy_flags()], [f.sentence() for f in full]
    finally:
        service.close()


def settled(comp, db_url=None, timeout_s: float = SETTLE_S):
    """`stored_state` once no participant is marked stale (the keeper's pass done), within timeout_s."""
    copy_flags_settled(comp, db_url, timeout_s)
    return stored_state(comp, db_url)


def upload(url, token, body) -> dict:
    status, answer = http("POST", url + "/api/submissions", token, body)
    assert status == 201 and answer["status"] == "accepted", answer
    return answer


def copies_column(url, admin) -> dict[str, str]:
    status, rows = http("GET", url + "/api/admin/standings", admin)
    assert status == 200
    return {row["name"]: row["copies"] for row in rows}


@pytest.mark.slow
def test_the_answer_comes_before_the_copy_flags_which_are_then_the_full_checks(tmp_path, uploads):
    data, bodies = uploads
    comp, tokens, admin = new_class(tmp_path, data, bodies)
    with running_server(comp, env={"INPAINT_COPY_FLAGS_AFTER_S": str(HELD_S)}) as server:
        for who in (SOURCE, "Bea Biharm", "Nora Navier"):
            upload(server.url, tokens[who], bodies[who])
        stale, stored, full = settled(comp, timeout_s=HELD_S + SETTLE_S)
        assert not stale and stored == full == []  # three independent fills: no flag
        started = time.monotonic()
        copier_id = upload(server.url, tokens[COPIER], bodies[COPIER])["id"]
        answered_s = time.monotonic() - started
        stale, stored, full = stored_state(comp)
        shown = copies_column(server.url, admin)
        # the answer came with the copier's flags still to be compared: its commit marked them stale
        assert answered_s < HELD_S and stale == {COPIER} and stored == [] and shown[COPIER] == "", (answered_s, stale)
        waited = time.monotonic()
        stale, stored, full = settled(comp, timeout_s=HELD_S + SETTLE_S)
        assert not stale and stored == full and len(full) == 1, (stale, stored, full)
        assert time.monotonic() - waited > HELD_S / 2  # written by the keeper after its pause, not by the request
        shown = copies_column(server.url, admin)
        assert f"copy? close to {SOURCE}" in shown[COPIER] and f"copy? close to {COPIER}" in shown[SOURCE]
        assert shown["Bea Biharm"] == shown["Nora Navier"] == ""
        status, mine = http("GET", f"{server.url}/api/submissions/{copier_id}", tokens[COPIER])
        assert status == 200 and "copy" not in str(mine).lower()  # flags are the organizer's only


@pytest.mark.slow
@pytest.mark.parametrize("database, repair", [("sqlite", "restart"), ("sqlite", "rescore --fill-judgements"),
                                              ("postgresql", "restart")])
def test_a_server_killed_between_the_commit_and_the_flags_leaves_a_marker_that_is_repaired(
        tmp_path, uploads, request, database, repair, run_cli):
    """SQLite with one server process; PostgreSQL with `--workers 2`, whose two keepers both take the
    markers at start (the advisory lock and the comparison of the counted submissions keep them apart)."""
    data, bodies = uploads
    db_url = request.getfixturevalue("postgres")(f"flags_{tmp_path.name[-20:].lower()}") \
        if database == "postgresql" else None
    workers = 2 if database == "postgresql" else 1
    comp, tokens, admin = new_class(tmp_path, data, bodies, db_url)
    with running_server(comp, db_url, workers=workers, env={"INPAINT_COPY_FLAGS_AFTER_S": "600"}) as server:
        for who, body in bodies.items():
            upload(server.url, tokens[who], body)
        stale, stored, full = stored_state(comp, db_url)
        assert stale == set(bodies) and stored == [] and len(full) == 1  # answered; no pass yet
        server.kill()  # SIGKILL, the whole process group: nothing runs after it
    assert stored_state(comp, db_url)[:2] == (stale, [])
    if repair == "restart":
        with running_server(comp, db_url, workers=workers, env={"INPAINT_COPY_FLAGS_AFTER_S": "0.2"}) as server:
            stale, stored, full = settled(comp, db_url)  # no change reached this server: its start's pass did it
            shown = copies_column(server.url, admin)
        assert f"copy? close to {SOURCE}" in shown[COPIER]
    else:
        code, out, err = run_cli("competition", "rescore", "--dir", comp, "--fill-judgements")
        assert code == 0 and "copy flags rebuilt" in out, out + err
        stale, stored, full = stored_state(comp, db_url)
    assert not stale and stored == full and len(full) == 1, (stale, stored, full)


def test_pairs_compared_a_group_at_a_time_are_the_pairs_compared_one_by_one():
    """copy_checks compares the changed participants with 16 others per `find_copies` call: the flags must
    be those of each pair by itself, to the bit (a pair's flag is a property of the two alone)."""
    from competition.copy_checks import CopyChecks

    rng = np.random.default_rng(0)
    k = 300
    truth = rng.normal(0.5, 0.1, k)
    features = {pid: truth + rng.normal(0, 0.05, (21, k)) for pid in range(1, 41)}
    for copier, source in ((7, 3), (30, 12), (33, 7)):  # copies plus noise, one of a copy: pairs to flag
        features[copier] = features[source] + rng.normal(0, 0.002, (21, k))
    changed = {pid: features[pid] for pid in (3, 12, 33)}
    one_by_one = [flag for a in changed for b in features if b != a and not (b in changed and b < a)
                  for flag in copies.find_copies({str(p): features[p] for p in sorted((a, b))}, truth)]
    grouped = CopyChecks._pairs_with(changed, changed, truth, both_given=True)
    others = [pid for pid in features if pid not in changed]
    for first in range(0, len(others), 16):
        grouped += CopyChecks._pairs_with(changed, {pid: features[pid] for pid in others[first:first + 16]}, truth)
    key = lambda flag: flag.names  # noqa: E731
    assert sorted(grouped, key=key) == sorted(one_by_one, key=key)
    assert {flag.names for flag in grouped} == {("3", "7"), ("12", "30"), ("7", "33"), ("3", "33")}
