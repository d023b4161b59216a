"""The docs stay true where a machine can tell: every `inpaint ...` command line in README.md and docs/*.md
parses with the real parser (nothing runs), every repository file they name exists, and every "see X"
points at a file (and section) that holds what the sentence sends the reader there for."""
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from inpaint.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", REPO / "data_spec.md", REPO / "BENCHMARKS.md", *(REPO / "docs").glob("*.md")])
TOP = ("inpaint", "submission", "competition", "baselines", "tests", "docs", "notebooks")
TEMPLATE = re.compile(r"\[|\]|\||\.\.\.|<|>")  # usage syntax ([optional], a|b, ...): a pattern, not a command line


def shown(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def code_blocks(path: Path):
    """(first line number, lines) of each fenced code block."""
    block, start = None, 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            if block is not None:
                yield start, block
            block, start = (None, 0) if block is not None else ([], number + 1)
        elif block is not None:
            block.append(line.strip())


def code_block_commands(path: Path):
    """(line, command, what the block shows it printed) of each `inpaint` / `python -m inpaint` line of the
    fenced code blocks. In a transcript (lines starting with `$ `) only those lines are commands."""
    for start, lines in code_blocks(path):
        transcript = any(line.startswith("$ ") for line in lines)
        pending = ""
        for offset, line in enumerate(lines):
            if transcript and not (line.startswith("$ ") or pending):
                continue
            text = pending + " " + line.removeprefix("$ ") if pending else line.removeprefix("$ ")
            if text.endswith("\\"):
                pending = text[:-1]
                continue
            pending = ""
            printed = []
            for later in lines[offset + 1:]:
                if transcript and later.startswith("$ ") or not transcript:
                    break
                printed.append(later)
            for part in re.split(r"&&|;|\|", text):
                yield start + offset, part, "\n".join(printed)


def inline_commands(path: Path):
    """(line, command) of each inline code span's `inpaint ...` command."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for span in re.findall(r"`([^`]+)`", line):
            for part in re.split(r"&&|;", span):
                yield number, part


def as_argv(command: str) -> list[str] | None:
    """The argv after `inpaint`, or None for text that is no inpaint command line."""
    command = command.split(" #", 1)[0].strip()
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and re.match(r"^[A-Z_]+=", words[0]):  # TF_CONFIG=... inpaint ...
        words = words[1:]
    if words[:3] == ["python", "-m", "inpaint"]:
        return words[3:]
    return words[1:] if words[:1] == ["inpaint"] else None


def parse_error(argv: list[str]) -> str | None:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as stop:
        return None if stop.code == 0 else err.getvalue().strip().splitlines()[-1]
    return None


def command_lines():
    """(where, command, argv, None for a sentence's span or what a code block shows it printed)."""
    for path in DOCS:
        for number, command, printed in code_block_commands(path):
            argv = as_argv(command)
            if argv and not TEMPLATE.search(command):
                yield shown(path, number), command, argv, printed
        for number, span in inline_commands(path):
            argv = as_argv(span)
            if argv and not TEMPLATE.search(span) and argv[0] != "COMMAND" and argv[-1] != "COMMAND":
                yield shown(path, number), span, argv, None


# A sentence may name a command with only the options it is about (`inpaint run --minutes 20 --seed 0`);
# whatever it does give must still parse.
SHORTHAND = ("arguments are required", "is required", "expected one argument")


def test_every_command_line_in_the_docs_parses():
    wrong = []
    for where, command, argv, printed in command_lines():
        error = parse_error(argv)
        if not error or printed is None and any(words in error for words in SHORTHAND):
            continue
        if printed and error in printed:
            continue  # a transcript that shows this very refusal
        wrong.append(f"{where}: `{command}`: {error}")
    assert wrong == []


def test_the_check_finds_a_wrong_command_line():
    assert parse_error(["trian"]) and parse_error(["demo", "--minuts", "3"]) and parse_error(["run", "--data", "D"])
    assert parse_error(["demo", "--out", "demo"]) is None and as_argv("TF_CONFIG=x inpaint demo  # comment") == ["demo"]
    found = {(where.split(":")[0], command.strip(), printed is not None) for where, command, _, printed in command_lines()}
    assert ("docs/student.md", "inpaint check-data --data DATA", True) in found  # from a code block
    assert ("README.md", "inpaint report", False) in found  # from a sentence


def named_files(path: Path):
    """(line, name) of repository files a doc names: relative links, and `dir/file.ext` paths in code spans."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", line):
            if not re.match(r"^[a-z]+:", target):
                yield number, (path.parent / target).resolve()
        for span in re.findall(r"`([^`\s]+\.(?:py|md|toml|ipynb|png|txt|json|yml|yaml|csv|sh))`", line):
            if span.split("/", 1)[0] in TOP:  # RUN/config.toml, OUT/pairs.csv are no repository files
                yield number, REPO / span


def test_every_repository_file_a_doc_names_exists():
    missing = [f"{shown(path, number)}: {target.relative_to(REPO) if target.is_relative_to(REPO) else target}"
               for path in DOCS for number, target in named_files(path) if not target.exists()]
    assert missing == []


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in path.read_text().splitlines() if line.startswith("#")]


def test_every_link_to_a_section_finds_that_heading():
    wrong = []
    for path in DOCS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", line):
                file = (path.parent / target).resolve() if target else path
                if file.suffix == ".md" and file.exists() and anchor not in {slug(h) for h in headings(file)}:
                    wrong.append(f"{shown(path, number)}: #{anchor} is no heading of {file.name}")
    assert wrong == []


SEE = re.compile(r"\b[Ss]ee ((?:README|BENCHMARKS|data_spec)(?:\.md)?|(?:" + "|".join(TOP) + r")/[\w./-]*\w)"
                 r"(?:, ([A-Z][\w' -]*\w))?")


def see_references(files=None):
    """(where, line text, target file, section or None) of each "see X" in the docs and the code."""
    if files is None:
        files = [*DOCS, *(p for top in TOP if top not in ("docs", "tests") for p in (REPO / top).rglob("*.py"))]
        files += [p for p in sorted((REPO / "tests").glob("test_*.py")) if p.name != "test_docs.py"]
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for target, section in SEE.findall(line):
                name = target if "." in target.rsplit("/", 1)[-1] else target + ".md"
                yield f"{path.name}:{number}", line, REPO / name, section or None


def see_problems(references) -> list[str]:
    """A missing file or section, or a figure of the sentence that the place it points at does not hold."""
    wrong = []
    for where, line, target, section in references:
        if not target.exists():
            wrong.append(f"{where}: {target.relative_to(REPO)} does not exist")
            continue
        text = target.read_text()
        if section:
            titles = [h for h in headings(target) if section.lower() in h.lower()]
            if not titles:
                wrong.append(f"{where}: {target.name} has no section {section!r}")
                continue
            text = section_text(text, titles[0])
        figures = re.findall(r"\d[\d,.]*\d", re.split(r"\b[Ss]ee ", line, maxsplit=1)[0])
        absent = [f for f in figures if f not in text and f.replace(",", "") not in text]
        if absent:
            wrong.append(f"{where}: {', '.join(absent)} not in {target.name}{', ' + section if section else ''}")
    return wrong


def section_text(text: str, title: str) -> str:
    """The lines under heading `title`, up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and line.lstrip("#").strip() == title)
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level), len(lines))
    return "\n".join(lines[start:end])


def test_every_see_x_points_at_a_place_that_has_it():
    """'the deck quotes 77,766; see README' sent readers to a README that no longer said it (issue 36)."""
    assert see_problems(see_references()) == []


@pytest.mark.parametrize("line, problem", [
    ("the deck quotes 77,766; see README", "77,766 not in README.md"),
    ("the deck quotes 77,766; see docs/organizer.md, Baselines", None),
    ("read as 3000 iterations (see docs/organizer.md, No Such Section)", "has no section 'No Such Section'"),
    ("the layout (see docs/nothing.md)", "docs/nothing.md does not exist"),
])
def test_the_see_check_catches_a_moved_or_missing_place(line, problem, tmp_path):
    (tmp_path / "t.py").write_text(f"# {line}\n")
    found = see_problems(see_references([tmp_path / "t.py"]))
    assert (len(found) == 1 and problem in found[0]) if problem else found == []
