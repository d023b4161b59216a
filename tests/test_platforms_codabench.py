"""competition/platforms (Codabench): the bundle, each phase's task scored the way Codabench's compute worker runs it.

What Codabench does was read in its source (docs/platforms.md lists where); these tests check our side
of each promise: the bundle as its V2 unpacker reads it, and each phase's scoring program run on that
phase's reference data in a separate interpreter without the kit.
"""
import ast
import importlib.util
import io
import json
import shlex
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from competition.platforms import codabench
from competition.platforms.codabench import SCORING_COMMAND
from competition.platforms.export import export_competition, export_data_folder
from competition.settings import parse_deadline
from conftest import write_set
from inpaint.cli import build_parser
from inpaint.errors import UserError
from platform_fixtures import DEADLINE, clean_python, clean_run, make_competition  # noqa: F401 - a fixture
from submission.csv_io import read_table

DEADLINE_UTC = parse_deadline(DEADLINE).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def comp(tmp_path_factory) -> Path:
    return make_competition(tmp_path_factory.mktemp("codabench"), daily_limit=7)


@pytest.fixture(scope="module")
def bundle(comp) -> Path:
    return export_competition(comp, comp.parent / "bundle.zip", "codabench")["out"]


def bundle_yaml(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as archive:
        return yaml.safe_load(archive.read("competition.yaml"))


def inner_zip(bundle: Path, member: str) -> zipfile.ZipFile:
    with zipfile.ZipFile(bundle) as outer:
        return zipfile.ZipFile(io.BytesIO(outer.read(member)))


def phase_start(phase: dict) -> datetime:
    """As Codabench's unpacker reads a date: parsed, then taken as UTC (unpackers/utils.get_datetime)."""
    return datetime.fromisoformat(phase["start"]).replace(tzinfo=timezone.utc)


def run_phase(bundle: Path, phase: dict, python: Path, root: Path, upload: dict) -> tuple:
    """Codabench's compute worker scoring one upload in `phase`: the phase's task's scoring program in
    program/ (the working dir), its reference data in input/ref, the upload in input/res, then
    metadata.yaml's command; returns (the finished process, scores.json or None, the app folder)."""
    spec = bundle_yaml(bundle)
    (task_index,) = phase["tasks"]
    task = next(t for t in spec["tasks"] if t["index"] == task_index)
    app = root / phase["name"] / "app"
    inner_zip(bundle, task["scoring_program"]).extractall(app / "program")
    inner_zip(bundle, task["reference_data"]).extractall(app / "input" / "ref")
    res = app / "input" / "res"
    res.mkdir(parents=True, exist_ok=True)
    # The prediction step leaves its status file beside the participant's files (compute_worker.push_output).
    (res / "metadata").write_text("exitCode: 0\nelapsedTime: 0.1\n")
    for name, content in upload.items():
        (res / name).parent.mkdir(parents=True, exist_ok=True)
        (res / name).write_bytes(content)
    (app / "output").mkdir()
    command = yaml.safe_load((app / "program" / "metadata.yaml").read_text())["command"]
    words = [w.replace("/app", str(app), 1) if w.startswith("/app") else w for w in shlex.split(command)]
    assert words[0] == "python3"
    result = clean_run(python, words[1:], cwd=app / "program")
    scores_file = app / "output" / "scores.json"
    return result, (json.loads(scores_file.read_text()) if scores_file.exists() else None), app


def phases_by_time(bundle: Path) -> tuple[list, list]:
    """(phases that start before the deadline, phases that start at or after it)."""
    phases = bundle_yaml(bundle)["phases"]
    before = [p for p in phases if phase_start(p) < DEADLINE_UTC]
    return before, [p for p in phases if p not in before]


def noisy_answers(comp: Path, path: Path) -> bytes:
    solution = read_table(comp / "solution.csv")
    noise = np.random.default_rng(3).normal(0, 0.05, solution.shape)
    (solution + noise).clip(0, 1).reset_index().to_csv(path, index=False, float_format="%.9g")
    return path.read_bytes()


def kit_split_scores(run_cli, comp: Path, submission: Path) -> dict:
    code, out, _ = run_cli("score", "--solution", comp / "solution.csv", "--submission", submission,
                           "--split", comp / "split.csv", "--json")
    assert code == 0
    return json.loads(out)


def broken(comp: Path, kind: str) -> bytes:
    lines = (comp / "sample_submission.csv").read_text().splitlines()
    if kind == "empty cell":
        lines[5] = lines[5].rsplit(",", 1)[0] + ","
    elif kind == "missing column":
        lines = [line.rsplit(",", 1)[0] for line in lines]
    elif kind == "semicolons":
        lines = [line.replace(",", ";") for line in lines]
    elif kind == "huge value":
        lines[7] = lines[7].rsplit(",", 1)[0] + ",1e9"
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.slow
def test_clean_interpreter_has_numpy_and_pandas_but_not_the_kit(clean_python, tmp_path):
    assert clean_run(clean_python, ["-c", "import numpy, pandas"], tmp_path).returncode == 0
    for module in ("inpaint", "submission", "competition", "cv2", "tensorflow"):
        result = clean_run(clean_python, ["-c", f"import {module}"], tmp_path)
        assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr, module


@pytest.mark.slow
def test_no_phase_that_runs_before_the_deadline_can_score_the_private_part(bundle, comp, clean_python, tmp_path,
                                                                           run_cli):
    before, after = phases_by_time(bundle)
    assert [p["name"] for p in before] == ["Development"] and [p["name"] for p in after] == ["Final"]
    made = noisy_answers(comp, tmp_path / "made.csv")
    private = kit_split_scores(run_cli, comp, tmp_path / "made.csv")["private"]
    for phase in before:
        result, scores, app = run_phase(bundle, phase, clean_python, tmp_path, {"Predict.csv": made})
        assert result.returncode == 0, result.stderr
        assert set(scores) == {"rmse_public"}
        written = [result.stdout, result.stderr] + [p.read_text() for p in (app / "output").rglob("*") if p.is_file()]
        for figure in (repr(private), f"{private:.10f}", f"{private:.8f}", f"{private:.6f}", f"{private:.5f}"):
            assert not any(figure in text for text in written), figure
        # nor could any other program of this phase: its reference data holds the public answers only
        task = bundle_yaml(bundle)["tasks"][phase["tasks"][0]]
        assert sorted(inner_zip(bundle, task["reference_data"]).namelist()) == ["public_answers.csv",
                                                                               "sample_submission.csv"]


def test_development_answers_are_exactly_the_public_cells_of_the_solution(bundle, comp):
    task = bundle_yaml(bundle)["tasks"][0]
    public = pd.read_csv(inner_zip(bundle, task["reference_data"]).open("public_answers.csv")).set_index("id")
    split = pd.read_csv(comp / "split.csv")
    assert list(public.columns) == split.loc[split["Usage"] == "Public", "image"].tolist() == ["test_3"]
    pd.testing.assert_frame_equal(public.astype(np.float64), read_table(comp / "solution.csv")[["test_3"]])


@pytest.mark.slow
@pytest.mark.parametrize("split_by", ["image", "pixel"])
@pytest.mark.parametrize("which", ["good", "identity"])
def test_final_phase_gives_the_private_and_public_rmse_of_inpaint_score_split(split_by, which, clean_python, tmp_path,
                                                                              run_cli):
    comp = make_competition(tmp_path / "c", split_by=split_by, public_fraction=0.5, seed=2)
    bundle = export_competition(comp, tmp_path / "bundle.zip", "codabench")["out"]
    upload = tmp_path / "Predict.csv"
    if which == "good":
        noisy_answers(comp, upload)
    else:
        upload.write_bytes((comp / "sample_submission.csv").read_bytes())
    expected = kit_split_scores(run_cli, comp, upload)
    before, after = phases_by_time(bundle)
    (final,) = after
    result, scores, _ = run_phase(bundle, final, clean_python, tmp_path, {"Predict.csv": upload.read_bytes()})
    assert result.returncode == 0, result.stderr
    assert scores == pytest.approx({"rmse_public": expected["public"], "rmse_private": expected["private"]}, abs=1e-12)
    assert f"private RMSE {expected['private']:.8f}" in result.stdout  # after the deadline the log may say it
    (development,) = before
    _, early, _ = run_phase(bundle, development, clean_python, tmp_path, {"Predict.csv": upload.read_bytes()})
    assert early == pytest.approx({"rmse_public": expected["public"]}, abs=1e-12)
    assert scores["rmse_public"] != scores["rmse_private"]
    if which == "identity":  # the blanked images are far from the faces; noise of 0.05 is close
        assert scores["rmse_public"] > 0.1
    else:
        assert 0.02 < scores["rmse_private"] < 0.06


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["empty cell", "missing column", "semicolons", "huge value"])
def test_every_phase_rejects_what_inpaint_score_rejects_with_its_message(kind, bundle, comp, clean_python,
                                                                         tmp_path, run_cli):
    for phase in bundle_yaml(bundle)["phases"]:
        result, scores, app = run_phase(bundle, phase, clean_python, tmp_path, {"Predict.csv": broken(comp, kind)})
        code, _, err = run_cli("score", "--solution", comp / "solution.csv", "--submission",
                               app / "input" / "res" / "Predict.csv", "--split", comp / "split.csv")
        kit_message = err.strip().split(": error: ", 1)[1]
        assert code == 2 and result.returncode == 1, phase["name"]
        assert result.stderr.strip() == f"error: {kit_message}"
        assert scores is None  # failed, not scored


