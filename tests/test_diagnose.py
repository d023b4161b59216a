"""Each export mistake is named on a planted case; a genuine (noisy but right) prediction gets no diagnosis."""
import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import write_set
from submission import diagnose, export_predictions, read_table
from submission.thumbnails import thumbnail_png, thumbnail_sheet
from inpaint.masks import box_mask

NAMES = [f"test_{i}" for i in range(1, 11)]  # natural order, as the scorer expects them


def make_test_set(n=10, shape=(32, 32), seed=0):
    """Faces stand-ins: smooth, asymmetric random fields in [0.15, 0.85], a white box in the lower middle."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    real = []
    for _ in range(n):
        field = cv2.GaussianBlur(rng.normal(0, 1, shape), (0, 0), 2.0)
        field = (field - field.min()) / (np.ptp(field) + 1e-12)
        real.append(0.15 + 0.7 * field)
    real = np.stack(real)
    box = (rows * 5 // 8, cols // 4, rows * 7 // 8, cols * 3 // 4)
    mask = np.stack([box_mask(shape, box, grow=1).astype(np.float64)] * n)
    white = real.copy()
    white[:, box[0]:box[2], box[1]:box[3]] = 1.0
    return real, white, mask


def genuine(real, white, mask, seed=1):
    """A right prediction: the input outside the box, the answer plus noise (sd 0.03) inside."""
    noisy = np.clip(real + np.random.default_rng(seed).normal(0, 0.03, real.shape), 0, 1)
    return mask * noisy + (1 - mask) * white


@pytest.fixture
def case():
    real, white, mask = make_test_set()
    return real, white, mask, genuine(real, white, mask)


def test_genuine_noisy_prediction_gets_no_diagnosis(case):
    real, white, mask, pred = case
    assert diagnose.diagnose_images(pred, white, mask, NAMES) == []


def test_uncomposited_prediction_with_small_error_everywhere_gets_no_diagnosis(case):
    real, white, mask, pred = case
    blurred = np.clip(pred + np.random.default_rng(2).normal(0, 0.015, pred.shape), 0, 1)
    assert diagnose.diagnose_images(blurred, white, mask, NAMES) == []


def test_tanh_range_is_named_with_the_rescaling(case):
    real, white, mask, pred = case
    (sentence,) = diagnose.diagnose_images(pred * 2 - 1, white, mask, NAMES)
    assert "[-1, 1]" in sentence and "(x + 1) / 2" in sentence


def test_0_255_range_is_named_with_the_division(case):
    real, white, mask, pred = case
    (sentence,) = diagnose.diagnose_images(pred * 255, white, mask, NAMES)
    assert "0-255" in sentence and "divide by 255" in sentence


@pytest.mark.parametrize("plant, words", [
    (lambda p: p[:, :, ::-1], "mirrored left-right"),
    (lambda p: p[:, ::-1, :], "upside down"),
    (lambda p: p[:, ::-1, ::-1], "rotated by 180"),
    (lambda p: np.transpose(p, (0, 2, 1)), "transposed"),
    (lambda p: np.roll(p, (0, 1), axis=(1, 2)), "shifted by 0 row(s) and 1 column(s)"),
    (lambda p: np.roll(p, (-2, 0), axis=(1, 2)), "shifted by -2 row(s) and 0 column(s)"),
])
def test_layout_mistake_is_named(case, plant, words):
    real, white, mask, pred = case
    (sentence,) = diagnose.diagnose_images(plant(pred), white, mask, NAMES)
    assert words in sentence


def test_tanh_and_transposed_together_get_both_sentences(case):
    real, white, mask, pred = case
    found = diagnose.diagnose_images(np.transpose(pred, (0, 2, 1)) * 2 - 1, white, mask, NAMES)
    assert len(found) == 2 and "(x + 1) / 2" in found[0] and "transposed" in found[1]


def test_column_major_flattening_of_non_square_images_is_named_transposed():
    real, white, mask = make_test_set(n=4, shape=(24, 40))
    pred = genuine(real, white, mask)
    read_back = np.stack([p.ravel(order="F").reshape(p.shape) for p in pred])  # what the scorer reads
    (sentence,) = diagnose.diagnose_images(read_back, white, mask, NAMES[:4])
    assert "order='C'" in sentence


def test_images_made_at_another_size_with_the_same_pixel_count_are_named():
    real, white, mask = make_test_set(n=4, shape=(24, 24))
    pred = genuine(real, white, mask)
    read_back = np.stack([cv2.resize(p, (32, 18), interpolation=cv2.INTER_AREA).reshape(24, 24) for p in pred])
    (sentence,) = diagnose.diagnose_images(read_back, white, mask, NAMES[:4])
    assert "made at 18x32" in sentence and "24x24" in sentence


def test_text_sorted_image_names_are_named_with_natural_order_advice(case):
    real, white, mask, pred = case
    as_text = sorted(range(10), key=lambda i: NAMES[i])  # test_1, test_10, test_2, ...
    (sentence,) = diagnose.diagnose_images(pred[as_text], white, mask, NAMES)
    assert sentence.startswith("9 of 10 columns hold another test image")
    assert "'test_2' holds 'test_10'" in sentence and "test_2 before test_10" in sentence


def test_two_swapped_images_are_named_without_the_text_sort_hint(case):
    real, white, mask, pred = case
    order = list(range(10))
    order[3], order[7] = 7, 3
    (sentence,) = diagnose.diagnose_images(pred[order], white, mask, NAMES)
    assert sentence.startswith("2 of 10 columns") and "'test_4' holds 'test_8'" in sentence
    assert "test_2 before test_10" not in sentence


@pytest.mark.parametrize("fill, words", [
    (lambda w, m, rng: w, "identical to the White images"),
    (lambda w, m, rng: m * 0.5 + (1 - m) * w, "constant fill"),
    (lambda w, m, rng: m * rng.random(w.shape) + (1 - m) * w, "random noise"),
])
def test_rule_breaking_fills_reuse_the_flags_and_say_what_to_do(case, fill, words):
    real, white, mask, pred = case
    (sentence,) = diagnose.diagnose_images(fill(white, mask, np.random.default_rng(3)), white, mask, NAMES)
    assert words in sentence and "Generator" in sentence


def test_a_nearly_flat_box_is_named_but_not_a_classical_fill(case):
    """Issue 36: an untrained generator's gray boxes (spread 0.009) were accepted as OK."""
    real, white, mask, pred = case
    gray = np.clip(0.5 + np.random.default_rng(4).normal(0, 0.009, white.shape), 0, 1)
    (sentence,) = diagnose.diagnose_images(mask * gray + (1 - mask) * white, white, mask, NAMES)
    assert "nearly flat in 10 of 10 images" in sentence and "Train longer" in sentence
    # OpenCV Telea's fill is smooth but follows the face around the box: not flat.
    telea = np.stack([cv2.inpaint((w * 255).round().astype(np.uint8), (m * 255).astype(np.uint8), 3,
                                  cv2.INPAINT_TELEA) / 255.0 for w, m in zip(white, mask)])
    spread = min(t[m > 0.5].std() for t, m in zip(telea, mask))
    assert spread > diagnose.FLAT_BOX_STD and diagnose.diagnose_images(telea, white, mask, NAMES) == []


