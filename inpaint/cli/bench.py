"""`inpaint bench KIND`: every benchmark of the kit (benchmarks/), one command for all of them."""
from __future__ import annotations

import argparse
from pathlib import Path

from inpaint.cli.organizer import cmd_synth
from inpaint.cli.shared import positive_int, preset_option, print_table, read_data, size_option
from inpaint.errors import ConfigError


def cmd_bench(args) -> int:
    if args.kind == "serve":  # the competition server's load test: no TensorFlow involved
        return cmd_bench_serve(args)
    if args.kind == "copies":  # the calibration of copy detection: no TensorFlow either
        return cmd_bench_copies(args)
    import pandas as pd

    from benchmarks import training

    out = Path(args.out)
    if args.kind == "speed":
        from baselines.pix2pix_lite import deck_config
        from inpaint import config

        models = {"pix2pix-lite (deck)": deck_config(), "standard preset": config.preset("standard")}
        rows = training.speed(models, args.batch, args.timing_steps, args.repeats, args.jit)
    elif args.kind == "profile":
        return cmd_bench_profile(args, out)
    else:
        data_dir = Path(args.data) if args.data else out / "data"
        if not args.data:
            cmd_synth(argparse.Namespace(out=data_dir, train=700, test=10, seed=args.seed, size=(128, 128)))
        rows = training.quality(data_dir, out, args.minutes, args.preset, args.iterations, args.seed)
    table = pd.DataFrame(rows)
    # Throughput rows and latency rows have different columns: print them as two tables.
    latency = table["method"].str.startswith("predict")
    for part in (table[~latency], table[latency]):
        if len(part):
            print_table(part.dropna(axis=1, how="all").convert_dtypes())
    path = out / f"{args.kind}.json"
    training.save(rows, path, {"benchmark": args.kind, "machine": training.machine(), "args": {
        k: v for k, v in vars(args).items() if k != "handler"}})
    print(f"saved {path}")
    return 0


def cmd_bench_profile(args, out: Path) -> int:
    import pandas as pd

    from benchmarks import step_profile, training
    from inpaint import config

    rows, times = step_profile.profile(config.preset(args.preset), args.batch, args.timing_steps)
    print(f"{args.preset} preset, {times['steps']} train steps of batch {times['batch']}: {times['wall_s']} s wall, "
          f"{times['op_s']} s of op time (two executor threads overlap); shares of op time:")
    table = pd.DataFrame(rows)
    for group, part in table.groupby("group", sort=False):
        print()
        print_table(part.drop(columns="group").rename(columns={"name": group}))
    path = out / "profile.json"
    training.save(rows, path, {"benchmark": "profile", "preset": args.preset, **times, "machine": training.machine()})
    print(f"saved {path}")
    return 0


def cmd_bench_copies(args) -> int:
    import json

    import numpy as np
    import pandas as pd

    from benchmarks import copies
    from inpaint.imaging import atomic_write_bytes
    from submission.leaderboard import collect_files

    if not args.data or not args.submissions:
        raise ConfigError("bench copies needs --data (a folder with Testing/Real) and --submissions (independent CSVs)")
    data = read_data(args, (128, 128), need_train=False)  # the masks are found at 128x128, as training does
    if data.csv_test.real is None:
        raise ConfigError(f"--data {args.data}: no Testing/Real; the calibration needs the answers")
    preds, skipped = copies.read_submissions(collect_files(args.submissions), data.test_white.names,
                                                 data.csv_test.white.shape[1:])
    for line in skipped:
        print(f"left out: {line}")
    if len(preds) < 3:
        raise ConfigError(f"bench copies needs at least 3 readable submissions ({len(preds)} read)")
    rows = copies.calibrate(preds, data.csv_test.real.astype(np.float64), data.csv_test.mask, args.seed)
    table = pd.DataFrame(copies.summary(rows))
    print(f"{len(preds)} independent submissions on {args.data}; ratio = distance / the smaller error, or the more either "
          "adds beyond a plane in each box if that is smaller; smoothed box pixels")
    print_table(table)
    closest = pd.DataFrame([r for r in rows if r["kind"].startswith("independent")]).sort_values("ratio").head(8)
    print("closest independent ones:")
    print_table(closest[["kind", "names", "ratio"]])
    path = Path(args.out) / "copies.json"
    atomic_write_bytes(path, (json.dumps({"benchmark": "copies", "data": str(args.data), "submissions": sorted(preds),
                                          "summary": copies.summary(rows), "rows": rows}, indent=2) + "\n").encode())
    print(f"saved {path}")
    return 0


