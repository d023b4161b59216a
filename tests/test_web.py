"""The web pages through FastAPI's TestClient: sign in, upload, pictures, diagnosis, finals, organizer, security."""
import csv
import re
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")
pytest.importorskip("itsdangerous")
from fastapi.testclient import TestClient  # noqa: E402

from competition.api import create_app  # noqa: E402
from competition.db import Judgement, Submission, open_database  # noqa: E402
from competition.participants import add_participants  # noqa: E402
from competition.settings import CompetitionPaths  # noqa: E402
from competition.setup import init_competition  # noqa: E402
from conftest import write_set  # noqa: E402
from submission import export_predictions, read_table  # noqa: E402

START = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DEADLINE = START + timedelta(days=3)
EVIL = "<script>alert('x')</script>"
NAMES = ["test_1", "test_2", "test_3"]


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def read_images(folder):
    return np.stack([cv2.imread(str(folder / f"{n}.png"), cv2.IMREAD_GRAYSCALE) / 255.0 for n in NAMES])


class Site:
    """A competition on a tiny 32x32 set, two participants (one named with a script tag), a client."""

    def __init__(self, tmp_path, **rules):
        data = write_set(tmp_path / "data", n_train=2, n_test=3, size=32)
        self.dir = tmp_path / "comp"
        rules = {"deadline": DEADLINE, "daily_limit": 5, "final_picks": 2, **rules}
        init_competition(data, self.dir, **rules)
        self.paths = CompetitionPaths(self.dir)
        db = open_database(self.paths.default_db_url())
        # alice's roster line gives her display name; EVIL's none, so the kit generates one
        tokens_file = add_participants(db, self.dir, [("alice", "a@x", "", "alice"), (EVIL, "")])
        db.dispose()
        self.tokens = {row["name"]: row["token"] for row in csv.DictReader(tokens_file.open())}
        self.admin_token = self.paths.admin_token.read_text().strip()
        self.clock = Clock(START)
        self.app = create_app(self.dir, clock=self.clock)
        self.client = TestClient(self.app)
        self.real, self.white = read_images(data / "Testing/Real"), read_images(data / "Testing/White")
        self.tmp = tmp_path

    def csv(self, preds, name="Predict.csv"):
        return export_predictions(preds, NAMES, self.tmp / name).read_bytes()

    def good(self, seed=0):
        """The answers inside the box plus noise: a right prediction with an RMSE above 0."""
        mask = self.white >= 0.999
        noisy = np.clip(self.real + np.random.default_rng(seed).normal(0, 0.05, self.real.shape), 0, 1)
        return np.where(mask, noisy, self.white)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, token, expect="/submissions"):
    page = client.get("/signin")
    response = client.post("/signin", data={"token": token, "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == expect
    return response


def upload(client, body: bytes, message="first try", filename="Predict.csv"):
    csrf = csrf_of(client.get("/submit").text)
    return client.post("/submit", data={"csrf": csrf, "message": message},
                       files={"file": (filename, body, "text/csv")}, follow_redirects=False)


def submission_id(response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path)


def stored(site, sid):
    return site.app.state.competition.submission(site.app.state.competition.authenticate(site.tokens["alice"]), sid)


def test_public_pages_show_rules_deadline_and_reference_rows(site):
    overview = site.client.get("/")
    assert overview.status_code == 200
    assert "3 d 0 h</b> left" in overview.text and "5</b> accepted uploads" in overview.text
    assert "8 + 2 (strong - RMSE)" in overview.text
    data = site.client.get("/data")
    assert "1024 rows" in data.text and "student_data.zip" in data.text and "beyond &plusmn;1000" in data.text
    assert "beyond &plusmn;1000, is rejected" in overview.text
    sign_in(site.client, site.tokens["alice"])  # the files and the leaderboard need a sign-in, as in the API
    assert site.client.get("/data/sample_submission.csv").content == site.paths.sample.read_bytes()
    assert site.client.get("/data/solution.csv").status_code == 404  # only the two student files
    board = site.client.get("/leaderboard").text
    identity = site.app.state.competition.judge.split_rmse(read_table(site.paths.sample))["public"]
    assert "reference: identity" in board and f"{identity:.5f}" in board


def test_a_participant_uploads_and_sees_score_pictures_and_leaderboard_row(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(site.good())))
    view = stored(site, sid)
    assert view["status"] == "accepted"
    page = site.client.get(f"/submissions/{sid}").text
    assert f"public RMSE <b id=\"score\">{view['public_rmse']:.5f}</b>" in page
    assert "no export mistake found" in page and 'src="/submissions/%d/thumbnails.png"' % sid in page
    png = site.client.get(f"/submissions/{sid}/thumbnails.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    sheet = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert sheet.shape == (2 * (96 + 14) + 12, 3 * 100 + 4)
    mine = site.client.get("/submissions").text
    assert f"{view['public_rmse']:.5f}" in mine and "<svg" in mine and "first try" in mine
    board = site.client.get("/leaderboard").text
    row = re.search(r"<tr class=\" me\">(.*?)</tr>", board, re.S).group(1)
    assert "alice" in row and f"{view['public_rmse']:.5f}" in row and ">1<" in row


def test_identity_upload_pictures_repeat_the_inputs_and_name_it(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(site.white)))
    page = site.client.get(f"/submissions/{sid}").text
    assert "identical to the White images" in page and "identity baseline" in page
    sheet = cv2.imdecode(np.frombuffer(site.client.get(f"/submissions/{sid}/thumbnails.png").content, np.uint8), 0)
    top, low = 4 + 14, 4 + 14 + 96 + 14 + 4
    inputs, yours = sheet[top:top + 96], sheet[low:low + 96]
    framed = inputs != yours  # the prediction row is the input row, but for the black frame of each box
    assert framed.any() and (yours[framed] == 0).all()


def test_the_organizers_notes_say_an_identity_upload_once(site):
    sign_in(site.client, site.tokens["alice"])
    submission_id(upload(site.client, site.csv(site.white)))
    site.client.cookies.clear()
    sign_in(site.client, site.admin_token, expect="/organizer")
    every = site.client.get("/organizer").text.split('id="all"')[1]
    notes = re.search(r'<td class="error-text">(.*?)</td>', every, re.S).group(1)
    assert notes.count("identical to the White images") == 1 and "the course scores it 0" in notes


def test_transposed_upload_shows_the_diagnosis(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(np.transpose(site.good(), (0, 2, 1)))))
    page = site.client.get(f"/submissions/{sid}").text
    assert 'id="diagnosis"' in page and "your images look transposed" in page and "order=&#39;C&#39;" in page


