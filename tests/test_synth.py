"""The synthetic face set: determinism, layout, the white box, variety, refusing foreign folders."""
import csv

import numpy as np
import pytest

from inpaint.data import load_data
from inpaint.datasets.pair_sheet import real_white_sheet
from inpaint.datasets.synth import _render, render_face, write_synth_set
from inpaint.errors import DataError
from inpaint.imaging import read_gray_u8


def files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def faces(seed, n, size):
    return [_render(np.random.default_rng([seed, 0, i]), size) for i in range(n)]


def test_same_seed_gives_byte_identical_files_and_another_seed_other_images(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_synth_set(tmp_path / name, n_train=4, n_test=2, seed=seed, size=64)
    a, b, c = (files(tmp_path / n) for n in "abc")
    assert len(a) == 13 and a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a)  # every image and the csv differ


def test_layout_names_csv_summary_and_progress(tmp_path):
    calls = []
    summary = write_synth_set(tmp_path / "s", n_train=11, n_test=10, seed=1, size=64,
                              progress=lambda i, total: calls.append((i, total)))
    root = tmp_path / "s"
    assert calls == [(i, 21) for i in range(1, 22)]
    assert {k: summary[k] for k in ("train", "test", "size", "out")} == {
        "train": 11, "test": 10, "size": 64, "out": str(root)}
    assert summary["seconds"] >= 0
    assert sorted(p.name for p in root.iterdir()) == ["Testing", "Training", "faces.csv"]
    train = [f"face_{i:04d}.png" for i in range(1, 12)]
    test = [f"test_{i}.png" for i in range(1, 11)]
    for folder, names in (("Training/Real", train), ("Training/White", train),
                          ("Testing/Real", test), ("Testing/White", test)):
        assert sorted(p.name for p in (root / folder).iterdir()) == sorted(names), folder
    rows = list(csv.DictReader((root / "faces.csv").open()))
    expected = [("train", n) for n in train] + [("test", n) for n in test]
    assert [(r["split"], r["name"] + ".png") for r in rows] == expected
    for r in rows:
        split = "Training" if r["split"] == "train" else "Testing"
        real = read_gray_u8(root / split / "Real" / f"{r['name']}.png")
        white = read_gray_u8(root / split / "White" / f"{r['name']}.png")
        assert real.shape == white.shape == (64, 64)
        top, left, bottom, right = (int(r[k]) for k in ("top", "left", "bottom", "right"))
        changed = np.argwhere(white != real)  # the box as written, wherever the face was not already white
        assert changed.min(0).tolist() >= [top, left] and changed.max(0).tolist() <= [bottom - 1, right - 1]
        assert (white[top:bottom, left:right] == 255).all()
        assert top <= float(r["mouth_row"]) < bottom and left <= float(r["mouth_col"]) < right


def test_the_set_passes_the_kits_own_data_checks(tmp_path):
    write_synth_set(tmp_path / "s", n_train=6, n_test=2, size=64)
    ds = load_data(tmp_path / "s", size=(64, 64))
    assert len(ds.train_real.names) == 6 and len(ds.test_white.names) == 2 and ds.test_real is not None


def test_white_is_real_outside_the_box_and_pure_255_inside():
    for face, _ in faces(0, 50, 128):
        top, left, bottom, right = face.box
        inside = np.zeros(face.real.shape, bool)
        inside[top:bottom, left:right] = True
        assert face.real.dtype == face.white.dtype == np.uint8 and face.real.shape == (128, 128)
        assert (face.white[inside] == 255).all()
        np.testing.assert_array_equal(face.white[~inside], face.real[~inside])
        assert not (face.real[inside] == 255).all()  # there was a face under the box


def test_box_is_about_9_percent_inside_the_image_and_covers_the_whole_mouth():
    areas = []
    for face, (m_top, m_left, m_bottom, m_right) in faces(0, 50, 128):
        top, left, bottom, right = face.box
        assert 0 <= top < bottom <= 128 and 0 <= left < right <= 128
        areas.append((bottom - top) * (right - left) / 128**2)
        assert top <= m_top and m_bottom < bottom and left <= m_left and m_right < right
        row, col = face.mouth_center
        assert top <= row < bottom and left <= col < right
        # centred on the mouth, give or take a few pixels of jitter
        assert abs((top + bottom - 1) / 2 - row) <= 4 and abs((left + right - 1) / 2 - col) <= 4
    assert all(0.07 <= a <= 0.11 for a in areas)
    assert max(areas) - min(areas) > 0.005  # the box follows the mouth's width a little


@pytest.mark.parametrize("size", [32, 48, 200])
def test_box_covers_the_mouth_at_other_sizes(size):
    for face, (m_top, m_left, m_bottom, m_right) in faces(2, 30, size):
        top, left, bottom, right = face.box
        assert 0 <= top <= m_top and m_bottom < bottom <= size and 0 <= left <= m_left and m_right < right <= size
        assert (bottom - top) * (right - left) / size**2 < 0.15


