"""competition/export_platforms.py: the Codabench bundle (scored the way its compute worker runs it) and the Kaggle package."""
import ast
import importlib.util
import json
import shlex
import subprocess
import venv
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from competition import export_platforms
from competition.export_platforms import SCORING_COMMAND, export_competition, export_data_folder
from competition.settings import parse_deadline
from competition.setup import init_competition
from conftest import write_set
from inpaint.cli import build_parser
from inpaint.errors import UserError
from submission.csv_io import read_table

DEADLINE = "2026-12-20T23:59:00+08:00"
# What pandas needs besides the standard library (python-dateutil, which needs six); wheels keep their
# compiled helpers in <name>.libs beside the package.
SCORING_IMAGE_PACKAGES = ("numpy", "pandas", "dateutil", "six")


def make_competition(root: Path, **rules) -> Path:
    data = write_set(root / "data", n_train=4, n_test=3, size=16)
    return init_competition(data, root / "comp", **rules)["dir"]


@pytest.fixture(scope="module")
def comp(tmp_path_factory) -> Path:
    return make_competition(tmp_path_factory.mktemp("codabench"), deadline=parse_deadline(DEADLINE), daily_limit=7)


@pytest.fixture(scope="module")
def bundle(comp) -> Path:
    return export_competition(comp, comp.parent / "bundle.zip", "codabench")["out"]


