"""A competition folder exported to a hosted platform: `inpaint competition export --format codabench|kaggle`.

    export.py          the entry points: read the folder, write the package (zips.py: whole or not at all)
    codabench.py       the Codabench bundle: competition.yaml, its two phases and their reference data
    scoring_program/   the Codabench scoring program (score.py; the kit's submission/ modules are bundled beside it)
    kaggle.py          the Kaggle package: solution.csv with its Usage column, metric.py built from kaggle_metric.py
    kaggle_metric.py   the Kaggle metric's source (Kaggle's metric template, scoring as `inpaint score`)
    pages.py           the texts both platforms show; codabench_pages.py and kaggle_pages.py, each platform's own

docs/platforms.md says what each platform does with these files, and where in its source or documentation
that was read.
"""
