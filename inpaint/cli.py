"""The `inpaint` command line: parse, call one library function, print.

Errors a user can cause (UserError) become one line on stderr and exit code 2.
TensorFlow is imported only by the commands that train or predict, so data checks
and scoring start in about a second.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from inpaint import grader_commands, organizer_commands
from inpaint.cli_common import data_options, load_data, opt_path, print_table, size_of
from inpaint.errors import ConfigError, UserError

# TensorFlow's C++ start-up chatter hides the messages that matter to a student.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def resolve_config(args):
    """preset -> config file -> command-line options, later ones winning."""
    from inpaint import config

    cfg = config.preset(args.preset)
    if args.config:
        cfg = config.load_toml(Path(args.config), cfg)
    changes = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        changes[key.strip()] = _parse_value(value.strip())
    if args.size:
        changes["image_size"] = tuple(args.size)
    if args.mask_threshold:
        changes["mask_threshold"] = args.mask_threshold
    for key in ("epochs", "steps", "minutes", "seed"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if args.minutes and args.epochs is None and args.steps is None:
        changes["epochs"] = config.UNTIL_BUDGET  # a time budget alone means "train until the time is up"
    return config.from_dict(changes, cfg)


def _parse_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # bare words are strings: --set gen_norm=instance


# ---------------------------------------------------------------- commands
def cmd_check_data(args) -> int:
    from inpaint.errors import DataError

    try:
        ds = load_data(args, size_of(args), need_test=True)
    except DataError as exc:
        problems = getattr(exc, "problems", [str(exc)])
        print(f"{args.data}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  - {problem}")
        return 2
    print(f"{args.data}: follows data_spec.md")
    for key, value in ds.facts.items():
        print(f"  {key}: {value}")
    return 0


def cmd_train(args) -> int:
    cfg = resolve_config(args)
    data = load_data(args, cfg.image_size, need_test=False)
    from inpaint.train import train  # after the data check: a bad folder fails before TensorFlow starts

    state = train(data, Path(args.run), cfg, resume=args.resume)
    _print_train_summary(Path(args.run), state)
    return 0


def _print_train_summary(run: Path, state: dict) -> None:
    print(f"training stopped: {state.get('stop_reason')}; {state.get('epochs_done', 0)} epochs, "
          f"{state.get('steps', 0)} steps; best validation RMSE {state.get('best_val_rmse', float('nan')):.5f} "
          f"(epoch {state.get('best_epoch', '-')})")
    print(f"run folder: {run}  (CSV log: {run / 'log.csv'}; TensorBoard: tensorboard --logdir {run / 'logs'})")
    print(f"write-up material: inpaint report --run {run}  (writes {run / 'report'}/report.md and report.html)")


def _predict(args, run: Path):
    from inpaint.predict import predict_run
    from inpaint.train import load_run_config

    data = load_data(args, load_run_config(run).image_size, need_train=False)
    tta = None if args.tta is None else args.tta == "on"
    return data, predict_run(run, data, tta_flip=tta, average_last=args.average_last)


def cmd_compare_predictions(args) -> int:
    import pandas as pd

    from inpaint.predict import compare_predictions
    from inpaint.train import load_run_config

    run = Path(args.run)
    data = load_data(args, load_run_config(run).image_size)
    print_table(pd.DataFrame(compare_predictions(run, data)))
    print("validation favours 'best by validation RMSE', which was chosen on it. predict and submit use the best "
          "generator with flip averaging unless told otherwise: --tta off, --average-last K")
    return 0


def cmd_predict(args) -> int:
    from inpaint.predict import write_pngs

    data, preds = _predict(args, Path(args.run))
    paths = write_pngs(Path(args.out), data.test_white.names, preds)
    print(f"wrote {len(paths)} predictions to {args.out}")
    return 0


def cmd_submit(args) -> int:
    from submission import export_predictions

    data, preds = _predict(args, Path(args.run))
    if args.out:
        from inpaint.predict import write_pngs

        write_pngs(Path(args.out), data.test_white.names, preds)
    # The CSV is written from the float predictions, not from 8-bit PNGs: no rounding loss.
    csv = export_predictions(preds, data.test_white.names, Path(args.csv), sample=opt_path(args.sample))
    print(f"wrote {csv}: {len(preds)} images of {preds.shape[1]}x{preds.shape[2]}")
    return 0


def cmd_run(args) -> int:
    # Check the test images too before training, not after 20 minutes of it.
    load_data(args, resolve_config(args).image_size, need_test=True)
    cmd_train(args)
    return cmd_submit(args)


def cmd_demo(args) -> int:
    """Synthetic set -> train within a time budget -> Predict.csv -> score beside the identity baseline."""
    from submission import export_predictions, score_files, solution_from_answers

    out = Path(args.out)
    data_dir, run, csv = out / "data", out / "run", out / "Predict.csv"
    start = time.monotonic()
    organizer_commands.cmd_synth(argparse.Namespace(out=data_dir, train=args.train, test=10, seed=args.seed, size=128))
    train_args = build_parser().parse_args(
        ["run", "--data", str(data_dir), "--run", str(run), "--csv", str(csv), "--out", str(out / "pred"),
         "--minutes", str(args.minutes), "--seed", str(args.seed), "--preset", args.preset]
    )
    if run.exists():
        import shutil

        shutil.rmtree(run)  # the demo always starts fresh; real runs refuse to overwrite instead
    cmd_run(train_args)
    solution = out / "solution.csv"
    solution_from_answers(data_dir / "Testing" / "Real", solution)
    data = load_data(train_args, (128, 128), need_train=False)
    identity = export_predictions(data.csv_test.white, data.test_white.names, out / "identity.csv")
    rows = [("identity (submit the White images)", score_files(solution, identity).rmse),
            (f"pix2pix, {args.preset} preset, {args.minutes:g} min", score_files(solution, csv).rmse)]
    print(f"\ndemo finished in {(time.monotonic() - start) / 60:.1f} min; RMSE on the 10 synthetic test faces:")
    print(f"  {'method':<40} {'RMSE':>8}")
    for name, value in rows:
        print(f"  {name:<40} {value:8.5f}")
    print(f"files: {csv}, {solution}, predicted PNGs in {out / 'pred'}, run folder {run}")
    return 0


def cmd_report(args) -> int:
    from inpaint.report import write_report

    out = write_report(Path(args.run), Path(args.answers) if args.answers else None)
    print(f"wrote {out}: report.md, report.html, losses.png, samples.png, architecture.txt, config.toml")
    return 0


# ---------------------------------------------------------------- parser
def _train_options(p):
    p.add_argument("--run", required=True, help="run folder: config, checkpoints, logs")
    p.add_argument("--preset", default="standard", help="lite | standard | large (default standard)")
    p.add_argument("--config", help="TOML file of config values (see inpaint/config.py)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config value; repeatable")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="train this many epochs in all")
    budget.add_argument("--steps", type=int, help="train this many generator steps in all")
    p.add_argument("--minutes", type=float, help="wall-clock budget; stops cleanly after the step that exceeds it")
    p.add_argument("--resume", action="store_true", help="continue the run folder's last checkpoint")
    p.add_argument("--seed", type=int, help="random seed (runs are repeatable on CPU)")


def _predict_options(p):
    p.add_argument("--tta", choices=("on", "off"), help="average with the mirrored face (default: the run's config)")
    p.add_argument("--average-last", type=int, help="average the last k checkpoints' weights (default: config)")
    p.add_argument("--sample", help="sample_submission.csv whose header and id column to copy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint", description="pix2pix mouth-inpainting competition kit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, handler, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("check-data", cmd_check_data, "check a data folder against data_spec.md and describe it")
    data_options(p)

    p = add("train", cmd_train, "train the pix2pix GAN into a run folder")
    data_options(p)
    _train_options(p)

    p = add("predict", cmd_predict, "write one inpainted PNG per test image")
    data_options(p, size=False)
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True, help="folder for the PNGs")
    _predict_options(p)

    p = add("compare-predictions", cmd_compare_predictions,
            "validation (and test, with answers) RMSE of each way of predicting: best/last, flips, averaging")
    data_options(p, size=False)
    p.add_argument("--run", required=True)

    p = add("submit", cmd_submit, "predict the test images and write the submission CSV")
    data_options(p, size=False)
    p.add_argument("--run", required=True)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", help="also write the predicted PNGs here")
    _predict_options(p)

    p = add("run", cmd_run, "train, then submit: the whole job")
    data_options(p)
    _train_options(p)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", help="also write the predicted PNGs here")
    _predict_options(p)

    p = add("report", cmd_report, "write RUN/report/: loss plots, samples, architecture, report.md and .html")
    p.add_argument("--run", required=True)
    p.add_argument("--answers", help="a data folder with Testing/White and Testing/Real: adds a test RMSE table")

    p = add("demo", cmd_demo, "synthetic data -> train -> Predict.csv -> score, in about 5 minutes on a CPU")
    p.add_argument("--out", default="demo", help="folder for data, run and CSVs (default ./demo)")
    p.add_argument("--minutes", type=float, default=3.5, help="training budget (default 3.5)")
    p.add_argument("--train", type=int, default=700, help="synthetic training pairs (default 700)")
    p.add_argument("--preset", default="standard")
    p.add_argument("--seed", type=int, default=0)

    organizer_commands.register(add)
    grader_commands.register(add)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UserError, OSError) as exc:  # OSError: a path the user gave cannot be read or written
        print(f"inpaint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"inpaint {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
