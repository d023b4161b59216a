"""The server judges the test boxes the kit's tools show (issue 34, item 1): found once at
`competition init` by the kit's finder (training boxes as the guide), stored in COMP/test_boxes.csv,
used by judging, diagnoses, flags, copy features and the pictures; a folder without them says what to run.

The set: synthetic faces (32 x 32, 60 training pairs so that every test box size has a training
twin) whose first two White test images get a white background from the box's bottom to the image's
bottom, joining the box as the Yale photos' white walls do. The shape-only finder then takes the
merged white region (box and background) for the box.
"""
from __future__ import annotations

import json

import cv2
import httpx
import numpy as np
import pandas as pd
import pytest

from competition.judge import Judge
from competition.settings import CompetitionPaths, load_settings
from competition_fixtures import http, make_competition, running_server
from inpaint import masks
from inpaint.data import load_data
from inpaint.datasets.synth import write_synth_set
from submission import copies
from submission.csv_io import export_predictions
from submission.csv_read import read_table
from submission.thumbnails import thumbnail_png
from submission.validate import check_submission
from test_competition_attacks import sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PAINTED = ("test_1", "test_2")


@pytest.fixture(scope="module")
def white_background(tmp_path_factory):
    """(data folder, true boxes by test name): White test images whose white background joins the box."""
    root = tmp_path_factory.mktemp("white_background")
    data = root / "data"
    write_synth_set(data, n_train=60, n_test=4, seed=0, size=32)
    faces = pd.read_csv(data / "faces.csv")
    truth = {r["name"]: (r.top, r.left, r.bottom, r.right) for _, r in faces[faces.split == "test"].iterrows()}
    for name in PAINTED:
        path = data / "Testing" / "White" / f"{name}.png"
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        img[truth[name][2]:, :] = 255  # a white shirt or wall from the box down to the border
        cv2.imwrite(str(path), img)
    return data, truth


def constant_fill(test) -> np.ndarray:
    """The White images with each box (as the kit's masks cover it) filled by one grey: the course scores it 0."""
    return np.where(test.mask > 0.5, 0.5, test.white).astype(np.float64)


def test_stored_boxes_are_check_datas_and_every_judgement_uses_them(white_background, tmp_path):
    data, truth = white_background
    kit = load_data(data).csv_test  # what `inpaint check-data --data DATA` reads
    for name in PAINTED:  # the set does what the issue describes: the shape rule takes the background too
        white = kit.white[kit.names.index(name)]
        assert masks.find_box(white) != truth[name]
    assert [tuple(b) for b in kit.boxes] == [truth[n] for n in kit.names]

    comp = make_competition(tmp_path, data=data)
    stored = pd.read_csv(comp.dir / "test_boxes.csv")
    assert stored["image"].tolist() == kit.names
    np.testing.assert_array_equal(stored[["top", "left", "bottom", "right"]].to_numpy(), kit.boxes)

    judge = Judge(CompetitionPaths(comp.dir), load_settings(comp.dir))
    inputs = judge.test_inputs()
    np.testing.assert_array_equal(inputs.boxes, kit.boxes)
    np.testing.assert_array_equal(inputs.mask, kit.mask)
    filled = constant_fill(kit)
    table = read_table(export_predictions(filled, kit.names, tmp_path / "filled.csv"))
    np.testing.assert_allclose(judge.copy_features(table), copies.participant_features(filled, kit.mask), atol=1e-9)
    assert any(f.startswith("constant fill") for f in judge.flags(table))


@pytest.mark.slow
def test_server_diagnoses_and_frames_a_constant_fill_inside_the_stored_boxes(white_background, tmp_path):
    """On the shape-only boxes the fill's region takes in the White background too, and is no longer
    flat; the upload's pictures frame the stored boxes, not the shape-only ones."""
    data, _ = white_background
    kit = load_data(data).csv_test
    comp = make_competition(tmp_path, data=data)
    csv = export_predictions(constant_fill(kit), kit.names, tmp_path / "filled.csv")
    local = check_submission(csv, test=kit).diagnoses
    assert any(d.startswith("constant fill") for d in local)
    with running_server(comp.dir) as server:
        status, answer = http("POST", f"{server.url}/api/submissions", comp.tokens["ann"], csv.read_bytes())
        assert status == 201, answer
        assert answer["diagnoses"] == local
        status, standings = http("GET", f"{server.url}/api/admin/standings", comp.admin)
        assert status == 200
        assert "constant fill" in json.dumps(standings)
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            sign_in(browser, comp.tokens["ann"])
            picture = browser.get(f"/submissions/{answer['id']}/thumbnails.png")
    assert picture.status_code == 200
    filled = constant_fill(kit)
    assert picture.content == thumbnail_png(filled, kit.white, kit.names, boxes=kit.boxes)
    shape_only = np.array([masks.find_box(w) for w in kit.white])
    assert picture.content != thumbnail_png(filled, kit.white, kit.names, boxes=shape_only)


def test_a_folder_without_stored_boxes_names_the_command_and_the_command_restores_them(white_background, tmp_path,
                                                                                        run_cli):
    data, _ = white_background
    comp = make_competition(tmp_path, data=data)
    written = (comp.dir / "test_boxes.csv").read_bytes()
    (comp.dir / "test_boxes.csv").unlink()  # as a folder made by an older kit
    code, out, err = run_cli("serve", "--dir", comp.dir, "--port", "1")
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"inpaint competition boxes --dir {comp.dir} --data DATA" in lines[0], err
    code, out, err = run_cli("competition", "boxes", "--dir", comp.dir, "--data", data)
    assert code == 0, err
    assert (comp.dir / "test_boxes.csv").read_bytes() == written
