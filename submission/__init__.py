"""Submission CSVs: export, strict reading, scoring. Imports no TensorFlow, so a grader's scorer starts fast."""
from submission.csv_io import export_folder, export_predictions, read_table, solution_from_answers
from submission.scoring import ScoreResult, rmse, score_files, score_tables

__all__ = [
    "export_folder", "export_predictions", "read_table", "solution_from_answers",
    "ScoreResult", "rmse", "score_files", "score_tables",
]
