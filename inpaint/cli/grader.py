"""The grader's commands, on CSVs: export, solution, score, validate, make-split, leaderboard.

None of them imports TensorFlow, so a grader's loop over a class starts in about a second.
"""
from __future__ import annotations

import json
from pathlib import Path

from inpaint.cli.shared import answers_folder, existing_file, old_spelling, opt_path, positive_int, size_of, size_option


def _summary(summary: dict) -> str:
    return f"wrote {summary['csv']}: {summary['images']} images of {summary['size'][0]}x{summary['size'][1]}"


def cmd_export(args) -> int:
    from submission import export_folder

    print(_summary(export_folder(Path(args.pred), Path(args.csv), sample=opt_path(args.sample), size=size_of(args, None))))
    return 0


def cmd_solution(args) -> int:
    from submission import solution_from_answers

    print(_summary(solution_from_answers(answers_folder(Path(args.answers)), Path(args.csv), size=size_of(args, None), sample=opt_path(args.sample))))
    return 0


def cmd_score(args) -> int:
    import pandas as pd

    from submission import grading, read_table, score_tables
    from submission.scoring import split_scores

    solution = read_table(Path(args.solution))
    submission = read_table(Path(args.submission))
    result = score_tables(solution, submission)
    out = result.to_dict()
    if not args.per_image:
        out.pop("per_column")
    if args.split:
        out.update(split_scores(solution, submission, grading.split_masks(pd.read_csv(existing_file(args.split, "--split")), solution)))
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{result.n_columns} images x {result.n_rows} pixels = {result.n_cells} cells")
    for name, value in out.get("per_column", {}).items():
        print(f"  {name:<24} RMSE {value:.8f}")
    for part in ("public", "private"):
        if part in out:
            print(f"{part:<8} RMSE {out[part]:.8f}")
    print(f"RMSE {result.rmse:.8f}")
    return 0


def cmd_validate(args) -> int:
    from inpaint.api import validate_submission

    data = None
    if args.data:  # the solution's names and size, and the blanked images that let the diagnosis name mistakes
        from inpaint.cli.shared import read_data

        data = read_data(args, size_of(args), need_train=False)
    verdict = validate_submission(Path(args.csv), data, opt_path(args.sample), size_of(args, None), args.images)
    print("\n".join(verdict.lines()))
    return verdict.exit_code


def cmd_make_split(args) -> int:
    from inpaint.imaging import atomic_write_bytes
    from submission import grading, read_table

    split = grading.make_split(read_table(Path(args.solution)), args.public_fraction, args.by, args.seed)
    atomic_write_bytes(Path(args.csv), split.to_csv(index=False).encode())
    public = int((split["Usage"] == "Public").sum())
    print(f"wrote {args.csv}: {public} public and {len(split) - public} private {args.by}s")
    return 0


def cmd_leaderboard(args) -> int:
    from inpaint.imaging import atomic_write_bytes
    from submission.leaderboard import build_leaderboard, markdown_table

    white = mask = None
    if args.data:  # the White test images and masks turn on the suspicious-submission flags
        from inpaint.data import load_data

        data = load_data(Path(args.data), size=size_of(args), need_train=False)
        white, mask = data.csv_test.white, data.csv_test.mask
    split = existing_file(args.split, "--split") if args.split else None
    table, copied = build_leaderboard(Path(args.solution), args.submissions, split, args.baseline, args.strong, white, mask)
    shown = table.drop(columns=["file"])
    if args.markdown:
        print(markdown_table(shown))
    else:
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.5f}", na_rep=""))
    if white is not None:
        _print_copies(copied, int(table["RMSE"].notna().sum()), bullet="- " if args.markdown else "  ")
    if args.csv:
        from submission.spreadsheet_cells import inert_table

        # the names come from the students' file names: no formula in the grader's spreadsheet
        atomic_write_bytes(Path(args.csv), inert_table(table).to_csv(index=False, float_format="%.8f").encode())
        print(f"saved {args.csv}")
    return 0


def _print_copies(copied, compared: int, bullet: str) -> None:
    from submission.copies import MIX_LIMIT, PAIR_LIMIT

    if not copied:
        print(f"\nno copied submissions among {compared} readable files (pairs flagged below {100 * PAIR_LIMIT:.0f}%, "
              f"mixes below {100 * MIX_LIMIT:.0f}%; docs/grader.md)")
        return
    print(f"\n{len(copied)} look(s) copied among {compared} readable files (flags inform; scores are unchanged):")
    for flag in copied:
        print(bullet + flag.sentence())