def test_row_count_of_another_image_size_is_named():
    (sentence,) = diagnose.row_count_diagnosis(16 * 16, (32, 32))
    assert "images of 16x16" in sentence and "the test images are 32x32 (1024 rows)" in sentence
    assert diagnose.row_count_diagnosis(32 * 32, (32, 32)) == []


def test_a_csv_of_a_few_rows_is_called_short_not_written_at_a_tiny_size():
    assert diagnose.row_count_diagnosis(1, (64, 64)) == [
        "your CSV has 1 row(s); the test images are 64x64, so it needs 4096 (one per pixel, flattened row-major)"]
    assert "images of" not in diagnose.row_count_diagnosis(4, (64, 64))[0]


def test_csv_written_column_major_is_diagnosed_from_the_file(tmp_path, case):
    real, white, mask, pred = case
    flat = pred.reshape(10, -1, order="F").T  # the mistake: order='F'
    table = pd.DataFrame(flat, columns=NAMES)
    table.insert(0, "id", np.arange(flat.shape[0]))
    table.to_csv(tmp_path / "Predict.csv", index=False)
    (sentence,) = diagnose.diagnose_file(tmp_path / "Predict.csv", white, mask, NAMES)
    assert "transposed" in sentence


def test_table_images_read_columns_by_name_and_rows_by_id(tmp_path, case):
    real, white, mask, pred = case
    export_predictions(pred, NAMES, tmp_path / "ok.csv")
    table = read_table(tmp_path / "ok.csv")
    shuffled = table.sample(frac=1.0, random_state=0)[NAMES[::-1]]  # rows and columns in any order
    images = diagnose.table_images(shuffled, NAMES, (32, 32))
    assert images.dtype == np.float64
    np.testing.assert_allclose(images, pred, atol=1e-9)
    assert diagnose.diagnose_file(tmp_path / "ok.csv", white, mask, NAMES) == []