@pytest.fixture(scope="module")
def scoring_python(tmp_path_factory) -> Path:
    """A separate interpreter that has numpy and pandas and nothing else: the platform's image, not this one."""
    env_dir = tmp_path_factory.mktemp("scoring-image") / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in SCORING_IMAGE_PACKAGES:
        origin = Path(importlib.util.find_spec(name).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (site / source.name).symlink_to(source)
        libs = source.parent / f"{name}.libs"
        if libs.is_dir():
            (site / libs.name).symlink_to(libs)
    return python


def clean_run(python: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`python -I` with an environment that holds nothing from the kit (no PYTHONPATH, no user site)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    return subprocess.run([str(python), "-I", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def unpack(archive: Path, member: str, dest: Path) -> None:
    with zipfile.ZipFile(archive) as outer:
        with zipfile.ZipFile(outer.open(member)) as inner:
            inner.extractall(dest)


def run_like_compute_worker(bundle: Path, python: Path, root: Path, upload: dict[str, bytes]) -> subprocess.CompletedProcess:
    """Codabench's layout: program/ (working dir), input/ref, input/res (the participant's zip), output/."""
    app = root / "app"
    unpack(bundle, "scoring_program.zip", app / "program")
    unpack(bundle, "reference_data.zip", app / "input" / "ref")
    (app / "input" / "res").mkdir(parents=True, exist_ok=True)
    # The prediction step leaves its status file beside the participant's files (compute_worker.push_output).
    (app / "input" / "res" / "metadata").write_text("exitCode: 0\nelapsedTime: 0.1\n")
    for name, content in upload.items():
        (app / "input" / "res" / name).write_bytes(content)
    (app / "output").mkdir()
    command = yaml.safe_load((app / "program" / "metadata.yaml").read_text())["command"]
    words = [w.replace("/app", str(app), 1) if w.startswith("/app") else w for w in shlex.split(command)]
    assert words[0] == "python3"
    return clean_run(python, words[1:], cwd=app / "program")


def noisy_answers(comp: Path, path: Path) -> bytes:
    solution = read_table(comp / "solution.csv")
    noise = np.random.default_rng(3).normal(0, 0.05, solution.shape)
    (solution + noise).clip(0, 1).reset_index().to_csv(path, index=False, float_format="%.9g")
    return path.read_bytes()


def broken(comp: Path, kind: str) -> bytes:
    lines = (comp / "sample_submission.csv").read_text().splitlines()
    if kind == "empty cell":
        lines[5] = lines[5].rsplit(",", 1)[0] + ","
    elif kind == "missing column":
        lines = [line.rsplit(",", 1)[0] for line in lines]
    elif kind == "semicolons":
        lines = [line.replace(",", ";") for line in lines]
    return ("\n".join(lines) + "\n").encode()


def test_clean_interpreter_has_numpy_and_pandas_but_not_the_kit(scoring_python, tmp_path):
    assert clean_run(scoring_python, ["-c", "import numpy, pandas"], tmp_path).returncode == 0
    for module in ("inpaint", "submission", "cv2", "tensorflow"):
        result = clean_run(scoring_python, ["-c", f"import {module}"], tmp_path)
        assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr, module


@pytest.mark.parametrize("which", ["good", "identity"])
def test_scoring_program_gives_inpaint_score_rmse(which, bundle, comp, scoring_python, tmp_path, run_cli):
    upload = noisy_answers(comp, tmp_path / "made.csv") if which == "good" else (comp / "sample_submission.csv").read_bytes()
    result = run_like_compute_worker(bundle, scoring_python, tmp_path, {"Predict.csv": upload})
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "app" / "output" / "scores.json").read_text())
    code, out, _ = run_cli("score", "--solution", comp / "solution.csv", "--submission",
                           tmp_path / "app" / "input" / "res" / "Predict.csv", "--split", comp / "split.csv", "--json")
    expected = json.loads(out)
    assert code == 0 and set(scores) == {"rmse_public", "rmse_private"}
    assert scores["rmse_public"] == pytest.approx(expected["public"], abs=1e-12)
    assert scores["rmse_private"] == pytest.approx(expected["private"], abs=1e-12)
    assert f"{scores['rmse_private']:.8f}" not in result.stdout  # the log participants read shows only the public score
    if which == "identity":  # the blanked images are far from the faces; noise of 0.05 is close
        assert scores["rmse_public"] > 0.1
    else:
        assert 0.02 < scores["rmse_public"] < 0.06


def test_scoring_program_follows_a_split_by_pixel_too(scoring_python, tmp_path, run_cli):
    comp = make_competition(tmp_path / "pixels", split_by="pixel", public_fraction=0.5, seed=2)
    bundle = export_competition(comp, tmp_path / "bundle.zip", "codabench")["out"]
    result = run_like_compute_worker(bundle, scoring_python, tmp_path, {"Predict.csv": noisy_answers(comp, tmp_path / "m.csv")})
    scores = json.loads((tmp_path / "app" / "output" / "scores.json").read_text())
    code, out, _ = run_cli("score", "--solution", comp / "solution.csv", "--submission", tmp_path / "m.csv",
                           "--split", comp / "split.csv", "--json")
    expected = json.loads(out)
    assert result.returncode == 0 and code == 0
    assert scores == pytest.approx({"rmse_public": expected["public"], "rmse_private": expected["private"]}, abs=1e-12)
    assert scores["rmse_public"] != scores["rmse_private"]


@pytest.mark.parametrize("kind", ["empty cell", "missing column", "semicolons"])
def test_scoring_program_rejects_what_inpaint_score_rejects_with_its_message(kind, bundle, comp, scoring_python,
                                                                              tmp_path, run_cli):
    result = run_like_compute_worker(bundle, scoring_python, tmp_path, {"Predict.csv": broken(comp, kind)})
    code, _, err = run_cli("score", "--solution", comp / "solution.csv", "--submission",
                           tmp_path / "app" / "input" / "res" / "Predict.csv", "--split", comp / "split.csv")
    kit_message = err.strip().split(": error: ", 1)[1]
    assert code == 2 and result.returncode == 1
    assert result.stderr.strip() == f"error: {kit_message}"
    assert not (tmp_path / "app" / "output" / "scores.json").exists()  # failed, not scored


def test_scoring_program_asks_for_exactly_one_csv_in_the_zip(bundle, comp, scoring_python, tmp_path):
    sample = (comp / "sample_submission.csv").read_bytes()
    result = run_like_compute_worker(bundle, scoring_python, tmp_path, {"a.csv": sample, "b.CSV": sample})
    assert result.returncode == 1
    assert result.stderr.strip() == "error: the submission zip must hold exactly one CSV file (Predict.csv); found: a.csv, b.CSV"


def test_scoring_program_finds_the_csv_in_a_zipped_folder_beside_macos_litter(bundle, comp, scoring_python, tmp_path):
    sample = (comp / "sample_submission.csv").read_bytes()
    (tmp_path / "app" / "input" / "res" / "mine").mkdir(parents=True)
    (tmp_path / "app" / "input" / "res" / "__MACOSX").mkdir()
    (tmp_path / "app" / "input" / "res" / "__MACOSX" / "._Predict.csv").write_bytes(b"\x00\x05")
    result = run_like_compute_worker(bundle, scoring_python, tmp_path, {"mine/Predict.csv": sample})
    assert result.returncode == 0, result.stderr
    assert "public RMSE" in result.stdout


def test_scoring_program_is_the_kits_modules_unchanged_and_metadata_runs_score_py(bundle):
    with zipfile.ZipFile(bundle) as outer, zipfile.ZipFile(outer.open("scoring_program.zip")) as program:
        names = set(program.namelist())
        for module in ("submission.errors", "submission.csv_read", "submission.scoring", "submission.grading"):
            arcname = module.replace(".", "/") + ".py"
            assert program.read(arcname) == Path(importlib.util.find_spec(module).origin).read_bytes(), module
        assert yaml.safe_load(program.read("metadata.yaml")) == {"command": SCORING_COMMAND}
        assert program.read("score.py") == export_platforms.SCORING_ENTRY.read_bytes()
    assert {"score.py", "submission/__init__.py"} <= names
    assert not any(n.startswith("inpaint/") for n in names)  # the base imports nothing above it


def test_competition_yaml_holds_the_rules_and_every_file_it_names(bundle, comp):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        spec = yaml.safe_load(archive.read("competition.yaml"))
        reference = zipfile.ZipFile(archive.open("reference_data.zip"))
        assert reference.read("solution.csv") == (comp / "solution.csv").read_bytes()
        assert reference.read("split.csv") == (comp / "split.csv").read_bytes()
        assert archive.read("student_data.zip") == (comp / "student_data.zip").read_bytes()
        assert archive.read("starting_kit/sample_submission.csv") == (comp / "sample_submission.csv").read_bytes()
    phase = spec["phases"][0]
    assert spec["version"] == 2 and len(spec["phases"]) == 1
    assert phase["end"] == "2026-12-20 15:59:00"  # 23:59 at +08:00, in UTC as Codabench reads it
    assert phase["max_submissions_per_day"] == 7
    assert spec["leaderboards"][0]["submission_rule"] == "Force_Best"  # everyone's best public one stands
    columns = spec["leaderboards"][0]["columns"]
    assert [(c["key"], c["sorting"], c["hidden"]) for c in columns] == [("rmse_public", "asc", False),
                                                                        ("rmse_private", "asc", True)]
    named = [spec["image"], spec["terms"], *(p["file"] for p in spec["pages"]), phase["public_data"],
             spec["tasks"][0]["reference_data"], spec["tasks"][0]["scoring_program"], spec["solutions"][0]["path"]]
    assert set(named) <= names
    assert any(n.startswith(phase["starting_kit"] + "/") for n in names)
    pages = {p["title"] for p in spec["pages"]}
    assert pages == {"Overview", "Evaluation", "Data", "Terms"}


def test_evaluation_page_states_the_course_grade_rules_from_the_settings(tmp_path):
    comp = make_competition(tmp_path, baseline=0.2, strong=0.05, daily_limit=3)
    bundle = export_competition(comp, tmp_path / "b.zip", "codabench")["out"]
    with zipfile.ZipFile(bundle) as archive:
        evaluation = archive.read("pages/evaluation.md").decode()
        terms = archive.read("pages/terms.md").decode()
    assert "3 + 5 x (0.2 - RMSE) / (0.2 - 0.05)" in evaluation
    assert "8 + 2 x (0.05 - RMSE) / (0.05 - best RMSE in the class)" in evaluation
    assert "At most 3 uploads per day" in terms and "Deadline: none" in terms
    assert "your best public submission is the one on the leaderboard" in terms


def test_starting_kit_script_runs_only_real_inpaint_commands(bundle):
    with zipfile.ZipFile(bundle) as archive:
        script = archive.read("starting_kit/make_submission.py").decode()
    calls = [node for node in ast.walk(ast.parse(script))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "inpaint"]
    commands = [[a.value if isinstance(a, ast.Constant) else "1" for a in call.args] for call in calls]  # "1": a path or a number
    assert [c[0] for c in commands] == ["check-data", "run", "validate"]
    for argv in commands:
        build_parser().parse_args(argv)  # argparse exits on an unknown command or option


def test_kaggle_solution_keeps_the_values_and_marks_each_row_public_or_private(tmp_path):
    comp = make_competition(tmp_path, split_by="pixel", public_fraction=0.25, seed=4)
    summary = export_competition(comp, tmp_path / "kaggle", "kaggle")
    out = summary["out"]
    assert summary["note"] == ""
    solution = pd.read_csv(out / "solution.csv")
    split = pd.read_csv(comp / "split.csv")
    assert list(solution.columns) == ["id", "test_1", "test_2", "test_3", "Usage"]
    assert solution["Usage"].tolist() == split.set_index("id").loc[solution["id"], "Usage"].tolist()
    assert (solution["Usage"] == "Public").sum() == round(0.25 * 16 * 16)
    values = solution.drop(columns="Usage").set_index("id").astype(np.float64)
    pd.testing.assert_frame_equal(values, read_table(comp / "solution.csv"), check_names=False)
    assert (out / "sample_submission.csv").read_bytes() == (comp / "sample_submission.csv").read_bytes()
    assert (out / "student_data.zip").read_bytes() == (comp / "student_data.zip").read_bytes()
    evaluation = (out / "evaluation.md").read_text()
    assert "RMSE" in evaluation and "0.14744" in evaluation and "0.03568" in evaluation


def test_kaggle_export_of_a_split_by_image_says_it_splits_by_pixel(comp, tmp_path):
    summary = export_competition(comp, tmp_path / "kaggle.zip", "kaggle")
    with zipfile.ZipFile(summary["out"]) as archive:
        usage = pd.read_csv(archive.open("solution.csv"))["Usage"]
        host = archive.read("HOST_README.md").decode()
    assert (usage == "Public").sum() == round(0.3 * 16 * 16)
    assert "split by pixel" in summary["note"] and summary["note"] in host
    assert "choose up to 2 before the deadline" in host  # Kaggle honours the final picks


def test_export_from_a_data_folder_builds_the_competition_on_the_way(tmp_path):
    data = write_set(tmp_path / "data", n_train=4, n_test=2, size=16)
    summary = export_data_folder(data, tmp_path / "b.zip", "codabench", daily_limit=2)
    with zipfile.ZipFile(summary["out"]) as archive:
        assert yaml.safe_load(archive.read("competition.yaml"))["phases"][0]["max_submissions_per_day"] == 2


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
    code, out, err = run_cli("competition", "export", "--dir", comp, "--out", tmp_path / "bundle.zip", "--format", "codabench")
    assert (code, err) == (0, "") and out.startswith(f"wrote {tmp_path / 'bundle.zip'}: codabench package of 13 files")
    assert zipfile.is_zipfile(tmp_path / "bundle.zip")
    data = write_set(tmp_path / "data", n_train=4, n_test=2, size=16)
    code, out, err = run_cli("competition", "export", "--data", data, "--out", tmp_path / "kaggle", "--format", "kaggle")
    assert code == 0 and "note: split by image here" in out
    assert len(pd.read_csv(tmp_path / "kaggle" / "solution.csv")) == 16 * 16


def test_cli_export_mistakes_exit_2_with_one_line(comp, tmp_path, run_cli):
    code, out, err = run_cli("competition", "export", "--dir", comp, "--out", tmp_path / "bundle", "--format", "codabench")
    assert code == 2 and out == "" and err.count("\n") == 1 and "a Codabench bundle is a zip" in err
    code, _, err = run_cli("competition", "export", "--data", tmp_path, "--out", tmp_path / "t.csv")
    assert code == 2 and "--format leaderboard needs --dir COMP" in err


def test_logo_is_a_png_of_a_blanked_training_face_whatever_the_data_format(tmp_path):
    data = write_set(tmp_path / "data", n_train=3, n_test=2, size=16, ext=".tif")
    bundle = export_data_folder(data, tmp_path / "b.zip", "codabench")["out"]
    with zipfile.ZipFile(bundle) as archive:
        png = archive.read("logo.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    logo = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(logo, cv2.imread(str(data / "Training" / "White" / "face_0.tif"), cv2.IMREAD_GRAYSCALE))
