"""The student's commands: check-data, train, predict, compare-predictions, submit, run, report, demo.

Every setting a run uses comes from one resolved config (preset -> --config -> --set -> the options
that name a key: --size, --mask-threshold, --seed, budgets), which reads the data and is saved as the
run's config.toml; predict and submit read the test images as that file says.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from inpaint.cli.shared import (answers_data_folder, data_options, opt_path, positive_int, preset_option, print_table,
                                read_data, read_data_as, resolve_config, size_of)
from inpaint.errors import ConfigError


def training_config(args):
    """The config this training uses: the options', or with --resume the run folder's own (with the budget
    given now, else the run's own), so the data is read as the run reads it."""
    from inpaint import run_folder
    from inpaint.config import with_drawn_seed

    cfg = resolve_config(args)
    if args.resume and run_folder.is_run(Path(args.run)):
        given = any(budget is not None for budget in (args.epochs, args.steps, args.minutes))
        return run_folder.config_for(Path(args.run), cfg, resume=True, new_budget=given)
    if os.environ.get("TF_CONFIG"):
        return cfg  # every worker of a cluster must share the seed, so there the config's stays
    # A folder that holds a run is refused now, before a seed is drawn and printed and TensorFlow starts.
    run_folder.config_for(Path(args.run), cfg, resume=args.resume)
    if not _seed_given(args):
        cfg = with_drawn_seed(cfg)
        print(f"seed {cfg.seed} (drawn for this run and saved in its config.toml; --seed {cfg.seed} repeats it)")
    return cfg


def _seed_given(args) -> bool:
    """--seed, --set seed=..., or a seed in the --config file."""
    if args.seed is not None or any(item.partition("=")[0].strip() == "seed" for item in args.set or []):
        return True
    if args.config:
        import tomllib

        with open(args.config, "rb") as f:  # resolve_config has read it already: it parses
            return "seed" in tomllib.load(f)
    return False


def run_config(args):
    """The config a run folder was trained with, read before TensorFlow starts: a wrong --run fails in a
    second. Its mask_threshold finds the test masks; a different --mask-threshold is refused."""
    from inpaint.run_folder import load_config

    cfg = load_config(Path(args.run), f"--run {args.run}")
    given = getattr(args, "mask_threshold", None)
    if given and given != cfg.mask_threshold:
        raise ConfigError(f"--mask-threshold {given:g}: the run in {args.run} was trained with mask_threshold = "
                          f"{cfg.mask_threshold:g} (its config.toml), which also finds the test masks; drop the option")
    return cfg


# ---------------------------------------------------------------- commands
def cmd_check_data(args) -> int:
    from inpaint.errors import DataError, count

    try:
        ds = read_data(args, size_of(args), need_test=True)
    except DataError as exc:
        problems = getattr(exc, "problems", [str(exc)])
        print(f"{args.data}: {count(len(problems), 'problem')}")
        for problem in problems:
            print(f"  - {problem}")
        return 2
    print(f"{args.data}: follows data_spec.md")
    for key, value in ds.facts.items():
        print(f"  {key}: {value}")
    _print_mask_checks(ds)
    return 0


def _print_mask_checks(ds) -> None:
    """Does the test-image mask finder agree with the pairs' own boxes, and which test masks look odd."""
    from inpaint.dataset import mask_agreement
    from inpaint.errors import list_names

    agree, wrong = mask_agreement(ds, ds.mask_threshold)
    print(f"  mask finder agrees on {agree}/{agree + len(wrong)} training pairs"
          + (f"; disagrees on: {list_names(wrong)}" if wrong else ""))
    for name, why in ds.unlike_boxes.items():
        print(f"  test mask unlike the training boxes: {name} ({why})")


def cmd_train(args) -> int:
    cfg = training_config(args)
    _train(args, cfg, read_data_as(args, cfg, need_test=False))
    return 0


def _train(args, cfg, data, progress=None) -> bool:
    """Train into --run; True on the chief, which holds the run folder. `progress`: one redrawn progress
    line (callbacks.BudgetBar) instead of Keras's bar per epoch."""
    from inpaint import run_folder as rf
    from inpaint.runtime.distribute import cluster_from_env
    from inpaint.training import train  # after the data check: a bad folder fails before TensorFlow starts

    run = Path(args.run)
    state = train(data, run, cfg, resume=args.resume, collective_timeout=args.collective_timeout,
                  **({"verbose": 0, "callbacks": (progress,)} if progress else {}))
    if not cluster_from_env().is_chief:  # its run folder was temporary; the chief's holds the run
        print(f"training stopped: {state.get('stop_reason')}; {state.get('steps', 0)} steps; the chief wrote the run folder")
        return False
    print(f"training stopped: {state.get('stop_reason')}; {state.get('epochs_done', 0)} epochs, "
          f"{state.get('steps', 0)} steps; best validation RMSE {state.get('best_val_rmse', float('nan')):.5f} "
          f"(epoch {state.get('best_epoch', '-')})")
    print(f"run folder: {run}  (CSV log: {run / rf.LOG_FILE}; TensorBoard: tensorboard --logdir {run / rf.TENSORBOARD})")
    print(f"write-up material: inpaint report --run {run}  (writes {run / rf.REPORT}/report.md and report.html)")
    return True


def cmd_compare_predictions(args) -> int:
    import pandas as pd

    data = read_data_as(args, run_config(args))
    from inpaint.prediction import compare_predictions  # after the checks: TensorFlow takes seconds to start

    print_table(pd.DataFrame(compare_predictions(Path(args.run), data)))
    print("validation favours 'best by validation RMSE', which was chosen on it. predict and submit use the best "
          "generator with flip averaging unless told otherwise: --tta off, --average-last K")
    return 0


def _predictions(args, data):
    from inpaint.prediction import predict_run

    tta = None if args.tta is None else args.tta == "on"
    return predict_run(Path(args.run), data, tta_flip=tta, average_last=args.average_last)


def cmd_predict(args) -> int:
    data = read_data_as(args, run_config(args), need_train=False)
    from inpaint.prediction import write_pngs

    paths = write_pngs(Path(args.out), data.test_white.names, _predictions(args, data))
    print(f"wrote {len(paths)} predictions to {args.out}")
    return 0


def cmd_submit(args, data=None) -> int:
    """Predict with --run and write --csv; `data` is the set `inpaint run` has read already."""
    from inpaint.run_folder import read_state
    from submission import export_predictions

    data = data or read_data_as(args, run_config(args), need_train=False)
    preds = _predictions(args, data)
    if args.out:
        from inpaint.prediction import write_pngs

        write_pngs(Path(args.out), data.test_white.names, preds)
    # The CSV is written from the float predictions, not from 8-bit PNGs: no rounding loss.
    csv = export_predictions(preds, data.test_white.names, Path(args.csv), sample=opt_path(args.sample))
    print(f"wrote {csv}: {len(preds)} images of {preds.shape[1]}x{preds.shape[2]}")
    check = read_state(Path(args.run)).get("classical_check")
    if check and not check.get("better"):  # the last line is where the student looks: not a clean "wrote"
        print(f"WARNING: {csv} comes from a run that is NOT better than the classical fill (validation RMSE "
              f"{check['kept_val_rmse']:.5f} against Telea's {check['classical_val_rmse']:.5f}): train longer "
              "(--resume with a --steps budget) before you upload it")
    return 0


def cmd_run(args) -> int:
    cfg = training_config(args)
    data = read_data_as(args, cfg, need_test=True)  # the test images too, before training, not after it
    if not _train(args, cfg, data):
        print("training done; the chief (worker 0) writes the submission")
        return 0
    return cmd_submit(args, data)


# The demo's step budget: what an idle 2-core CPU trains in about 3.5 minutes with the standard preset.
# The synthetic set's 5-minute runs with the weight average trained 2,965 steps (9.9 steps/s, BENCHMARKS.md,
# second round); a fixed step count makes the demo's figure the same on every machine, where a minutes
# budget trained 198 steps on a loaded one (issue 36).
DEMO_STEPS = 2000
DEMO_STEPS_PER_SECOND = 9.9


def cmd_demo(args) -> int:
    """Synthetic set -> train a fixed number of steps -> Predict.csv -> score beside Telea and identity."""
    from inpaint.cli import build_parser
    from inpaint.cli.organizer import cmd_synth
    from submission import export_predictions, score_files, solution_from_answers

    if args.minutes is not None:
        raise ConfigError(f"inpaint demo trains a number of steps, so its figure is the same on every machine: "
                          f"--steps N (default {DEMO_STEPS}, about 3.5 min on an idle 2-core CPU), not --minutes")
    out = Path(args.out)
    data_dir, run, csv = out / "data", out / "run", out / "Predict.csv"
    start = time.monotonic()
    train_args = build_parser().parse_args(
        ["run", "--data", str(data_dir), "--run", str(run), "--csv", str(csv), "--out", str(out / "pred"),
         "--steps", str(args.steps), "--seed", str(args.seed), "--preset", args.preset]
    )
    resolve_config(train_args)  # a bad option fails now, not after writing 700 synthetic pairs
    if run.exists():
        import shutil

        shutil.rmtree(run)  # the demo always starts fresh; real runs refuse to overwrite instead
    cfg = training_config(train_args)
    cmd_synth(argparse.Namespace(out=data_dir, train=args.train, test=10, seed=args.seed, size=cfg.image_size))
    data = read_data_as(train_args, cfg, need_test=True)
    pace = (f" (about {args.steps / DEMO_STEPS_PER_SECOND / 60:.1f} min on an idle 2-core CPU)"
            if args.preset == "standard" else "")
    print(f"training {args.steps:,} steps of the {args.preset} preset{pace}", flush=True)
    from inpaint.callbacks import BudgetBar  # after the data check: TensorFlow starts here

    _train(train_args, cfg, data, progress=BudgetBar(0, cfg.steps, cfg.epochs))
    cmd_submit(train_args, data)
    solution = out / "solution.csv"
    solution_from_answers(data_dir / "Testing" / "Real", solution)
    rows = [(name, score_files(solution, export_predictions(preds, data.test_white.names, out / f"{key}.csv")).rmse)
            for key, name, preds in _demo_baselines(data)]
    rows.append((f"pix2pix, {args.preset} preset, {args.steps:,} steps", score_files(solution, csv).rmse))
    print(f"\ndemo finished in {(time.monotonic() - start) / 60:.1f} min; RMSE on the 10 synthetic test faces:")
    print(f"  {'method':<40} {'RMSE':>8}")
    for name, value in rows:
        print(f"  {name:<40} {value:8.5f}")
    print(f"files: {csv}, {solution}, predicted PNGs in {out / 'pred'}, run folder {run}")
    return 0


def _demo_baselines(data):
    """(file stem, table row, predictions) of the two references the demo scores its run against."""
    from inpaint.classical_fill import opencv_fill  # the fill `inpaint baseline telea` submits

    test = data.csv_test
    return [("identity", "identity (submit the White images)", test.white),
            ("telea", "OpenCV Telea (inpaint baseline telea)", opencv_fill(test.white, test.mask, "telea"))]


def cmd_report(args) -> int:
    from inpaint.reporting.report import write_report, written_files

    # Resolved first: a wrong --answers fails in a second, before TensorFlow starts.
    answers = answers_data_folder(args.answers) if args.answers else None
    out = write_report(Path(args.run), answers)
    print(f"wrote {out}: {', '.join(written_files(out))}")
    return 0


# ---------------------------------------------------------------- parser
RUN_THRESHOLD = "the run's mask_threshold (RUN/config.toml) finds the test masks; a different value is refused"


def _train_options(p):
    p.add_argument("--run", required=True, help="run folder: config, checkpoints, logs")
    preset_option(p)
    p.add_argument("--config", help="TOML file of config values (see inpaint/config.py)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config value; repeatable")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="train this many epochs in all")
    budget.add_argument("--steps", type=int, help="train this many generator steps in all")
    p.add_argument("--minutes", type=float, help="wall-clock budget; stops cleanly after the step that exceeds it")
    p.add_argument("--resume", action="store_true", help="continue the run folder's last checkpoint")
    p.add_argument("--seed", type=int,
                   help="random seed (runs are repeatable on CPU; default: drawn for each run, saved in RUN/config.toml)")
    p.add_argument("--collective-timeout", type=float, metavar="SECONDS",
                   help="several machines (TF_CONFIG): stop when no step has finished for this long (default 300)")


