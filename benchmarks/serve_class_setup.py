"""What the class scenario (benchmarks/serve_class.py) needs besides the server: the class's stored
uploads, made by the kit's own upload path, and clients that measure what the server does with a
request (an upload refused before its body is read, a signed-in viewer of the pages)."""
from __future__ import annotations

import csv
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np
import pandas as pd

from submission.errors import UserError


@dataclass(frozen=True)
class ClassSize:
    participants: int = 200
    uploads_each: int = 10
    test_images: int = 50
    image_size: int = 128
    viewers: int = 50
    burst: int = 150
    daily_limit: int = 5


QUICK = ClassSize(participants=12, uploads_each=3, test_images=6, image_size=32, viewers=8, burst=20)


# ---------------------------------------------------------------- the stored uploads
def _variant(text: bytes, k: int) -> bytes:
    """The same numbers in other bytes: the first value cell gets k more trailing zeros in its
    mantissa, so the file has another SHA-256 and parses to exactly the same table (and verdict)."""
    header, first, rest = text.split(b"\n", 2)
    cells = first.split(b",")
    mantissa, e, exponent = cells[1].partition(b"e")
    mantissa += (b"" if b"." in mantissa else b".") + b"0" * k
    cells[1] = mantissa + e + exponent
    return b"\n".join([header, b",".join(cells), rest])


class _KnownVerdicts:
    """Stands in for the judging while seeding: files whose verdict was established by the real judge
    (a byte variant of a judged file) get it back, with their own facts (size, SHA-256)."""

    def __init__(self, judging, verdicts: dict[str, object]):
        self._judging, self.verdicts = judging, verdicts

    def facts_and_verdict(self, path, shown_name):
        return self._judging.judge.facts(Path(path)), self.verdicts[Path(path).name]

    def copy_flags_changed(self, comp):
        pass  # the markers stay: `seed` updates everyone's flags once, at the end (the same rows)

    def __getattr__(self, name):
        return getattr(self._judging, name)


def seed(out: Path, size: ClassSize, log=print) -> tuple[Path, list[str], str]:
    """A competition in out/comp with `size.participants` participants and `size.uploads_each`
    accepted uploads each, one a day over the past days (today's count stays free).

    Each participant's first file (the solution plus noise of their own level, %.4g) is judged by
    the kit's judging processes (JudgePool); their other files are byte variants of it (same numbers,
    see _variant) and get its verdict, which the real judge is asked again for one variant in 20 and
    must repeat. Every file goes through `Competition.submit`, the path an upload takes, so the rows
    and stored files are the ones the server would have made; the copy flags, which each upload marks
    stale, are updated once at the end by the server's own pass (`update_stale_copy_flags`; one pass
    per upload took most of the 40 minutes seeding once took). Returns (comp, tokens, admin token)."""
    from competition import db as database
    from competition.judge_pool import JudgePool
    from competition.participants import add_participants
    from competition.service import Competition
    from competition.setup import init_competition
    from inpaint.datasets.synth import write_synth_set

    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: not empty; the benchmark builds its own competition there")
    write_synth_set(out / "data", n_train=2, n_test=size.test_images, seed=0, size=size.image_size)
    comp_dir = out / "comp"
    init_competition(out / "data", comp_dir, title=f"class bench {os.getpid()}-{time.time_ns()}",
                     daily_limit=size.daily_limit)
    db = database.open_database(f"sqlite:///{(comp_dir / 'competition.db').resolve()}")
    try:
        token_file = add_participants(db, comp_dir, [(f"student{i:03d}", f"student{i:03d}@example.org")
                                                     for i in range(size.participants)])
    finally:
        db.dispose()
    with token_file.open(newline="") as fh:
        tokens = [row["token"] for row in csv.DictReader(fh)]
    comp = Competition(comp_dir)
    incoming = comp.paths.incoming
    incoming.mkdir(parents=True, exist_ok=True)
    solution = pd.read_csv(comp.paths.solution)
    values = solution.iloc[:, 1:].to_numpy()
    bases = []
    for i in range(size.participants):
        noisy = solution.copy()
        rng = np.random.default_rng(i)
        noisy.iloc[:, 1:] = np.clip(values + rng.normal(0, 0.03 + 0.05 * i / size.participants, values.shape), 0, 1)
        bases.append(noisy.to_csv(index=False, float_format="%.4g", lineterminator="\n").encode())
    log(f"seed: {size.participants} files written, judging them")
    pool = JudgePool(comp.paths, 2)
    try:
        def judged(name_and_body):
            name, body = name_and_body
            (incoming / name).write_bytes(body)
            try:
                return name, pool.facts_and_verdict(incoming / name, "Predict.csv")[1]
            finally:
                (incoming / name).unlink()

        checks = [(f"base{i}.csv", bases[i]) for i in range(size.participants)]
        checks += [(f"check{i}.csv", _variant(bases[i], size.uploads_each)) for i in range(0, size.participants, 20)]
        with ThreadPoolExecutor(2) as threads:
            verdicts = dict(threads.map(judged, checks))
    finally:
        pool.close()
    for name in [n for n in verdicts if n.startswith("check")]:
        if verdicts[name] != verdicts[f"base{name[5:]}"]:
            raise UserError(f"seed: a byte variant was judged differently from its original ({name})")
    comp.judging = _KnownVerdicts(comp.judging, {f"p{i}-{k}.csv": verdicts[f"base{i}.csv"]
                                             for i in range(size.participants) for k in range(size.uploads_each)})
    who = [comp.authenticate(token) for token in tokens]  # the token file follows the roster: studentNNN
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    try:
        for k in range(size.uploads_each):
            for i, person in enumerate(who):
                comp.clock = lambda t=today - timedelta(days=size.uploads_each - k, seconds=-i): t
                name = f"p{i}-{k}.csv"
                (incoming / name).write_bytes(_variant(bases[i], k))
                comp.submit(person, incoming / name, "", "Predict.csv")
            log(f"seed: {k + 1}/{size.uploads_each} uploads each stored")
        log("seed: the copy flags")
        comp.update_stale_copy_flags()
    finally:
        comp.close()
    return comp_dir, tokens, (comp_dir / "secrets" / "admin_token.txt").read_text().strip()


