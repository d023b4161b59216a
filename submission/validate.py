"""`inpaint validate`: every problem of a submission file before it costs one of the day's uploads.

Errors are what the scorer refuses, found by the scorer's own checks (csv_read's header, id and
cell rules, scoring's column and row matching), so a file the validator passes is a file the
scorer scores. Warnings and diagnoses are what it scores, but badly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from submission.csv_read import (WHOLE_HEADER_CAUSES, cell_problems, header_causes, header_problems, id_position,
                                 id_problems, numbered, numeric, read_cells, read_checked, read_table,
                                 unique_names)
from submission.errors import SubmissionError, count, list_names
from submission.scoring import column_problems, row_problems
from submission.test_images import TestImages

# `inpaint validate`'s exit codes: a script stops before an upload that is refused or scored badly.
EXIT_OK, EXIT_REJECTED, EXIT_SCORED_BADLY = 0, 2, 3


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    message: str


@dataclass(frozen=True)
class Expected:
    """What the solution will hold, as far as it is known: its ids, its image columns' names or their count."""

    source: str  # "the sample", "the test images", ...: where the expectation comes from
    ids: pd.Index | None = None
    columns: list[str] | None = None
    n_columns: int | None = None

    @classmethod
    def from_sample(cls, sample: Path) -> "Expected":
        """Kaggle's sample submission has the solution's header and ids; a broken sample is a SubmissionError."""
        try:
            raw, ids = read_checked(Path(sample))
        except SubmissionError as exc:
            raise SubmissionError(f"--sample: {exc}") from None
        return cls("the sample", ids, [str(c) for c in raw.columns[1:]])

    @classmethod
    def from_shape(cls, size: tuple[int, int] | None, n_images: int | None) -> "Expected | None":
        if size is None and n_images is None:
            return None
        ids = pd.RangeIndex(size[0] * size[1]) if size is not None else None
        return cls("--size and --images", ids, None, n_images)

    @classmethod
    def from_test_images(cls, names: list[str], shape: tuple[int, int], where: str) -> "Expected":
        """The solution built from these test images' answers: their names, one row per pixel at `shape`."""
        return cls(f"the test images in {where}", pd.RangeIndex(shape[0] * shape[1]), list(names))


def validate_file(path: Path, sample: Path | None = None, size: tuple[int, int] | None = None,
                  n_images: int | None = None, expected: Expected | None = None) -> list[Finding]:
    """All findings for the file at `path`, against the solution's expected shape when one is known
    (`expected`, else from `sample`, else from `size` and `n_images`)."""
    if expected is None:
        expected = Expected.from_sample(sample) if sample is not None else Expected.from_shape(size, n_images)
    path = Path(path)
    try:
        header, raw = read_cells(path)
    except SubmissionError as exc:
        return [Finding("error", str(exc))]
    errors = [f"{path}: {p}" for p in header_problems(header, len(raw))]
    raw.columns = unique_names(header)
    # The id column where it is (after a pandas index column, say), so that the other problems are
    # found too; the scorer stops at the header.
    at, ids = id_position(header), None
    if at is not None:
        problems = id_problems(raw.iloc[:, at])
        errors += [f"{path}: {p}" for p in problems]
        if not problems:
            ids = pd.Index(pd.to_numeric(raw.iloc[:, at], errors="coerce").astype(np.int64))
        if raw.empty:
            errors.append(f"{path}: no rows after the header")
    first_value = 0 if at is None else at + 1
    values = numeric(raw.iloc[:, first_value:])
    row_ids = raw.iloc[:, at] if at is not None else pd.Series(range(len(raw)))
    cells = cell_problems(raw.iloc[:, first_value:], values, row_ids)
    if cells:
        errors.append(f"{path}: " + "; ".join(cells))
    if expected is not None:
        # A header that is no header (numbers, pandas' 0, 1, 2, ...) matches no name: its cause says it all.
        no_names = at is None and set(header_causes(header, len(raw))) & WHOLE_HEADER_CAUSES
        errors += _expected_problems(None if no_names else header[first_value:], ids, expected)
    return [Finding("error", e) for e in errors] + [Finding("warning", w) for w in _value_warnings(values)]


