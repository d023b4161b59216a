"""Judge one uploaded file: cheap byte-level checks, the kit's validator, then public/private RMSE,
and everything the pages show of it (diagnoses, flags, copy features, thumbnails), derived here
once from the one parse and stored with the submission: no request parses a stored file.

The byte-level pass comes first so that a file pandas would choke on (a zip, binary data, ten
million rows, one 50 MB line) is refused after reading it once in fixed-size pieces, never parsed.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd

from competition.settings import CompetitionPaths, Settings
from competition.verdicts import FileFacts, Verdict, features_bytes, finding
from submission import copies, diagnose
from submission.csv_read import layout_problems, read_table
from submission.errors import SubmissionError, UserError
from submission.flags import submission_flags
from submission.grading import split_masks
from submission.scoring import align, rmse
from submission.test_images import TestImages, read_boxes
from submission.thumbnails import thumbnail_png
from submission.validate import validate_file

CHUNK = 1 << 20
MAX_BYTES_PER_CELL = 40  # "%.17g" needs 24; a line longer than this many bytes per cell is not a submission row
MAX_FIRST_LINE = 16 * CHUNK  # a transposed 512 x 512 table's header (262,144 numbers) is 1.8 MB
SIGNATURES = {b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "a gzip archive", b"%PDF": "a PDF document",
              b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"\xd0\xcf\x11\xe0": "an Excel (xls) file"}


def read_test_inputs(paths: CompetitionPaths, shape: tuple[int, int]) -> TestImages:
    """The White test images from sample_submission.csv (competition/setup.py writes their values into
    it) and the boxes `inpaint competition init` stored (COMP/test_boxes.csv): judging and the pages use
    nothing students do not have, never the answers, and the same boxes as the kit's tools.

    A folder without the boxes (made by an older kit) is a UserError saying what to run."""
    table = read_table(paths.sample)
    names = [str(c) for c in table.columns]
    white = diagnose.table_images(table, names, shape)
    try:
        boxes = read_boxes(paths.require_test_boxes(), names, shape)
    except SubmissionError as exc:
        raise UserError(f"{exc}; write it again with `inpaint competition boxes --dir {paths.root} --data DATA`") from None
    return TestImages.from_boxes(names, white, boxes)


def inspect_file(path: Path, max_lines: int, max_line_bytes: int) -> FileFacts:
    """SHA-256, size, and a reason to refuse the file without parsing it (or None).

    A file refused for its long lines whose first line shows the usual layout mistake (a transposed
    table, pandas' index column or default names, no header) is refused with `inpaint validate`'s
    sentence instead (csv_read.layout_problems): the mistake, not the bytes, is what to fix."""
    digest, size, lines, longest, current, problem = hashlib.sha256(), 0, 0, 0, 0, None
    first_line, first_done = bytearray(), False
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
            if not first_done:
                end = chunk.find(b"\n")
                first_line += chunk if end < 0 else chunk[:end]
                first_done = end >= 0 or len(first_line) > MAX_FIRST_LINE
            lines += chunk.count(b"\n")
            parts = chunk.split(b"\n")
            if len(parts) == 1:
                current += len(parts[0])
            else:
                longest = max(longest, current + len(parts[0]), *map(len, parts[1:-1]))
                current = len(parts[-1])
            if (lines > max_lines or max(longest, current) > max_line_bytes) and first_done:
                break  # refused anyway; the rest is only hashed (and its lines counted)
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            current = len(chunk) - 1 - chunk.rfind(b"\n") if b"\n" in chunk else current + len(chunk)
    longest = max(longest, current)
    lines += current > 0  # a last line without a newline
    if problem is None:
        if size == 0:
            problem = "empty file"
        elif lines > max_lines or longest > max_line_bytes:
            problem = _layout_problem(first_line, lines) or (
                f"more than {max_lines:,} lines; a submission has a header and one row per pixel (reading stopped there)"
                if lines > max_lines else f"a line of {longest:,} bytes; a submission row is at most {max_line_bytes:,}")
    return FileFacts(digest.hexdigest(), size, problem)


def _layout_problem(first_line: bytes, lines: int) -> str | None:
    """The validator's sentences for the layout mistake the first line shows, or None."""
    if len(first_line) > MAX_FIRST_LINE:
        return None
    try:
        text = first_line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        return None
    return "; ".join(layout_problems(text, lines - 1)) or None


class Judge:
    """Everything needed to judge files for one competition, read once: solution, split, sample, masks."""

    def __init__(self, paths: CompetitionPaths, settings: Settings):
        self.paths, self.settings = paths, settings
        self.solution = read_table(paths.solution)
        self.cells = split_masks(pd.read_csv(paths.split), self.solution)
        rows, columns = self.solution.shape
        self.max_lines = rows + 2  # header, rows, and one blank line some editors add
        self.max_line_bytes = (columns + 1) * MAX_BYTES_PER_CELL
        self._test_inputs = read_test_inputs(paths, tuple(settings.image_size))  # a folder without boxes stops here

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
        return thumbnail_png(preds, inputs.white, inputs.names, boxes=inputs.boxes)

    def reference_scores(self) -> dict[str, float]:
        """{"public", "private"} RMSE of the White images themselves (sample_submission.csv), the
        identity reference row of the leaderboards."""
        return self.split_rmse(read_table(self.paths.sample))

    def test_inputs(self) -> TestImages:
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
        """submission/flags.py's reasons to look closer at an accepted table ([] if none)."""
        inputs = self.test_inputs()
        return submission_flags(self._images(table, inputs.white.shape), inputs.white, inputs.mask)

    def copy_features(self, table: pd.DataFrame) -> np.ndarray:
        """submission/copies.py's features of a table's predictions, inside the stored boxes."""
        inputs = self.test_inputs()
        return copies.participant_features(self._images(table, inputs.white.shape), inputs.mask)

    def answer_features(self) -> np.ndarray:
        """The same features of the answers, the yardstick of every copy flag."""
        inputs = self.test_inputs()
        return copies.box_features(self._images(self.solution, inputs.white.shape), inputs.mask)

    def _images(self, table: pd.DataFrame, shape: tuple[int, int, int]) -> np.ndarray:
        """A table's columns as (n, M, N) float64 images, in the solution's order (column i = image i, row-major)."""
        return align(self.solution, table).to_numpy(np.float64).T.reshape(shape)
