"""Codabench scoring program: the kit's own scorer (submission/), bundled beside this file.

Codabench's compute worker (docs: Competition-Bundle-Structure, Submission-Docker-Container-Layout)
runs metadata.yaml's `command` in /app/program with the reference data unpacked in
/app/input/ref (solution.csv, split.csv) and the participant's zip in /app/input/res, and reads
/app/output/scores.json; its keys are the leaderboard columns of competition.yaml.
A file the kit rejects exits 1 with the kit's one-line message on stderr (the participant's
scoring error log) and writes no scores.json, so the submission shows as failed, not as a score.
Needs only numpy and pandas.
"""
import json
import sys
from pathlib import Path

if __name__ == "__main__":  # `python -I` keeps the script's own folder off sys.path; the kit modules are there
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402

from submission.errors import SubmissionError, UserError  # noqa: E402
from submission.csv_read import read_table  # noqa: E402
from submission.grading import split_masks  # noqa: E402
from submission.scoring import score_tables, split_scores  # noqa: E402

SOLUTION, SPLIT = "solution.csv", "split.csv"
SKIPPED_PARTS = ("__MACOSX",)  # what macOS's "Compress" adds to a zip beside the real file


def submission_csv(res_dir: Path) -> Path:
    """The one CSV of the participant's zip (in any sub-folder); none or several is an error."""
    found = sorted(p for p in res_dir.rglob("*") if p.suffix.lower() == ".csv" and p.is_file()
                   and not any(part.startswith(".") or part in SKIPPED_PARTS for part in p.relative_to(res_dir).parts))
    if len(found) != 1:
        names = ", ".join(str(p.relative_to(res_dir)) for p in found) or "none"
        raise SubmissionError(f"the submission zip must hold exactly one CSV file (Predict.csv); found: {names}")
    return found[0]


def scores(input_dir: Path) -> dict:
    """scores.json's content: RMSE over the public and the private part, in float64, as `inpaint score --split`.

    No overall RMSE: with the public one it would give the private one away before the deadline.
    """
    ref = input_dir / "ref"
    solution = read_table(ref / SOLUTION)
    submission = read_table(submission_csv(input_dir / "res"))
    score_tables(solution, submission)  # the whole-table checks first, in `inpaint score`'s order
    parts = split_scores(solution, submission, split_masks(pd.read_csv(ref / SPLIT), solution))
    return {"rmse_public": parts["public"], "rmse_private": parts["private"]}


def main(argv: list) -> int:
    input_dir, output_dir = (Path(a) for a in argv[1:3]) if len(argv) >= 3 else (Path("/app/input"), Path("/app/output"))
    try:
        values = scores(input_dir)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "scores.json").write_text(json.dumps(values), encoding="utf-8")  # json writes floats round-trip exact
    print(f"public RMSE {values['rmse_public']:.8f}")  # participants may read this log: never the private one
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
