"""Property-based fuzzing (hypothesis) of the whole upload path, against one real `inpaint serve`:
whatever bytes come in, the answer is a 201 with a finite score (or a rejection saying why) or a
4xx with a message, never a 5xx, and the leaderboard and the uploader's list keep answering 200.

The examples are the sample submission with cells, rows, the header or the encoding broken, and
raw bytes. Bounded: a few dozen examples against a server started once (about 10 s).
"""
import math
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from competition_fixtures import http as request_json, make_competition, running_server  # noqa: E402

pytestmark = pytest.mark.slow  # a real `inpaint serve` process

NUMBERS = st.tuples(st.floats(-1000, 1000), st.sampled_from(["{!r}", "{:.3g}", "{:e}", "{:.17g}", " {} "])).map(
    lambda pair: pair[1].format(pair[0]))  # numbers a file may hold: scored as they are
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e200", "-1e308", "1e-320", "1000.0001", "-0", "0x10", "1_0",
                     "0,5", '"0.5"', "\x00", "１", "None", "true", " 0.5 ", "5e-1e2", "-"]),
    st.text(max_size=8),
)


@st.composite
def hostile_csv(draw, lines: list[str]) -> bytes:
    """The sample submission broken in one way or several, or any bytes at all."""
    kind = draw(st.sampled_from(["bytes", "numbers", "cells", "rows", "header"]))
    if kind == "bytes":
        return draw(st.binary(max_size=4096))
    lines = list(lines)
    if kind in ("numbers", "cells"):
        for _ in range(draw(st.integers(1, 6))):
            row = draw(st.integers(1, len(lines) - 1))
            cells = lines[row].split(",")
            column = draw(st.integers(1, len(cells) - 1)) if kind == "numbers" else draw(st.integers(0, len(cells) - 1))
            cells[column] = draw(NUMBERS if kind == "numbers" else CELLS)
            lines[row] = ",".join(cells)
    elif kind == "rows":
        row = draw(st.integers(1, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "junk", "swap", "truncate"]))
        if action == "drop":
            del lines[row]
        elif action == "repeat":
            lines.insert(row, lines[row])
        elif action == "junk":
            lines.insert(row, draw(st.text(max_size=40)))
        elif action == "swap":
            lines[1], lines[row] = lines[row], lines[1]
        else:
            lines = lines[:row]
    else:
        names = lines[0].split(",")
        names[draw(st.integers(0, len(names) - 1))] = draw(st.text(max_size=10))
        lines[0] = ",".join(names)
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"])), errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    comp = make_competition(tmp_path_factory.mktemp("fuzz"), daily_limit=1000, rejected_daily_limit=1000)
    with running_server(comp.dir) as server:
        lines = (comp.dir / "sample_submission.csv").read_text().splitlines()
        yield server.url, comp, lines


@settings(max_examples=50, deadline=None, database=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_upload_gets_a_finite_score_or_a_reason_never_a_server_error(served, data):
    url, comp, lines = served
    body = data.draw(hostile_csv(lines))
    status, answer = request_json("POST", url + "/api/submissions", comp.tokens["ann"], body)
    assert status < 500, (status, body[:200])
    if status == 201:
        assert answer["status"] in ("accepted", "rejected")
        if answer["status"] == "accepted":
            assert math.isfinite(answer["public_rmse"]) and answer["public_rmse"] >= 0
        else:
            assert answer["public_rmse"] is None and any(f.startswith("error: ") for f in answer["findings"])
            assert not any(str(Path(comp.dir)) in f for f in answer["findings"])  # no server path in a message
    else:
        assert 400 <= status < 500 and isinstance(answer, dict) and answer.get("detail")
    assert request_json("GET", url + "/api/leaderboard", comp.tokens["bob"])[0] == 200
    assert request_json("GET", url + "/api/submissions", comp.tokens["ann"])[0] == 200
