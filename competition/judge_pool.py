"""Judging uploads in separate processes, and replacing them when one dies.

pandas holds the GIL for much of a CSV parse, so in the server's own threads a burst of uploads
would slow every other request (a leaderboard page); in processes the server's event loop only
waits for the OS scheduler. A judging process that dies (killed, out of memory) breaks the whole
ProcessPoolExecutor; the pool is then replaced and the upload judged once more, so one dead
process never turns later uploads into errors. A judging process that hangs (stopped, stuck) would
hold its place for good: past JUDGE_TIMEOUT_S of judging, the pool's processes are killed and
replaced, and that upload is refused (not judged again: a file that hangs the judge would hang it
again).

The judging processes also keep the copy flags up to date (competition/copy_checks.py): a change
(an accepted upload, a final choice, a disqualification) marks its participant's flags stale in its
own transaction and wakes this server process's keeper, a thread that runs one pass at a time in a
judging process (`update_stale_copy_flags`, at a lower priority than judging). The upload's answer
does not wait for it, and the thread that waits for it is the keeper's own, none that pages need.
Changes within COPY_FLAGS_AFTER_S of each other share a pass, and the keeper runs a pass when the
server starts: markers a killed server left are taken then.

This module is the only way from the server into competition/judge.py, which parses CSV files:
it imports it only on the judging side (in the judging processes, or in InlineJudging, which
`inpaint serve` never uses), so no request handler can parse a submission
(tests/test_layout.py checks the imports).
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from competition.lifeline import exit_with_parent_thread
from competition.settings import CompetitionPaths, load_settings
from competition.verdicts import FileFacts, Verdict, features_bytes
from submission.errors import UserError

_WORKER_JUDGE = None  # the judging process's competition.judge.Judge
_WORKER_COMPETITION = None  # the judging process's competition.service.Competition, for the copy flags
# A judgement takes about a second (a legal file is a few MB); the wait for a free process is not counted.
JUDGE_TIMEOUT_S = float(os.environ.get("INPAINT_JUDGE_TIMEOUT_S", "60"))
# The keeper waits this long after a change before comparing: the changes of a busy minute share passes.
COPY_FLAGS_AFTER_S = float(os.environ.get("INPAINT_COPY_FLAGS_AFTER_S", "1"))
COPY_FLAGS_RETRY_S = 30  # after a pass that failed (a database too busy): the markers stay, tried again
COPY_FLAGS_NICE = 10  # a pass runs this much nicer than judging (Linux): a CPU busy with uploads judges them first
log = logging.getLogger(__name__)
# One BLAS thread in each judging process: the processes are one per core already, and OpenBLAS's own
# threads spin against each other on a busy machine (`find_copies` over 17 participants took 1.36 CPU s
# with OpenBLAS's default threads and 0.009 s with one, at load 10 on the 2-core machine). Set before the
# processes start (they load OpenBLAS when they import numpy); the host's own setting is kept.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class JudgingFailed(UserError):
    """The judging process died twice on this upload; nothing was recorded (the API answers 503)."""

    status = 503


class JudgingTimedOut(JudgingFailed):
    """Judging this upload took longer than the timeout; the judging processes were replaced."""


class _Hung(Exception):
    """A judgement ran past the timeout (its own exceptions, a TimeoutError too, pass through as they are)."""


def _new_judge(paths: CompetitionPaths):
    from competition.judge import Judge  # the judging side only (see the module's docstring)

    return Judge(paths, load_settings(paths.root))


def _references(judge) -> tuple[dict[str, float], bytes | None]:
    """(identity RMSE {"public", "private"}, the answers' copy features as stored): what the boards
    and the copy flags compare with, derived on the judging side once per server process."""
    return judge.reference_scores(), features_bytes(judge.answer_features())


def _start_worker(root: str) -> None:
    global _WORKER_JUDGE
    _WORKER_JUDGE = _new_judge(CompetitionPaths(Path(root)))
    # Started from whichever server thread submitted first, so a thread watches, not PDEATHSIG.
    exit_with_parent_thread(os.getppid(), lambda: os._exit(0))


def _judge_in_worker(path: str, shown_name: str) -> tuple[FileFacts, Verdict]:
    facts = _WORKER_JUDGE.facts(Path(path))
    return facts, _WORKER_JUDGE.judge(Path(path), shown_name, facts)


def _ready() -> bool:
    return _WORKER_JUDGE is not None


def _references_in_worker() -> tuple[dict[str, float], bytes | None]:
    return _references(_WORKER_JUDGE)


def _update_stale_copy_flags_in_worker(db_url: str) -> int:
    """One pass of `Competition.update_stale_copy_flags` in this judging process (its judge's answers),
    in a thread of lower priority: the other judging processes' uploads go first on a busy machine."""
    global _WORKER_COMPETITION
    if _WORKER_COMPETITION is None:
        from competition.service import Competition  # the judging side only

        _WORKER_COMPETITION = Competition(_WORKER_JUDGE.paths.root, db_url)
        _WORKER_COMPETITION.judging = InlineJudging(_WORKER_JUDGE.paths, _WORKER_JUDGE)

    def lower_priority_pass() -> int:
        if sys.platform.startswith("linux"):  # Linux gives each thread its own nice value
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + COPY_FLAGS_NICE))
        return _WORKER_COMPETITION.update_stale_copy_flags()

    with ThreadPoolExecutor(1, thread_name_prefix="copy flags") as thread:
        return thread.submit(lower_priority_pass).result()


