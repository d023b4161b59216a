"""Pieces every audience's commands share: progress bars, data loading from options, the one config
resolved from the options, tables, the meaning of --answers, and argparse helpers (--preset, --size,
counts >= 1, files that must exist, example lines in --help, old option spellings that still work,
the parser that refuses abbreviations)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from inpaint.errors import ConfigError, UserError
from inpaint.masks import DEFAULT_THRESHOLD


def progress(label: str):
    """A one-line progress bar on terminals, silent in logs; returns a (done, total) callback."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.monotonic() - start, 1e-9)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate:.0f}/s", end=end, file=sys.stderr)

    return report


def opt_path(value) -> Path | None:
    return Path(value) if value else None


def answers_folder(path: Path, option: str = "--answers") -> Path:
    """What `--answers` means in every command: the Testing/Real folder itself, or a data folder that has one."""
    path = Path(path)
    inner = path / "Testing" / "Real"
    if inner.is_dir():
        return inner
    if not path.is_dir():
        raise UserError(f"{option} {path}: folder not found (give DATA/Testing/Real or a data folder that has one)")
    if (path / "Testing").is_dir() or (path / "Training").is_dir():
        raise UserError(f"{option} {path}: a data folder without Testing/Real; answers are only on graders' copies")
    return path


def answers_data_folder(path: Path, option: str = "--answers") -> Path:
    """The data folder that `--answers` belongs to, for commands that need its Testing/White images too."""
    real = answers_folder(path, option)
    data = real.absolute().parent.parent  # DATA/Testing/Real -> DATA
    if real.name != "Real" or real.parent.name != "Testing" or not (data / "Testing" / "White").is_dir():
        raise UserError(f"{option} {path}: no Testing/White beside the answers; give the data folder "
                        "(DATA or DATA/Testing/Real) whose test images they answer")
    return data


def size_of(args, default=(128, 128)) -> tuple[int, int]:
    return tuple(args.size) if getattr(args, "size", None) else default


def read_data(args, size, need_train=True, need_test=True, mask_threshold: float | None = None, mask_grow: int = 1):
    """The data folder of `--data` (and `--pair-by-order`), masks found with `mask_threshold` (default: the
    `--mask-threshold` option, else the finder's own) and grown by `mask_grow`."""
    from inpaint.data import load_data

    threshold = mask_threshold or getattr(args, "mask_threshold", None) or DEFAULT_THRESHOLD
    return load_data(Path(args.data), size=size, need_train=need_train, need_test=need_test,
                     by_order=getattr(args, "pair_by_order", False), mask_threshold=threshold, mask_grow=mask_grow)


def read_data_as(args, cfg, need_train=True, need_test=True):
    """The data folder read as the config says (image_size, mask_threshold, mask_grow): how a run reads it."""
    return read_data(args, tuple(cfg.image_size), need_train, need_test, cfg.mask_threshold, cfg.mask_grow)


def resolve_config(args):
    """preset -> config file -> command-line options, later ones winning."""
    from inpaint import config
    from inpaint.api import with_budget

    cfg = config.preset(args.preset)
    if args.config:
        try:
            cfg = config.load_toml(Path(args.config), cfg)
        except ConfigError as exc:  # "config: unknown keys x" -> "--config FILE: unknown keys x"
            raise ConfigError(f"--config {args.config}: {str(exc).removeprefix('config: ')}"
                              if str(exc).startswith("config: ") else str(exc)) from None
    changes = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        if key.strip() in config.REMOVED:  # accepted at its old "off" value only, as in an old config.toml
            try:
                config.without_removed({key.strip(): _parse_value(value.strip())})
            except ConfigError as exc:
                raise ConfigError(f"--set {item}: {str(exc).removeprefix('config: ')}") from None
            continue
        if key.strip() not in cfg.__dataclass_fields__:
            raise ConfigError(f"--set {item}: unknown config key {key.strip()!r}{did_you_mean(key.strip(), cfg.__dataclass_fields__)}"
                              " (RUN/config.toml lists every key)")
        try:
            changes[key.strip()] = config.typed_value(key.strip(), _parse_value(value.strip()))
        except ConfigError as exc:
            raise ConfigError(f"--set {item}: {str(exc).removeprefix('config: ')}") from None
    if args.size:
        changes["image_size"] = tuple(args.size)
    if args.mask_threshold:
        changes["mask_threshold"] = args.mask_threshold
    if args.seed is not None:
        changes["seed"] = args.seed
    return with_budget(config.from_dict(changes, cfg), args.epochs, args.steps, args.minutes)


def _parse_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # bare words are strings: --set adversarial=hinge


# Digits that mean something for each column; RMSE-like columns get 5.
COLUMN_FORMATS = {"seconds": "{:.1f}", "PSNR": "{:.2f}", "SSIM": "{:.4f}"}


def print_table(table) -> None:
    formatters = {c: f.format for c, f in COLUMN_FORMATS.items() if c in table}
    print(table.to_string(index=False, formatters=formatters, float_format=lambda v: f"{v:.5f}"))


def data_options(p, size=True, threshold_help="near-white level of the painted box in [0, 1] (default 0.94)"):
    p.add_argument("--data", required=True, help="data folder in the data_spec.md layout")
    if size:
        size_option(p)
    p.add_argument("--pair-by-order", action="store_true",
                   help="pair Real and White by sorted order instead of by name (only for sets whose names differ)")
    p.add_argument("--mask-threshold", type=float, help=threshold_help)


