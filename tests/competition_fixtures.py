"""Shared helpers of the competition-server tests: a competition in tmp_path, submissions with known
scores, a real server process on 127.0.0.1 (and its process tree), a real PostgreSQL started from
Debian's binaries, and the one rule for a missing real part (skip on a laptop, fail under CI).

Every request has a timeout and goes to 127.0.0.1 only.
"""
from __future__ import annotations

import csv
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from competition.display_names import ALLOWED
from competition.launch import PortTaken, free_port, serve_command, wait_ready
from competition.settings import load_settings
from conftest import write_set
from inpaint.errors import UserError

REPO = Path(__file__).resolve().parents[1]
REQUEST_TIMEOUT_S = 30


class Clock:
    """A settable clock for the server: tests move it past deadlines and UTC midnights."""

    def __init__(self, now: datetime = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class Comp:
    dir: Path
    tokens: dict[str, str]  # participant name -> token
    admin: str

    def auth(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    @property
    def admin_auth(self) -> dict:
        return {"Authorization": f"Bearer {self.admin}"}


def make_competition(root: Path, people=("ann", "bob"), db_url: str | None = None, size: int = 16,
                     n_test: int = 3, data: Path | None = None, **rules) -> Comp:
    """A competition folder built by init_competition from a tiny generated set, with participants:
    a plain name is registered with the e-mail name@example.org and itself as display name (so the
    tests read it on the leaderboard; a generated one if it is too short to be a display name); a
    tuple is a roster line (name, email, student_id, display_name).
    Tokens are keyed by the registered name. `data`: a data folder to build it from instead."""
    from competition.db import open_database
    from competition.participants import add_participants
    from competition.setup import init_competition

    data = data or write_set(root / "data", n_train=2, n_test=n_test, size=size)
    comp_dir = root / "comp"
    rules.setdefault("title", f"test {uuid.uuid4().hex[:12]}")  # unique: running_server recognises its server by it
    init_competition(data, comp_dir, db_url=db_url, **rules)
    db = open_database(db_url or f"sqlite:///{comp_dir / 'competition.db'}")
    try:
        lines = [(p, f"{p}@example.org", "", p if ALLOWED.fullmatch(p) and len(p) >= 3 else "") if isinstance(p, str)
                 else p for p in people]
        token_file = add_participants(db, comp_dir, lines)
    finally:
        db.dispose()
    with open(token_file, newline="") as fh:
        tokens = {row["name"]: row["token"] for row in csv.DictReader(fh)}
    admin = (comp_dir / "secrets" / "admin_token.txt").read_text().strip()
    return Comp(comp_dir, tokens, admin)


def public_images(comp_dir: Path) -> set[str]:
    split = pd.read_csv(comp_dir / "split.csv")
    return set(split.loc[split["Usage"] == "Public", "image"])


def offset_csv(comp_dir: Path, public: float, private: float) -> bytes:
    """The solution plus `public` on every public image's cells and `private` on the private ones:
    its public RMSE is exactly |public| and its private RMSE |private| (split by image)."""
    solution = pd.read_csv(comp_dir / "solution.csv")
    shown = public_images(comp_dir)
    for column in solution.columns[1:]:
        solution[column] = solution[column] + (public if column in shown else private)
    return solution.to_csv(index=False, float_format="%.17g", lineterminator="\n").encode()


def transposed_csv(comp_dir: Path) -> bytes:
    """The answers with every image flattened column-major: the export mistake diagnose.py names "transposed"."""
    solution = pd.read_csv(comp_dir / "solution.csv")
    rows, cols = load_settings(comp_dir).image_size
    for column in solution.columns[1:]:
        solution[column] = solution[column].to_numpy().reshape(rows, cols).ravel(order="F")
    return solution.to_csv(index=False, float_format="%.17g", lineterminator="\n").encode()


def noisy_csv(comp_dir: Path, seed: int, scale: float = 0.05) -> bytes:
    """A valid submission with a different score per seed."""
    solution = pd.read_csv(comp_dir / "solution.csv")
    rng = np.random.default_rng(seed)
    values = solution.iloc[:, 1:].to_numpy() + rng.normal(0, scale, (len(solution), solution.shape[1] - 1))
    solution.iloc[:, 1:] = np.clip(values, 0, 1)
    return solution.to_csv(index=False, float_format="%.9g", lineterminator="\n").encode()


def http(method: str, url: str, token: str | None = None, body: bytes | None = None,
         content_type: str = "text/csv", timeout: float = REQUEST_TIMEOUT_S) -> tuple[int, dict | list | None]:
    """One request with the standard library; returns (status, JSON body or None)."""
    assert url.startswith("http://127.0.0.1:"), "tests talk to the loopback interface only"
    headers = {"Content-Type": content_type} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, None


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown handler runs, as in a power cut of the process."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def running_server(comp_dir: Path, db_url: str | None = None, workers: int = 1, start_timeout_s: float = 60,
                   judge_processes: int = 1, env: dict | None = None):
    """`inpaint serve` in its own process group on a free loopback port; stopped at the end.
    `env` adds environment variables (the server's timeouts, for the tests that wait for them)."""
    title = load_settings(comp_dir).title
    for _attempt in range(3):  # a port free a moment ago can be taken by a server another test starts
        port = free_port()
        log = Path(comp_dir).parent / f"server-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(serve_command(comp_dir, port, workers, db_url, judge_processes), cwd=REPO,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, **(env or {})})
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, start_timeout_s, title)
            break
        except PortTaken:
            _stop(process)
        except UserError as exc:
            _stop(process)
            raise AssertionError(f"{exc}: {log.read_text()[-2000:]}") from None
    else:
        raise AssertionError("three ports in a row were taken by other servers")
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (workers, judging processes), SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def copy_flags_settled(comp_dir: Path, db_url: str | None = None, timeout_s: float = 120) -> None:
    """Wait until a running server's keeper has updated every copy flag its changes marked stale
    (competition/copy_checks.py: they are written after the answers); AssertionError past timeout_s."""
    from competition.service import Competition

    deadline = time.monotonic() + timeout_s
    service = Competition(comp_dir, db_url)
    try:
        while service.stale_copy_flags():
            assert time.monotonic() < deadline, f"copy flags still stale after {timeout_s} s"
            time.sleep(0.25)
    finally:
        service.close()