class InlineJudging:
    """Judging in the calling thread, for the command line (rescore) and in-process tests; `inpaint
    serve` always judges in processes (JudgePool)."""

    def __init__(self, paths: CompetitionPaths, judge=None):
        self.paths = paths
        self._judge, self._references = judge, None

    @property
    def judge(self):
        if self._judge is None:
            self._judge = _new_judge(self.paths)
        return self._judge

    def facts_and_verdict(self, path: Path, shown_name: str) -> tuple[FileFacts, Verdict]:
        facts = self.judge.facts(Path(path))
        return facts, self.judge.judge(Path(path), shown_name, facts)

    def references(self) -> tuple[dict[str, float], bytes | None]:
        if self._references is None:
            self._references = _references(self.judge)
        return self._references

    def copy_flags_changed(self, comp) -> None:
        """After a committed change that marked copy flags stale: update them here and now."""
        comp.refresh_stale_copy_flags()

    def close(self) -> None:
        pass


class JudgePool:
    """`processes` judging processes for one competition folder, replaced when broken; with `db_url`,
    also the keeper of the copy flags of that database (see the module's docstring)."""

    def __init__(self, paths: CompetitionPaths, processes: int, timeout_s: float = JUDGE_TIMEOUT_S,
                 db_url: str | None = None, copy_flags_after_s: float = COPY_FLAGS_AFTER_S):
        self.paths, self.processes, self.timeout_s = paths, processes, timeout_s
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._references = None  # the Future of _references_in_worker
        self.pool = self._start()
        self._references = self.pool.submit(_references_in_worker)
        self._flags_wanted = threading.Event()
        self._keeper = None
        if db_url is not None:
            self._flags_wanted.set()  # a first pass at start: markers left by a server killed after a change
            self._keeper = threading.Thread(target=self._keep_copy_flags, args=(db_url, copy_flags_after_s),
                                            name="copy flags", daemon=True)
            self._keeper.start()

    def _start(self) -> ProcessPoolExecutor:
        for name, value in ONE_BLAS_THREAD.items():
            os.environ.setdefault(name, value)  # inherited by the processes spawned below
        # spawn, not fork: forking a process that runs threads (the server's) can copy a held lock
        pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(str(self.paths.root),))
        for _ in range(self.processes):
            pool.submit(_ready)  # start them now, not on the first upload
        return pool

    def facts_and_verdict(self, path: Path, shown_name: str) -> tuple[FileFacts, Verdict]:
        """`facts_and_verdict_async`, waiting in the calling thread (one without an event loop)."""
        return asyncio.run(self.facts_and_verdict_async(path, shown_name))

    async def facts_and_verdict_async(self, path: Path, shown_name: str) -> tuple[FileFacts, Verdict]:
        """Judge in a judging process, awaited without holding a thread; a broken pool is replaced and
        the file judged once more, a judgement past the timeout is stopped (JudgingTimedOut)."""
        for _attempt in range(2):
            pool = self.pool
            try:
                return await result_within_async(pool.submit(_judge_in_worker, str(path), shown_name), self.timeout_s)
            except BrokenProcessPool:
                self._replace(pool)
            except _Hung:
                self._replace(pool, kill=True)
                raise JudgingTimedOut(f"judging this file took longer than {self.timeout_s:g} s and was stopped; "
                                      "nothing was recorded and it does not count: try again in a minute, and "
                                      "tell the organizer if this file does it again") from None
        raise JudgingFailed("the judging process stopped twice while judging this file; nothing was recorded "
                            "and it does not count: try again in a minute")

    def references(self) -> tuple[dict[str, float], bytes | None]:
        """`_references`, computed in a judging process when the pool starts (so the first leaderboard
        view never queues behind a burst of uploads); asked again of a replaced pool."""
        with self._lock:
            if self._references is None or (self._references.done() and self._references.exception() is not None):
                self._references = self.pool.submit(_references_in_worker)
            future = self._references
        return future.result()

    def copy_flags_changed(self, comp) -> None:
        """After a committed change that marked copy flags stale: wake the keeper (returns at once)."""
        self._flags_wanted.set()

    def _keep_copy_flags(self, db_url: str, after_s: float) -> None:
        """The keeper's loop: a pass in a judging process whenever a change asked for one (a change during a
        pass asks for the next), until the pool closes. A failed pass leaves the markers; it is tried again."""
        while True:
            self._flags_wanted.wait()
            if self._closing.wait(after_s):
                return
            self._flags_wanted.clear()
            pool = self.pool
            try:
                pool.submit(_update_stale_copy_flags_in_worker, db_url).result()
            except BrokenProcessPool:
                self._replace(pool)
                self._flags_wanted.set()
            except CancelledError:  # the pool is closing, or was replaced before this pass ran in it
                self._flags_wanted.set()  # (closing: the loop's wait returns at once)
            except Exception as exc:  # a database too busy or gone: the markers stay
                if self._closing.is_set():
                    return
                if pool is not self.pool:  # replaced meanwhile (shut down before this pass reached it)
                    self._flags_wanted.set()
                    continue
                log.warning("copy flags not updated (%s: %s); trying again in %d s", type(exc).__name__,
                            str(exc).splitlines()[0] if str(exc) else "", COPY_FLAGS_RETRY_S)
                self._closing.wait(COPY_FLAGS_RETRY_S)
                self._flags_wanted.set()

    def _replace(self, broken: ProcessPoolExecutor, kill: bool = False) -> None:
        """One new pool for every thread that saw the old one break (only the first replaces it).
        `kill`: the old pool's processes are killed first (a hung one would never exit)."""
        with self._lock:
            if self.pool is broken and not self._closing.is_set():
                if kill:
                    _kill_processes(broken)
                broken.shutdown(wait=False, cancel_futures=True)
                self.pool = self._start()

    def close(self) -> None:
        self._closing.set()
        self._flags_wanted.set()
        self.pool.shutdown(wait=True, cancel_futures=True)  # at most one judgement or pass long; no orphans
        if self._keeper is not None:
            self._keeper.join(timeout=5)


def result_within(future: Future, timeout_s: float):
    """`result_within_async` in a thread without an event loop."""
    return asyncio.run(result_within_async(future, timeout_s))


async def result_within_async(future: Future, timeout_s: float):
    """The future's result; _Hung once it has run for timeout_s. The clock starts when the pool
    hands the call to its processes (running()), so a queue behind a burst is not counted. If the
    waiting request is cancelled, a judgement still queued is cancelled with it."""
    waiter = asyncio.wrap_future(future)
    started = None
    while not (await asyncio.wait([waiter], timeout=min(0.5, timeout_s)))[0]:
        if started is None and future.running():
            started = time.monotonic()
        if started is not None and time.monotonic() - started > timeout_s:
            waiter.cancel()  # nobody waits for it any more (and its late answer must not reach a closed loop)
            raise _Hung
    return waiter.result()


def _kill_processes(pool: ProcessPoolExecutor) -> None:
    """SIGKILL every process of `pool` (a stopped or stuck one ignores anything milder). Python 3.14
    has pool.kill_workers(); before it, the pool's processes are only reachable as _processes."""
    if hasattr(pool, "kill_workers"):
        pool.kill_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
