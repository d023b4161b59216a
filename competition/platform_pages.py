"""The texts a hosted platform shows, written from a competition's rules (competition/settings.py).

Markdown for Codabench's pages and Kaggle's description/evaluation boxes, and the starting kit.
Every number comes from the Settings; nothing here decides a rule.
"""
from __future__ import annotations

from datetime import timezone

from competition.settings import Settings

UTC = timezone.utc
CODABENCH_PAGES = (("overview", "Overview"), ("evaluation", "Evaluation"), ("data", "Data"), ("terms", "Terms"))


def deadline_text(s: Settings) -> str:
    return s.deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if s.deadline else "none (the competition stays open)"


def one_line(s: Settings) -> str:
    return (f"Paint the mouth back into {s.n_images} grayscale faces of {s.image_size[0]}x{s.image_size[1]} pixels "
            "with a conditional GAN (pix2pix); scored by RMSE.")


def phase_description(s: Settings) -> str:
    return (f"Upload a zip holding your Predict.csv; at most {s.daily_limit} per day (UTC). "
            f"Deadline: {deadline_text(s)}.")


def final_rule(s: Settings, platform: str) -> str:
    """Which submissions score the private leaderboard: Codabench cannot cap a participant's picks."""
    if platform == "codabench":
        return ("Final submission: your best public submission is the one on the leaderboard; "
                "its private RMSE is your final score.")
    return (f"Final submissions: choose up to {s.final_picks} before the deadline; "
            "if you choose none, your best public ones count.")


def overview(s: Settings, platform: str) -> str:
    return f"""# {s.title}

Each image is a grayscale face whose mouth is painted over with a white rectangle. Train a
conditional GAN (pix2pix: a U-Net generator and a PatchGAN discriminator on the blanked/real pair)
on the training pairs, then predict the {s.n_images} blanked test faces and upload them as one CSV.

- Deadline: {deadline_text(s)}.
- Uploads: at most {s.daily_limit} per participant per day (UTC).
- {final_rule(s, platform)}
- Score: RMSE between your pixels and the real faces, lower is better (see Evaluation).
"""


def metric(s: Settings) -> str:
    m, n = s.image_size
    return f"""## Metric

Root mean squared error over every value cell of the CSV, in [0, 1] (pixel / 255):

    RMSE = sqrt( sum over the {m * n} pixels x {s.n_images} images of (prediction - truth)^2 / {m * n * s.n_images} )

accumulated in float64. Columns are matched by name and rows by `id`. A file with missing or extra
rows or columns, repeated ids or names, or empty, NaN, infinite or non-numeric cells is rejected with
a message saying what and where; it is not scored. The scoring program is the course kit's own
scorer (`inpaint score --split`), so a check on your machine gives the same number:
`inpaint validate Predict.csv --sample sample_submission.csv`.

## Public and private leaderboard

{s.public_fraction:.0%} of the test {'images' if s.split_by == 'image' else 'pixels'} (chosen at random, fixed seed) score the public
leaderboard during the competition; the rest score the private leaderboard, which decides the
final ranking and is shown after the deadline.
"""


def grade_rules(s: Settings) -> str:
    return f"""## Course grade (out of 10, from the private RMSE)

- RMSE at or above the baseline {s.baseline:g}: 0.
- Between the baseline and the strong baseline {s.strong:g}: 3 + 5 x ({s.baseline:g} - RMSE) / ({s.baseline:g} - {s.strong:g}).
- Below the strong baseline: 8 + 2 x ({s.strong:g} - RMSE) / ({s.strong:g} - best RMSE in the class); the best gets 10.
"""


def data_page(s: Settings) -> str:
    m, n = s.image_size
    return f"""# Data

`student_data.zip` holds

    Training/Real/<name>     real faces
    Training/White/<name>    the same faces with the mouth painted white (same names)
    Testing/White/<name>     the {s.n_images} blanked test faces to fill in
    sample_submission.csv    the submission format

## Submission format

One CSV of {m * n} rows and {s.n_images + 1} columns: `id` (the pixel index 0 .. {m * n - 1}), then one column
per test image, named by its file name without extension, holding the image flattened row by row
(row 0 left to right, then row 1, ...), values in [0, 1]. Copy the header and ids of
`sample_submission.csv`.
"""


def terms(s: Settings, platform: str) -> str:
    return f"""# Terms

- Work alone or as your course allows; share no test predictions.
- Predictions must come from a generator you trained (pix2pix or another conditional GAN); hand
  editing the test images or classical inpainting alone is not a valid submission.
- At most {s.daily_limit} uploads per day (UTC); files up to {s.max_upload_mb:g} MB.
- Deadline: {deadline_text(s)}. {final_rule(s, platform)}
"""


def codabench_upload_note() -> str:
    return """## Uploading on Codabench

Zip your CSV (the zip must hold exactly one `.csv` file, such as `Predict.csv`) and upload the zip on
the My Submissions tab. A rejected file fails with the reason in its scoring error log and does not
count as a score.
"""


def codabench_pages(s: Settings) -> dict[str, str]:
    return {
        "overview": overview(s, "codabench"),
        "evaluation": "# Evaluation\n\n" + metric(s) + "\n" + grade_rules(s) + "\n" + codabench_upload_note(),
        "data": data_page(s),
        "terms": terms(s, "codabench"),
    }


def kaggle_pages(s: Settings, split_note: str) -> dict[str, str]:
    note = f"\nNote for the host: {split_note}.\n" if split_note else ""
    host = f"""# Hosting "{s.title}" on Kaggle (community competition)

1. Create a community competition; paste `description.md` into Overview/Description and
   `evaluation.md` into Evaluation; the terms below into Rules.
2. Data: upload `student_data.zip` (students download it) and `sample_submission.csv`.
3. Scoring: upload `solution.csv` as the solution file and `sample_submission.csv` as the sample
   submission; choose the RMSE metric, `id` as the id column, and `Usage` as the column that marks
   Public/Private rows.
4. Set the deadline ({deadline_text(s)}), {s.daily_limit} submissions per day and {s.final_picks} final
   submission(s) to select.
{note}
{terms(s, "kaggle")}"""
    return {
        "description.md": overview(s, "kaggle") + "\n" + data_page(s),
        "evaluation.md": "# Evaluation\n\n" + metric(s) + "\n" + grade_rules(s),
        "HOST_README.md": host,
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
- `make_submission.py`: trains with the course kit, writes `Predict.csv`, validates it and zips it
  into `submission.zip`, the file to upload.
"""
    return {"README.md": readme, "make_submission.py": STARTING_SCRIPT}
