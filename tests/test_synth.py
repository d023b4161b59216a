"""The synthetic face set: layout, determinism, the box, variety."""
import csv

import numpy as np
import pytest

from inpaint.data import load_data
from inpaint.errors import DataError
from inpaint.synth import render_face, write_synth_set


def files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_faces(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_synth_set(tmp_path / name, n_train=4, n_test=2, seed=seed, size=64)
    a, b, c = (files(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a if k.suffix == ".png")


def test_layout_names_and_faces_csv(tmp_path, run_cli):
    code, out, _ = run_cli("synth", "--out", tmp_path / "s", "--train", 11, "--test", 10, "--size", 64)
    assert code == 0 and "11 training pairs" in out
    root = tmp_path / "s"
    assert sorted(p.name for p in (root / "Testing/White").iterdir())[:3] == ["test_1.png", "test_10.png", "test_2.png"]
    assert {p.name for p in (root / "Training/Real").iterdir()} == {p.name for p in (root / "Training/White").iterdir()}
    assert (root / "Training/Real/face_0011.png").exists()
    rows = list(csv.DictReader((root / "faces.csv").open()))
    assert len(rows) == 21 and rows[0]["name"] == "face_0001" and rows[-1]["name"] == "test_10"
    ds = load_data(root, size=(64, 64))  # the set passes its own contract
    assert len(ds.train_real.names) == 11 and ds.test_real is not None


def test_box_is_pure_white_covers_the_mouth_and_is_about_9_percent():
    for i in range(50):
        face = render_face(np.random.default_rng([0, 0, i]), 128)
        top, left, bottom, right = face.box
        inside = np.zeros_like(face.real, bool)
        inside[top:bottom, left:right] = True
        assert (face.white[inside] == 255).all()
        np.testing.assert_array_equal(face.white[~inside], face.real[~inside])
        assert 0.07 <= inside.mean() <= 0.11
        row, col = face.mouth_center
        assert top + 4 <= row <= bottom - 4 and left + 8 <= col <= right - 8


def test_faces_vary_in_the_mouth_and_elsewhere():
    faces = [render_face(np.random.default_rng([1, 0, i]), 64) for i in range(20)]
    stack = np.stack([f.real for f in faces]).astype(float)
    assert stack.std(axis=0).mean() > 15
    mouths = np.stack([f.real[f.box[0]:f.box[2], f.box[1]:f.box[3]][:10, :20] for f in faces]).astype(float)
    assert mouths.std(axis=0).mean() > 10


def test_image_k_does_not_depend_on_set_size(tmp_path):
    write_synth_set(tmp_path / "small", n_train=5, n_test=1, size=64)
    write_synth_set(tmp_path / "big", n_train=8, n_test=1, size=64)
    for name in ("Training/Real/face_0003.png", "Testing/White/test_1.png"):
        assert (tmp_path / "small" / name).read_bytes() == (tmp_path / "big" / name).read_bytes()


def test_refuses_foreign_folder_and_bad_arguments(tmp_path, run_cli):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(DataError, match="not a synthetic set"):
        write_synth_set(tmp_path / "mine", n_train=2, n_test=1, size=64)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    for kwargs in (dict(n_train=0), dict(n_test=0), dict(size=16)):
        with pytest.raises(DataError):
            write_synth_set(tmp_path / "x", **{"n_train": 2, "n_test": 1, "size": 64, **kwargs})
    code, _, err = run_cli("synth", "--out", tmp_path / "mine", "--train", 2)
    assert code == 2 and "not a synthetic set" in err
    write_synth_set(tmp_path / "again", n_train=3, n_test=1, size=64)
    write_synth_set(tmp_path / "again", n_train=2, n_test=1, size=64)  # a previous synthetic set is replaced
    assert len(list((tmp_path / "again/Training/Real").iterdir())) == 2