def _predict_options(p, csv=True):
    p.add_argument("--tta", choices=("on", "off"), help="average with the mirrored face (default: the run's config)")
    p.add_argument("--average-last", type=positive_int, help="average the last k checkpoints' weights (default: config)")
    if csv:  # predict writes PNGs only
        p.add_argument("--sample", help="sample_submission.csv whose header and id column to copy")


def _run_options(p):
    """The options of a command that reads a trained run folder and the data's test images."""
    data_options(p, size=False, threshold_help=RUN_THRESHOLD)
    p.add_argument("--run", required=True, help="run folder written by inpaint train")


def register(add) -> None:
    """Add the student's commands to the `inpaint` parser."""
    p = add("check-data", cmd_check_data, "check a data folder against data_spec.md and describe it",
            example="inpaint check-data --data DATA")
    data_options(p)

    p = add("train", cmd_train, "train the pix2pix GAN into a run folder",
            example="inpaint train --data DATA --run runs/first --steps 10000")
    data_options(p)
    _train_options(p)

    p = add("predict", cmd_predict, "write one inpainted PNG per test image",
            example="inpaint predict --run runs/first --data DATA --out predictions")
    _run_options(p)
    p.add_argument("--out", required=True, help="folder for the PNGs")
    _predict_options(p, csv=False)

    p = add("compare-predictions", cmd_compare_predictions,
            "validation (and test, with answers) RMSE of each way of predicting: best/last, flips, averaging",
            example="inpaint compare-predictions --run runs/first --data DATA")
    _run_options(p)

    p = add("submit", cmd_submit, "predict the test images and write the submission CSV",
            example="inpaint submit --run runs/first --data DATA --csv Predict.csv")
    _run_options(p)
    p.add_argument("--csv", required=True, help="submission CSV to write (Predict.csv)")
    p.add_argument("--out", help="folder to also write the predicted PNGs into")
    _predict_options(p)

    p = add("run", cmd_run, "train, then submit: the whole job",
            example="inpaint run --data DATA --run runs/first --csv Predict.csv --steps 10000")
    data_options(p)
    _train_options(p)
    p.add_argument("--csv", required=True, help="submission CSV to write (Predict.csv)")
    p.add_argument("--out", help="folder to also write the predicted PNGs into")
    _predict_options(p)

    p = add("report", cmd_report, "write RUN/report/: loss plots, samples, architecture, report.md and .html",
            example=["inpaint report --run runs/first", "inpaint report --run runs/first --answers DATA/Testing/Real"])
    p.add_argument("--run", required=True, help="run folder written by inpaint train")
    p.add_argument("--answers", help="the Testing/Real folder, or a data folder that has one "
                                     "(its Testing/White is read too): adds a test RMSE table")

    p = add("demo", cmd_demo, f"synthetic data -> train {DEMO_STEPS:,} steps -> Predict.csv -> score beside Telea and "
                              "identity; the same figure on every machine, about 4 minutes on a 2-core CPU",
            example="inpaint demo --out demo")
    p.add_argument("--out", default="demo", help="folder for data, run and CSVs (default ./demo)")
    p.add_argument("--steps", type=positive_int, default=DEMO_STEPS,
                   help=f"training budget in steps (default {DEMO_STEPS}: about 3.5 min on an idle 2-core CPU)")
    p.add_argument("--minutes", type=float, help=argparse.SUPPRESS)  # the old budget: refused with a pointer to --steps
    p.add_argument("--train", type=int, default=700, help="synthetic training pairs (default 700)")
    preset_option(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic set and of training (default 0)")
