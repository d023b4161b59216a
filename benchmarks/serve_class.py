"""`inpaint bench serve --scenario class`: a class of 200 against a real `inpaint serve` on 127.0.0.1.

A competition with 200 participants, 50 test images of 128 x 128 and 10 accepted uploads each
already stored (benchmarks/serve_class_setup.py seed), then, each on a freshly started server
(nothing cached in it):
  (b) the organizer page, then GET /api/admin/standings, each the first request after a restart;
  (c) one participant sending 150 uploads at once while another uploads one file a second later:
      the other's time, and how many of the 150 were refused before their bodies were sent;
  (a) 50 signed-in viewers asking for the leaderboard page and /api/leaderboard at once, in the
      minute after the deadline (p50 / p99 of the 100 requests);
  (d) the server's memory: the RSS of its process group (server and judging processes) and of its
      largest process, sampled every 0.25 s throughout.
Only HTTP reaches the server, so the scenario measures any version of the kit. Every request has
a timeout (a request past it counts as taking the timeout), every loop is bounded by the sizes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from benchmarks.serve_class_setup import QUICK, ClassSize, post_expecting_continue, seed, signed_in_opener, timed_get
from competition.launch import free_port, serve_command, wait_ready
from competition.settings import load_settings, write_settings
from submission.errors import UserError

MEMORY_SAMPLE_S = 0.25


class MemoryWatch:
    """The largest RSS seen of a process group (all of it, and its largest single process), in MB;
    `phase_mb` the group's largest since `new_phase`."""

    def __init__(self):
        self.group_mb = self.process_mb = self.phase_mb = 0.0
        self.pgid: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_S):
            if self.pgid is not None:
                sizes = group_rss_mb(self.pgid)
                self.group_mb = max(self.group_mb, sum(sizes))
                self.phase_mb = max(self.phase_mb, sum(sizes))
                self.process_mb = max(self.process_mb, max(sizes, default=0.0))

    def new_phase(self) -> float:
        """The largest RSS of the phase that ends, in MB (a new one starts)."""
        largest, self.phase_mb = self.phase_mb, 0.0
        return round(largest)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def group_rss_mb(pgid: int) -> list[float]:
    """RSS in MB of every process of the group (read from /proc; a process gone meanwhile is skipped)."""
    sizes = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat, after the name: the process group
                continue
            with open(f"/proc/{entry.name}/status") as fh:
                rss = next(line for line in fh if line.startswith("VmRSS:"))
            sizes.append(int(rss.split()[1]) / 1024)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return sizes


class Server:
    """`inpaint serve` for the competition folder, started afresh by `restart` (its caches empty)."""

    def __init__(self, comp: Path, out: Path, memory: MemoryWatch):
        self.comp, self.out, self.memory = comp, out, memory
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def restart(self) -> None:
        self.stop()
        self.starts += 1
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with (self.out / f"server-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(serve_command(self.comp, port), stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.memory.pgid = self.process.pid
        wait_ready(self.url, self.process, title=load_settings(self.comp).title)

    def stop(self) -> None:
        """SIGKILL after a short grace: a server still working on timed-out requests would take minutes."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.memory.pgid = None


def organizer_cold(server: Server, admin: str, timeout_s: float) -> dict:
    """(b) The organizer page, then /api/admin/standings, each the first request of a fresh server."""
    import urllib.request

    server.restart()
    opener = signed_in_opener(server.url, admin, timeout_s)
    page_status, page_s = timed_get(lambda t: opener.open(server.url + "/organizer", timeout=t), timeout_s)
    server.restart()
    request = urllib.request.Request(server.url + "/api/admin/standings", headers={"Authorization": f"Bearer {admin}"})
    api_status, api_s = timed_get(lambda t: urllib.request.urlopen(request, timeout=t), timeout_s)
    return {"organizer_page_s": round(page_s, 2), "organizer_page_status": page_status,
            "admin_standings_s": round(api_s, 2), "admin_standings_status": api_status}


def burst(server: Server, attacker: str, other: str, body: bytes, other_body: bytes, size: ClassSize,
          timeout_s: float) -> dict:
    """(c) `size.burst` uploads of one participant at once; another participant's one upload 1 s later."""
    server.restart()
    results: list[tuple[int, bool]] = []

    def attack(_i: int) -> None:
        results.append(post_expecting_continue(server.url, "/api/submissions", attacker, body, timeout_s))

    def upload_other() -> tuple[int, float]:
        time.sleep(1.0)
        start = time.perf_counter()
        status, _sent = post_expecting_continue(server.url, "/api/submissions", other, other_body, timeout_s)
        return status, time.perf_counter() - start

    with ThreadPoolExecutor(size.burst + 1) as pool:
        other_done = pool.submit(upload_other)
        list(pool.map(attack, range(size.burst)))
        other_status, other_s = other_done.result()
    statuses = [s for s, _ in results]
    return {"other_upload_s": round(other_s, 2), "other_upload_status": other_status,
            "burst_accepted": statuses.count(201), "burst_refused": sum(s == 429 for s in statuses),
            "burst_refused_before_body": sum(s == 429 and not sent for s, sent in results),
            "burst_no_answer": statuses.count(0),
            "burst_other_statuses": sorted({s for s in statuses if s not in (0, 201, 429)}),
            "daily_limit": size.daily_limit}


def viewers_after_deadline(server: Server, tokens: list[str], size: ClassSize, timeout_s: float) -> dict:
    """(a) `size.viewers` participants, signed in before the deadline, ask for the leaderboard page and
    the API's leaderboard at once, a second after it."""
    import urllib.request

    settings = load_settings(server.comp)
    sign_in_time = 20 + size.viewers * 0.5  # starting the server and signing the viewers in, on a loaded machine
    deadline = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=sign_in_time)
    write_settings(server.comp, replace(settings, deadline=deadline))
    server.restart()
    openers = [signed_in_opener(server.url, token, timeout_s) for token in tokens[:size.viewers]]
    wait = (deadline - datetime.now(timezone.utc)).total_seconds() + 1
    if wait < 0:
        raise UserError("signing the viewers in took longer than planned; the deadline passed before they were ready")
    time.sleep(wait)
    barrier = threading.Barrier(size.viewers)

    def view(i: int) -> list[tuple[int, float]]:
        barrier.wait(timeout=timeout_s)
        api = urllib.request.Request(server.url + "/api/leaderboard", headers={"Authorization": f"Bearer {tokens[i]}"})
        return [timed_get(lambda t: openers[i].open(server.url + "/leaderboard", timeout=t), timeout_s),
                timed_get(lambda t: urllib.request.urlopen(api, timeout=t), timeout_s)]

    with ThreadPoolExecutor(size.viewers) as pool:
        answers = [a for pair in pool.map(view, range(size.viewers)) for a in pair]
    write_settings(server.comp, settings)  # open again, as seeded
    seconds = np.asarray([s for _, s in answers])
    return {"viewers": size.viewers, "board_p50_s": round(float(np.percentile(seconds, 50)), 2),
            "board_p99_s": round(float(np.percentile(seconds, 99)), 2),
            "board_ok": sum(s == 200 for s, _ in answers), "board_requests": len(answers),
            "board_timed_out": sum(s == 0 for s, _ in answers)}


