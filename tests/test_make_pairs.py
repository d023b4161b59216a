"""`inpaint make-pairs` on photos the test makes: scikit-image's bundled photographs (and rotated,
half-size, grayscale, GIF copies), the kit's synthetic faces, several-face photos and junk.

Ground truth never comes from the detector: the astronaut's eyes and mouth were read by hand off
a 4x enlargement of skimage.data.astronaut() with a 10-pixel grid, the cameraman's mouth likewise,
and the synthetic faces know where their mouth is. Each copy's truth is the same point moved by the
transform the test applied; pairs.csv's photo -> crop transform brings it into the output image.
"""
import csv
import sys

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint.data import load_data
from inpaint.datasets import align, face_detect
from inpaint.datasets.make_pairs import make_pairs, read_photo_rgb
from inpaint.datasets.pair_sheet import label_lines, sheet_image
from inpaint.datasets.synth import render_face
from inpaint.errors import DataError
from inpaint.imaging import natural_key
from submission import read_table

# (x, y) in the 512 x 512 astronaut: pupils, and the middle of the open smiling mouth.
ASTRONAUT_EYES = ((201.0, 100.0), (246.0, 103.0))
ASTRONAUT_MOUTH = (224.0, 146.0)
CAMERA_MOUTH = (237.0, 181.0)  # the cameraman's mouth (x, y), face turned three-quarters
SYNTH_FACES = [1, 3, 4]  # the LBP cascade (fallback test) also finds these once


def _moved(points, matrix):
    return cv2.transform(np.asarray(points, np.float64).reshape(-1, 1, 2), matrix).reshape(-1, 2)


def _rotated(img, degrees):
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE), m


def _synth_photo(folder, i, k):
    face = render_face(np.random.default_rng([0, 0, i]), 256)
    canvas = np.full((360, 420), 120, np.uint8)
    dy, dx = 30 + 10 * k, 40 + 15 * k  # faces sit at different places in the photos
    canvas[dy : dy + 256, dx : dx + 256] = face.real
    cv2.imwrite(str(folder / f"synth_{i}.png"), canvas)
    return face.mouth_center[1] + dx, face.mouth_center[0] + dy  # (x, y)


