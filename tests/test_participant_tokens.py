"""A leaked participant token is replaced (issue 34, item 5), by the organizer's command or the Organizer
page, while a real `inpaint serve` runs on 127.0.0.1: the old token and every session opened with it stop
working at once (their rows are gone from sign_ins), the new token works, nobody else is signed out.
"""
import re
from contextlib import contextmanager

import pytest

pytest.importorskip("uvicorn")

pytestmark = pytest.mark.slow  # real `inpaint serve` processes
httpx = pytest.importorskip("httpx")
from sqlalchemy import func, select  # noqa: E402

from competition.db import SignIn, open_database  # noqa: E402
from competition_fixtures import http as request_json, make_competition, running_server  # noqa: E402


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@contextmanager
def signed_in_browser(url: str, token: str):
    with httpx.Client(base_url=url, timeout=30) as browser:
        answer = browser.post("/signin", data={"csrf": csrf_of(browser.get("/signin").text), "token": token},
                              follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] != "/signin", answer.text
        yield browser


def sessions_of(comp_dir, participant_id: int) -> int:
    db = open_database(f"sqlite:///{comp_dir / 'competition.db'}")
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(SignIn).where(SignIn.participant_id == participant_id))
    finally:
        db.dispose()


def ids_by_name(url: str, admin: str) -> dict[str, int]:
    status, people = request_json("GET", url + "/api/admin/participants", admin)
    assert status == 200
    return {p["name"]: p["id"] for p in people}


def assert_replaced(url: str, comp, old: str, new: str, thief: httpx.Client, bystander: httpx.Client) -> None:
    assert request_json("GET", url + "/api/me", old)[0] == 401
    assert request_json("GET", url + "/api/me", new)[0] == 200
    answer = thief.get("/submissions", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    assert bystander.get("/submissions", follow_redirects=False).status_code == 200
    assert request_json("GET", url + "/api/me", comp.tokens["bob"])[0] == 200


def test_the_organizers_command_replaces_a_token_and_ends_its_sessions_on_a_running_server(tmp_path, run_cli):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server:
        ann = ids_by_name(server.url, comp.admin)["ann"]
        with signed_in_browser(server.url, comp.tokens["ann"]) as thief, \
                signed_in_browser(server.url, comp.tokens["bob"]) as bystander:
            assert sessions_of(comp.dir, ann) == 1
            code, out, err = run_cli("competition", "rotate-token", "--dir", comp.dir, "--participant", ann)
            assert code == 0, err
            new = re.search(r"^  (\S+)$", out, re.M).group(1)
            assert new != comp.tokens["ann"] and "ann" in out
            assert sessions_of(comp.dir, ann) == 0
            assert_replaced(server.url, comp, comp.tokens["ann"], new, thief, bystander)
    assert new not in (comp.dir / "competition.db").read_bytes().decode("latin-1")  # only its hash is kept
    code, out, err = run_cli("competition", "rotate-token", "--dir", comp.dir, "--participant", 999)
    assert code == 2 and "no participant 999" in err and "Traceback" not in err


def test_the_organizer_page_shows_the_new_token_once_and_the_old_one_dies(tmp_path):
    comp = make_competition(tmp_path)
    with running_server(comp.dir) as server:
        ann = ids_by_name(server.url, comp.admin)["ann"]
        with signed_in_browser(server.url, comp.tokens["ann"]) as thief, \
                signed_in_browser(server.url, comp.tokens["bob"]) as bystander, \
                signed_in_browser(server.url, comp.admin) as organizer:
            page = organizer.get("/organizer").text
            assert f'<option value="{ann}">' in page
            answer = organizer.post("/organizer/participant-token", data={"csrf": csrf_of(page), "participant": ann})
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
            new = re.search(r'<code id="new-token">([^<]+)</code>', answer.text).group(1)
            assert sessions_of(comp.dir, ann) == 0
            assert_replaced(server.url, comp, comp.tokens["ann"], new, thief, bystander)
            assert new not in organizer.get("/organizer").text  # shown once, on the answer to the form only
            forged = organizer.post("/organizer/participant-token", data={"csrf": "x", "participant": ann})
            assert forged.status_code == 403
            with signed_in_browser(server.url, new) as participant:  # a participant cannot rotate anyone's
                refused = participant.post("/organizer/participant-token",
                                           data={"csrf": csrf_of(participant.get("/").text), "participant": ann})
                assert refused.status_code == 403
            assert request_json("GET", server.url + "/api/me", new)[0] == 200
