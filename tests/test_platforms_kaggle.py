"""competition/platforms (Kaggle): the solution's Usage column, the pages, and metric.py run alone as Kaggle runs it.

Kaggle calls the metric with the solution's rows of one part (Usage removed) and the submission's rows
with the same ids; the tests do the same in a separate interpreter that has numpy and pandas and not the kit.
"""
import doctest
import importlib.util
import inspect
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from competition.platforms import kaggle_metric
from competition.platforms.export import export_competition
from platform_fixtures import clean_python, clean_run, make_competition  # noqa: F401 - a fixture
from submission.csv_io import read_table
from submission.scoring import align, check_frame

# Kaggle's side: read both CSVs, keep one part's rows, drop Usage, call score() (run with `python -I`).
KAGGLE_CALLS = '''
import importlib.util, json, sys
import pandas as pd
spec = importlib.util.spec_from_file_location("metric", sys.argv[1])
metric = importlib.util.module_from_spec(spec)
spec.loader.exec_module(metric)
solution, submission = pd.read_csv(sys.argv[2]), pd.read_csv(sys.argv[3])
out = {}
for part in ("Public", "Private"):
    rows = solution[solution["Usage"] == part].drop(columns="Usage").reset_index(drop=True)
    mine = submission[submission["id"].isin(rows["id"])].reset_index(drop=True)
    try:
        out[part] = metric.score(rows, mine, "id")
    except Exception as exc:
        out[part] = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> tuple[Path, Path]:
    """(competition split by pixel, its Kaggle package folder)."""
    root = tmp_path_factory.mktemp("kaggle")
    comp = make_competition(root, split_by="pixel", public_fraction=0.25, seed=4)
    return comp, export_competition(comp, root / "kaggle", "kaggle")["out"]


def kaggle_scores(python: Path, package: Path, submission: Path, tmp_path: Path) -> dict:
    (tmp_path / "kaggle_calls.py").write_text(KAGGLE_CALLS)
    result = clean_run(python, [tmp_path / "kaggle_calls.py", package / "metric.py", package / "solution.csv", submission],
                       tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def noisy(comp: Path, path: Path, **cells) -> Path:
    """The answers with noise, written as a student's file; cells={(row, column): text} overwrite cells."""
    solution = read_table(comp / "solution.csv")
    table = (solution + np.random.default_rng(5).normal(0, 0.05, solution.shape)).clip(0, 1).reset_index()
    table = table.astype(object)
    for (row, column), text in cells.get("cells", {}).items():
        table.loc[row, column] = text
    table.to_csv(path, index=False, float_format="%.9g")
    return path


def test_solution_keeps_the_values_and_marks_each_row_public_or_private(package):
    comp, out = package
    solution = pd.read_csv(out / "solution.csv")
    split = pd.read_csv(comp / "split.csv")
    assert list(solution.columns) == ["id", "test_1", "test_2", "test_3", "Usage"]
    assert solution["Usage"].tolist() == split.set_index("id").loc[solution["id"], "Usage"].tolist()
    assert (solution["Usage"] == "Public").sum() == round(0.25 * 16 * 16)
    values = solution.drop(columns="Usage").set_index("id").astype(np.float64)
    pd.testing.assert_frame_equal(values, read_table(comp / "solution.csv"), check_names=False)
    assert (out / "sample_submission.csv").read_bytes() == (comp / "sample_submission.csv").read_bytes()
    assert (out / "student_data.zip").read_bytes() == (comp / "student_data.zip").read_bytes()
    assert (out / "test_boxes.csv").read_bytes() == (comp / "test_boxes.csv").read_bytes()  # the judged boxes


@pytest.mark.slow
def test_metric_on_public_and_private_rows_equals_inpaint_score_split(package, clean_python, tmp_path, run_cli):
    comp, out = package
    for submission in (noisy(comp, tmp_path / "Predict.csv"), comp / "sample_submission.csv"):
        scores = kaggle_scores(clean_python, out, submission, tmp_path)
        code, text, _ = run_cli("score", "--solution", comp / "solution.csv", "--submission", submission,
                                "--split", comp / "split.csv", "--json")
        expected = json.loads(text)
        assert code == 0
        assert scores["Public"] == pytest.approx(expected["public"], abs=1e-12)
        assert scores["Private"] == pytest.approx(expected["private"], abs=1e-12)
        assert scores["Public"] != scores["Private"]


@pytest.mark.slow
def test_metric_follows_the_per_pixel_split_kaggle_gets_for_a_competition_split_by_image(clean_python, tmp_path,
                                                                                           run_cli):
    comp = make_competition(tmp_path / "c")  # split by image: Kaggle's solution is split by pixel instead
    summary = export_competition(comp, tmp_path / "kaggle.zip", "kaggle")
    with zipfile.ZipFile(summary["out"]) as archive:
        archive.extractall(tmp_path / "kaggle")
    solution = pd.read_csv(tmp_path / "kaggle" / "solution.csv")
    solution[["id", "Usage"]].to_csv(tmp_path / "kaggle_split.csv", index=False)
    submission = noisy(comp, tmp_path / "Predict.csv")
    scores = kaggle_scores(clean_python, tmp_path / "kaggle", submission, tmp_path)
    code, text, _ = run_cli("score", "--solution", comp / "solution.csv", "--submission", submission,
                            "--split", tmp_path / "kaggle_split.csv", "--json")
    expected = json.loads(text)
    assert code == 0 and (solution["Usage"] == "Public").sum() == round(0.3 * 16 * 16)
    assert scores == pytest.approx({"Public": expected["public"], "Private": expected["private"]}, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("cells, kit_error", [
    ({(3, "test_2"): "inf"}, "submission: 1 NaN or infinite cells"),
    ({(3, "test_2"): ""}, "submission: 1 NaN or infinite cells"),
    ({(3, "test_2"): "1e9"}, "submission: 1 cells far outside [0, 1] (beyond +-1000)"),
    ({(3, "test_2"): "abc"}, "submission: non-numeric cells"),
])
def test_metric_refuses_bad_cells_with_a_participant_visible_kit_message(cells, kit_error, package, clean_python,
                                                                         tmp_path):
    comp, out = package
    submission = noisy(comp, tmp_path / "Predict.csv", cells=cells)
    scores = kaggle_scores(clean_python, out, submission, tmp_path)
    part = pd.read_csv(out / "solution.csv").loc[3, "Usage"]  # the row holding the bad cell
    assert scores[part] == {"error": "ParticipantVisibleError", "message": kit_error}
    assert isinstance(scores["Public" if part == "Private" else "Private"], float)


@pytest.mark.slow
def test_metric_refuses_a_missing_column_or_id_with_the_kits_message(package, clean_python, tmp_path):
    comp, out = package
    table = pd.read_csv(noisy(comp, tmp_path / "Predict.csv"))
    table.drop(columns="test_3").to_csv(tmp_path / "no_column.csv", index=False)
    table.drop(index=[0]).to_csv(tmp_path / "no_row.csv", index=False)
    solution = pd.read_csv(out / "solution.csv")
    results = {}
    for name in ("no_column.csv", "no_row.csv"):
        scores = results[name] = kaggle_scores(clean_python, out, tmp_path / name, tmp_path)
        for part in ("Public", "Private"):
            rows = solution[solution["Usage"] == part].drop(columns="Usage").set_index("id").astype(np.float64)
            mine = pd.read_csv(tmp_path / name).set_index("id")
            mine = mine[mine.index.isin(rows.index)]
            try:  # what the kit says about the same tables
                check_frame(mine, "submission")
                align(rows, mine)
                expected = None
            except Exception as exc:
                expected = {"error": "ParticipantVisibleError", "message": str(exc)}
            if expected is None:
                assert isinstance(scores[part], float)
            else:
                assert scores[part] == expected
        assert any(isinstance(v, dict) for v in scores.values()), name
    assert "missing image columns: test_3" in results["no_column.csv"]["Public"]["message"]
    assert "missing ids: 0" in results["no_row.csv"][solution.loc[solution["id"] == 0, "Usage"].item()]["message"]


def test_metric_takes_the_rmse_over_every_cell_not_the_mean_of_column_rmses():
    solution = pd.DataFrame({"id": [0, 1], "a": [0.0, 1.0], "b": [0.5, 0.5]})
    submission = pd.DataFrame({"id": [0, 1], "a": [0.0, 1.0], "b": [0.9, 0.5]})
    # every cell: sqrt(0.4^2 / 4) = 0.2; the mean of the columns' RMSEs would be (0 + sqrt(0.4^2 / 2)) / 2
    assert kaggle_metric.score(solution, submission, "id") == pytest.approx(0.2, abs=1e-15)
    assert not math.isclose(0.2, (0 + math.sqrt(0.16 / 2)) / 2)


def test_metric_reports_a_broken_solution_to_the_host_only():
    solution = pd.DataFrame({"id": [0, 0], "a": [0.0, 1.0]})
    with pytest.raises(kaggle_metric.HostVisibleError, match="solution: repeated ids: 0"):
        kaggle_metric.score(solution, solution.copy(), "id")


@pytest.mark.slow
def test_metric_py_is_standalone_follows_the_template_and_its_example_holds(package, clean_python, tmp_path):
    _, out = package
    source = (out / "metric.py").read_text()
    assert "import submission" not in source and "from submission" not in source
    assert "class ParticipantVisibleError(Exception)" in source
    check = ("import importlib.util, inspect, sys\n"
             "spec = importlib.util.spec_from_file_location('metric', sys.argv[1])\n"
             "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
             "print(list(inspect.signature(m.score).parameters), all(p.annotation is not p.empty for p in "
             "inspect.signature(m.score).parameters.values()), inspect.signature(m.score).return_annotation is float)\n"
             "import doctest; print(doctest.testmod(m).failed)\n")
    result = clean_run(clean_python, ["-c", check, out / "metric.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["['solution', 'submission', 'row_id_column_name'] True True", "0"]
    assert doctest.testmod(kaggle_metric).attempted == 3 and "score(solution" in inspect.getsource(kaggle_metric)


def test_pages_say_what_kaggle_does_with_the_split_the_metric_and_the_names(tmp_path):
    comp = make_competition(tmp_path / "c")  # split by image
    summary = export_competition(comp, tmp_path / "kaggle.zip", "kaggle")
    with zipfile.ZipFile(summary["out"]) as archive:
        evaluation = " ".join(archive.read("evaluation.md").decode().split())
        host = " ".join(archive.read("HOST_README.md").decode().split())
    assert "split by pixel" in summary["note"] and summary["note"] in host
    assert "Each row of the CSV (one pixel position, in all 3 images)" in evaluation
    assert "30% of the 256 rows" in evaluation and "test images" not in evaluation
    assert "this competition's metric, `metric.py`" in evaluation and "kit's own scorer" not in evaluation
    assert "display name and username are not your name" in evaluation
    assert "create the competition's metric from `metric.py`" in host
    assert ("Set the competition's deadline to 2026-12-20 15:59 UTC (2026-12-20 23:59 at UTC+08:00, "
            "as the course announced it)") in host
    assert "select up to 2 of your submissions before the deadline" in host  # Kaggle honours the final picks


def test_host_readme_without_a_deadline_says_to_choose_one(tmp_path):
    comp = make_competition(tmp_path / "c", deadline=None)
    out = export_competition(comp, tmp_path / "kaggle", "kaggle")["out"]
    host = " ".join((out / "HOST_README.md").read_text().split())
    assert "has no deadline, but a Kaggle competition ends at one: choose it" in host
    assert "none (the competition stays open)" not in host