def test_pages_show_the_diagnosis_stored_with_the_submission(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(site.good())))
    assert 'id="diagnosis-none"' in site.client.get(f"/submissions/{sid}").text
    comp = site.app.state.competition
    with comp.db.session(write=True) as s, s.begin():  # one source: what the judge stored, not a second opinion
        s.get(Judgement, sid).diagnoses = ["a sentence the judge stored"]
    assert "a sentence the judge stored" in site.client.get(f"/submissions/{sid}").text
    assert "a sentence the judge stored" in site.client.get("/submissions").text


def test_rejected_upload_shows_its_error_and_does_not_count(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, b"pixel;value\n1;0.5\n", filename="bad.csv"))
    page = site.client.get(f"/submissions/{sid}").text
    assert "Rejected" in page and "header differs from the sample" in page
    assert "Uploads today: 0 of 5" in site.client.get("/submit").text


def test_script_in_message_and_participant_name_is_shown_as_text(site):
    sign_in(site.client, site.tokens[EVIL], expect="/name")  # no display name in the roster: keep or choose
    sid = submission_id(upload(site.client, site.csv(site.good()), message=EVIL))
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    for url in ("/submissions", f"/submissions/{sid}"):
        text = site.client.get(url).text
        assert EVIL not in text and escaped in text, url
    board = site.client.get("/leaderboard").text  # the registered name is nobody else's business
    assert EVIL not in board and escaped not in board
    site.client.cookies.clear()
    sign_in(site.client, site.admin_token, expect="/organizer")
    # the organizer sees it as text: standings, submissions, and the list of the participant-token form
    text = site.client.get("/organizer").text
    assert EVIL not in text and text.count(escaped) == 4


