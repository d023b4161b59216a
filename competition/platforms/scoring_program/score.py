"""Codabench scoring program: the kit's own scorer (submission/), bundled beside this file.

Codabench's compute worker (compute_worker/compute_worker.py: Run.prepare, _run_program_directory,
push_scores) unzips the task's reference data into /app/input/ref and the participant's upload into
/app/input/res, runs metadata.yaml's `command` in /app/program, and posts /app/output/scores.json;
its keys are the leaderboard columns of competition.yaml.

The reference data holds the layout (sample_submission.csv: every id and image name) and the answers
of each part the phase may score: public_answers.csv in the Development phase, public_answers.csv and
private_answers.csv in the Final phase. The upload is checked against the whole layout, as `inpaint
score` checks it against the whole solution, then each part present is scored: a phase without the
private answers cannot compute a private score. A file the kit rejects exits 1 with the kit's
one-line message on stderr (the participant's scoring error log) and writes no scores.json, so the
submission shows as failed, not as a score. Needs only numpy and pandas.
"""
import json
import sys
from pathlib import Path

if __name__ == "__main__":  # `python -I` keeps the script's own folder off sys.path; the kit modules are there
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from submission.csv_read import read_table  # noqa: E402
from submission.errors import SubmissionError, UserError  # noqa: E402
from submission.scoring import align, check_frame, rmse  # noqa: E402

LAYOUT = "sample_submission.csv"
PARTS = (("rmse_public", "public_answers.csv", "public"), ("rmse_private", "private_answers.csv", "private"))
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
    """scores.json's content: the RMSE of each part whose answers are in input/ref, in float64.

    The same numbers as `inpaint score --split`: each part's cells, in the solution's order.
    """
    ref = input_dir / "ref"
    layout = read_table(ref / LAYOUT)
    submission = read_table(submission_csv(input_dir / "res"))
    check_frame(submission, "submission")  # the whole-table checks first, in `inpaint score`'s order
    aligned = align(layout, submission)
    values = {}
    for key, name, _ in PARTS:
        if (ref / name).is_file():
            truth = read_table(ref / name)
            values[key] = rmse(truth.to_numpy(), aligned.loc[truth.index, list(truth.columns)].to_numpy())
    if not values:
        raise RuntimeError(f"{ref}: no answers to score against")  # the organizer's bundle, not the participant
    return values


def main(argv: list) -> int:
    input_dir, output_dir = (Path(a) for a in argv[1:3]) if len(argv) >= 3 else (Path("/app/input"), Path("/app/output"))
    try:
        values = scores(input_dir)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "scores.json").write_text(json.dumps(values), encoding="utf-8")  # json writes floats round-trip exact
    for key, _, part in PARTS:
        print(f"{part} RMSE {values[key]:.8f}" if key in values
              else f"{part} RMSE: not in this phase (its answers are given to the scoring after the deadline only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
