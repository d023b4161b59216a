"""The `inpaint` command line: parse, call one library function, print.

One module per audience: student (check data, train, predict, submit, report, demo), grader (CSVs,
scores, splits, leaderboards), organizer (data sets, baselines), bench (every benchmark), competition
(hosting: competition, serve), remote (a student's side of the server), cluster (TF_CONFIG); shared
holds what they have in common. The library never imports this package.

Errors a user can cause (UserError) become one line on stderr and exit code 2. TensorFlow is imported
only by the commands that train or predict, so data checks and scoring start in about a second.
"""
from __future__ import annotations

import argparse
import sys

from inpaint.cli.shared import ExampleFormatter, KitParser, with_examples
from inpaint.errors import UserError
from inpaint.runtime import quiet_start

VERBOSE_HELP = "show TensorFlow's own start-up messages (hidden by default: only real errors pass)"


def build_parser() -> argparse.ArgumentParser:
    from inpaint.cli import bench, cluster, competition, grader, organizer, remote, student

    parser = KitParser(
        prog="inpaint", description="pix2pix mouth-inpainting competition kit",
        epilog="first steps:\n  inpaint demo --out demo\n  inpaint check-data --data DATA\n"
               "  inpaint run --data DATA --run runs/first --csv Predict.csv --steps 10000\n"
               "every command's --help ends with an example",
        formatter_class=ExampleFormatter)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, handler, help_text, example=None, epilog_text=None):
        """One sub-command; `epilog_text`, then `example` (a command line, or a list of them) end its --help."""
        p = sub.add_parser(name, help=help_text, description=help_text, **with_examples(example, epilog_text))
        p.set_defaults(handler=handler)
        # Also after the command (`inpaint train ... --verbose`); SUPPRESS keeps a --verbose given before it.
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        return p

    for audience in (student, organizer, bench, grader, competition, remote, cluster):
        audience.register(add)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    quiet_start.install(verbose=args.verbose)
    try:
        return args.handler(args)
    except (UserError, OSError) as exc:  # OSError: a path the user gave cannot be read or written
        print(f"inpaint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"inpaint {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        quiet_start.uninstall()  # in-process callers (tests) get a clean import system back


def entry() -> None:
    """The `inpaint` command and `python -m inpaint`: main(), then the process ends at once.

    After a command that started TensorFlow, the interpreter's own teardown finalises every traced
    tf.function (1.4 s of gc here) and then TensorFlow's C++ runtime: 5.4 s after "wrote Predict.csv"
    for a 20-step `inpaint run` on this 2-core machine under load, once about 49 s (issue 36), with
    nothing left to do: every output is written (atomically) and closed by then, and the TensorBoard
    writers are closed at the end of training. So it is skipped, except after Ctrl-C (130), where the
    teardown still flushes what an interrupted training left open; in-process callers use main().
    """
    import os

    code = main()
    if "tensorflow" in sys.modules and code != 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
