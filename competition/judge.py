"""Judge one uploaded file: cheap byte-level checks, the kit's validator, then public/private RMSE,
and everything the pages show of it (diagnoses, flags, copy features, thumbnails), derived here
once from the one parse and stored with the submission: no request parses a stored file.

The byte-level pass comes first so that a file pandas would choke on (a zip, binary data, ten
million rows, one 50 MB line) is refused after reading it once in fixed-size pieces, never parsed.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from competition.settings import CompetitionPaths, Settings
from competition.verdicts import FileFacts, Verdict, features_bytes, finding
from inpaint.errors import DataError, SubmissionError
from submission import copies, diagnose
from submission.csv_read import read_table
from submission.flags import submission_flags
from submission.grading import split_masks
from submission.scoring import align, rmse
from submission.thumbnails import thumbnail_png
from submission.validate import validate_file

CHUNK = 1 << 20
MAX_BYTES_PER_CELL = 40  # "%.17g" needs 24; a line longer than this many bytes per cell is not a submission row
SIGNATURES = {b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "a gzip archive", b"%PDF": "a PDF document",
              b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"\xd0\xcf\x11\xe0": "an Excel (xls) file"}


@dataclass(frozen=True)
class TestInputs:
    """The blanked test images as the sample submission holds them, with their boxes."""

    names: list[str]
    white: np.ndarray  # (n, M, N) float64 in [0, 1]
    mask: np.ndarray  # (n, M, N) 1 inside the grown box; all 0 for an image without a box


def read_test_inputs(sample_csv: Path, shape: tuple[int, int]) -> TestInputs:
    """White images and boxes from sample_submission.csv (competition/setup.py writes the White values
    into it), so judging and the pages use nothing students do not have, never the answers."""
    from inpaint import masks

    table = read_table(Path(sample_csv))
    names = [str(c) for c in table.columns]
    white = diagnose.table_images(table, names, shape)
    mask = np.zeros_like(white)
    for i, img in enumerate(white):
        box = masks.find_box(img)
        if box is not None:
            mask[i] = masks.box_mask(img.shape, box, grow=1)
    return TestInputs(names, white, mask)


def inspect_file(path: Path, max_lines: int, max_line_bytes: int) -> FileFacts:
    """SHA-256, size, and a reason to refuse the file without parsing it (or None)."""
    digest, size, lines, longest, current, problem = hashlib.sha256(), 0, 0, 0, 0, None
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if size == 0:
                problem = next((f"this is {what}, not a CSV file; upload the CSV itself"
                                for magic, what in SIGNATURES.items() if chunk.startswith(magic)), None)
            digest.update(chunk)
            size += len(chunk)
            if problem:
                continue
            if b"\x00" in chunk:
                problem = "binary data (NUL bytes), not a CSV text file"
                continue
            lines += chunk.count(b"\n")
            parts = chunk.split(b"\n")
            if len(parts) == 1:
                current += len(parts[0])
            else:
                longest = max(longest, current + len(parts[0]), *map(len, parts[1:-1]))
                current = len(parts[-1])
            if lines > max_lines or max(longest, current) > max_line_bytes:
                break  # refused anyway; the rest is only hashed
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    longest = max(longest, current)
    lines += current > 0  # a last line without a newline
    if problem is None:
        if size == 0:
            problem = "empty file"
        elif lines > max_lines:
            problem = f"more than {max_lines:,} lines; a submission has a header and one row per pixel (reading stopped there)"
        elif longest > max_line_bytes:
            problem = f"a line of {longest:,} bytes; a submission row is at most {max_line_bytes:,}"
    return FileFacts(digest.hexdigest(), size, problem)


class Judge:
    """Everything needed to judge files for one competition, read once: solution, split, sample, masks."""

    def __init__(self, paths: CompetitionPaths, settings: Settings):
        self.paths, self.settings = paths, settings
        self.solution = read_table(paths.solution)
        self.cells = split_masks(pd.read_csv(paths.split), self.solution)
        rows, columns = self.solution.shape
        self.max_lines = rows + 2  # header, rows, and one blank line some editors add
        self.max_line_bytes = (columns + 1) * MAX_BYTES_PER_CELL
        self._white_and_mask = None
        self._test_inputs: TestInputs | None = None

    def facts(self, path: Path) -> FileFacts:
        return inspect_file(path, self.max_lines, self.max_line_bytes)

    def judge(self, path: Path, shown_name: str, facts: FileFacts | None = None) -> Verdict:
        """The verdict on a stored file; messages name it `shown_name`, never the server's path.

        Every file that parses, accepted or rejected, is also diagnosed and drawn (once, here: the
        API, the client and the pages show what is stored); an accepted one also gets its flags
        and copy features. A file refused before parsing gets none of them."""
        facts = facts or self.facts(path)
        if facts.problem:
            return Verdict("rejected", None, None, [finding("error", facts.problem)])
        shown = lambda text: str(text).replace(str(path), shown_name)
        findings = [finding(f.level, shown(f.message)) for f in validate_file(path, sample=self.paths.sample)]
        try:
            table, unreadable = read_table(path), None
        except SubmissionError as exc:
            table, unreadable = None, finding("error", shown(exc))
        derived = {} if table is None else {"diagnoses": self.diagnoses(table), "thumbnails": self.thumbnails(table)}
        if any(f["level"] == "error" for f in findings):
            return Verdict("rejected", None, None, findings, **derived)
        if unreadable:
            return Verdict("rejected", None, None, findings + [unreadable], **derived)
        try:
            scores = self.split_rmse(table)
        except SubmissionError as exc:
            return Verdict("rejected", None, None, findings + [finding("error", shown(exc))], **derived)
        return Verdict("accepted", scores["public"], scores["private"], findings, flags=self.flags(table),
                       copy_features=features_bytes(self.copy_features(table)), **derived)

    def thumbnails(self, table: pd.DataFrame) -> bytes | None:
        """PNG of the upload's images (as the scorer reads the file) under the blanked inputs; None
        when the table cannot be lined up with the test images."""
        inputs = self.test_inputs()
        try:
            preds = diagnose.table_images(table, inputs.names, inputs.white.shape[1:])
        except SubmissionError:
            return None
        return thumbnail_png(preds, inputs.white, inputs.names)

    def reference_scores(self) -> dict[str, float]:
        """{"public", "private"} RMSE of the White images themselves (sample_submission.csv), the
        identity reference row of the leaderboards."""
        return self.split_rmse(read_table(self.paths.sample))

    def test_inputs(self) -> TestInputs:
        if self._test_inputs is None:
            self._test_inputs = read_test_inputs(self.paths.sample, tuple(self.settings.image_size))
        return self._test_inputs

    def diagnoses(self, table: pd.DataFrame) -> list[str]:
        """submission/diagnose.py's sentences for a parsed upload ([] for a genuine prediction)."""
        inputs = self.test_inputs()
        return diagnose.diagnose_table(table, inputs.white, inputs.mask, inputs.names)

    def split_rmse(self, table: pd.DataFrame) -> dict[str, float]:
        truth = self.solution.to_numpy(np.float64)
        guess = align(self.solution, table).to_numpy(np.float64)
        return {part: rmse(truth[keep], guess[keep]) if keep.any() else math.nan for part, keep in self.cells.items()}

    def flags(self, table: pd.DataFrame) -> list[str]:
        """submission/flags.py's reasons to look closer at an accepted table ([] if none or unknown)."""
        white, mask = self._white_and_masks()
        if white is None:
            return []
        return submission_flags(self._images(table, white.shape), white, mask)

    def copy_features(self, table: pd.DataFrame) -> np.ndarray | None:
        """submission/copies.py's features of a table's predictions (None: a set without white boxes)."""
        white, mask = self._white_and_masks()
        return None if white is None else copies.participant_features(self._images(table, white.shape), mask)

    def answer_features(self) -> np.ndarray | None:
        """The same features of the answers, the yardstick of every copy flag."""
        white, mask = self._white_and_masks()
        return None if white is None else copies.box_features(self._images(self.solution, white.shape), mask)

    def _images(self, table: pd.DataFrame, shape: tuple[int, int, int]) -> np.ndarray:
        """A table's columns as (n, M, N) float64 images, in the solution's order (column i = image i, row-major)."""
        return align(self.solution, table).to_numpy(np.float64).T.reshape(shape)

    def _white_and_masks(self):
        """The White test images come back from the sample submission, which holds their values."""
        if self._white_and_mask is None:
            from inpaint.masks import find_mask

            sample = align(self.solution, read_table(self.paths.sample)).to_numpy(np.float64)
            white = sample.T.reshape((sample.shape[1], *self.settings.image_size))
            try:
                mask = np.stack([find_mask(w) for w in white])
            except DataError:  # a set without white boxes cannot be flagged
                white, mask = None, None
            self._white_and_mask = (white, mask)
        return self._white_and_mask