# ---------------------------------------------------------------- talking to the server
class ContinueUpload:
    """An upload whose headers are sent with `Expect: 100-continue` and whose body waits for the
    server: `status` is its first answer (100: it started reading the body; anything else was decided
    without reading a byte of it), `finish` sends the body and returns the final status."""

    def __init__(self, url: str, path: str, token: str, body: bytes, timeout_s: float):
        parts = urllib.parse.urlsplit(url)
        self.body = body
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout_s)
        self.reader = self.sock.makefile("rb")
        self.sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
                           f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n"
                           "Connection: close\r\n\r\n").encode())
        self.status = self._read_status()

    def _read_status(self) -> int:
        line = self.reader.readline()
        status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
        while self.reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # the headers
        return status

    def finish(self) -> int:
        self.sock.sendall(self.body)
        status = self._read_status()
        self.close()
        return status

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def post_expecting_continue(url: str, path: str, token: str, body: bytes, timeout_s: float) -> tuple[int, bool]:
    """POST `body` the ContinueUpload way: returns (final status, whether the body was sent); a final
    status with False was decided before the server read a byte of the body. Status 0: no answer in
    time or the connection broke."""
    sent = False
    try:
        upload = ContinueUpload(url, path, token, body, timeout_s)
        if upload.status != 100:
            upload.close()
            return upload.status, sent
        sent = True
        return upload.finish(), sent
    except OSError:
        return 0, sent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 303 after signing in is the answer; its target page is not part of the measure


def signed_in_opener(url: str, token: str, timeout_s: float):
    """A urllib opener holding a signed-in session cookie of the web pages."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
    with opener.open(url + "/signin", timeout=timeout_s) as response:
        csrf = re.search(r'name="csrf" value="([^"]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "token": token}).encode()
    try:
        opener.open(urllib.request.Request(url + "/signin", form), timeout=timeout_s).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 303:
            raise UserError(f"signing in answered {exc.code}") from None
    return opener


def timed_get(open_url, timeout_s: float) -> tuple[int, float]:
    """(status, seconds); status 0 when no answer came within timeout_s (seconds is then timeout_s)."""
    start = time.perf_counter()
    try:
        with open_url(timeout_s) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        return 0, timeout_s
    return status, time.perf_counter() - start
