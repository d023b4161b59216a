"""What one upload costs the host: CPU seconds of judging (each derived part timed), bytes stored, and
the cost of one change of the copy flags among N participants. A measurement for docs/hosting.md:

    python -m benchmarks.judge_cost --work /tmp/judge_cost --images 50 --size 128 --participants 200

builds a synthetic competition (inpaint/datasets/synth.py, answers included) in --work, judges an upload
(the answers plus noise) in the calling process (process CPU time, so the figures do not depend on other load), stores
it, then fills the database with N participants whose stored copy features are that upload's plus
noise, and times one copy-flag update and the organizer's standings. Nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def _cpu(call):
    started = time.process_time()
    result = call()
    return result, time.process_time() - started


def judging_costs(comp_dir: Path, upload: Path) -> dict:
    """CPU seconds of each step of judging one file, the whole judgement, and the bytes it stores."""
    from competition.judge import Judge
    from competition.settings import CompetitionPaths, load_settings
    from competition.verdicts import features_bytes
    from submission.csv_read import read_table
    from submission.validate import validate_file

    paths = CompetitionPaths(comp_dir)
    judge = Judge(paths, load_settings(comp_dir))
    judge.test_inputs()  # read once per judging process (in Judge()), not per upload
    facts, bytes_pass = _cpu(lambda: judge.facts(upload))
    _, validate = _cpu(lambda: validate_file(upload, sample=paths.sample))
    table, parse = _cpu(lambda: read_table(upload))
    _, score = _cpu(lambda: judge.split_rmse(table))
    _, diagnose = _cpu(lambda: judge.diagnoses(table))
    _, flags = _cpu(lambda: judge.flags(table))
    features, copy_features = _cpu(lambda: features_bytes(judge.copy_features(table)))
    png, thumbnails = _cpu(lambda: judge.thumbnails(table))
    verdict, whole = _cpu(lambda: judge.judge(upload, upload.name, facts))
    findings = len(json.dumps(verdict.findings)) + len(json.dumps(verdict.diagnoses)) + len(json.dumps(verdict.flags))
    return {"cpu_s": {"byte_pass": bytes_pass, "validate": validate, "parse": parse, "score": score,
                      "diagnose": diagnose, "flags": flags, "copy_features": copy_features, "thumbnails": thumbnails,
                      "whole_judgement": whole},
            "stored_bytes": {"csv": facts.size, "copy_features": len(features or b""), "thumbnails": len(png or b""),
                             "findings_diagnoses_flags_json": findings},
            "status": verdict.status}


def copy_flag_costs(comp_dir: Path, upload: Path, participants: int, seed: int = 0) -> dict:
    """Seconds (wall and process CPU) of one copy-flag update and of the organizer's standings with
    `participants` counted submissions whose features are stored (rows written directly, not judged)."""
    from competition.db import Judgement, Participant, Submission
    from competition.service import Competition
    from competition.verdicts import features_bytes, features_from_bytes, judgement_row

    comp = Competition(comp_dir)
    try:
        _, verdict = comp.judging.facts_and_verdict(upload, upload.name)
        base = features_from_bytes(verdict.copy_features)
        rng = np.random.default_rng(seed)
        now = datetime.now(timezone.utc)
        with comp.db.session(write=True) as s, s.begin():
            for i in range(participants):
                person = Participant(name=f"p{i}", email="", student_id="", display_name=f"p{i}", display_key=f"p{i}",
                                     name_source="generated", token_hash=f"{i:064d}", created=now)
                s.add(person)
                s.flush()
                row = Submission(participant_id=person.id, created=now, sha256=f"{i:064x}", filename="x.csv",
                                 size_bytes=0, message="", status="accepted", public_rmse=0.1 + i * 1e-4,
                                 private_rmse=0.1 + i * 1e-4, selected=False, disqualified=False)
                s.add(row)
                s.flush()
                # independent-looking work: the upload's features plus noise as large as its error
                noisy = base + rng.normal(0, 0.05, base.shape)
                s.add(judgement_row(row.id, type(verdict)("accepted", row.public_rmse, row.private_rmse,
                                                          copy_features=features_bytes(noisy))))
        with comp.db.session(write=True) as s, s.begin():  # what an accepted upload of the last one does
            comp.mark_copy_flags_stale(s, [max(comp.counted_ids())])
        comp.answer_features()  # once per judging process, not per change
        wall = time.perf_counter()
        _, update_cpu = _cpu(comp.update_stale_copy_flags)
        update_wall = time.perf_counter() - wall
        wall = time.perf_counter()
        (rows, _sentences), standings_cpu = _cpu(comp.standings_with_copies)
        standings_wall = time.perf_counter() - wall
        with comp.db.session() as s:
            stored = s.query(Judgement).count()
        return {"participants": participants, "stored_judgements": stored,
                "copy_flag_update_s": {"wall": update_wall, "cpu": update_cpu},
                "standings_with_copies_s": {"wall": standings_wall, "cpu": standings_cpu}, "standings_rows": len(rows)}
    finally:
        comp.close()


def build(work: Path, images: int, size: int) -> tuple[Path, Path]:
    """A competition folder with `images` test images of size x size, and an upload: the answers plus
    Gaussian noise (sd 0.05, clipped to [0, 1]), written as an export writes it (9 digits)."""
    import pandas as pd

    from competition.setup import init_competition
    from inpaint.datasets.synth import write_synth_set

    comp = work / "comp"
    if not comp.exists():
        write_synth_set(work / "data", n_train=2, n_test=images, size=size, seed=3)
        init_competition(work / "data", comp, title="judge cost")
    table = pd.read_csv(comp / "solution.csv")
    values = table.iloc[:, 1:].to_numpy()
    table.iloc[:, 1:] = np.clip(values + np.random.default_rng(0).normal(0, 0.05, values.shape), 0, 1)
    upload = work / "Predict.csv"
    table.to_csv(upload, index=False, float_format="%.9g", lineterminator="\n")
    return comp, upload


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True, help="a new or earlier --work folder (the set and competition go there)")
    p.add_argument("--images", type=int, default=50)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--participants", type=int, default=200)
    args = p.parse_args(argv)
    comp, upload = build(Path(args.work), args.images, args.size)
    report = {"judging": judging_costs(comp, upload)}
    if args.participants:
        report["copy_flags"] = copy_flag_costs(comp, upload, args.participants)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
