"""The pages in a real headless Chromium (Selenium) against a real `inpaint serve` process on 127.0.0.1.

Needs Debian's chromium and chromium-driver (.ci/run installs them) and selenium; without them the
test skips with the reason, or fails when CI is set (competition_fixtures.real_part_missing).
Nothing is downloaded: the driver is given by path, so selenium-manager never runs.
Screenshots of every page go to $INPAINT_ARTIFACTS (if set) or the test's tmp folder.
"""
import csv
import json
import os
import re
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a real server and Chromium

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytest.importorskip("fastapi", reason="the server extras are not installed (pip install -e '.[serve]')")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the browser fixture says so, and fails under CI
    webdriver = None

from competition.db import open_database  # noqa: E402
from competition.participants import add_participants  # noqa: E402
from competition.settings import CompetitionPaths  # noqa: E402
from competition.setup import init_competition  # noqa: E402
from competition_fixtures import copy_flags_settled, real_part_missing, running_server  # noqa: E402
from inpaint.datasets.synth import write_synth_set  # noqa: E402
from submission import export_predictions  # noqa: E402

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,900"]
NAMES = [f"test_{i}" for i in range(1, 11)]


@pytest.fixture
def competition_dir(tmp_path):
    """10 synthetic 64x64 test faces, a deadline a week ahead, one participant; returns (dir, tokens, files)."""
    data = tmp_path / "data"
    write_synth_set(data, n_train=2, n_test=10, size=64, seed=0)
    comp = tmp_path / "comp"
    init_competition(data, comp, title="Mouth generation (browser test)",
                     deadline=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7))
    paths = CompetitionPaths(comp)
    db = open_database(paths.default_db_url())
    tokens_file = add_participants(db, comp, [("Ada Lovelace", "ada@example.org"), ("Grace Hopper", ""),
                                              ("Charles Babbage", "")])
    db.dispose()
    token, classmate, copier = (row["token"] for row in csv.DictReader(tokens_file.open()))
    real = np.stack([cv2.imread(str(data / "Testing/Real" / f"{n}.png"), 0) / 255.0 for n in NAMES])
    white = np.stack([cv2.imread(str(data / "Testing/White" / f"{n}.png"), 0) / 255.0 for n in NAMES])
    noisy = np.clip(real + np.random.default_rng(0).normal(0, 0.04, real.shape), 0, 1)
    good = np.where(white >= 0.999, noisy, white)
    rougher = np.where(white >= 0.999, np.clip(real + np.random.default_rng(1).normal(0, 0.12, real.shape), 0, 1), white)
    files = {"good": export_predictions(good, NAMES, tmp_path / "Predict.csv"),
             "classmate": export_predictions(rougher, NAMES, tmp_path / "Predict_classmate.csv"),
             "transposed": export_predictions(np.transpose(good, (0, 2, 1)), NAMES, tmp_path / "Predict_T.csv"),
             "copy": export_predictions(np.clip(good + 0.01, 0, 1), NAMES, tmp_path / "Predict_copy.csv")}
    tokens = {"participant": token, "classmate": classmate, "copier": copier,
              "admin": paths.admin_token.read_text().strip()}
    return comp, tokens, files


@pytest.fixture
def server(competition_dir):
    """`inpaint serve` on a free loopback port, started and awaited by competition/launch.py's helpers."""
    comp, tokens, files = competition_dir
    with running_server(comp) as served:
        yield served.url, tokens, files


