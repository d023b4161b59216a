"""The edges of HTTP a browser, a proxy or an attacker reaches (issue 34, item 9), against a real
`inpaint serve` on 127.0.0.1: the trailing-slash redirect names no host, HEAD answers as GET without a
body, `X-Forwarded-Proto: HTTPS` in capitals keeps the Secure flag, /docs loads nothing from another
site, and nothing behind a sign-in may be kept in a cache.

One server for the whole file (started once: a few seconds), two participants, a 16 x 16 set.
"""
import http.client
import re
from urllib.parse import urlsplit

import pytest

pytest.importorskip("uvicorn")

pytestmark = pytest.mark.slow  # a real `inpaint serve` process
httpx = pytest.importorskip("httpx")

from competition_fixtures import make_competition, noisy_csv, running_server  # noqa: E402


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    comp = make_competition(tmp_path_factory.mktemp("edges"))
    with running_server(comp.dir) as server:
        yield comp, server


def test_the_trailing_slash_redirect_is_a_path_whatever_the_host_header(served):
    comp, server = served
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for path, target in (("/leaderboard/", "/leaderboard"), ("/api/competition/?a=1", "/api/competition?a=1")):
            answer = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
            assert answer.status_code == 307 and answer.headers["location"] == target, (path, answer.headers)
        assert client.get("/no-such-page/", follow_redirects=False).status_code == 404
    # a path that would become "//host" (a link to another site) is not redirected at all; sent as raw
    # bytes: an HTTP client would read "//evil.example/" as another host
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(server.url).port, timeout=30)
    try:
        connection.request("GET", "//evil.example/")
        answer = connection.getresponse()
        assert answer.status == 404 and answer.getheader("location") is None
    finally:
        connection.close()


def test_head_answers_like_get_without_a_body(served):
    comp, server = served
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for path in ("/", "/data", "/signin", "/api/competition"):
            get, head = client.get(path), client.head(path)
            assert head.status_code == get.status_code == 200, path
            assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
            assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
        assert client.head("/leaderboard", follow_redirects=False).status_code == 303  # as GET: sign in first


@pytest.mark.parametrize("proto", ["HTTPS", "Https"])
def test_a_proxys_scheme_in_any_case_keeps_the_secure_flag(served, proto):
    comp, server = served
    with httpx.Client(base_url=server.url, timeout=30) as client:
        cookie = client.get("/", headers={"X-Forwarded-Proto": proto}).headers["set-cookie"]
        assert "secure" in cookie.lower().split("; "), cookie
    with httpx.Client(base_url=server.url, timeout=30) as client:
        cookie = client.get("/").headers["set-cookie"]  # plain http: no Secure flag, or the browser drops the cookie
        assert "secure" not in cookie.lower().split("; "), cookie


def test_the_api_docs_load_swagger_ui_from_this_server_only(served):
    comp, server = served
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "https:" not in policy and "http:" not in policy, policy
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/docs/") for s in sources), sources
        for source in sources:
            answer = client.get(source)
            assert answer.status_code == 200 and len(answer.content) > 500, source
        assert b"SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js").content
        assert client.get("/docs/../competition.db").status_code == 404


def test_nothing_behind_a_sign_in_is_kept_in_a_cache(served):
    comp, server = served
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = browser.get("/signin")
        browser.post("/signin", data={"csrf": csrf_of(page.text), "token": comp.tokens["bob"]})
        answer = browser.post("/submit", data={"csrf": csrf_of(browser.get("/submit").text), "message": ""},
                              files={"file": ("Predict.csv", noisy_csv(comp.dir, 3), "text/csv")},
                              follow_redirects=False)
        assert answer.status_code == 303, answer.text
        sid = answer.headers["location"].rsplit("/", 1)[1]
        for path in (f"/submissions/{sid}/thumbnails.png", f"/submissions/{sid}", "/data/student_data.zip",
                     "/data/sample_submission.csv", "/leaderboard"):
            got = browser.get(path)
            assert got.status_code == 200 and got.headers["cache-control"] == "no-store", (path, got.headers)
        assert "no-store" not in browser.get("/static/style.css").headers["cache-control"]  # the same for everyone