def test_faces_and_mouths_vary():
    rendered = [face for face, _ in faces(1, 30, 64)]
    stack = np.stack([f.real for f in rendered]).astype(float)
    assert stack.std(axis=0).mean() > 15  # layout, tones and hair differ, not just noise
    mouths = []
    for f in rendered:
        row, col = (int(round(v)) for v in f.mouth_center)
        mouths.append(f.real[row - 5 : row + 6, col - 10 : col + 11].astype(float))
    mouths = np.stack(mouths)
    assert mouths.std(axis=0).mean() > 12
    # the mouth is darker than the cheeks beside it on most faces, whatever the skin tone
    darker = [m[3:8].min() < m[:, [0, -1]].mean() - 10 for m in mouths]
    assert sum(darker) >= 0.8 * len(darker)


def test_some_faces_have_white_highlights_outside_the_box():
    blown = []
    for face, _ in faces(3, 40, 128):
        top, left, bottom, right = face.box
        outside = face.real.copy()
        outside[top:bottom, left:right] = 0
        blown.append((outside == 255).any())
    assert 0.2 <= np.mean(blown) <= 0.9  # distractors for mask finders, but not on every face


def test_image_k_does_not_depend_on_set_size_and_train_test_streams_differ(tmp_path):
    write_synth_set(tmp_path / "small", n_train=5, n_test=2, size=64)
    write_synth_set(tmp_path / "big", n_train=8, n_test=2, size=64)
    small, big = files(tmp_path / "small"), files(tmp_path / "big")
    images = [k for k in small if k.suffix == ".png"]
    assert len(images) == 14 and all(small[k] == big[k] for k in images)
    real = tmp_path / "small" / "Training" / "Real"
    assert (real / "face_0001.png").read_bytes() != (tmp_path / "small/Testing/Real/test_1.png").read_bytes()


def test_render_face_is_a_pure_function_of_the_generator():
    a = render_face(np.random.default_rng([7, 0, 3]), 64)
    b = render_face(np.random.default_rng([7, 0, 3]), 64)
    assert a.box == b.box and a.mouth_center == b.mouth_center
    assert np.array_equal(a.real, b.real) and np.array_equal(a.white, b.white)


def test_refuses_foreign_folders_and_leaves_them_alone(tmp_path, run_cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(DataError, match="not a synthetic set"):
        write_synth_set(mine, n_train=2, n_test=1, size=64)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]

    course = tmp_path / "course"  # a real competition folder has the same layout but no faces.csv
    write_synth_set(course, n_train=2, n_test=1, size=64)
    (course / "faces.csv").unlink()
    with pytest.raises(DataError, match="not a synthetic set"):
        write_synth_set(course, n_train=2, n_test=1, size=64)

    extra = tmp_path / "extra"  # a synthetic set someone has added their own files to
    write_synth_set(extra, n_train=2, n_test=1, size=64)
    (extra / "Training" / "Real" / "me.jpg").write_bytes(b"x")
    with pytest.raises(DataError, match="not a synthetic set"):
        write_synth_set(extra, n_train=2, n_test=1, size=64)
    assert (extra / "Training" / "Real" / "me.jpg").read_bytes() == b"x"

    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        write_synth_set(tmp_path / "file", n_train=2, n_test=1, size=64)

    code, _, err = run_cli("synth", "--out", mine, "--train", 2)
    assert code == 2 and "not a synthetic set" in err


def test_replaces_a_previous_synthetic_set(tmp_path):
    out = tmp_path / "again"
    write_synth_set(out, n_train=3, n_test=2, size=64)
    write_synth_set(out, n_train=2, n_test=1, size=64, seed=5)
    assert sorted(p.name for p in (out / "Training/Real").iterdir()) == ["face_0001.png", "face_0002.png"]
    assert sorted(p.name for p in (out / "Testing/White").iterdir()) == ["test_1.png"]
    assert len((out / "faces.csv").read_text().splitlines()) == 1 + 3
    fresh = tmp_path / "fresh"
    write_synth_set(fresh, n_train=2, n_test=1, size=64, seed=5)
    assert files(out) == files(fresh)


@pytest.mark.parametrize("kwargs", [dict(n_train=0), dict(n_test=0), dict(size=31), dict(n_train=-3)])
def test_bad_arguments_raise_data_error_and_write_nothing(tmp_path, kwargs):
    with pytest.raises(DataError):
        write_synth_set(tmp_path / "x", **{"n_train": 2, "n_test": 1, "size": 64, **kwargs})
    assert not (tmp_path / "x").exists()


def test_contact_sheet_tiles_real_and_white_pairs():
    rendered = [render_face(np.random.default_rng([0, 0, i]), 32) for i in range(5)]
    sheet = real_white_sheet([(f.real, f.white) for f in rendered], cols=2, gap=4)
    assert sheet.dtype == np.uint8
    assert sheet.shape == (3 * (32 + 4) + 4, 2 * (65 + 4) + 4)
    np.testing.assert_array_equal(sheet[4:36, 4:36], rendered[0].real)
    np.testing.assert_array_equal(sheet[4:36, 37:69], rendered[0].white)
    assert (sheet[4:36, 36] == 0).all()  # the separator between a face and its blanked twin
    np.testing.assert_array_equal(sheet[40:72, 73:105], rendered[3].real)
