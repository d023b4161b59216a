"""The texts of the Codabench bundle: its pages, its phases' descriptions and its starting kit.

Written from what Codabench does with the bundle (competition/platforms/codabench.py says where in
Codabench's source each behaviour was read; docs/platforms.md lists them).
"""
from __future__ import annotations

from competition.platforms import pages
from competition.settings import Settings

DEVELOPMENT, FINAL = "Development", "Final"
PAGES = (("overview", "Overview"), ("evaluation", "Evaluation"), ("data", "Data"))  # terms: competition.yaml's own key


def final_rule(s: Settings) -> str:
    if s.deadline is None:
        return "No deadline: only public scores are computed; no private score and no final ranking."
    return (f"Final score: at the deadline your best public submission moves to the {FINAL} phase by itself; "
            "its private RMSE there is your final score.")


def development_description(s: Settings) -> str:
    return (f"Upload a zip holding your Predict.csv; at most {s.daily_limit} per day (UTC). Scored on the public part "
            f"only: this phase does not have the private answers. Ends at the deadline ({pages.deadline_text(s)}).")


def final_description() -> str:
    return (f"Not for uploads: at the deadline Codabench copies each participant's submission on the {DEVELOPMENT} "
            "leaderboard (the best public one) here and scores it with all the answers; ranked by the private RMSE.")


def split_and_deadline(s: Settings) -> str:
    unit = "images" if s.split_by == "image" else "pixels (rows of the CSV, in every image)"
    if s.deadline is None:
        after = ("This competition has no deadline, so it has only that phase: no private score is ever "
                 "computed and the public RMSE is the only ranking.")
    else:
        after = f"""At the deadline ({pages.deadline_text(s)}) the {DEVELOPMENT} phase closes. Within a few minutes
Codabench copies each participant's submission shown on the {DEVELOPMENT} leaderboard (your best public
one; there is nothing to choose) into the {FINAL} phase, where it is scored again with all the answers.
The {FINAL} phase's leaderboard (Results tab) ranks by the private RMSE: that is your final score, the
one graded. You do not upload to the {FINAL} phase."""
    return f"""## Public and private parts on Codabench

{pages.percent(s)} of the test {unit}, chosen at random with a fixed seed, are the public part; the
others are the private part.

Until the deadline you upload to the {DEVELOPMENT} phase. Its scoring program is given the public
part of the answers only, so it cannot compute a private score: no private score of any submission
exists before the deadline. Its leaderboard ranks by the public RMSE; the Private RMSE column reads
n/a there.

{after}

The scoring program is the course kit's own scorer (its `submission/` modules, unchanged): a file it
rejects fails with the kit's one-line message in the submission's scoring error log, and a failed
upload does not count toward the daily limit.
"""


def reading_scores() -> str:
    return """## Reading your scores

My Submissions shows the first score of each submission (the public RMSE) rounded to 2 decimals:
that is Codabench's display. The Results tab shows 5 decimals (your leaderboard entry only), and
each submission's scoring log prints its public RMSE to 8 decimals: click the submission, then
LOGS, Scoring Logs, stdout.
"""


def names() -> str:
    return """## Your name on the leaderboard

Codabench's leaderboard shows your display name (Edit Profile), or your username if you set none,
and links it to your profile page, whose address holds your username and which shows the first and
last name you entered. If your course may not publish your name: register with a username that is
not your name, leave first and last name empty, and if you set a display name, make it not your
name either.
"""


def upload_note() -> str:
    return """## Uploading

Zip your CSV (the zip must hold exactly one `.csv` file, such as `Predict.csv`) and upload the zip on
the My Submissions tab of the Development phase.
"""


def codabench_pages(s: Settings) -> dict[str, str]:
    """{name: markdown} for pages/<name>.md; `terms` is competition.yaml's terms file, not a page."""
    return {
        "overview": pages.overview(s, final_rule(s)),
        "evaluation": "\n".join(("# Evaluation\n", pages.metric(s), split_and_deadline(s), reading_scores(),
                                 pages.grade_rules(s), upload_note(), names())),
        "data": pages.data_page(s),
        "terms": pages.terms(s, final_rule(s)),
    }


STARTING_SCRIPT = '''"""Train with the course kit, write Predict.csv, check it, and zip it for upload.

Needs the kit installed (`pip install -e .` in its folder) and student_data.zip unpacked into ./data.
    python make_submission.py --minutes 20
"""
import argparse
import subprocess
import sys
import zipfile


def inpaint(*args):
    """One `inpaint` command; stops here if it fails."""
    subprocess.run([sys.executable, "-m", "inpaint", *args], check=True)


def main():
    parser = argparse.ArgumentParser(description="train, predict, validate and zip a submission")
    parser.add_argument("--data", default="data", help="student_data.zip unpacked (default ./data)")
    parser.add_argument("--minutes", default="20", help="training budget in minutes (default 20)")
    args = parser.parse_args()
    inpaint("check-data", "--data", args.data)
    inpaint("run", "--data", args.data, "--run", "runs/first", "--csv", "Predict.csv",
            "--minutes", args.minutes, "--sample", "sample_submission.csv")
    inpaint("validate", "Predict.csv", "--sample", "sample_submission.csv")
    with zipfile.ZipFile("submission.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write("Predict.csv")
    print("wrote submission.zip: upload it on the My Submissions tab")


if __name__ == "__main__":
    main()
'''


def starting_kit(s: Settings) -> dict[str, str]:
    readme = f"""# Starting kit: {s.title}

- `sample_submission.csv`: the format to upload (its values are the blanked images: the baseline).
- `test_boxes.csv`: each test image's painted box (top, left, bottom, right; bottom and right
  exclusive), as `inpaint check-data` finds it: the pixels the organizer's flags and diagnoses judge.
- `make_submission.py`: trains with the course kit, writes `Predict.csv`, validates it and zips it
  into `submission.zip`, the file to upload.
"""
    return {"README.md": readme, "make_submission.py": STARTING_SCRIPT}
