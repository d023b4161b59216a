"""The texts of the Kaggle package: the description and evaluation pages, and the host's instructions.

Written from what Kaggle does with the package (competition/platforms/kaggle.py says where that was
read; docs/platforms.md lists it).
"""
from __future__ import annotations

from competition.platforms import pages
from competition.settings import Settings


def final_rule(s: Settings) -> str:
    return (f"Final submissions: select up to {s.final_picks} of your submissions before the deadline "
            "(Submissions tab); your final score is the best private score among them.")


def split_on_kaggle(s: Settings) -> str:
    m, n = s.image_size
    return f"""## Public and private leaderboards on Kaggle

Each row of the CSV (one pixel position, in all {s.n_images} images) belongs to the public or the
private part: {pages.percent(s)} of the {m * n} rows, chosen at random with a fixed seed, score the public
leaderboard during the competition; the others score the private leaderboard, which Kaggle shows
after the deadline and which decides the final ranking.

Kaggle scores each part with this competition's metric, `metric.py` from the course kit: the RMSE
above over every cell of that part's rows, with the kit's own scoring code. A file the kit rejects
is an error on Kaggle too, with the kit's message. {final_rule(s)}
"""


def names() -> str:
    return """## Your name on the leaderboard

Kaggle's leaderboard lists teams: a team of one is listed under its member's Kaggle display name
unless it is renamed on the competition's Team tab, and each team's members are shown with links to
their Kaggle profiles. If your course may not publish your name, take part with a Kaggle account
whose display name and username are not your name.
"""


def deadline_step(s: Settings) -> str:
    if s.deadline is None:
        return ("The competition folder has no deadline, but a Kaggle competition ends at one: choose it when "
                "you create the competition, and write it in place of \"Deadline: none\" in description.md.")
    local = s.deadline.strftime("%Y-%m-%d %H:%M")
    offset = s.deadline.strftime("%z")
    return (f"Set the competition's deadline to {pages.deadline_text(s)} ({local} at UTC{offset[:3]}:{offset[3:]}, "
            "as the course announced it); the private leaderboard appears after it.")


def host_readme(s: Settings, split_note: str) -> str:
    note = f"\nNote: {split_note}.\n" if split_note else ""
    return f"""# Hosting "{s.title}" on Kaggle (community competition)

1. Create a community competition. Paste `description.md` into the Overview's description and
   `evaluation.md` into its Evaluation section; the terms below go into the Rules.
2. Data: upload `student_data.zip` (what students download), `sample_submission.csv` and
   `test_boxes.csv` (each test image's box, as `inpaint check-data` finds it: the pixels judged).
3. Metric: create the competition's metric from `metric.py`, pasted as it is. It follows Kaggle's
   metric template and computes what `inpaint score` computes: the RMSE over every cell of the rows
   Kaggle gives it, in float64, refusing what the kit refuses. Do not choose a ready-made RMSE: on a
   table of several image columns, scikit-learn's RMSE (and a metric built on it) averages the
   columns' RMSEs by default, which is not the course's score.
4. Solution: upload `solution.csv` as the solution file and `sample_submission.csv` as the sample
   submission; `id` is the row id column, and the `Usage` column marks each row Public or Private.
5. {deadline_step(s)}
6. Allow {s.daily_limit} submissions per day and {s.final_picks} final submission(s) to select.
7. Tell the students how their names will appear: the leaderboard lists team names (by default the
   member's Kaggle display name) with links to the members' profiles, so a course that may not
   publish names asks them to use a Kaggle account whose display name and username are not their name.
{note}
{pages.terms(s, final_rule(s))}"""


def kaggle_pages(s: Settings, split_note: str) -> dict[str, str]:
    return {
        "description.md": pages.overview(s, final_rule(s)) + "\n" + pages.data_page(s),
        "evaluation.md": "\n".join(("# Evaluation\n", pages.metric(s), split_on_kaggle(s), pages.grade_rules(s), names())),
        "HOST_README.md": host_readme(s, split_note),
    }
