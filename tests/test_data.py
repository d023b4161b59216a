"""The data folder contract: pairing, checks, reading, and `inpaint check-data`."""
import shutil

import cv2
import numpy as np
import pytest

from conftest import blank, mouth_box, write_set
from inpaint.data import load_data
from inpaint.errors import DataError
from inpaint.masks import box_mask


def test_valid_folder_loads_pairs_in_natural_order_and_check_data_exits_0(tiny_set, run_cli):
    ds = load_data(tiny_set, size=(32, 32))
    assert ds.train_real.names[:3] == ["face_0", "face_1", "face_2"]
    assert ds.train_real.names[-2:] == ["face_10", "face_11"]  # natural, not lexicographic
    assert ds.train_real.images.shape == (12, 32, 32) and ds.train_real.images.dtype == np.float32
    assert 0.0 <= ds.train_real.images.min() and ds.train_real.images.max() <= 1.0
    assert ds.test_white.names == ["test_1", "test_2", "test_3"]
    assert ds.test_real is not None and ds.test_real.names == ds.test_white.names
    code, out, _ = run_cli("check-data", "--data", tiny_set, "--size", 32, 32)
    assert code == 0
    assert "training pairs: 12" in out and "test images: 3" in out and "mask area" in out


def test_pixels_are_metric_space_of_the_file(tmp_path):
    root = write_set(tmp_path / "d", n_train=2, n_test=1, size=16)
    ds = load_data(root, size=(16, 16))
    raw = cv2.imread(str(root / "Training/Real/face_1.png"), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(ds.train_real.images[1], raw.astype(np.float32) / 255)


def test_colour_and_other_sizes_are_converted_to_gray_and_resized(tmp_path):
    root = write_set(tmp_path / "d", n_train=3, n_test=1, size=64, ext=".jpg")
    colour = cv2.cvtColor(cv2.imread(str(root / "Training/Real/face_0.jpg"), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(root / "Training/Real/face_0.jpg"), colour)
    ds = load_data(root, size=(32, 24))  # non-square and not a power of two: the loader does not care
    assert ds.train_real.images.shape == (3, 32, 24)
    assert "64x64 .jpg" in ds.facts["native sizes and formats"]


def test_unmatched_pair_lists_names_and_exits_2(tiny_set, run_cli):
    (tiny_set / "Training/White/face_3.png").unlink()
    (tiny_set / "Training/White/face_7.png").rename(tiny_set / "Training/White/other.png")
    with pytest.raises(DataError) as info:
        load_data(tiny_set, size=(32, 32))
    msg = str(info.value)
    assert "Training/Real images without a Training/White twin: face_3, face_7" in msg
    assert "Training/White images without a Training/Real twin: other" in msg
    code, out, err = run_cli("check-data", "--data", tiny_set, "--size", 32, 32)
    assert code == 2 and "face_3" in out and "Traceback" not in out + err


def test_duplicate_stem_is_an_error_naming_both_files(tiny_set):
    cv2.imwrite(str(tiny_set / "Training/Real/face_2.jpg"), np.zeros((32, 32), np.uint8))
    with pytest.raises(DataError, match=r"share a name.*face_2 \(face_2.jpg, face_2.png\)"):
        load_data(tiny_set, size=(32, 32))


def test_corrupt_and_non_image_files_are_reported_together(tiny_set, run_cli):
    (tiny_set / "Training/White/face_4.png").write_bytes(b"not a png at all")
    (tiny_set / "Training/Real/notes.txt").write_text("hello")
    (tiny_set / "Training/Real/.DS_Store").write_text("ignored")
    with pytest.raises(DataError) as info:
        load_data(tiny_set, size=(32, 32))
    assert "unreadable images: face_4.png" in str(info.value)
    assert "not image files: notes.txt" in str(info.value)
    assert ".DS_Store" not in str(info.value)
    code, _, err = run_cli("train", "--data", tiny_set, "--run", tiny_set.parent / "run", "--preset", "lite",
                           "--size", 32, 32)
    assert code == 2 and "face_4.png" in err and len(err.strip().splitlines()) == 1
    assert not (tiny_set.parent / "run").exists()  # nothing was written for a bad folder


def test_empty_and_missing_folders_are_errors(tmp_path, run_cli):
    root = tmp_path / "d"
    for sub in ("Training/Real", "Training/White", "Testing/White"):
        (root / sub).mkdir(parents=True)
    with pytest.raises(DataError) as info:
        load_data(root)
    assert "Training/Real: no images" in str(info.value) and "Testing/White: no images" in str(info.value)
    code, out, _ = run_cli("check-data", "--data", tmp_path / "nowhere")
    assert code == 2


def test_long_lists_are_cut_to_ten_names_with_a_count(tiny_set):
    for i in range(20, 35):
        cv2.imwrite(str(tiny_set / f"Training/Real/extra_{i}.png"), np.zeros((32, 32), np.uint8))
    with pytest.raises(DataError, match=r"\(\+5 more, 15 in all\)"):
        load_data(tiny_set, size=(32, 32))


def test_pair_by_order_pairs_differently_named_sets_and_warns(tiny_set, capsys):
    for i, path in enumerate(sorted((tiny_set / "Training/White").iterdir())):
        path.rename(path.with_name(f"w{i:03d}.png"))
    with pytest.raises(DataError):
        load_data(tiny_set, size=(32, 32))
    ds = load_data(tiny_set, size=(32, 32), by_order=True)
    assert len(ds.train_real.names) == 12
    assert "NOT by name" in capsys.readouterr().err


def test_test_answers_with_other_names_are_an_error(tiny_set):
    (tiny_set / "Testing/Real/test_2.png").rename(tiny_set / "Testing/Real/test_9.png")
    with pytest.raises(DataError, match="Testing/White images without a Testing/Real twin: test_2"):
        load_data(tiny_set, size=(32, 32))


def test_white_image_without_a_box_is_reported(tiny_set):
    img = cv2.imread(str(tiny_set / "Training/Real/face_5.png"), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(tiny_set / "Training/White/face_5.png"), img)
    with pytest.raises(DataError, match="no white box found.*face_5"):
        load_data(tiny_set, size=(32, 32))


def test_train_only_commands_do_not_need_test_images(tiny_set):
    for path in (tiny_set / "Testing/White").iterdir():
        path.unlink()
    assert load_data(tiny_set, size=(32, 32), need_test=False).train_real is not None
    with pytest.raises(DataError, match="Testing/White: no images"):
        load_data(tiny_set, size=(32, 32))


# ---------------------------------------------------------------- masks from evidence


def _write_pair(root, name, real, box, test=False):
    split = "Testing" if test else "Training"
    cv2.imwrite(str(root / split / "White" / f"{name}.png"), blank(real, box))
    cv2.imwrite(str(root / split / "Real" / f"{name}.png"), real)


def _wall_face(size=32):
    """A face whose white background touches the mouth box's right side."""
    real = np.full((size, size), 120, np.uint8)
    real[::2, ::3] = 90  # some texture
    real[:, mouth_box(size)[3]:] = 255
    return real


def test_training_masks_come_from_the_pair_even_when_the_box_touches_a_white_wall(tiny_set):
    _write_pair(tiny_set, "face_3", _wall_face(), mouth_box(32))
    ds = load_data(tiny_set, size=(32, 32))
    assert tuple(ds.train_boxes[3]) == mouth_box(32)
    np.testing.assert_array_equal(ds.train_mask[3], box_mask((32, 32), mouth_box(32), grow=1))


def test_test_mask_against_a_white_wall_follows_the_training_boxes_also_when_predicting(tiny_set):
    _write_pair(tiny_set, "test_2", _wall_face(), mouth_box(32), test=True)
    for need_train in (True, False):  # predict and submit read no training images otherwise
        ds = load_data(tiny_set, size=(32, 32), need_train=need_train)
        assert tuple(ds.test_boxes[1]) == mouth_box(32) and ds.unlike_boxes == {}


def test_check_data_reports_mask_agreement_and_names_an_oversized_test_mask(tiny_set, run_cli):
    top, left, bottom, right = mouth_box(32)
    real = cv2.imread(str(tiny_set / "Testing/Real/test_3.png"), cv2.IMREAD_GRAYSCALE)
    _write_pair(tiny_set, "test_3", real, (top - 8, left - 4, bottom + 2, right + 4), test=True)
    code, out, err = run_cli("check-data", "--data", tiny_set, "--size", 32, 32)
    assert code == 0
    assert "mask finder agrees on 12/12 training pairs" in out
    assert "test mask unlike the training boxes: test_3 (white region of 18x20 pixels is 3.8x" in out
    assert "WARNING" in err and "test_3" in err


@pytest.mark.parametrize("given", ["Training", "Training/Real", "Testing"])
def test_a_folder_inside_the_data_folder_asks_did_you_mean_the_data_folder(tiny_set, given, run_cli, monkeypatch):
    monkeypatch.chdir(tiny_set.parent)
    code, out, _ = run_cli("check-data", "--data", f"data/{given}")
    assert code == 2
    assert out.splitlines() == [f"data/{given}: 1 problem",
                                f"  - data/{given}: no Training/ or Testing/ inside; it is part of a data folder: "
                                "did you mean --data data?"]


def test_a_folder_of_photos_points_to_make_pairs(tiny_set, run_cli):
    photos = tiny_set / "Training" / "Real"
    shutil.copytree(photos, tiny_set.parent / "photos")
    code, out, _ = run_cli("check-data", "--data", tiny_set.parent / "photos")
    assert code == 2 and "12 images but no Training/ and Testing/ folders" in out
    assert f"inpaint make-pairs --faces {tiny_set.parent / 'photos'} --out DATA" in out


def test_photos_without_an_extension_point_to_make_pairs_too(tiny_set, run_cli):
    """The Yale faces are GIFs named `subject01.happy`: found by their content, not their names."""
    from PIL import Image

    (tiny_set.parent / "yale").mkdir()
    for i, png in enumerate(sorted((tiny_set / "Training" / "Real").iterdir())[:3]):
        Image.open(png).save(tiny_set.parent / "yale" / f"subject0{i}.happy", format="GIF")
    (tiny_set.parent / "yale" / "Readme").write_text("not a photo\n")
    code, out, _ = run_cli("check-data", "--data", tiny_set.parent / "yale")
    assert code == 2 and "3 images but no Training/ and Testing/ folders" in out
    assert f"inpaint make-pairs --faces {tiny_set.parent / 'yale'} --out DATA" in out


def test_one_problem_is_one_problem(tiny_set):
    (tiny_set / "Training/White/face_3.png").unlink()
    with pytest.raises(DataError, match=r"\(1 problem\): "):
        load_data(tiny_set, size=(32, 32))