def cmd_bench_serve(args) -> int:
    from benchmarks import serve

    out = Path(args.out)
    if args.scenario == "class":
        return _bench_serve_class(args, out)
    row = serve.run(out, args.participants, args.uploads, args.concurrency, args.workers, args.db, args.size[0])
    for key, value in row.items():
        print(f"  {key:<28} {value}")
    serve.save(row, out / "serve.json", {k: v for k, v in vars(args).items() if k != "handler" and "db" != k})
    print(f"saved {out / 'serve.json'}")
    return 0 if row["consistent"] else 1


def _bench_serve_class(args, out: Path) -> int:
    from benchmarks import serve_class

    row = serve_class.run(out, quick=args.quick, timeout_s=args.timeout, seeded=args.seeded)
    for key, value in row.items():
        print(f"  {key:<28} {value}")
    serve_class.save(row, out / "serve_class.json", {"quick": args.quick, "timeout": args.timeout,
                                                     "seeded": str(args.seeded) if args.seeded else None})
    print(f"saved {out / 'serve_class.json'}")
    return 0


def serve_options(p) -> None:
    p.add_argument("--scenario", choices=("burst", "class"), default="burst",
                   help="serve: burst (uploads from many participants, the options below) or class (200 "
                        "participants with 10 stored uploads each: viewers after the deadline, the organizer's "
                        "pages cold, one participant's burst of 150; BENCHMARKS.md)")
    p.add_argument("--quick", action="store_true", help="serve --scenario class: a class of 12 on 32 x 32 images")
    p.add_argument("--timeout", type=float, default=120, help="serve --scenario class: seconds a request may take")
    p.add_argument("--seeded", help="serve --scenario class: a copy of a competition folder an earlier run seeded "
                                    "(OUT/comp), to measure another kit on the same uploads without seeding again")
    p.add_argument("--participants", type=int, default=50, help="serve: participants uploading (default 50)")
    p.add_argument("--uploads", type=int, default=200, help="serve: uploads in all (default 200)")
    p.add_argument("--concurrency", type=int, default=20, help="serve: uploads in flight at once (default 20)")
    p.add_argument("--workers", type=int, default=1, help="serve: server processes (default 1)")
    size_option(p, "serve: rows and columns of the square test images; CSVs have M*N rows (default 128 128)",
                default=(128, 128), square=True)
    p.add_argument("--db", help="serve: database URL (default: SQLite in the competition folder)")


def register(add) -> None:
    p = add("bench", cmd_bench, "benchmarks: quality (kit vs baselines), speed (kit step vs the deck's loop), profile (where a "
                                "train step's time goes, by op), serve "
                                "(the competition server under a class's uploads) or copies (copy detection's calibration)",
          example=["inpaint bench speed --batch 8", "inpaint bench profile --preset standard",
                   "inpaint bench quality --data DATA --minutes 20",
                   "inpaint bench serve --participants 50 --uploads 200 --concurrency 20",
                   "inpaint bench copies --data DATA --submissions independent/ --out bench_results"])
    p.add_argument("kind", choices=("quality", "speed", "profile", "serve", "copies"))
    p.add_argument("--out", default="bench_results", help="folder for JSON results (and the quality run)")
    p.add_argument("--data", help="quality: a data folder with answers (default: a synthetic set, seed --seed); "
                                  "copies: the set the submissions answer, with Testing/Real")
    p.add_argument("--submissions", nargs="+", help="copies: independently produced submission CSVs or folders of them")
    p.add_argument("--minutes", type=float, default=20.0, help="quality: training budget (default 20)")
    preset_option(p)
    p.add_argument("--iterations", type=positive_int, default=3000, help="quality: pix2pix-lite iterations")
    p.add_argument("--batch", type=positive_int, default=8, help="speed, profile: batch size (default 8)")
    p.add_argument("--timing-steps", type=positive_int, default=20,
                   help="speed: train steps in each timing, profile: steps traced (default 20); not --steps, which is a training budget elsewhere")
    p.add_argument("--repeats", type=positive_int, default=3, help="speed: timings per method (default 3)")
    p.add_argument("--jit", action="store_true", help="speed: also time jit_compile=True")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    serve_options(p)
