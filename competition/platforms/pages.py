"""The texts both hosted platforms show, written from a competition's rules (competition/settings.py).

Markdown. Every number comes from the Settings; nothing here decides a rule. What differs between the
platforms (how the split is applied, what happens at the deadline, how names appear) is written in
codabench_pages.py and kaggle_pages.py, from what each platform does.
"""
from __future__ import annotations

from datetime import timezone

from competition.settings import Settings

UTC = timezone.utc


def deadline_text(s: Settings) -> str:
    """The deadline in UTC, the time zone both platforms use for their dates."""
    return s.deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if s.deadline else "none"


def one_line(s: Settings) -> str:
    return (f"Paint the mouth back into {s.n_images} grayscale faces of {s.image_size[0]}x{s.image_size[1]} pixels "
            "with a conditional GAN (pix2pix); scored by RMSE.")


def percent(s: Settings) -> str:
    return f"{s.public_fraction:.0%}"


def overview(s: Settings, final_rule: str) -> str:
    return f"""# {s.title}

Each image is a grayscale face whose mouth is painted over with a white rectangle. Train a
conditional GAN (pix2pix: a U-Net generator and a PatchGAN discriminator on the blanked/real pair)
on the training pairs, then predict the {s.n_images} blanked test faces and upload them as one CSV.

- Deadline: {deadline_text(s)}.
- Uploads: at most {s.daily_limit} per participant per day (UTC).
- {final_rule}
- Score: RMSE between your pixels and the real faces, lower is better (see Evaluation).
"""


def metric(s: Settings) -> str:
    """The formula and the file rules: the same on every platform, since each scores with the kit's code."""
    m, n = s.image_size
    return f"""## Metric

Root mean squared error over every value cell of the CSV, in [0, 1] (pixel / 255):

    RMSE = sqrt( sum over the {m * n} pixels x {s.n_images} images of (prediction - truth)^2 / {m * n * s.n_images} )

accumulated in float64; each leaderboard takes the same formula over its own part of the cells.
Columns are matched by name and rows by `id`. A file with missing or extra rows or columns,
repeated ids or names, or empty, NaN, infinite or non-numeric cells, or cells beyond +-1000, is
rejected with a message saying what is wrong; it is not scored. Other values outside [0, 1] are
scored as they are: a 0-255 scale or a [-1, 1] range gets a bad score, not an error. Check a file
before you upload it: `inpaint validate Predict.csv --sample sample_submission.csv`.
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


def terms(s: Settings, final_rule: str) -> str:
    return f"""# Terms

- Work alone or as your course allows; share no test predictions.
- Predictions must come from a generator you trained (pix2pix or another conditional GAN); hand
  editing the test images or classical inpainting alone is not a valid submission.
- At most {s.daily_limit} uploads per day (UTC).
- Deadline: {deadline_text(s)}. {final_rule}
"""
