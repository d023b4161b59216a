"""Dependencies point one way: benchmarks/ over competition/ and baselines/ over inpaint/ over submission/,
the command line (inpaint/cli/) on top, imported by nothing but its entry points. Inside inpaint/, the
rooms too: the training core at the top of the folder, datasets/ and reporting/ over it, runtime/ under it,
the notebook API (api.py, __init__.py) over the core, reporting/ and runtime/."""
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("submission", "inpaint", "baselines", "competition", "benchmarks")
# What each layer may import of ours, besides itself; the CLI may import every package. The benchmarks
# measure the others from above (training against baselines/, the server of competition/).
MAY_IMPORT = {"submission": set(), "inpaint": {"submission"}, "baselines": {"inpaint", "submission"},
              "competition": {"inpaint", "submission"},
              "benchmarks": {"inpaint", "submission", "baselines", "competition"},
              "inpaint.cli": {"inpaint", "submission", "baselines", "competition", "benchmarks"}}
CLI_ENTRY_POINTS = {"inpaint/__main__.py"}  # `python -m inpaint`; pyproject's script names inpaint.cli:entry


def layer(module: str) -> str | None:
    """'inpaint.cli.student' -> 'inpaint.cli'; 'inpaint.training' -> 'inpaint'; numpy -> None (not ours)."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    return "inpaint.cli" if parts[:2] == ["inpaint", "cli"] else parts[0]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path):
    """(line, module) of every import in the file: top level, inside functions, under TYPE_CHECKING alike."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path, root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolved against the importing package
                parts = package.split(".")
                module = ".".join(parts[:len(parts) - node.level + 1] + ([module] if module else []))
            for alias in node.names:  # `from inpaint import cli` imports the module inpaint.cli
                yield node.lineno, f"{module}.{alias.name}"


def wrong_arrows(root: Path) -> list[str]:
    """Every import from a package into one it must not depend on, as 'file:line imports module'."""
    wrong = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            source = layer(module_name(path, root))
            shown = path.relative_to(root).as_posix()
            for line, target in imported_modules(path, root):
                to = layer(target)
                if to is None or to == source:
                    continue
                if to == "inpaint.cli" and shown in CLI_ENTRY_POINTS:
                    continue
                if to not in MAY_IMPORT[source]:
                    wrong.append(f"{shown}:{line} imports {target}")
    return wrong


def test_no_package_imports_one_above_it_and_nothing_imports_the_command_line():
    assert wrong_arrows(REPO) == []


def test_the_check_finds_an_upward_import_even_inside_a_function(tmp_path):
    files = {
        "submission/__init__.py": "",
        "submission/scoring.py": "import numpy\n\ndef f():\n    from inpaint.errors import UserError\n",
        "inpaint/__init__.py": "",
        "inpaint/report.py": "from submission import scoring\nfrom baselines import classical\n",
        "inpaint/train.py": "def g():\n    import inpaint.cli.student\n\ndef h():\n    from .cli import shared\n",
        "inpaint/api.py": "from inpaint import cli\n",
        "inpaint/__main__.py": "from inpaint.cli import main\n",
        "inpaint/cli/__init__.py": "from competition import service\nfrom baselines import bench\nfrom . import shared\n",
        "baselines/__init__.py": "",
        "baselines/bench.py": "from inpaint import train\nfrom competition import judge\n",
        "competition/__init__.py": "",
        "competition/service.py": "from inpaint.errors import UserError\nfrom . import judge\n",
        "competition/judge.py": "from benchmarks import serve\n",
        "benchmarks/__init__.py": "",
        "benchmarks/serve.py": "from competition import launch\nfrom baselines import classical\nfrom inpaint.cli import shared\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert wrong_arrows(tmp_path) == [
        "submission/scoring.py:4 imports inpaint.errors.UserError",
        "inpaint/api.py:1 imports inpaint.cli",
        "inpaint/report.py:2 imports baselines.classical",
        "inpaint/train.py:2 imports inpaint.cli.student",
        "inpaint/train.py:5 imports inpaint.cli.shared",
        "baselines/bench.py:2 imports competition.judge",
        "competition/judge.py:1 imports benchmarks.serve",
        "benchmarks/serve.py:3 imports inpaint.cli.shared",
    ]


