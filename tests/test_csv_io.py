"""submission.csv_io: table layout, sample submissions, atomic writes, strict reading."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from inpaint import imaging
from submission import image_files
from inpaint.errors import SubmissionError
from submission import export_folder, export_predictions, read_table, solution_from_answers
from submission.csv_io import build_table


def lines(path):
    return path.read_text().splitlines()


# ---------------------------------------------------------------- layout


def test_row_major_layout_puts_one_image_down_one_column():
    image = (np.arange(6).reshape(1, 2, 3) / 10).astype(np.float32)
    table = build_table(image, ["test_1"])
    assert list(table.columns) == ["id", "test_1"]
    assert table["id"].tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(table["test_1"], [0, 0.1, 0.2, 0.3, 0.4, 0.5], atol=1e-7)


def test_columns_follow_natural_order_and_names_carry_their_images():
    preds = np.stack([np.full((2, 2), v) for v in (0.1, 0.2, 0.3)])
    table = build_table(preds, ["test_10", "test_2", "test_1"])
    assert list(table.columns) == ["id", "test_1", "test_2", "test_10"]
    assert table.iloc[0, 1:].tolist() == [0.3, 0.2, 0.1]


def test_image_extensions_are_dropped_but_other_dots_kept():
    table = build_table(np.zeros((2, 1, 1)), ["test_1.png", "img.v2"])
    assert list(table.columns) == ["id", "img.v2", "test_1"]


def test_exported_file_reads_back_float32_predictions_exactly(tmp_path):
    preds = np.random.default_rng(3).random((3, 6, 5), dtype=np.float32)
    export_predictions(preds, ["t3", "t1", "t2"], tmp_path / "p.csv")
    table = read_table(tmp_path / "p.csv")
    assert table.index.name == "id" and table.index.tolist() == list(range(30))
    assert list(table.columns) == ["t1", "t2", "t3"] and (table.dtypes == np.float64).all()
    back = table.to_numpy().T.reshape(3, 6, 5).astype(np.float32)
    assert np.array_equal(back, preds[[1, 2, 0]])  # %.9g is enough digits for any float32


def test_zero_and_one_are_written_compactly_and_negative_zero_as_zero(tmp_path):
    export_predictions(np.array([[[0.0, 1.0], [-0.0, 0.5]]]), ["a"], tmp_path / "p.csv")
    assert lines(tmp_path / "p.csv") == ["id,a", "0,0", "1,1", "2,0", "3,0.5"]


@pytest.mark.parametrize(
    "preds, names, message",
    [
        (np.full((1, 2, 2), np.nan), ["a"], r"within \[0, 1\]: 4 NaN"),
        (np.full((1, 2, 2), -0.5), ["a"], r"outside.*\(x \+ 1\) / 2"),
        (np.full((1, 2, 2), 1.5), ["a"], r"4 values outside \(min 1.5, max 1.5\)"),
        (np.full((1, 2, 2), np.inf), ["a"], r"within \[0, 1\]"),
        (np.zeros((2, 2)), ["a"], r"shaped \(n, M, N\)"),
        (np.zeros((1, 2, 2, 1)), ["a"], r"channel axis"),
        (np.zeros((2, 2, 2)), ["a"], r"2 predicted images but 1 names"),
        (np.zeros((2, 2, 2)), ["a", "a.png"], r"unique.*: a"),
        (np.zeros((1, 2, 2)), ["id"], r"differ from 'id'"),
        (np.zeros((1, 2, 2)), [" "], r"empty image names"),
    ],
)
def test_export_rejects_invalid_predictions_without_writing(tmp_path, preds, names, message):
    with pytest.raises(SubmissionError, match=message):
        export_predictions(preds, names, tmp_path / "p.csv")
    assert list(tmp_path.iterdir()) == []


def test_export_to_a_folder_is_an_error(tmp_path):
    with pytest.raises(SubmissionError, match="is a folder"):
        export_predictions(np.zeros((1, 1, 1)), ["a"], tmp_path)


# ---------------------------------------------------------------- sample submissions


def write_sample(path, header, rows):
    path.write_text(header + "\n" + "".join(f"{i},0,0\n" for i in range(rows)))
    return path


def test_sample_header_and_id_column_are_copied_and_filled_in_natural_order(tmp_path):
    sample = tmp_path / "sample.csv"
    sample.write_text("Id,img_b,img_a\n" + "".join(f"{i:03d},0,0\n" for i in range(4)))
    preds = np.stack([np.full((2, 2), 0.25), np.full((2, 2), 0.75)])
    export_predictions(preds, ["x10", "x2"], tmp_path / "out.csv", sample=sample)
    # Names differ from the sample's: the sample's columns in its order get x2 then x10.
    assert lines(tmp_path / "out.csv") == ["Id,img_b,img_a"] + [f"{i:03d},0.75,0.25" for i in range(4)]


def test_sample_columns_named_like_the_images_are_matched_by_name(tmp_path):
    sample = write_sample(tmp_path / "sample.csv", "id,t_2,t_1", 4)
    preds = np.stack([np.full((2, 2), 0.1), np.full((2, 2), 0.2)])
    export_predictions(preds, ["t_1", "t_2"], tmp_path / "out.csv", sample=sample)
    table = read_table(tmp_path / "out.csv")
    assert list(table.columns) == ["t_2", "t_1"]
    assert table["t_1"].tolist() == [0.1] * 4 and table["t_2"].tolist() == [0.2] * 4


@pytest.mark.parametrize(
    "n, rows, cols, message",
    [
        (1, 2, 2, r"sample submission is 4 rows x 2 image columns, but the predictions are 4 pixels \(M\*N\) x 1"),
        (2, 3, 2, r"is 4 rows x 2 image columns, but the predictions are 6 pixels \(M\*N\) x 2 images"),
    ],
)
def test_sample_with_other_counts_is_rejected_naming_both(tmp_path, n, rows, cols, message):
    sample = write_sample(tmp_path / "sample.csv", "id,img_a,img_b", 4)
    with pytest.raises(SubmissionError, match=message):
        export_predictions(np.zeros((n, rows, cols)), [f"t{i}" for i in range(n)], tmp_path / "out.csv", sample=sample)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "header, message", [("pixel,a,b", "first column must be 'id'"), ("id,a,a", "repeated column names: a")]
)
def test_sample_whose_output_a_scorer_would_reject_is_refused(tmp_path, header, message):
    sample = write_sample(tmp_path / "sample.csv", header, 1)
    with pytest.raises(SubmissionError, match=message):
        export_predictions(np.zeros((2, 1, 1)), ["a", "b"], tmp_path / "out.csv", sample=sample)


# ---------------------------------------------------------------- atomic writes


def test_failed_export_keeps_the_existing_file_byte_identical(tmp_path):
    target = tmp_path / "Predict.csv"
    export_predictions(np.full((1, 2, 2), 0.5), ["a"], target)
    before = target.read_bytes()
    for bad in (np.nan, -0.5, 2.0):
        with pytest.raises(SubmissionError):
            export_predictions(np.full((1, 2, 2), bad), ["a"], target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["Predict.csv"]


class HalfWriter:
    """A file that writes half of what it is given, then fails like a full disk."""

    def __init__(self, fh, folder, seen):
        self.fh, self.folder, self.seen = fh, folder, seen

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        self.seen.update({p.name: p.stat().st_size for p in self.folder.iterdir()})
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("existing", [False, True])
def test_write_failing_half_way_leaves_no_partial_file(tmp_path, monkeypatch, existing):
    target = tmp_path / "Predict.csv"
    if existing:
        export_predictions(np.full((1, 2, 2), 0.5), ["a"], target)
    before = target.read_bytes() if existing else None
    seen, real_fdopen = {}, os.fdopen
    monkeypatch.setattr(
        image_files.os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k), tmp_path, seen)
    )
    with pytest.raises(OSError, match="No space left"):
        export_predictions(np.random.default_rng(0).random((2, 8, 8)), ["a", "b"], target)
    monkeypatch.undo()
    partial = [name for name, size in seen.items() if name != "Predict.csv" and size > 0]
    assert partial, "the fake disk never wrote a partial temp file"
    assert (target.read_bytes() if existing else None) == before
    assert [p.name for p in tmp_path.iterdir()] == (["Predict.csv"] if existing else [])


# ---------------------------------------------------------------- image folders


def write_pngs(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (rows, cols, value) in sizes.items():
        assert cv2.imwrite(str(folder / f"{name}.png"), np.full((rows, cols), value, np.uint8))
    return folder


def test_export_folder_reads_pngs_in_natural_order(tmp_path):
    pred = write_pngs(tmp_path / "pred", {"test_10": (4, 3, 200), "test_2": (4, 3, 40), "test_1": (4, 3, 20)})
    (pred / ".DS_Store").write_text("finder noise")
    summary = export_folder(pred, tmp_path / "p.csv")
    assert summary == {"images": 3, "size": (4, 3), "csv": tmp_path / "p.csv"}
    table = read_table(tmp_path / "p.csv")
    assert list(table.columns) == ["test_1", "test_2", "test_10"] and len(table) == 12
    assert table.iloc[0].astype(np.float32).tolist() == [imaging.u8_to_metric(np.uint8(v)) for v in (20, 40, 200)]


def test_export_folder_resizes_only_when_asked(tmp_path):
    pred = write_pngs(tmp_path / "pred", {"a": (4, 6, 100), "b": (8, 3, 50)})
    with pytest.raises(SubmissionError, match=r"differ in size \(4x6, 8x3\)"):
        export_folder(pred, tmp_path / "p.csv")
    summary = export_folder(pred, tmp_path / "p.csv", size=(2, 3))
    assert summary["size"] == (2, 3) and len(read_table(tmp_path / "p.csv")) == 6


@pytest.mark.parametrize(
    "extra, message",
    [
        (lambda d: (d / "notes.txt").write_text("x"), "not image files: notes.txt"),
        (lambda d: (d / "old").mkdir(), "not image files: old/"),
        (lambda d: (d / "broken.png").write_bytes(b"not a png"), "broken.png: not a readable image"),
        (lambda d: cv2.imwrite(str(d / "a.jpg"), np.zeros((4, 3), np.uint8)), "share a name: a"),
    ],
)
def test_export_folder_names_what_does_not_belong(tmp_path, extra, message):
    pred = write_pngs(tmp_path / "pred", {"a": (4, 3, 0)})
    extra(pred)
    with pytest.raises(SubmissionError, match=message):
        export_folder(pred, tmp_path / "p.csv")
    assert not (tmp_path / "p.csv").exists()


def test_export_folder_rejects_empty_and_missing_folders_and_bad_sizes(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SubmissionError, match="no images"):
        export_folder(tmp_path / "empty", tmp_path / "p.csv")
    with pytest.raises(SubmissionError, match="folder not found"):
        export_folder(tmp_path / "nowhere", tmp_path / "p.csv")
    write_pngs(tmp_path / "pred", {"a": (4, 3, 0)})
    with pytest.raises(SubmissionError, match="size must be positive"):
        export_folder(tmp_path / "pred", tmp_path / "p.csv", size=(0, 3))


def test_solution_from_answers_writes_the_same_format_as_a_submission(tmp_path):
    answers = write_pngs(tmp_path / "Real", {"test_2": (3, 3, 9), "test_1": (3, 3, 99)})
    summary = solution_from_answers(answers, tmp_path / "solution.csv")
    export_folder(answers, tmp_path / "sub.csv")
    assert summary["images"] == 2 and summary["size"] == (3, 3)
    assert (tmp_path / "solution.csv").read_bytes() == (tmp_path / "sub.csv").read_bytes()


# ---------------------------------------------------------------- strict reading


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("id,a\n", "no rows after the header"),
        ("pixel,a\n0,1\n", "first column must be 'id' \\(found 'pixel'\\)"),
        ("id;a\n0;1\n", "separated by ';'"),
        ("id\n0\n", "no image columns"),
        ("id,a,b,\n0,1,1,\n", "columns without a name at positions 4"),
        ("id,a,a\n0,1,1\n", "repeated column names: a$"),
        ("id,a\n0,1\n1.5,1\nx,1\n", "2 ids are not integers \\(first: data row 2: '1.5'\\)"),
        ("id,a\n0,1\n1,1\n1,1\n", "repeated ids: 1"),
        ("id,a,b\n0,1,1\n1,oops,1\n2,1,x\n", "2 non-numeric cells \\(first: column 'a', id 1: 'oops'\\)"),
        ("id,a\n0,nan\n1,\n", "2 empty or NaN cells \\(first: column 'a', id 0"),
        ("id,a\n0,1\n1,-inf\n", "1 infinite cells \\(first: column 'a', id 1: '-inf'\\)"),
        ("id,a,b\n0,1\n", "1 empty or NaN cells \\(first: column 'b', id 0: ''\\)"),
        ("id,a,b\n0,1,2,3\n", "not a readable CSV"),  # pandas would shift it into an index
        ('id,a\n0,"1\n', "not a readable CSV"),
    ],
)
def test_read_table_rejects_malformed_files_naming_the_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SubmissionError, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_read_table_reports_every_kind_of_bad_cell_at_once(tmp_path):
    path = write(tmp_path, "id,a\n0,x\n1,inf\n2,\n")
    with pytest.raises(SubmissionError, match="empty or NaN.*non-numeric.*infinite"):
        read_table(path)


def test_read_table_missing_file_and_folder(tmp_path):
    with pytest.raises(SubmissionError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(SubmissionError, match="is a folder"):
        read_table(tmp_path)


def test_read_table_accepts_id_in_any_case_integral_ids_bom_and_dotted_names(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff ID ,a,a.1\n 2 ,0.5,1\n1.0,0,1e-3\n".encode())
    table = read_table(path)
    assert table.index.tolist() == [2, 1] and table.index.name == "id"
    assert list(table.columns) == ["a", "a.1"]
    assert table.to_numpy().tolist() == [[0.5, 1.0], [0.0, 0.001]]


def test_read_table_accepts_values_outside_the_unit_range_as_kaggle_does(tmp_path):
    assert read_table(write(tmp_path, "id,a\n0,-0.5\n1,2\n"))["a"].tolist() == [-0.5, 2.0]


# ---------------------------------------------------------------- no TensorFlow


def test_submission_package_imports_without_tensorflow():
    code = "import submission, sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