def _synth_only(folder, tmp_path):
    """A folder holding only the synthetic face photos of `folder`."""
    only = tmp_path / "photos"
    only.mkdir()
    for i in SYNTH_FACES:
        (only / f"synth_{i}.png").write_bytes((folder / f"synth_{i}.png").read_bytes())
    return only


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A photo folder and, per photo stem, its true eyes (or None) and mouth (x, y)."""
    folder = tmp_path_factory.mktemp("photos")
    rgb = data.astronaut()
    identity = np.float64([[1, 0, 0], [0, 1, 0]])
    copies = {"astronaut": (rgb, identity), "astronaut_gray": (cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), identity),
              "astronaut_half": (cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_AREA), identity * 0.5),
              "astronaut_big": (cv2.resize(rgb, (1536, 1536), interpolation=cv2.INTER_CUBIC), identity * 3)}
    for degrees in (10, 20):
        copies[f"astronaut_rot{degrees}"] = _rotated(rgb, degrees)
    truth = {}
    for name, (img, m) in copies.items():
        ext = ".jpg" if name == "astronaut" else ".png"
        cv2.imwrite(str(folder / f"{name}{ext}"), img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        truth[name] = (_moved(ASTRONAUT_EYES, m), _moved([ASTRONAUT_MOUTH], m)[0])
    Image.fromarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).save(folder / "astronaut_gif.gif")
    truth["astronaut_gif"] = truth["astronaut_gray"]
    cv2.imwrite(str(folder / "camera.png"), data.camera())
    truth["camera"] = (None, np.array(CAMERA_MOUTH))
    for k, i in enumerate(SYNTH_FACES):
        truth[f"synth_{i}"] = (None, np.array(_synth_photo(folder, i, k)))
    cv2.imwrite(str(folder / "wall.png"), np.full((200, 200), 90, np.uint8))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("x")
    return folder, truth


@pytest.fixture(scope="module")
def made(photos, tmp_path_factory):
    folder, _ = photos
    out = tmp_path_factory.mktemp("made") / "set"
    summary = make_pairs(folder, out, size=128, n_test=2, sheet=True)
    return summary, out, {r["name"]: r for r in csv.DictReader((out / "pairs.csv").open())}


def _to_crop(row, points):
    """Photo points -> output image points, with the transform pairs.csv records."""
    m = cv2.getRotationMatrix2D((0, 0), float(row["rotation"]), float(row["scale"]))
    m[:, 2] = float(row["shift_x"]), float(row["shift_y"])
    return _moved(points, m)


def test_every_face_is_paired_and_junk_is_listed_by_reason(made, photos):
    summary, out, rows = made
    _, truth = photos
    assert summary["detector"] == "mtcnn" and summary["photos"] == 14
    assert set(rows) == set(truth)
    skipped = {r["file"]: r["reason"] for r in csv.DictReader((out / "skipped.csv").open())}
    assert skipped == {"wall.png": "no face found", "broken.jpg": "unreadable image", "notes.txt": "not an image file"}
    assert summary["photos_per_second"] > 0
    assert all(r["faces"] == "1" and r["aligned"] == "1" and 0.8 <= float(r["confidence"]) <= 1 for r in rows.values())
    assert float(rows["astronaut"]["confidence"]) > 0.99
    ds = load_data(out, size=(128, 128))  # the set passes the kit's own checks, masks included
    assert len(ds.train_real.names) == 9 and len(ds.test_white.names) == 2


def test_white_box_lies_on_the_true_mouth(made, photos):
    _, _, rows = made
    _, truth = photos
    for name, (_, mouth) in truth.items():
        r = rows[name]
        x, y = _to_crop(r, [mouth])[0]
        top, left, bottom, right = (int(r[k]) for k in ("top", "left", "bottom", "right"))
        assert left <= x <= right and top <= y <= bottom, name
        # on the mouth, not merely around it: the point is near the middle of the box
        assert abs(x - (left + right) / 2) < 0.2 * (right - left), name
        assert abs(y - (top + bottom) / 2) < 0.3 * (bottom - top), name
        assert 0.02 < (bottom - top) * (right - left) / 128**2 < 0.2, name  # a mouth, not half the face


def test_alignment_makes_the_eye_line_level(made, photos):
    _, _, rows = made
    _, truth = photos
    for name, (eyes, _) in truth.items():
        if eyes is None:
            continue
        (lx, ly), (rx, ry) = _to_crop(rows[name], eyes)
        assert abs(np.degrees(np.arctan2(ry - ly, rx - lx))) < 2.0, name
        # and the eyes land where align.py puts them, whatever the photo's size and tilt
        assert abs((lx + rx) / 2 - 64) < 3 and abs((ly + ry) / 2 - align.EYE_ROW * 128) < 3, name
        assert abs((rx - lx) - align.EYE_SPAN * 128) < 3, name


def test_without_align_a_tilted_face_stays_tilted(photos, tmp_path):
    folder, truth = photos
    only = tmp_path / "photos"
    only.mkdir()
    for name in ("astronaut.jpg", "astronaut_rot20.png"):
        (only / name).write_bytes((folder / name).read_bytes())
    make_pairs(only, tmp_path / "set", n_test=1, align_faces=False)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "set" / "pairs.csv").open())}
    (lx, ly), (rx, ry) = _to_crop(rows["astronaut_rot20"], truth["astronaut_rot20"][0])
    assert rows["astronaut_rot20"]["aligned"] == "0" and float(rows["astronaut_rot20"]["rotation"]) == 0
    # rotating the photo 20 degrees counter-clockwise lifts the image-right eye: the hand-read line was at +3.8
    assert np.degrees(np.arctan2(ry - ly, rx - lx)) == pytest.approx(3.8 - 20, abs=2)


def test_contact_sheet_outlines_each_box(made):
    summary, out, rows = made
    sheet = cv2.imread(summary["sheet"])
    assert sheet.shape == (2 * (128 + 14), 8 * 128, 3)  # 11 pairs: 8 columns, 2 rows of tile + label
    first = next(iter(rows.values()))  # pairs.csv and the sheet share the order: the first tile is the first row
    top, left, bottom, right = (int(first[k]) for k in ("top", "left", "bottom", "right"))
    red = (sheet[..., 2] > 200) & (sheet[..., 1] < 60) & (sheet[..., 0] < 60)
    assert red[top, left:right].all() and red[bottom - 1, left:right].all() and red[top:bottom, left].all()
    assert not red[top + 2 : bottom - 2, left + 2 : right - 2].any()


def test_fixed_box_is_one_box_for_every_image(photos, tmp_path):
    only = _synth_only(photos[0], tmp_path)
    make_pairs(only, tmp_path / "mouth", n_test=1)
    make_pairs(only, tmp_path / "fixed", n_test=1, box="fixed")
    boxes = {kind: [tuple(int(r[k]) for k in ("top", "left", "bottom", "right"))
                    for r in csv.DictReader((tmp_path / kind / "pairs.csv").open())] for kind in ("mouth", "fixed")}
    median = tuple(int(round(v)) for v in np.median(boxes["mouth"], axis=0))
    assert boxes["fixed"] == [median] * 3


def _two_faces(small: float) -> np.ndarray:
    """The astronaut's head and a copy shrunk by `small`, side by side on a grey canvas."""
    head = data.astronaut()[20:240, 120:330]
    canvas = np.full((300, 560, 3), 128, np.uint8)
    canvas[40:260, 20:230] = head
    copy = cv2.resize(head, None, fx=small, fy=small, interpolation=cv2.INTER_AREA)
    canvas[40 : 40 + copy.shape[0], 300 : 300 + copy.shape[1]] = copy
    return canvas