# The rooms of inpaint/ and what each may import of the others (besides itself and submission/). The
# training core is the modules at the top of inpaint/ (models, gan, training, prediction, data, run_folder,
# ...); runtime/ (TensorFlow's quiet start, several machines, the watchdog) knows nothing of it; datasets/
# (building sets) and reporting/ (writing a run up) use the core; the notebook API uses what it shows. The
# command line (inpaint/cli/, and its entry point __main__) may import every room.
ROOM_MAY_IMPORT = {"runtime": set(), "core": {"runtime"}, "datasets": {"core"}, "reporting": {"core"},
                   "api": {"core", "reporting", "runtime"}}
SUBPACKAGE_ROOMS = ("datasets", "reporting", "runtime")


def room(module: str) -> str | None:
    """'inpaint.datasets.synth' -> 'datasets'; 'inpaint.models' -> 'core'; 'inpaint' and 'inpaint.api' -> 'api';
    None for the command line and for what is not in inpaint/."""
    parts = module.split(".")
    if parts[0] != "inpaint" or parts[1:2] in (["cli"], ["__main__"]):
        return None
    if parts[1:2] in ([], ["api"]):
        return "api"
    return parts[1] if parts[1] in SUBPACKAGE_ROOMS else "core"


def wrong_room_arrows(root: Path) -> list[str]:
    """Every import from one room of inpaint/ into a room it must not depend on, as 'file:line imports module'."""
    wrong = []
    for path in sorted((root / "inpaint").rglob("*.py")):
        source = room(module_name(path, root))
        if source is None:
            continue
        for line, target in imported_modules(path, root):
            to = room(target)
            if to is not None and to != source and to not in ROOM_MAY_IMPORT[source]:
                wrong.append(f"{path.relative_to(root).as_posix()}:{line} imports {target}")
    return wrong


def test_every_module_of_inpaint_is_in_a_room_and_no_room_imports_one_it_must_not():
    folders = {init.parent.name for init in (REPO / "inpaint").glob("*/__init__.py")}
    assert folders == {"cli", *SUBPACKAGE_ROOMS}  # a new folder is a room this file names, with its arrows
    rooms = {room(module_name(path, REPO)) for path in (REPO / "inpaint").rglob("*.py")} - {None}
    assert rooms == set(ROOM_MAY_IMPORT)
    assert wrong_room_arrows(REPO) == []


def test_the_room_check_finds_a_wrong_arrow_between_rooms_even_inside_a_function(tmp_path):
    files = {
        "inpaint/__init__.py": "from inpaint.api import train\n",
        "inpaint/api.py": "from inpaint.reporting.report import write_report\nfrom inpaint.datasets import synth\n",
        "inpaint/__main__.py": "from inpaint.cli import entry\n",
        "inpaint/cli/__init__.py": "from inpaint.datasets.synth import write_synth_set\n",
        "inpaint/training.py": "from inpaint.runtime import distribute\n\ndef f():\n    from inpaint.reporting import report\n",
        "inpaint/models.py": "import inpaint\nfrom inpaint.config import Config\n",
        "inpaint/datasets/__init__.py": "",
        "inpaint/datasets/synth.py": "from inpaint.errors import DataError\nfrom inpaint.reporting.diagram import draw\n",
        "inpaint/reporting/__init__.py": "",
        "inpaint/reporting/report.py": "from inpaint.prediction import predict_run\nfrom ..datasets import synth\n",
        "inpaint/runtime/__init__.py": "",
        "inpaint/runtime/distribute.py": "from submission.errors import ConfigError\nfrom . import watchdog\n"
                                         "def g():\n    from inpaint.run_folder import CHECKPOINTS\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert wrong_room_arrows(tmp_path) == [
        "inpaint/api.py:2 imports inpaint.datasets.synth",
        "inpaint/datasets/synth.py:2 imports inpaint.reporting.diagram.draw",
        "inpaint/models.py:1 imports inpaint",
        "inpaint/reporting/report.py:2 imports inpaint.datasets.synth",
        "inpaint/runtime/distribute.py:4 imports inpaint.run_folder.CHECKPOINTS",
        "inpaint/training.py:4 imports inpaint.reporting.report",
    ]


