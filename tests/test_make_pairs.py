"""`inpaint make-pairs` on photos the test makes: a real photograph, synthetic faces, and junk."""
import csv

import cv2
import numpy as np
import pytest
from skimage import data

from inpaint.data import load_data
from inpaint.errors import DataError
from inpaint.synth import render_face

FACES = [1, 3, 4, 6, 7, 8]  # synthetic faces the cascade finds once (checked when this test was written)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(folder / "astronaut.jpg"), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    mouths = {}
    for k, i in enumerate(FACES):
        face = render_face(np.random.default_rng([0, 0, i]), 256)
        canvas = np.full((360, 420), 120, np.uint8)
        dy, dx = 30 + 10 * k, 40 + 15 * k  # faces sit at different places in the photos
        canvas[dy : dy + 256, dx : dx + 256] = face.real
        cv2.imwrite(str(folder / f"synth_{i}.png"), canvas)
        mouths[f"synth_{i}"] = (face.mouth_center[0] + dy, face.mouth_center[1] + dx)
    cv2.imwrite(str(folder / "wall.png"), np.full((200, 200), 90, np.uint8))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("x")
    return folder, mouths


def test_make_pairs_builds_a_valid_set_and_lists_skipped_photos(photos, tmp_path, run_cli):
    folder, mouths = photos
    out = tmp_path / "set"
    code, stdout, err = run_cli("make-pairs", "--faces", folder, "--out", out, "--test", 2, "--size", 64)
    assert code == 0, err
    assert "made 5 training pairs and 2 test images from 10 photos" in stdout
    skipped = {r["file"]: r["reason"] for r in csv.DictReader((out / "skipped.csv").open())}
    assert skipped == {"wall.png": "no face found", "broken.jpg": "unreadable image", "notes.txt": "not an image file"}
    ds = load_data(out, size=(64, 64))  # the set passes the kit's own checks, masks included
    assert len(ds.train_real.names) == 5 and len(ds.test_white.names) == 2 and ds.test_real is not None


def test_white_box_lands_on_the_mouth(photos, tmp_path):
    from inpaint.make_pairs import make_pairs

    folder, mouths = photos
    make_pairs(folder, tmp_path / "set", size=128, n_test=1)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "set" / "pairs.csv").open())}
    for name, (row, col) in mouths.items():
        r = rows[name]
        k = 128 / float(r["crop_side"])
        mouth_row, mouth_col = (row - float(r["crop_top"])) * k, (col - float(r["crop_left"])) * k
        assert int(r["top"]) <= mouth_row <= int(r["bottom"]), name
        assert int(r["left"]) <= mouth_col <= int(r["right"]), name
        area = (int(r["bottom"]) - int(r["top"])) * (int(r["right"]) - int(r["left"])) / 128**2
        assert 0.04 < area < 0.15


def test_too_few_faces_and_non_empty_output_are_errors(photos, tmp_path):
    from inpaint.make_pairs import make_pairs

    folder, _ = photos
    with pytest.raises(DataError, match="only 7 usable face photos"):
        make_pairs(folder, tmp_path / "a", n_test=7)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        make_pairs(folder, tmp_path / "b")