VALIDATE_EXIT_CODES = """exit codes:
  0  the scorer would accept and score the file; nothing wrong found
  2  the scorer would refuse it (each reason listed), or the command could not run (missing file, bad option)
  3  the scorer would accept it, but a warning or diagnosis names a mistake that costs points
     (values in a tanh or 0-255 range, transposed, mirrored, shifted, another size, a constant fill, ...)"""


OUT_IS_A_FOLDER = " (a CSV to write is --csv in every command; --out is a folder)"


def register(add) -> None:
    """Add the grader commands to the `inpaint` parser (`add(name, handler, help)` makes a sub-parser)."""
    from submission.grading import COURSE_BASELINE, COURSE_STRONG

    p = add("export", cmd_export, "turn a folder of predicted images into a submission CSV",
          example="inpaint export --pred predictions --csv Predict.csv --sample sample_submission.csv")
    p.add_argument("--pred", required=True, help="folder with one image per test image, named like them")
    p.add_argument("--csv", required=True, help="submission CSV to write (Predict.csv)")
    p.add_argument("--sample", help="sample_submission.csv whose header and id column to copy")
    size_option(p, "resize predictions to M x N")

    p = add("solution", cmd_solution, "turn an answers folder (Testing/Real) into the solution CSV",
          example="inpaint solution --answers DATA/Testing/Real --csv solution.csv")
    p.add_argument("--answers", required=True, help="the Testing/Real folder, or a data folder that has one")
    p.add_argument("--csv", required=True, help="solution CSV to write")
    p.add_argument("--sample", help="sample_submission.csv whose header and id column to copy")
    size_option(p, "resize to M x N")

    p = add("score", cmd_score, "RMSE of a submission CSV against a solution CSV, as Kaggle scores it",
          example="inpaint score --solution solution.csv --submission Predict.csv --split split.csv")
    p.add_argument("--solution", required=True, help="solution CSV (written by inpaint solution)")
    p.add_argument("--submission", required=True, help="submission CSV to score (Predict.csv)")
    p.add_argument("--split", help="split CSV (id,Usage or image,Usage) for public and private RMSE")
    p.add_argument("--per-image", action="store_true", help="also print the RMSE of each image")
    p.add_argument("--json", action="store_true", help="print a JSON result")

    p = add("validate", cmd_validate, "check a submission CSV as the scorer will, before it costs an upload",
          example=["inpaint validate Predict.csv --data DATA", "inpaint validate Predict.csv --sample sample_submission.csv"],
          epilog_text=VALIDATE_EXIT_CODES)
    p.add_argument("csv")
    p.add_argument("--data", help="data folder with Testing/White: check the rows, ids and column names the solution "
                                  "will have, and name likely export mistakes (tanh range, transposed, ...)")
    p.add_argument("--sample", help="the competition's sample_submission.csv: check against its header and ids")
    size_option(p, "without --data or --sample: test image rows and columns")
    p.add_argument("--images", type=positive_int, help="without --data or --sample: number of test images (10 in the course)")

    p = add("make-split", cmd_make_split, "write a public/private split of a solution CSV, as Kaggle does",
          example="inpaint make-split --solution solution.csv --public-fraction 0.3 --by image --seed 1 --csv split.csv")
    p.add_argument("--solution", required=True, help="solution CSV (written by inpaint solution)")
    p.add_argument("--csv", default="split.csv", help="split CSV to write (default split.csv)")
    old_spelling(p, "--out", "csv", "--csv", OUT_IS_A_FOLDER)
    p.add_argument("--public-fraction", type=float, default=0.3, help="share on the public board (default 0.3)")
    p.add_argument("--by", choices=("image", "pixel"), default="image",
                   help="split whole images (default) or single pixels, as Kaggle does")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")

    p = add("leaderboard", cmd_leaderboard, "score, rank and grade every submission of a class",
          example="inpaint leaderboard submissions/ --solution solution.csv --split split.csv --data DATA --csv leaderboard.csv")
    p.add_argument("submissions", nargs="+", help="submission CSV files or folders of them")
    p.add_argument("--solution", required=True, help="solution CSV (written by inpaint solution)")
    p.add_argument("--split", help="split CSV: rank by the private RMSE")
    p.add_argument("--baseline", type=float, default=COURSE_BASELINE, help=f"RMSE graded 3/10 (default {COURSE_BASELINE}, the course's)")
    p.add_argument("--strong", type=float, default=COURSE_STRONG, help=f"RMSE graded 8/10 (default {COURSE_STRONG}, the course's)")
    p.add_argument("--data", help="data folder with Testing/White: flags suspicious and copied submissions")
    size_option(p, "image size for --data (default 128 128)")
    p.add_argument("--csv", help="save the leaderboard as this CSV")
    old_spelling(p, "--out", "csv", "--csv", OUT_IS_A_FOLDER)
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