@pytest.mark.slow
def test_scoring_program_asks_for_exactly_one_csv_in_the_zip(bundle, comp, clean_python, tmp_path):
    sample = (comp / "sample_submission.csv").read_bytes()
    development = bundle_yaml(bundle)["phases"][0]
    result, _, _ = run_phase(bundle, development, clean_python, tmp_path, {"a.csv": sample, "b.CSV": sample})
    assert result.returncode == 1
    assert result.stderr.strip() == "error: the submission zip must hold exactly one CSV file (Predict.csv); found: a.csv, b.CSV"


@pytest.mark.slow
def test_scoring_program_finds_the_csv_in_a_zipped_folder_beside_macos_litter(bundle, comp, clean_python, tmp_path):
    sample = (comp / "sample_submission.csv").read_bytes()
    development = bundle_yaml(bundle)["phases"][0]
    result, scores, _ = run_phase(bundle, development, clean_python, tmp_path,
                                  {"mine/Predict.csv": sample, "__MACOSX/._Predict.csv": b"\x00\x05"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"public RMSE {scores['rmse_public']:.8f}\n")


def test_scoring_program_is_the_kits_modules_unchanged_and_metadata_runs_score_py(bundle):
    for task in bundle_yaml(bundle)["tasks"]:
        program = inner_zip(bundle, task["scoring_program"])
        for module in ("submission.errors", "submission.csv_read", "submission.scoring"):
            arcname = module.replace(".", "/") + ".py"
            assert program.read(arcname) == Path(importlib.util.find_spec(module).origin).read_bytes(), module
        assert yaml.safe_load(program.read("metadata.yaml")) == {"command": SCORING_COMMAND}
        assert program.read("score.py") == codabench.SCORING_ENTRY.read_bytes()
        names = set(program.namelist())
        assert "submission/__init__.py" in names
        assert not any(n.startswith(("inpaint/", "competition/")) for n in names)  # the base imports nothing above it


def test_competition_yaml_as_codabench_reads_it(bundle, comp):
    spec = bundle_yaml(bundle)
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert archive.read("student_data.zip") == (comp / "student_data.zip").read_bytes()
        assert archive.read("starting_kit/sample_submission.csv") == (comp / "sample_submission.csv").read_bytes()
        assert archive.read("starting_kit/test_boxes.csv") == (comp / "test_boxes.csv").read_bytes()  # the judged boxes
    development, final = sorted(spec["phases"], key=lambda p: p["index"])
    assert spec["version"] == 2 and spec["can_participants_make_submissions_public"] is False
    # base_unpacker._validate_phase_ordering: the earlier phase ends, the next starts strictly after
    assert development["end"] == "2026-12-20 15:59:00"  # 23:59 at +08:00, in UTC as Codabench reads it
    assert phase_start(final) > datetime.fromisoformat(development["end"]).replace(tzinfo=timezone.utc)
    assert final["start"] == "2026-12-20 16:00:00" and final["end"] == "2026-12-20 16:01:00"
    assert final["auto_migrate_to_this_phase"] is True and not development.get("auto_migrate_to_this_phase")
    assert development["max_submissions_per_day"] == 7
    assert (final["max_submissions_per_day"], final["max_submissions"]) == (1, 1)  # the migrated copy is the one
    tasks = {t["index"]: t for t in spec["tasks"]}
    assert inner_zip(bundle, tasks[final["tasks"][0]]["reference_data"]).namelist() == [
        "sample_submission.csv", "public_answers.csv", "private_answers.csv"]
    (board,) = spec["leaderboards"]
    columns = {c["index"]: c for c in board["columns"]}
    assert board["submission_rule"] == "Force_Best"
    # BestModeStrategy ranks by the primary column, then the others by index: the private RMSE, which no
    # Development score has, so the public RMSE decides there
    assert columns[board["primary_index"]]["key"] == "rmse_private" and columns[0]["key"] == "rmse_public"
    assert all(c["sorting"] == "asc" and c["precision"] == 5 and not c["hidden"] for c in columns.values())
    assert all(len(c["title"]) <= 36 for c in columns.values())  # leaderboards/models.py Column.title
    assert spec["terms"] == "pages/terms.md" and "pages/terms.md" not in [p["file"] for p in spec["pages"]]
    named = [spec["image"], spec["terms"], *(p["file"] for p in spec["pages"]), development["public_data"],
             *(t[k] for t in spec["tasks"] for k in ("reference_data", "scoring_program")), spec["solutions"][0]["path"]]
    assert set(named) <= names
    assert any(n.startswith(development["starting_kit"] + "/") for n in names)
    assert "accepts_only_result_submissions" not in development  # the V2 unpacker does not read it


@pytest.mark.slow
def test_without_a_deadline_the_bundle_has_no_final_phase_and_says_so(tmp_path, clean_python, run_cli):
    comp = make_competition(tmp_path / "c", deadline=None)
    summary = export_competition(comp, tmp_path / "b.zip", "codabench")
    spec = bundle_yaml(summary["out"])
    assert [p["name"] for p in spec["phases"]] == ["Development"] and "end" not in spec["phases"][0]
    assert "no deadline" in summary["note"]
    with zipfile.ZipFile(summary["out"]) as archive:
        evaluation = archive.read("pages/evaluation.md").decode()
        assert "reference_full.zip" not in archive.namelist()  # the private answers stay at home
    assert "no private score is ever computed" in evaluation
    _, scores, _ = run_phase(summary["out"], spec["phases"][0], clean_python, tmp_path,
                             {"Predict.csv": (comp / "sample_submission.csv").read_bytes()})
    assert set(scores) == {"rmse_public"}


def test_pages_say_what_happens_at_the_deadline_how_names_show_and_the_rounding(bundle):
    with zipfile.ZipFile(bundle) as archive:
        evaluation = archive.read("pages/evaluation.md").decode()
        overview = archive.read("pages/overview.md").decode()
        terms = archive.read("pages/terms.md").decode()
    flat = " ".join(evaluation.split())
    assert "no private score of any submission exists before the deadline" in flat
    assert "into the Final phase, where it is scored again with all the answers" in flat
    assert "You do not upload to the Final phase" in flat
    assert "rounded to 2 decimals" in flat and "8 decimals" in flat
    assert "username that is not your name" in flat and "display name" in flat
    assert "30% of the test images" in flat
    assert "your best public submission moves to the Final phase" in " ".join(overview.split())
    assert "Deadline: 2026-12-20 15:59 UTC." in terms


def test_evaluation_page_states_the_course_grade_rules_from_the_settings(tmp_path):
    comp = make_competition(tmp_path, baseline=0.2, strong=0.05, daily_limit=3, deadline=None)
    bundle = export_competition(comp, tmp_path / "b.zip", "codabench")["out"]
    with zipfile.ZipFile(bundle) as archive:
        evaluation = archive.read("pages/evaluation.md").decode()
        terms = archive.read("pages/terms.md").decode()
    assert "3 + 5 x (0.2 - RMSE) / (0.2 - 0.05)" in evaluation
    assert "8 + 2 x (0.05 - RMSE) / (0.05 - best RMSE in the class)" in evaluation
    assert "At most 3 uploads per day" in terms and "Deadline: none." in terms


def test_starting_kit_script_runs_only_real_inpaint_commands(bundle):
    with zipfile.ZipFile(bundle) as archive:
        script = archive.read("starting_kit/make_submission.py").decode()
    calls = [node for node in ast.walk(ast.parse(script))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "inpaint"]
    commands = [[a.value if isinstance(a, ast.Constant) else "1" for a in call.args] for call in calls]  # "1": a path or a number
    assert [c[0] for c in commands] == ["check-data", "run", "validate"]
    for argv in commands:
        build_parser().parse_args(argv)  # argparse exits on an unknown command or option


def test_export_from_a_data_folder_builds_the_competition_on_the_way(tmp_path):
    data = write_set(tmp_path / "data", n_train=4, n_test=2, size=16)
    summary = export_data_folder(data, tmp_path / "b.zip", "codabench", daily_limit=2)
    assert bundle_yaml(summary["out"])["phases"][0]["max_submissions_per_day"] == 2


def test_export_refuses_unknown_format_non_zip_bundle_existing_folder_and_half_made_competition(comp, tmp_path):
    with pytest.raises(UserError, match="--format must be one of codabench, kaggle"):
        export_competition(comp, tmp_path / "x.zip", "codalab")
    with pytest.raises(UserError, match="a Codabench bundle is a zip"):
        export_competition(comp, tmp_path / "bundle", "codabench")
    (tmp_path / "taken").mkdir()
    with pytest.raises(UserError, match="already exists"):
        export_competition(comp, tmp_path / "taken", "kaggle")
    half = make_competition(tmp_path / "half")
    (half / "split.csv").unlink()
    with pytest.raises(UserError, match="missing split.csv"):
        export_competition(half, tmp_path / "y.zip", "codabench")
    assert not (tmp_path / "y.zip").exists() and not list(tmp_path.glob(".*.tmp"))


def test_cli_exports_codabench_from_a_competition_and_kaggle_from_a_data_folder(comp, tmp_path, run_cli):
    code, out, err = run_cli("competition", "export", "--dir", comp, "--package", tmp_path / "bundle.zip", "--format", "codabench")
    assert (code, err) == (0, "") and out.startswith(f"wrote {tmp_path / 'bundle.zip'}: codabench package of 15 files")
    assert zipfile.is_zipfile(tmp_path / "bundle.zip")
    data = write_set(tmp_path / "data", n_train=4, n_test=2, size=16)
    code, out, err = run_cli("competition", "export", "--data", data, "--package", tmp_path / "kaggle", "--format", "kaggle")
    assert code == 0 and "note: split by image here" in out
    assert len(pd.read_csv(tmp_path / "kaggle" / "solution.csv")) == 16 * 16


def test_cli_export_mistakes_exit_2_with_one_line(comp, tmp_path, run_cli):
    code, out, err = run_cli("competition", "export", "--dir", comp, "--package", tmp_path / "bundle", "--format", "codabench")
    assert code == 2 and out == "" and err.count("\n") == 1 and "a Codabench bundle is a zip" in err
    code, _, err = run_cli("competition", "export", "--data", tmp_path, "--csv", tmp_path / "t.csv")
    assert code == 2 and "--format leaderboard needs --dir COMP" in err


def test_logo_is_a_png_of_a_blanked_training_face_whatever_the_data_format(tmp_path):
    data = write_set(tmp_path / "data", n_train=3, n_test=2, size=16, ext=".tif")
    bundle = export_data_folder(data, tmp_path / "b.zip", "codabench")["out"]
    with zipfile.ZipFile(bundle) as archive:
        png = archive.read("logo.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    logo = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(logo, cv2.imread(str(data / "Training" / "White" / "face_0.tif"), cv2.IMREAD_GRAYSCALE))