# ---------------------------------------------------------------- processes
def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc: Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children(current)
    return tree


def resident_mb(pids: list[int]) -> float:
    """Summed VmRSS of these processes, in MB (a process that exited counts 0)."""
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def spawned_children(pid: int) -> list[int]:
    """Children started by multiprocessing's spawn (uvicorn's workers, the judging processes), not its resource tracker."""
    return [c for c in children(pid) if "spawn_main" in command_line(c)]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- a real part that is missing
def real_part_missing(reason: str):
    """The one place that decides: skip with the reason on a machine without the part, but fail
    when the environment variable CI is set, so CI is never green without the real-part tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------- PostgreSQL
def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of our own (initdb + pg_ctl in a temp folder, Unix socket only); yields a
    function name -> URL of a new empty database. PostgreSQL refuses to run as root, so as root the
    server runs as the `postgres` user. Without PostgreSQL: `real_part_missing` (skip, or fail under CI)."""
    bindir = _postgres_bin()
    if bindir is None:
        real_part_missing("PostgreSQL is not installed (Debian package `postgresql`: no /usr/lib/postgresql/*/bin/initdb)")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="inpaint-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            real_part_missing("running as root and there is no `postgres` user to run PostgreSQL as")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    try:
        subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                  "--no-sync"], check=True, capture_output=True, timeout=120)
        # fsync off: the tests kill our server, never PostgreSQL, and need its speed, not its crash safety.
        options = f"-k {base} -c listen_addresses='' -c fsync=off -c max_connections=200"
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log"), "-w",
                                  "-t", "60", "-o", options, "start"], check=True, capture_output=True, timeout=90)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise AssertionError(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-1000:]}") from None

    import psycopg

    def new_database(name: str) -> str:
        with psycopg.connect(host=str(base), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@/{name}?host={base}"

    try:
        yield new_database
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
