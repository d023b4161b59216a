"""The organizer's commands: synthetic sets, sets from photos, baselines (benchmarks: bench.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

from inpaint.cli.shared import (answers_folder, data_options, positive_int, print_table, progress, read_data, size_of,
                                size_option)
from inpaint.errors import ConfigError


def cmd_synth(args) -> int:
    from inpaint.datasets.synth import write_synth_set

    summary = write_synth_set(
        Path(args.out), n_train=args.train, n_test=args.test, seed=args.seed, size=args.size[0], progress=progress("synth")
    )
    print(f"wrote {summary['train']} training pairs and {summary['test']} test images "
          f"({summary['size']}x{summary['size']}) to {summary['out']} in {summary['seconds']:.1f} s")
    return 0


def cmd_make_pairs(args) -> int:
    from inpaint.datasets.make_pairs import make_pairs

    s = make_pairs(Path(args.faces), Path(args.out), args.size[0], args.test, args.seed, args.box_scale,
                   progress=progress("make-pairs"), box=args.box, align_faces=args.align,
                   mouth_width=args.mouth_width, mouth_height=args.mouth_height, sheet=args.sheet)
    detector = s["detector"] + (" (fallback: the mtcnn package is not installed)" if s["detector"] != "mtcnn" else "")
    print(f"made {s['pairs']} training pairs and {s['test']} test images from {s['photos']} photos in "
          f"{s['seconds']:.1f} s ({s['photos_per_second']:.2f} photos/s, detector {detector}, "
          f"{s['load_seconds']:.1f} s to load it); skipped {s['skipped']} (see {Path(s['out']) / 'skipped.csv'})")
    if s["several_faces"]:
        print(f"{s['several_faces']} photos held several faces: the clearly largest was used (pairs.csv, column faces)")
    if s["test"]:
        print(f"submission format for students: {Path(s['out']) / 'sample_submission.csv'} (the White test images' values)")
    if s["sheet"]:
        print(f"contact sheet of the first pairs: {s['sheet']}")
    return 0


def cmd_baseline(args) -> int:
    from baselines import classical, compare, pix2pix_lite
    from inpaint.imaging import atomic_write_bytes
    from submission import export_predictions

    size = size_of(args)
    data = read_data(args, size, need_train=args.method in ("pix2pix-lite", "all"))
    if args.answers:
        _attach_answers(data, Path(args.answers), size)
    if args.method == "all":
        table = compare.run_all(data, Path(args.out), args.iterations, args.batch, args.seed)
        print_table(table.drop(columns=["csv"]))
        if "RMSE" in table:
            path = Path(args.out) / "baselines.csv"
            atomic_write_bytes(path, table.to_csv(index=False, float_format="%.6f").encode())
            print(f"table saved to {path}")
        return 0
    if not args.csv:
        raise ConfigError("--csv is required for a single baseline")
    if args.method == "pix2pix-lite":
        import tempfile

        _print_lite_params(size)
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(args.run) if args.run else Path(tmp) / "run"
            preds = pix2pix_lite.train_and_predict(data, run, args.iterations, args.batch, args.seed)
    else:
        preds = classical.run(args.method, data.csv_test.white, data.csv_test.mask)
    csv = export_predictions(preds, data.test_white.names, Path(args.csv))
    print(f"wrote {csv}: {args.method} predictions for {len(preds)} test images")
    return 0


def _print_lite_params(size) -> None:
    from baselines.pix2pix_lite import deck_config
    from inpaint.models import build_discriminator, build_generator

    cfg = deck_config(image_size=size)
    g, d = build_generator(cfg).count_params(), build_discriminator(cfg).count_params()
    print(f"pix2pix-lite at {size[0]}x{size[1]}x1: generator {g:,} + discriminator {d:,} = {g + d:,} parameters "
          "(the deck quotes 77,766; see docs/organizer.md, Baselines)")


def _attach_answers(data, answers: Path, size) -> None:
    from inpaint.dataset import ImageSet
    from submission.csv_io import read_image_folder

    answers = answers_folder(answers)
    images, names = read_image_folder(answers, size)
    if names != data.test_white.names:
        raise ConfigError(f"--answers {answers}: answer names {names[:3]}... do not match the test images "
                          f"{data.test_white.names[:3]}...")
    data.test_real = ImageSet(names, images)
    csv_size = data.csv_test.white.shape[1:]
    data.csv_test.real = images if images.shape[1:] == csv_size else read_image_folder(answers, csv_size)[0]


def register(add) -> None:
    """Add the organizer commands to the `inpaint` parser."""
    p = add("synth", cmd_synth, "write a synthetic face data set in the data_spec.md layout, answers included",
          example="inpaint synth --out synthetic --train 700 --test 10 --seed 0")
    p.add_argument("--out", required=True, help="data folder to write (data_spec.md layout)")
    p.add_argument("--train", type=int, default=700, help="training pairs (default 700, as the course)")
    p.add_argument("--test", type=int, default=10, help="test images (default 10, as the course)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    size_option(p, "rows and columns of the square faces (default 128 128)", default=(128, 128), square=True)

    p = add("make-pairs", cmd_make_pairs, "turn a folder of face photos into a competition data set",
          example="inpaint make-pairs --faces photos --out DATA --test 10 --seed 0")
    p.add_argument("--faces", required=True, help="folder of photos, one face each")
    p.add_argument("--out", required=True, help="data folder to write (data_spec.md layout)")
    size_option(p, "rows and columns of the square face crops (default 128 128)", default=(128, 128), square=True)
    p.add_argument("--test", type=int, default=10, help="photos held out as test images (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--box-scale", type=float, default=1.0, help="scale the white box (default 1.0)")
    p.add_argument("--box", choices=("mouth", "fixed"), default="mouth",
                   help="mouth: each box from that face's mouth corners (default); fixed: one box for every "
                        "image, the median of the mouth boxes after alignment")
    p.add_argument("--align", action=argparse.BooleanOptionalAction, default=True,
                   help="turn and scale each face so the eyes are level at fixed places (default on)")
    from inpaint.datasets.align import MOUTH_HEIGHT, MOUTH_WIDTH

    p.add_argument("--mouth-width", type=float, default=MOUTH_WIDTH,
                   help=f"box width / distance between the mouth corners (default {MOUTH_WIDTH:g})")
    p.add_argument("--mouth-height", type=float, default=MOUTH_HEIGHT,
                   help=f"box height / box width (default {MOUTH_HEIGHT:g})")
    p.add_argument("--sheet", action="store_true", help="also write OUT/sheet.png: the first 40 pairs, box outlined")

    p = add("baseline", cmd_baseline, "run a baseline and write its submission CSV (all: every baseline, scored)",
          example=["inpaint baseline telea --data DATA --csv telea.csv",
                   "inpaint baseline all --data DATA --answers DATA/Testing/Real --out baselines_out"])
    p.add_argument("method", choices=["identity", "telea", "ns", "biharmonic", "pix2pix-lite", "all"])
    data_options(p)
    p.add_argument("--csv", help="submission CSV to write (single method)")
    p.add_argument("--out", default="baselines_out", help="folder for every CSV and the table (all)")
    p.add_argument("--answers", help="the Testing/Real folder, or a data folder that has one (default: the answers "
                                     "in --data, if it has them)")
    p.add_argument("--run", help="keep the pix2pix-lite run folder here (default: a temporary folder)")
    p.add_argument("--iterations", type=positive_int, default=3000, help="pix2pix-lite iterations (default 3000, the deck's)")
    p.add_argument("--batch", type=positive_int, default=16, help="pix2pix-lite batch size (default 16)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
