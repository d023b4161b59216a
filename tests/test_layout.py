"""Dependencies point one way: competition/ and baselines/ over inpaint/ over submission/, the command
line (inpaint/cli/) on top, imported by nothing but its entry points."""
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("submission", "inpaint", "baselines", "competition")
# What each layer may import of ours, besides itself; the CLI may import every package.
MAY_IMPORT = {"submission": set(), "inpaint": {"submission"}, "baselines": {"inpaint", "submission"},
              "competition": {"inpaint", "submission"}, "inpaint.cli": {"inpaint", "submission", "baselines", "competition"}}
CLI_ENTRY_POINTS = {"inpaint/__main__.py"}  # `python -m inpaint`; pyproject's script names inpaint.cli:entry


def layer(module: str) -> str | None:
    """'inpaint.cli.student' -> 'inpaint.cli'; 'inpaint.train' -> 'inpaint'; numpy -> None (not ours)."""
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