def test_a_run_folders_config_and_state_are_read_without_tensorflow(tmp_path):
    (tmp_path / "config.toml").write_text("batch_size = 4\nmask_threshold = 0.9\n")
    (tmp_path / "state.json").write_text('{"steps": 3}\n')
    code = textwrap.dedent(f"""
        import sys
        from inpaint import run_folder
        from inpaint.cli import build_parser
        build_parser()
        cfg = run_folder.load_config({str(tmp_path)!r})
        print(cfg.batch_size, cfg.mask_threshold, run_folder.read_state({str(tmp_path)!r})["steps"],
              sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "4 0.9 3 []", done.stdout + done.stderr



def test_the_server_imports_the_base_directly_hooks_no_import_and_starts_no_tensorflow():
    """competition/ reaches errors, image files and TOML values in submission/, not through inpaint/, so
    importing the server runs no inpaint/__init__.py (whose notebook API is not the server's business)."""
    code = textwrap.dedent("""
        import sys
        hooks = list(sys.meta_path)
        import competition.service, competition.api.app, competition.settings
        ours = ("inpaint", "submission", "competition", "baselines")
        added = [type(f).__module__ for f in sys.meta_path if f not in hooks]  # six adds one for pandas's dateutil
        print(sorted(m for m in added if m.split(".")[0] in ours), sorted(m for m in sys.modules if m.split(".")[0] == "inpaint"),
              sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip() == "[] [] []", done.stdout + done.stderr

# The judging side: competition/judge_pool.py runs it in separate processes (InlineJudging only for the
# command line and in-process tests), so the search for parsing stops at that module.
JUDGING_BOUNDARY = "competition.judge_pool"
PARSERS = ("read_table", "read_csv", "read_predictions_csv")
# The kit's modules whose functions parse a CSV (or score/validate/diagnose a parsed one).
PARSING_MODULES = ("competition.judge", "submission.csv_read", "submission.csv_io", "submission.validate",
                   "submission.scoring", "submission.diagnose", "submission.leaderboard")


def request_side_modules(root: Path) -> dict[str, Path]:
    """Every competition module that a route can reach (competition.api and competition.web and what
    they import of competition, at top level or inside a function), not crossing into the judging
    processes. (Importing a package runs its __init__, which may re-export a parser; what matters is
    what the host's own code imports and calls, checked by `parsing_calls`.)"""
    files = {module_name(path, root): path for path in (root / "competition").rglob("*.py")}
    todo = [m for m in files if m.startswith(("competition.api", "competition.web"))]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        if module in seen or module not in files:
            continue
        seen[module] = files[module]
        if module == JUDGING_BOUNDARY:
            continue
        for _line, target in imported_modules(files[module], root):
            todo += [target, target.rsplit(".", 1)[0]]  # `from a.b import c`: c is the module a.b.c or a name in a.b
    return seen


def parsing_calls(seen: dict[str, Path], root: Path) -> list[str]:
    """'module:line what' for every import of a parsing module and every import or call of a CSV
    parser in `seen` (the boundary's own judging-side imports aside)."""
    found = []
    for module, path in seen.items():
        if module == JUDGING_BOUNDARY:
            continue
        for line, target in imported_modules(path, root):
            constant = target.rsplit(".", 1)[-1].isupper()  # a limit quoted on a page (csv_read.VALUE_LIMIT)
            if not constant and any(target == m or target.startswith(m + ".") for m in PARSING_MODULES):
                found.append(f"{module}:{line} imports {target}")
        for node in ast.walk(ast.parse(path.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in PARSERS:
                found.append(f"{module}:{node.lineno} {name}")
    return sorted(set(found))


def test_no_route_can_reach_a_csv_parser():
    """Issue 33: no request handler parses a submission; what a page shows was stored by the judge."""
    seen = request_side_modules(REPO)
    assert {"competition.service", "competition.web.boards", "competition.copy_checks", JUDGING_BOUNDARY} <= set(seen)
    assert parsing_calls(seen, REPO) == []


def test_the_parser_check_finds_a_call_behind_an_import(tmp_path):
    files = {"competition/__init__.py": "", "competition/api/__init__.py": "from competition.api import routes\n",
             "competition/api/routes.py": "from competition import views\n",
             "competition/views.py": "def f(p):\n    import pandas as pd\n    return pd.read_csv(p)\n",
             "competition/judge_pool.py": "def w():\n    from competition.judge import Judge\n",
             "competition/judge.py": "from submission.csv_read import read_table\n",
             "competition/web/__init__.py": "from competition import judge_pool\nfrom competition import pages\n",
             "competition/pages.py": "def g():\n    from submission.scoring import score_file\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    seen = request_side_modules(tmp_path)
    assert "competition.judge" not in seen  # behind the judging boundary
    assert parsing_calls(seen, tmp_path) == ["competition.pages:2 imports submission.scoring.score_file",
                                             "competition.views:3 read_csv"]