def test_form_posts_without_the_csrf_token_are_refused(site):
    refused = site.client.post("/signin", data={"token": site.tokens["alice"]}, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert "signed in as" not in site.client.get("/").text
    sign_in(site.client, site.tokens["alice"])
    forged = site.client.post("/submit", data={"csrf": "forged", "message": "x"},
                              files={"file": ("p.csv", site.csv(site.good()), "text/csv")}, follow_redirects=False)
    assert forged.status_code == 403
    assert site.client.post("/signout", data={}, follow_redirects=False).status_code == 403
    assert site.client.post("/submissions/final", data={"final": "1"}, follow_redirects=False).status_code == 403
    assert "No uploads yet" in site.client.get("/submissions").text  # nothing was recorded
    assert '<b id="who">alice</b>' in site.client.get("/").text


def test_sign_out_ends_the_session(site):
    sign_in(site.client, site.tokens["alice"])
    out = site.client.post("/signout", data={"csrf": csrf_of(site.client.get("/").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert site.client.get("/submissions", follow_redirects=False).headers["location"] == "/signin"


def test_unknown_token_and_forged_cookie_are_not_signed_in(site):
    page = site.client.get("/signin")
    wrong = site.client.post("/signin", data={"token": "nope", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 401 and "unknown token" in wrong.text
    site.client.cookies.set("inpaint_session", "eyJwaWQiOjF9.forged.sig")
    assert site.client.get("/submissions", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_and_samesite(site):
    header = sign_in(site.client, site.tokens["alice"]).headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header


def test_admin_pages_refuse_a_participants_cookie(site):
    assert site.client.get("/organizer", follow_redirects=False).headers["location"] == "/signin"
    sign_in(site.client, site.tokens["alice"])
    csrf = csrf_of(site.client.get("/").text)
    assert site.client.get("/organizer").status_code == 403
    assert site.client.get("/organizer/leaderboard.csv").status_code == 403
    assert site.client.post("/organizer/submissions/1/disqualify", data={"csrf": csrf}).status_code == 403
    assert site.app.state.competition.participants()[0]["disqualified"] == 0


def test_no_page_a_participant_sees_shows_a_private_score_before_the_deadline(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(site.good())))
    comp = site.app.state.competition
    private = comp.organizer_submissions()[0]["private_rmse"]
    identity_private = comp.judge.split_rmse(read_table(site.paths.sample))["private"]
    secrets = [f"{private:.5f}", f"{identity_private:.5f}", f"{private:.4f}"]
    pages = ["/", "/data", "/leaderboard", "/submit", "/submissions", f"/submissions/{sid}", "/signin"]
    for url in pages:
        text = site.client.get(url).text
        assert not any(s in text for s in secrets), url
    site.clock.now = DEADLINE + timedelta(minutes=1)
    board = site.client.get("/leaderboard").text
    assert "Final ranking" in board and f"{private:.5f}" in board and f"{identity_private:.5f}" in board
    assert f"{private:.5f}" in site.client.get("/submissions").text


def test_final_picks_are_saved_and_limited(site):
    sign_in(site.client, site.tokens["alice"])
    ids = [submission_id(upload(site.client, site.csv(site.good(seed)))) for seed in range(3)]
    csrf = csrf_of(site.client.get("/submissions").text)
    saved = site.client.post("/submissions/final", data={"csrf": csrf, "final": [str(ids[1])]}, follow_redirects=True)
    assert "Final choice saved" in saved.text and f'id="final-{ids[1]}" checked' in saved.text
    too_many = site.client.post("/submissions/final", data={"csrf": csrf, "final": [str(i) for i in ids]})
    assert too_many.status_code == 400 and "at most 2" in too_many.text
    assert [v["selected"] for v in site.app.state.competition.submissions(
        site.app.state.competition.authenticate(site.tokens["alice"]))] == [False, True, False]


def test_organizer_sees_both_scores_grades_and_disqualifies_one_submission(site):
    sign_in(site.client, site.tokens["alice"])
    upload(site.client, site.csv(site.good(seed=1)))  # the other one of hers: still on the board while this is out
    upload(site.client, site.csv(site.good()))
    site.client.cookies.clear()
    sign_in(site.client, site.admin_token, expect="/organizer")
    comp = site.app.state.competition
    row = comp.organizer_submissions()[0]
    page = site.client.get("/organizer").text
    assert f"{row['public_rmse']:.5f}" in page and f"{row['private_rmse']:.5f}" in page
    grade = comp.standings()[0]["grade"]
    assert f"{grade:.2f}" in page
    table = site.client.get("/organizer/leaderboard.csv")
    lines = table.text.splitlines()
    assert lines[0].startswith("rank,name,display_name,email,student_id,private_rmse")
    assert lines[1].startswith("1,alice,alice,a@x,,")
    assert float(lines[1].split(",")[5]) == pytest.approx(comp.standings()[0]["private_rmse"], abs=1e-8)
    csrf = csrf_of(page)
    assert f'id="disqualify-{row["id"]}"' in page
    site.client.post(f"/organizer/submissions/{row['id']}/disqualify", data={"csrf": csrf})
    page = site.client.get("/organizer").text
    assert f'id="restore-{row["id"]}"' in page and "accepted (disqualified)" in page
    board = site.client.get("/leaderboard").text
    other = comp.organizer_submissions()[1]
    assert ">alice<" in board and f"{other['public_rmse']:.5f}" in board and f"{row['public_rmse']:.5f}" not in board
    site.client.post(f"/organizer/submissions/{other['id']}/disqualify", data={"csrf": csrf})
    assert ">alice<" not in site.client.get("/leaderboard").text
    site.client.post(f"/organizer/submissions/{row['id']}/restore", data={"csrf": csrf})
    assert f"{row['public_rmse']:.5f}" in site.client.get("/leaderboard").text


def test_upload_over_the_size_limit_is_refused_before_it_is_stored(tmp_path):
    site = Site(tmp_path, max_upload_mb=0.01)  # 10 KiB; the 32x32x3 CSV is ~40 KB
    sign_in(site.client, site.tokens["alice"])
    body = site.csv(site.good())
    too_big = upload(site.client, body)
    assert too_big.status_code == 413 and "0.01 MB" in too_big.text

    def chunks():  # no Content-Length: counted as it arrives
        csrf = csrf_of(site.client.get("/submit").text)
        yield (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
               '--b\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n'
               "Content-Type: text/csv\r\n\r\n").encode()
        for _ in range(200):
            yield b"0" * 1024
        yield b"\r\n--b--\r\n"

    chunked = site.client.post("/submit", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert chunked.status_code == 413
    assert "No uploads yet" in site.client.get("/submissions").text
    assert [p.name for p in site.paths.incoming.iterdir()] == []


def test_closed_competition_refuses_uploads_on_the_page(site):
    sign_in(site.client, site.tokens["alice"])
    csrf = csrf_of(site.client.get("/submit").text)
    site.clock.now = DEADLINE
    assert "The competition is closed" in site.client.get("/submit").text
    late = site.client.post("/submit", data={"csrf": csrf}, files={"file": ("p.csv", site.csv(site.good()), "text/csv")})
    assert late.status_code == 403 and "closed" in late.text


def test_daily_limit_is_shown_and_enforced_on_the_page(tmp_path):
    site = Site(tmp_path, daily_limit=1)
    sign_in(site.client, site.tokens["alice"])
    submission_id(upload(site.client, site.csv(site.good())))
    assert "Uploads today: 1 of 1" in site.client.get("/submit").text
    second = upload(site.client, site.csv(site.good(seed=1)))
    assert second.status_code == 429 and "daily limit of 1" in second.text
    site.clock.now = START + timedelta(days=1)  # a new UTC day
    assert "Uploads today: 0 of 1" in site.client.get("/submit").text


def test_upload_written_at_another_size_is_rejected_and_the_size_named(site):
    sign_in(site.client, site.tokens["alice"])
    small = np.stack([cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA) for img in site.good()])
    sid = submission_id(upload(site.client, site.csv(small)))
    page = site.client.get(f"/submissions/{sid}").text
    assert "Rejected" in page and "your CSV has 256 rows, images of 16x16" in page
    assert 'id="thumbnails"' not in page  # no pictures of a file that cannot be lined up
    assert site.client.get(f"/submissions/{sid}/thumbnails.png").status_code == 404


def test_someone_elses_submission_and_pictures_are_not_found(site):
    sign_in(site.client, site.tokens["alice"])
    sid = submission_id(upload(site.client, site.csv(site.good())))
    other = TestClient(site.app)
    sign_in(other, site.tokens[EVIL], expect="/name")
    assert other.get(f"/submissions/{sid}").status_code == 404
    assert other.get(f"/submissions/{sid}/thumbnails.png").status_code == 404
    signed_out = TestClient(site.app).get(f"/submissions/{sid}/thumbnails.png", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin"