def run(out: Path, quick: bool = False, timeout_s: float = 120, seeded: Path | None = None, log=print) -> dict:
    """Seed the class (or take `seeded`, a competition folder this scenario seeded, which the phases
    change: give a copy), then (b), (c), (a) on fresh servers with (d) throughout; returns one result row."""
    from benchmarks.serve_class_setup import _variant

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = QUICK if quick else ClassSize()
    started = time.perf_counter()
    comp, tokens, admin = seed(out, size, log) if seeded is None else seeded_class(Path(seeded))
    seeded_s = round(time.perf_counter() - started) if seeded is None else None
    files = sorted((comp / "submissions").glob("*.csv"))
    body = files[0].read_bytes()  # an accepted file: the attacker uploads it again and again
    memory = MemoryWatch()
    server = Server(comp, out, memory)
    try:
        log("(b) organizer cold")
        row = organizer_cold(server, admin, timeout_s) | {"rss_b_MB": memory.new_phase()}
        log(f"(c) a burst of {size.burst}")
        row |= burst(server, tokens[0], tokens[1], body, _variant(body, 1), size, timeout_s)
        row["rss_c_MB"] = memory.new_phase()
        log(f"(a) {size.viewers} viewers after the deadline")
        row |= viewers_after_deadline(server, tokens, size, timeout_s) | {"rss_a_MB": memory.new_phase()}
    finally:
        server.stop()
        memory.stop()
    return {"scenario": "class", **asdict(size), "csv_MB": round(len(body) / 2**20, 2),
            "stored_MB": round(sum(f.stat().st_size for f in files) / 2**20), "seed_s": seeded_s,
            "timeout_s": timeout_s, **row, "rss_max_group_MB": round(memory.group_mb),
            "rss_max_process_MB": round(memory.process_mb), "load_average": [round(x, 2) for x in os.getloadavg()]}


def seeded_class(comp: Path) -> tuple[Path, list[str], str]:
    """(comp, tokens in roster order, admin token) of a folder `seed` made."""
    import csv

    token_files = sorted((comp / "secrets").glob("tokens-*.csv"))
    if not token_files or not (comp / "competition.toml").exists():
        raise UserError(f"{comp}: not a competition folder seeded by this scenario (no secrets/tokens-*.csv)")
    with token_files[0].open(newline="") as fh:
        tokens = [row["token"] for row in csv.DictReader(fh)]
    return comp, tokens, (comp / "secrets" / "admin_token.txt").read_text().strip()


def save(row: dict, path: Path, args: dict) -> None:
    from submission.image_files import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps({"benchmark": "serve class", "args": args, "cores": os.cpu_count(),
                                          "rows": [row]}, indent=2) + "\n").encode())