@pytest.fixture
def browser(tmp_path, monkeypatch):
    if webdriver is None:
        real_part_missing("selenium is not installed (pip install -e '.[test]')")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        real_part_missing("Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium-manager, if it ever ran, must not download
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS + [f"--user-data-dir={tmp_path / 'chrome-profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console: where CSP violations show
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("INPAINT_ARTIFACTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver, folder: Path, name: str) -> Path:
    """The whole page: the window is made as tall as the document first."""
    height, frame = driver.execute_script(
        "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
    driver.set_window_size(1200, max(600, min(int(height) + int(frame), 3000)))
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1200, 900)
    return path


def text_of(driver, element_id: str) -> str:
    return WebDriverWait(driver, 30).until(ready.presence_of_element_located((By.ID, element_id))).text


def sign_in(driver, url: str, token: str) -> None:
    driver.get(url + "/signin")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "signin").click()
    WebDriverWait(driver, 30).until(ready.presence_of_element_located((By.ID, "who")))


def upload(driver, url: str, path: Path, message: str) -> str:
    driver.get(url + "/submit")
    driver.find_element(By.ID, "file").send_keys(str(path))
    driver.find_element(By.ID, "message").send_keys(message)
    driver.find_element(By.ID, "upload").click()
    return text_of(driver, "outcome")


def api_upload(url: str, token: str, path: Path) -> dict:
    """A classmate uploads through the JSON API, so the leaderboard has someone else's row too."""
    request = urllib.request.Request(url + "/api/submissions?message=api", data=path.read_bytes(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_student_and_organizer_journey_in_chromium(browser, server, shots, competition_dir):
    url, tokens, files = server
    driver = browser
    assert api_upload(url, tokens["classmate"], files["classmate"])["status"] == "accepted"
    driver.get(url + "/")
    assert "left" in text_of(driver, "deadline")
    assert "within ±1000" in text_of(driver, "value-rule")
    screenshot(driver, shots, "01_overview")
    driver.get(url + "/leaderboard")
    assert driver.current_url.endswith("/signin")  # the leaderboard needs a sign-in, as /api/leaderboard does

    sign_in(driver, url, tokens["participant"])  # the roster gave her no display name: she is asked for one
    assert driver.current_url.endswith("/name") and text_of(driver, "first-time").startswith("The kit gave you")
    generated = driver.find_element(By.ID, "who").text
    assert "Ada" not in generated and "Lovelace" not in generated
    name_field = driver.find_element(By.ID, "display_name")
    name_field.clear()
    name_field.send_keys("Ada L")
    driver.find_element(By.ID, "save-name").click()
    assert "may not contain your name" in text_of(driver, "error")
    screenshot(driver, shots, "02_display_name")
    name_field = driver.find_element(By.ID, "display_name")
    name_field.clear()
    name_field.send_keys("Analytical Engine")
    driver.find_element(By.ID, "save-name").click()
    assert text_of(driver, "notice") == "Display name saved: Analytical Engine."
    assert driver.find_element(By.ID, "who").text == "Analytical Engine"

    outcome = upload(driver, url, files["good"], "U-Net, 20 minutes")
    assert outcome.startswith("Accepted: public RMSE")
    score = driver.find_element(By.ID, "score").text
    assert float(score) < 0.05
    assert driver.find_element(By.ID, "thumbnails").get_attribute("naturalWidth") not in (None, "0")
    screenshot(driver, shots, "03_submission_good")

    driver.get(url + "/submissions")
    assert score in driver.find_element(By.ID, "mine").text
    driver.get(url + "/leaderboard")
    board = driver.find_element(By.ID, "public").text
    assert any(line.startswith("1 Analytical Engine") and score in line for line in board.splitlines())
    assert any(re.match(r"2 [a-z]+-[a-z]+-\d\d ", line) for line in board.splitlines())  # Grace's generated name
    assert "reference: identity" in board and "Lovelace" not in driver.page_source and "Hopper" not in driver.page_source
    screenshot(driver, shots, "04_leaderboard")

    outcome = upload(driver, url, files["transposed"], "flattened with order='F'")
    assert outcome.startswith("Accepted")
    assert "your images look transposed" in text_of(driver, "diagnosis")
    screenshot(driver, shots, "05_submission_transposed")

    driver.get(url + "/submissions")
    first = driver.find_elements(By.CSS_SELECTOR, "input[name=final]")[-1]  # newest first: the last is the good one
    first.click()
    driver.find_element(By.ID, "save-finals").click()
    assert text_of(driver, "notice") == "Final choice saved."  # only the page after saving has it: no stale element
    assert driver.find_elements(By.CSS_SELECTOR, "input[name=final]")[-1].is_selected()
    assert "<svg" in driver.page_source
    screenshot(driver, shots, "06_my_submissions")

    driver.find_element(By.ID, "signout").click()
    WebDriverWait(driver, 30).until(ready.presence_of_element_located((By.ID, "signin-link")))
    driver.get(url + "/submissions")
    assert driver.current_url.endswith("/signin")

    assert api_upload(url, tokens["copier"], files["copy"])["status"] == "accepted"  # her good file, + 0.01
    copy_flags_settled(competition_dir[0])  # compared by the judging side after the answer
    sign_in(driver, url, tokens["admin"])
    driver.get(url + "/organizer")
    copies = text_of(driver, "copies")  # for the organizer only (tests/test_competition_copies.py)
    assert "Ada Lovelace" in copies and "Charles Babbage" in copies and "Grace Hopper" not in copies
    table = driver.find_element(By.ID, "all").text
    good_row = next(line for line in table.splitlines() if "U-Net, 20 minutes" in line)
    numbers = [w for w in good_row.split() if w.startswith("0.")]
    assert numbers[0] == score and len(numbers) >= 2 and numbers[1] != score  # public, then private
    assert "Ada Lovelace (Analytical Engine)" in good_row  # the organizer sees both names
    screenshot(driver, shots, "07_organizer")
    transposed_id = next(line for line in table.splitlines() if "order='F'" in line).split()[0]
    driver.find_element(By.ID, f"disqualify-{transposed_id}").click()
    WebDriverWait(driver, 30).until(ready.presence_of_element_located((By.ID, f"restore-{transposed_id}")))
    assert "accepted (disqualified)" in driver.find_element(By.ID, "all").text
    driver.get(url + "/data")
    assert "within ±1000" in text_of(driver, "value-rule")
    screenshot(driver, shots, "08_data")
    blocked = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == []  # the pages need nothing the policy forbids (no inline script or style)
    assert sorted(p.name for p in shots.glob("0*.png"))[:7] == [
        "01_overview.png", "02_display_name.png", "03_submission_good.png", "04_leaderboard.png",
        "05_submission_transposed.png", "06_my_submissions.png", "07_organizer.png"]