def test_several_faces_take_the_clearly_largest_or_skip(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "big_and_small.png"), cv2.cvtColor(_two_faces(0.55), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "twins.png"), cv2.cvtColor(_two_faces(1.0), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "single.png"), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    make_pairs(folder, tmp_path / "set", n_test=1)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "set" / "pairs.csv").open())}
    skipped = {r["file"]: r["reason"] for r in csv.DictReader((tmp_path / "set" / "skipped.csv").open())}
    assert set(rows) == {"big_and_small", "single"} and rows["big_and_small"]["faces"] == "2"
    assert skipped == {"twins.png": "2 faces of similar size found"}
    # the big face (left, x < 230) was used: its mouth lands in the box
    mouth = np.array(ASTRONAUT_MOUTH) - (120 - 20, 20 - 40)
    x, y = _to_crop(rows["big_and_small"], [mouth])[0]
    assert int(rows["big_and_small"]["left"]) <= x <= int(rows["big_and_small"]["right"])
    assert int(rows["big_and_small"]["top"]) <= y <= int(rows["big_and_small"]["bottom"])


def test_jpeg_exif_orientation_is_honoured(tmp_path):
    upright = data.astronaut()[:, 64:448]  # not square, so a photo left on its side has the wrong shape
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # the camera stored it turned a quarter left
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    shown = read_photo_rgb(tmp_path / "phone.jpg")
    assert shown.shape == upright.shape
    assert np.abs(shown.astype(int) - upright).mean() < 4  # JPEG noise only


def test_gif_and_grayscale_photos_read_as_rgb(tmp_path):
    gray = data.camera()
    Image.fromarray(gray).save(tmp_path / "cam.gif")
    rgb = read_photo_rgb(tmp_path / "cam.gif")
    assert rgb.shape == (*gray.shape, 3) and np.array_equal(rgb[..., 0], gray) and np.array_equal(rgb[..., 2], gray)


def test_a_tiny_face_is_enlarged_and_found():
    tiny = (data.lfw_subset()[0] * 255).astype(np.uint8)  # 25 x 25 pixels, below MTCNN's 20-pixel minimum face
    faces = face_detect.find_faces(face_detect.load_detector(), np.dstack([tiny] * 3))
    assert len(faces) == 1
    x, y, w, h = faces[0].box  # in the tiny photo's own pixels
    assert 0 <= x < 12 < x + w <= 26 and w > 10