def test_unreadable_file_gets_no_diagnosis(tmp_path, case):
    real, white, mask, pred = case
    (tmp_path / "bad.csv").write_text("pixel;value\n")
    assert diagnose.diagnose_file(tmp_path / "bad.csv", white, mask, NAMES) == []


def test_thumbnail_sheet_shows_inputs_above_predictions():
    white = np.full((2, 8, 8), 1.0)
    pred = np.zeros((2, 8, 8))
    pred[1] = 2.0  # outside [0, 1]: shown clipped, as white
    sheet = thumbnail_sheet(pred, white, ["a", "b"], tile=16)
    top = 4 + 14  # GAP + LABEL_HEIGHT: first tile row
    low = top + 16 + 14 + 4
    assert sheet.dtype == np.uint8 and sheet.shape == (2 * (16 + 14) + 12, 2 * 20 + 4)
    assert (sheet[top:top + 16, 4:20] == 255).all()  # input a: white
    assert (sheet[low:low + 16, 4:20] == 0).all()  # prediction a: black
    assert (sheet[low:low + 16, 24:40] == 255).all()  # prediction b, clipped
    decoded = cv2.imdecode(np.frombuffer(thumbnail_png(pred, white, ["a", "b"], tile=16), np.uint8),
                           cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(decoded, sheet)


def test_fifty_thumbnails_wrap_in_bands_of_ten_images():
    white = np.full((50, 8, 8), 1.0)
    pred = np.zeros((50, 8, 8))
    pred[37] = 1.0  # the only white prediction: band 3, column 7
    sheet = thumbnail_sheet(pred, white, tile=16)
    band = 2 * (16 + 14) + 3 * 4
    assert sheet.shape == (5 * band, 10 * (16 + 4) + 4)
    top, left = 3 * band + 4 + (16 + 14 + 4) + 14, 4 + 7 * (16 + 4)
    assert (sheet[top:top + 16, left:left + 16] == 255).all()
    assert (sheet[top:top + 16, left - 20:left - 4] == 0).all()  # image 36's prediction, to its left
    assert (sheet[top - 34:top - 18, left:left + 16] == 255).all()  # image 37's input, above it


def test_validate_with_data_prints_the_diagnosis(tmp_path, run_cli):
    data = write_set(tmp_path / "data", n_train=1, n_test=3, size=32)
    whites = np.stack([cv2.imread(str(data / f"Testing/White/test_{i}.png"), 0) / 255.0 for i in (1, 2, 3)])
    export_predictions(np.transpose(whites, (0, 2, 1)), ["test_1", "test_2", "test_3"], tmp_path / "t.csv")
    code, out, err = run_cli("validate", tmp_path / "t.csv", "--data", data)
    assert code == 3, err  # accepted by the scorer, scored badly
    assert "diagnosis: your images look transposed" in out
    export_predictions(whites, ["test_1", "test_2", "test_3"], tmp_path / "w.csv")
    code, out, err = run_cli("validate", tmp_path / "w.csv", "--data", data)
    assert "diagnosis: identical to the White images" in out and "transposed" not in out
