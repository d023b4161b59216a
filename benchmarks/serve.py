"""`inpaint bench serve`: a real server on 127.0.0.1 driven by concurrent clients.

Uploads full-size CSVs from many participants at a fixed concurrency, polls the leaderboard
during the burst (scoring runs in worker threads, so it should keep answering), and checks that
every accepted upload is stored and scored. Traffic goes to the loopback interface only; every
request has a timeout; the counts are bounded by the options.
"""
from __future__ import annotations

import csv
import json
import os
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from competition.launch import free_port, serve_command, wait_ready
from competition.settings import load_settings
from submission.errors import UserError

REQUEST_TIMEOUT_S = 300


def _request(url: str, token: str, body: bytes | None = None) -> int:
    method = "POST" if body is not None else "GET"
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": "text/csv"} if body is not None else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method),
                                    timeout=REQUEST_TIMEOUT_S) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _bodies(comp_dir: Path, seed: int):
    """A valid full-size submission (the solution plus noise) and a way to make each upload distinct."""
    table = pd.read_csv(comp_dir / "solution.csv")
    rng = np.random.default_rng(seed)
    values = table.iloc[:, 1:].to_numpy()
    table.iloc[:, 1:] = np.clip(values + rng.normal(0, 0.05, values.shape), 0, 1)
    text = table.to_csv(index=False, float_format="%.9g", lineterminator="\n").encode()
    header, first, rest = text.split(b"\n", 2)
    cells = first.split(b",")

    def body(i: int) -> bytes:  # change pixel 0 of the first image: another file, another SHA-256
        return b"\n".join([header, b",".join([cells[0], f"{(i % 997) / 997:.9g}".encode(), *cells[2:]]), rest])

    return body


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    p = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return {"p50_ms": round(float(p[0]), 1), "p95_ms": round(float(p[1]), 1), "p99_ms": round(float(p[2]), 1)}


def prepare(out: Path, participants: int, uploads: int, size: int, n_test: int, db_url: str | None) -> tuple[Path, list[str], str]:
    """A synthetic competition in out/ with `participants` tokens; returns (comp dir, tokens, admin token)."""
    from competition import db as database
    from competition.participants import add_participants
    from competition.setup import init_competition
    from inpaint.datasets.synth import write_synth_set

    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: not empty; the benchmark builds its own competition there")
    write_synth_set(out / "data", n_train=2, n_test=n_test, seed=0, size=size)
    comp = out / "comp"
    init_competition(out / "data", comp, db_url=db_url, title=f"bench {os.getpid()}-{time.time_ns()}",
                     daily_limit=max(1, uploads))
    db = database.open_database(db_url or f"sqlite:///{(comp / 'competition.db').resolve()}")
    try:
        token_file = add_participants(db, comp, [(f"bench{i:03d}", "") for i in range(participants)])
    finally:
        db.dispose()
    with token_file.open(newline="") as fh:
        tokens = [row["token"] for row in csv.DictReader(fh)]
    return comp, tokens, (comp / "secrets" / "admin_token.txt").read_text().strip()


def run(out: Path, participants: int = 50, uploads: int = 200, concurrency: int = 20, workers: int = 1,
        db_url: str | None = None, size: int = 128, n_test: int = 10) -> dict:
    """Run the benchmark; returns one result row (also the facts needed to repeat it)."""
    out = Path(out)
    if concurrency > participants:
        raise UserError(f"--concurrency {concurrency} is more than --participants {participants}: a participant has "
                        "one upload in flight at a time")
    comp, tokens, admin = prepare(out, participants, uploads, size, n_test, db_url)
    body = _bodies(comp, seed=1)
    csv_mb = len(body(0)) / 2**20
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (out / "server.log").open("wb")
    server = subprocess.Popen(serve_command(comp, port, workers, db_url), stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        try:
            wait_ready(url, server, title=load_settings(comp).title)  # ours, not a server that took the port
        except UserError as exc:
            raise UserError(f"{exc} ({out / 'server.log'})") from None
        idle = [_timed(lambda: _request(url + "/api/leaderboard", admin))[1] for _ in range(20)]
        upload_times, statuses, board_times = [], [], []
        busy = threading.Event()
        busy.set()

        free = queue.Queue()  # a participant has one upload in flight at a time (competition/upload_slots.py)
        for token in tokens:
            free.put(token)

        def upload(i: int) -> None:
            token = free.get()
            try:
                status, seconds = _timed(lambda: _request(url + "/api/submissions", token, body(i)))
            finally:
                free.put(token)
            statuses.append(status)
            upload_times.append(seconds)

        def poll_leaderboard() -> None:
            while busy.is_set():
                status, seconds = _timed(lambda: _request(url + "/api/leaderboard", admin))
                board_times.append(seconds)
                time.sleep(0.2)

        poller = threading.Thread(target=poll_leaderboard, daemon=True)
        start = time.perf_counter()
        poller.start()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(upload, range(uploads)))
        elapsed = time.perf_counter() - start
        busy.clear()
        poller.join(timeout=REQUEST_TIMEOUT_S)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    stored, scored = _count_stored(comp, db_url)
    accepted = sum(s == 201 for s in statuses)
    return {"database": "PostgreSQL" if db_url else "SQLite", "workers": workers, "participants": participants,
            "uploads": uploads, "concurrency": concurrency, "csv_MB": round(csv_mb, 2),
            "seconds": round(elapsed, 1), "uploads_per_s": round(uploads / elapsed, 2),
            **{f"upload_{k}": v for k, v in _percentiles(upload_times).items()},
            "leaderboard_idle_p50_ms": _percentiles(idle)["p50_ms"],
            **{f"leaderboard_busy_{k}": v for k, v in _percentiles(board_times).items()},
            "leaderboard_probes": len(board_times), "accepted": accepted, "stored": stored, "scored": scored,
            "other_statuses": sorted({s for s in statuses if s != 201}), "consistent": accepted == stored == scored}


def _timed(call) -> tuple[int, float]:
    start = time.perf_counter()
    status = call()
    return status, time.perf_counter() - start


def _count_stored(comp: Path, db_url: str | None) -> tuple[int, int]:
    """Accepted rows whose file exists, and accepted rows with a public and a private score."""
    from sqlalchemy import select

    from competition import db as database

    db = database.connect(db_url or f"sqlite:///{(comp / 'competition.db').resolve()}")
    try:
        with db.session() as s:
            rows = s.scalars(select(database.Submission).where(database.Submission.status == "accepted")).all()
    finally:
        db.dispose()
    stored = sum((comp / "submissions" / f"{r.sha256}.csv").exists() for r in rows)
    scored = sum(r.public_rmse is not None and r.private_rmse is not None for r in rows)
    return stored, scored


def save(row: dict, path: Path, args: dict) -> None:
    from submission.image_files import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps({"benchmark": "serve", "args": args, "cores": os.cpu_count(),
                                          "rows": [row]}, indent=2) + "\n").encode())