def test_a_folder_without_faces_is_exit_2_with_one_line(tmp_path, run_cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "wall.png"), np.full((200, 200), 90, np.uint8))
    cv2.imwrite(str(folder / "noise.png"), np.random.default_rng(0).integers(0, 255, (150, 180), np.uint8))
    (folder / "notes.txt").write_text("x")
    code, stdout, err = run_cli("make-pairs", "--faces", folder, "--out", tmp_path / "set")
    assert code == 2
    assert err.strip().count("\n") == 0 and "no usable face photo among 3 files" in err and "no face found" in err
    assert "Traceback" not in err and not (tmp_path / "set" / "pairs.csv").exists()


def test_cli_summary_names_the_detector_and_the_speed(photos, tmp_path, run_cli):
    only = _synth_only(photos[0], tmp_path)
    (only / "wall.png").write_bytes((photos[0] / "wall.png").read_bytes())
    code, stdout, err = run_cli("make-pairs", "--faces", only, "--out", tmp_path / "set", "--test", 1, "--size", 64, 64)
    assert code == 0, err
    assert "made 2 training pairs and 1 test images from 4 photos" in stdout
    assert "photos/s, detector mtcnn," in stdout and "skipped 1" in stdout
    assert load_data(tmp_path / "set", size=(64, 64)).train_real.images.shape == (2, 64, 64)


def test_cascade_is_the_fallback_when_mtcnn_is_missing(photos, tmp_path, run_cli, monkeypatch):
    only = _synth_only(photos[0], tmp_path)

    monkeypatch.setitem(sys.modules, "mtcnn", None)  # `import mtcnn` raises ImportError, as without the package
    face_detect.load_detector.cache_clear()
    try:
        code, stdout, err = run_cli("make-pairs", "--faces", only, "--out", tmp_path / "set", "--test", 1)
    finally:
        face_detect.load_detector.cache_clear()  # the next test gets MTCNN again
    assert code == 0, err
    assert "detector lbp-cascade (fallback: the mtcnn package is not installed)" in stdout
    rows = list(csv.DictReader((tmp_path / "set" / "pairs.csv").open()))
    assert [r["detector"] for r in rows] == ["lbp-cascade"] * 3


def test_too_few_faces_and_non_empty_output_are_errors(photos, tmp_path):
    folder, _ = photos
    with pytest.raises(DataError, match="only 11 usable face photos"):
        make_pairs(folder, tmp_path / "a", n_test=11)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        make_pairs(folder, tmp_path / "b")


def test_detector_ignores_weight_files_in_the_current_folder(tmp_path, monkeypatch):
    # the mtcnn package would unpickle a ./pnet.lz4 before its bundled copy
    (tmp_path / "pnet.lz4").write_bytes(b"not weights")
    monkeypatch.chdir(tmp_path)
    face_detect.load_detector.cache_clear()
    try:
        detector = face_detect.load_detector()
        faces = face_detect.find_faces(detector, data.astronaut())
    finally:
        face_detect.load_detector.cache_clear()
    assert detector.name == "mtcnn" and len(faces) == 1


def test_the_sample_submission_has_the_test_images_names_and_pixels(made, run_cli):
    """The validator's own example (`--sample sample_submission.csv`) needs a sample: make-pairs writes it."""
    _, out, rows = made
    tests = sorted((n for n, r in rows.items() if r["split"] == "Testing"), key=natural_key)
    sample = read_table(out / "sample_submission.csv")
    assert list(sample.columns) == tests and len(sample) == 128 * 128
    white = cv2.imread(str(out / "Testing" / "White" / f"{tests[0]}.png"), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_allclose(sample[tests[0]].to_numpy(), white.ravel() / 255.0, atol=1e-8)
    code, stdout, _ = run_cli("validate", out / "sample_submission.csv", "--sample", out / "sample_submission.csv",
                              "--data", out)
    assert code == 3 and "identical to the White images" in stdout  # accepted; the identity baseline, flagged


def test_the_contact_sheet_wraps_long_names_instead_of_cutting_them():
    long_name = "subject01_glasses_and_a_long_tail"
    lines = label_lines(long_name, 124)
    assert "".join(lines) == long_name and len(lines) == 2
    crop = np.full((128, 128), 120, np.uint8)
    sheet = sheet_image([(long_name, crop, (80, 40, 100, 90)), ("a", crop, (80, 40, 100, 90))])
    assert sheet.shape == (128 + 2 * 14, 2 * 128, 3)  # two label lines under every tile of the row
