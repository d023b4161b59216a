"""Judging uploads in separate processes, and replacing them when one dies.

pandas holds the GIL for much of a CSV parse, so in the server's own threads a burst of uploads
would slow every other request (a leaderboard page); in processes the server's event loop only
waits for the OS scheduler. A judging process that dies (killed, out of memory) breaks the whole
ProcessPoolExecutor; the pool is then replaced and the upload judged once more, so one dead
process never turns later uploads into errors. A judging process that hangs (stopped, stuck) would
hold its place for good: past JUDGE_TIMEOUT_S of judging, the pool's processes are killed and
replaced, and that upload is refused (not judged again: a file that hangs the judge would hang it
again).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from competition.judge import FileFacts, Judge, Verdict
from competition.lifeline import exit_with_parent_thread
from competition.settings import CompetitionPaths, load_settings
from inpaint.errors import UserError

_WORKER_JUDGE: Judge | None = None
# A judgement takes about a second (a legal file is a few MB); the wait for a free process is not counted.
JUDGE_TIMEOUT_S = float(os.environ.get("INPAINT_JUDGE_TIMEOUT_S", "60"))


class JudgingFailed(UserError):
    """The judging process died twice on this upload; nothing was recorded (the API answers 503)."""

    status = 503


class JudgingTimedOut(JudgingFailed):
    """Judging this upload took longer than the timeout; the judging processes were replaced."""


class _Hung(Exception):
    """A judgement ran past the timeout (its own exceptions, a TimeoutError too, pass through as they are)."""


def _start_worker(root: str) -> None:
    global _WORKER_JUDGE
    _WORKER_JUDGE = Judge(CompetitionPaths(Path(root)), load_settings(root))
    # Started from whichever server thread submitted first, so a thread watches, not PDEATHSIG.
    exit_with_parent_thread(os.getppid(), lambda: os._exit(0))


def _judge_in_worker(path: str, shown_name: str) -> tuple[FileFacts, Verdict]:
    facts = _WORKER_JUDGE.facts(Path(path))
    return facts, _WORKER_JUDGE.judge(Path(path), shown_name, facts)


def _ready() -> bool:
    return _WORKER_JUDGE is not None


class JudgePool:
    """`processes` judging processes for one competition folder, replaced when broken."""

    def __init__(self, paths: CompetitionPaths, processes: int, timeout_s: float = JUDGE_TIMEOUT_S):
        self.paths, self.processes, self.timeout_s = paths, processes, timeout_s
        self._lock = threading.Lock()
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
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

    def _replace(self, broken: ProcessPoolExecutor, kill: bool = False) -> None:
        """One new pool for every thread that saw the old one break (only the first replaces it).
        `kill`: the old pool's processes are killed first (a hung one would never exit)."""
        with self._lock:
            if self.pool is broken:
                if kill:
                    _kill_processes(broken)
                broken.shutdown(wait=False, cancel_futures=True)
                self.pool = self._start()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)  # at most one judgement long; no orphans


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
