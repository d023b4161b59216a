"""The Kaggle package: solution.csv with its Usage column, the competition's metric, the data and the pages.

What Kaggle does with it, as its documentation and metric template say:

- The solution's Usage column marks each row Public or Private (Kaggle in Class host guide, "Setting
  Up Scoring"). A row is one pixel position in every image, so a competition split by image is
  written split by pixel, with the same fraction and seed.
- The metric is a Python file written to Kaggle's metric template (kaggle_metric.py); Kaggle calls
  it on the Public rows and on the Private rows, without the Usage column. metric.py is built here
  from kaggle_metric.py with the kit's scoring functions inlined, so that it runs alone.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pandas as pd

from competition.platforms import kaggle_pages
from competition.settings import CompetitionPaths, Settings
from submission.csv_read import read_table
from submission.grading import make_split

METRIC_SOURCE = Path(__file__).with_name("kaggle_metric.py")
KIT_BLOCK = re.compile(r"^# KIT\n(?P<imports>.*?)^# END KIT\n", re.S | re.M)


def inlined(name: str, value) -> str:
    """The source of one kit name, for a file that cannot import the kit."""
    if isinstance(value, type) and issubclass(value, Exception):  # score() turns them into Kaggle's own errors
        return f'class {name}(Exception):\n    """{inspect.getdoc(value)}"""\n'
    if inspect.isclass(value) or inspect.isfunction(value):
        return inspect.getsource(value)
    return f"{name} = {value!r}\n"


def kit_dependencies(module, value) -> list[str]:
    """Names of `module` that a kit function or class uses: they must be inlined with it."""
    if not (inspect.isclass(value) or inspect.isfunction(value)):
        return []
    used = {node.id for node in ast.walk(ast.parse(inspect.getsource(value))) if isinstance(node, ast.Name)}
    return sorted(name for name in used if name in vars(module) and not inspect.ismodule(vars(module)[name])
                  and getattr(vars(module)[name], "__module__", module.__name__) in (module.__name__, None))


def metric_source() -> str:
    """metric.py: kaggle_metric.py with the kit names its KIT block imports defined in their place.

    What those names use in their own modules is inlined too (to a fixed point), so a change to the
    scorer that calls a new helper still gives a metric.py that runs alone.
    """
    source = METRIC_SOURCE.read_text(encoding="utf-8")
    block = KIT_BLOCK.search(source)
    wanted, modules = [], []
    for node in ast.parse(block["imports"]).body:
        module = importlib.import_module(node.module)
        modules.append(node.module)
        wanted += [(module, alias.name) for alias in node.names]
    done, pieces = set(), []
    while wanted:
        module, name = wanted.pop(0)
        if name in done:
            continue
        done.add(name)
        value = getattr(module, name)
        wanted += [(module, dep) for dep in kit_dependencies(module, value) if dep not in done]
        pieces.append(inlined(name, value))
    # Constants first: a function's default argument reads them when the file is executed.
    pieces.sort(key=lambda piece: piece.startswith(("def ", "class ", "@")))
    header = f"# The course kit's own code ({', '.join(modules)}), inlined by `inpaint competition export`.\n\n"
    return source[:block.start()] + header + "\n\n".join(pieces) + "\n# End of the kit's code.\n" + source[block.end():]


def kaggle_usage(paths: CompetitionPaths, s: Settings) -> tuple[pd.Series, str]:
    """Public/Private per pixel id, and a note when the competition's own split could not be kept.

    Kaggle's Usage column marks rows, and a row is one pixel of every image: a split by image cannot
    be written there, so it becomes a split by pixel with the same fraction and seed.
    """
    if s.split_by == "pixel":
        split, note = pd.read_csv(paths.split), ""
    else:
        split = make_split(read_table(paths.solution), s.public_fraction, "pixel", s.seed)
        note = ("split by image here; Kaggle's Usage column marks rows (pixels), so the Kaggle solution is split "
                f"by pixel ({s.public_fraction:g} public, seed {s.seed}): its public scores differ from `inpaint serve`'s")
    return pd.Series(split["Usage"].to_numpy(), index=split["id"].astype("int64")), note


def kaggle_files(paths: CompetitionPaths, s: Settings) -> tuple[dict[str, bytes], str]:
    usage, note = kaggle_usage(paths, s)
    cells = pd.read_csv(paths.solution, dtype=str, keep_default_na=False)  # text kept exactly as written
    cells["Usage"] = usage.reindex(pd.to_numeric(cells.iloc[:, 0]).astype("int64")).to_numpy()
    files = {
        "solution.csv": cells.to_csv(index=False, lineterminator="\n").encode(),
        "sample_submission.csv": paths.sample.read_bytes(),
        "test_boxes.csv": paths.test_boxes.read_bytes(),
        "student_data.zip": paths.student_zip.read_bytes(),
        "metric.py": metric_source().encode(),
    }
    files |= {name: text.encode() for name, text in kaggle_pages.kaggle_pages(s, note).items()}
    return files, note
