"""A real server refuses the usual export mistakes in `inpaint validate`'s words (issue 34, item 2).

A transposed table's lines are far longer than a submission row, so the server's byte-level pass
used to refuse it as "a line of N bytes"; it now reads the first line and says what the validator
says (submission/csv_read.layout_problems). Each mistake a student makes with pandas is uploaded
once: the transposed table as such, with pandas' index column, without a header, in 0-255 and in
tanh's [-1, 1]; and the value mistakes in the right layout, which the server accepts with the
validator's warning. 16 x 16 images, 3 of them: a transposed row is 256 values, far over the 160
bytes a row of 3 values may have.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competition_fixtures import http, make_competition, running_server

pytestmark = [pytest.mark.slow,  # a real `inpaint serve` process
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _answers(comp_dir) -> pd.DataFrame:
    return pd.read_csv(comp_dir / "solution.csv")


def transposed(comp_dir, scale=lambda v: v, **to_csv) -> bytes:
    """The answers as one row per image, as pd.DataFrame(preds.reshape(n, -1)).to_csv(...) writes them."""
    values = scale(_answers(comp_dir).iloc[:, 1:].to_numpy().T)
    return pd.DataFrame(values).to_csv(float_format="%.9g", lineterminator="\n", **to_csv).encode()


def right_layout(comp_dir, scale) -> bytes:
    table = _answers(comp_dir)
    table.iloc[:, 1:] = scale(table.iloc[:, 1:].to_numpy())
    return table.to_csv(index=False, float_format="%.9g", lineterminator="\n").encode()


MISTAKES = {
    "transposed": lambda d: transposed(d, index=False),
    "transposed, pandas' index column": lambda d: transposed(d),
    "transposed, no header": lambda d: transposed(d, index=False, header=False),
    "transposed, 0-255": lambda d: transposed(d, lambda v: np.round(v * 255), index=False),
    "transposed, tanh range": lambda d: transposed(d, lambda v: v * 2 - 1, index=False),
}
ACCEPTED_MISTAKES = {
    "0-255": lambda d: right_layout(d, lambda v: np.round(v * 255)),
    "tanh range": lambda d: right_layout(d, lambda v: v * 2 - 1),
}


def validator_lines(run_cli, path, sample, level: str) -> list[str]:
    """`inpaint validate`'s lines of one level, without the file's path (the server names the upload)."""
    _, out, _ = run_cli("validate", path, "--sample", sample)
    return [line.replace(f"{path}: ", "") for line in out.splitlines() if line.startswith(f"{level}: ")]


def test_server_refuses_each_layout_mistake_with_the_validators_sentence(tmp_path, run_cli):
    comp = make_competition(tmp_path, size=16, n_test=3)
    sample = comp.dir / "sample_submission.csv"
    with running_server(comp.dir) as server:
        for what, make in {**MISTAKES, **ACCEPTED_MISTAKES}.items():
            body = make(comp.dir)
            path = tmp_path / f"{what.replace(' ', '_').replace(',', '')}.csv"
            path.write_bytes(body)
            status, answer = http("POST", f"{server.url}/api/submissions", comp.tokens["ann"], body)
            assert status == 201, (what, answer)
            level = "error" if what in MISTAKES else "warning"
            expected = validator_lines(run_cli, path, sample, level)
            assert expected, (what, "the validator names the mistake")
            said = [line for line in answer["findings"] if line.startswith(f"{level}: ")]
            assert said == expected, what
            assert answer["status"] == ("rejected" if what in MISTAKES else "accepted"), what
            assert not any("bytes; a submission row" in line for line in answer["findings"]), what