def _expected_problems(columns: list[str] | None, ids: pd.Index | None, expected: Expected) -> list[str]:
    """The scorer's column and row matching against what the solution will hold (scoring.align's words)."""
    problems = []
    if columns is not None and expected.columns is not None:
        found = column_problems(expected.columns, columns)
        problems += [f"header differs from {expected.source}: " + "; ".join(found)] if found else []
    elif columns is not None:
        if expected.n_columns is not None and len(columns) != expected.n_columns:
            problems.append(f"{len(columns)} image columns, expected {expected.n_columns}")
        # Test images named 0, 1, 2, ... are rare; such columns are nearly always pandas' labels of an unnamed
        # array. Without the names (--data, --sample) this is the one name check there is.
        if numbered(columns):
            problems.append(f"image columns named {list_names(columns, 3)}: pandas' default names, not the test "
                            "images' names; name each column by its test image (--data or --sample checks the names)")
    if expected.ids is not None and ids is not None:
        found = row_problems(expected.ids, ids)
        problems += [f"ids differ from {expected.source}: " + "; ".join(found)] if found else []
    return problems


def _value_warnings(values) -> list[str]:
    finite = values.to_numpy()[np.isfinite(values.to_numpy())]
    warnings = []
    outside = int(((finite < 0) | (finite > 1)).sum())
    if outside:
        hint = " - looks like tanh output in [-1, 1]: rescale with (x + 1) / 2" if finite.min() < 0 else ""
        warnings.append(f"{outside} values outside [0, 1] (min {finite.min():.3g}, max {finite.max():.3g}){hint}")
    constant = [c for c in values.columns if values[c].nunique(dropna=True) <= 1]
    if constant:
        warnings.append(f"constant image columns (the whole image one value): {list_names(constant)}")
    return warnings


@dataclass
class Verdict:
    """What the scorer will do with a file: refuse it, score it badly, or score it; and every reason."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    shape_checked: bool = True  # False: no sample, data or size was given, so rows and names went unchecked

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_REJECTED
        return EXIT_SCORED_BADLY if self.warnings or self.diagnoses else EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def lines(self) -> list[str]:
        out = [f"error: {e}" for e in self.errors] + [f"warning: {w}" for w in self.warnings]
        out += [f"diagnosis: {d}" for d in self.diagnoses]
        if not self.shape_checked:
            out.append("note: without --data, --sample or --size M N --images n only the format and values were "
                       "checked, not the rows, ids and column names the scorer matches")
        if self.errors:
            out.append(f"REJECTED: {count(len(self.errors), 'error')}; the scorer would refuse {self.path}")
        elif self.exit_code == EXIT_SCORED_BADLY:
            out.append(f"SCORED BADLY: the scorer would accept and score {self.path}, but the mistake named above "
                       "costs points; fix it before uploading")
        else:
            out.append(f"OK: the scorer would accept and score {self.path}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__  # a notebook cell that ends with the verdict shows these lines


def check_submission(path: Path, expected: Expected | None = None, test: TestImages | None = None) -> Verdict:
    """The verdict on a submission file: the scorer's checks, the value warnings and, given the test
    images, the diagnosis of the usual export mistakes (submission/diagnose.py)."""
    from submission.diagnose import diagnose_table, row_count_diagnosis

    path = Path(path)
    findings = validate_file(path, expected=expected)
    verdict = Verdict(path, [f.message for f in findings if f.level == "error"],
                      [f.message for f in findings if f.level == "warning"], shape_checked=expected is not None)
    if test is not None:
        try:
            table = read_table(path)
        except SubmissionError:
            return verdict  # the errors say why
        if verdict.errors:  # only the row count can still be read as a mistake: which size the file was made at
            verdict.diagnoses = row_count_diagnosis(len(table), test.white.shape[1:])
            return verdict
        names = test.names
        if expected is not None and expected.columns is not None and len(expected.columns) == len(names):
            names = expected.columns  # a sample's i-th column holds the i-th test image, whatever its name
        verdict.diagnoses = diagnose_table(table, test.white, test.mask, names)
    return verdict