class SizeAction(argparse.Action):
    """`--size M N`, image rows and columns, in every command. A lone N (synth's, make-pairs' and bench
    serve's old spelling of a square side) is read as N N, with a note; `square` commands refuse M != N."""

    def __init__(self, *args, square=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.square = square

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) == 1 and self.square:
            print(f"note: {option_string} takes rows and columns (M N) in every command; read {values[0]} as "
                  f"{values[0]} {values[0]}", file=sys.stderr)
            values = values * 2
        if len(values) != 2:
            parser.error(f"argument {option_string}: expected two numbers, M N (rows and columns)")
        if self.square and values[0] != values[1]:
            parser.error(f"argument {option_string}: this command makes square images; give N N")
        if min(values) < 1:
            parser.error(f"argument {option_string}: sizes must be at least 1, got {values[0]} {values[1]}")
        setattr(namespace, self.dest, tuple(values))


def size_option(p, help_text="image rows and columns (default 128 128)", default=None, square=False) -> None:
    """--size M N; `square` commands (synth, make-pairs, bench serve) also take their old lone N."""
    p.add_argument("--size", type=int, nargs="+" if square else 2, metavar=("N", "N") if square else ("M", "N"),
                   default=default, action=SizeAction, square=square, help=help_text)


class OldSpelling(argparse.Action):
    """An option's old name, kept for scripts: hidden from --help, it stores into the new option's place
    and says what replaced it."""

    def __init__(self, *args, new: str, why: str = "", **kwargs):
        super().__init__(*args, help=argparse.SUPPRESS, **kwargs)
        self.new, self.why = new, why

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"note: {parser.prog} {option_string} is now {self.new}{self.why}; read as {self.new} {values}",
              file=sys.stderr)
        setattr(namespace, self.dest, values)


def old_spelling(p, option: str, dest: str, new: str, why: str = "") -> None:
    p.add_argument(option, dest=dest, action=OldSpelling, new=new, why=why, default=argparse.SUPPRESS)


def command_group(add, name, help_text, example):
    """A command whose own sub-commands are actions (`inpaint competition init`, `inpaint remote upload`)."""
    p = add(name, None, help_text, example=example)
    return p.add_subparsers(dest="action", required=True, metavar="ACTION")


def preset_option(p) -> None:
    from inpaint.config import PRESETS

    p.add_argument("--preset", default="standard", choices=tuple(PRESETS),
                   help="lite (smoke tests), standard (sized for a 2-core CPU) or large (pix2pix's widths, for a GPU); "
                        "default standard")


def positive_int(text: str) -> int:
    """An argparse type: a count that must be at least 1 (0 steps or repeats would fail later with a traceback)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def existing_file(value, option: str) -> Path:
    """A file an option names, or an error that names the option (instead of '[Errno 2] ...')."""
    path = Path(value)
    if not path.is_file():
        raise UserError(f"{option} {path}: file not found")
    return path


class ExampleFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but keeps example lines (and text laid out in lines) whole, to copy and paste."""

    def _fill_text(self, text, width, indent):
        if text.startswith("example: ") or "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)

    def _format_args(self, action, default_metavar):
        if isinstance(action, SizeAction):  # `--size N N`, not argparse's `N [N ...]` for the old lone N
            return " ".join(action.metavar)
        return super()._format_args(action, default_metavar)


def with_examples(example, text: str | None = None) -> dict:
    """add_parser keywords that end a command's --help with `text` (laid out in lines), then `example: ...`
    lines (a command line or a list)."""
    examples = [example] if isinstance(example, str) else list(example or [])
    epilog = "\n\n".join(p for p in (text, "\n".join(f"example: {line}" for line in examples)) if p)
    return {"epilog": epilog or None, "formatter_class": ExampleFormatter}


class KitParser(argparse.ArgumentParser):
    """No abbreviated options (`--minute` is not silently `--minutes`), and an unknown option is named
    with the nearest one by the sub-command's own parser, whose usage is the one that helps."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False  # sub-commands' parsers are made by this class too
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = chosen_parser(self, parsed)
            parser.error(unrecognized(parser, extras))
        return parsed

    def error(self, message):
        """argparse's message, with the nearest choice for a mistyped command or choice (`inpaint trian`)."""
        import re

        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if wrong:
            message += did_you_mean(wrong.group(1), re.findall(r"'([^']*)'", wrong.group(2)))
        super().error(message)


def did_you_mean(word: str, known, cutoff: float = 0.6) -> str:
    """' (did you mean X?)' for the nearest of `known` (difflib), or '' when none is near."""
    import difflib

    near = difflib.get_close_matches(word, list(known), n=1, cutoff=cutoff)
    return f" (did you mean {near[0]}?)" if near else ""


def chosen_parser(parser: argparse.ArgumentParser, parsed) -> argparse.ArgumentParser:
    """The innermost sub-command parser that `parsed` went through (`inpaint competition init` -> init's)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and getattr(parsed, action.dest, None) in action.choices:
            return chosen_parser(action.choices[getattr(parsed, action.dest)], parsed)
    return parser


def unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """'unrecognized arguments: --minuts 1 (did you mean --minutes?)'."""
    import difflib

    known = [o for action in parser._actions for o in action.option_strings]
    hints = []
    for word in (w.split("=", 1)[0] for w in extras if w.startswith("-")):
        near = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
        if near and near[0] not in hints:
            hints.append(near[0])
    hint = f" (did you mean {' or '.join(hints)}?)" if hints else ""
    return f"unrecognized arguments: {' '.join(extras)}{hint}"
