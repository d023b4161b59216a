"""Files of the Codabench scoring program that `inpaint competition export --format codabench` zips.

score.py is the entry point; the scoring logic itself is the kit's submission/ modules, bundled
beside it as they are (competition/platforms/codabench.py lists them).
"""
