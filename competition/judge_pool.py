"""Judging uploads in separate processes, and replacing them when one dies.

pandas holds the GIL for much of a CSV parse, so in the server's own threads a burst of uploads
would slow every other request (a leaderboard page); in processes the server's event loop only
waits for the OS scheduler. A judging process that dies (killed, out of memory) breaks the whole
ProcessPoolExecutor; the pool is then replaced and the upload judged once more, so one dead
process never turns later uploads into errors.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from competition.judge import FileFacts, Judge, Verdict
from competition.lifeline import exit_with_parent_thread
from competition.settings import CompetitionPaths, load_settings
from inpaint.errors import UserError

_WORKER_JUDGE: Judge | None = None


class JudgingFailed(UserError):
    """The judging process died twice on this upload; nothing was recorded (the API answers 503)."""

    status = 503


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

    def __init__(self, paths: CompetitionPaths, processes: int):
        self.paths, self.processes = paths, processes
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
        """Judge in a judging process; a broken pool is replaced and the file judged once more."""
        for _attempt in range(2):
            pool = self.pool
            try:
                return pool.submit(_judge_in_worker, str(path), shown_name).result()
            except BrokenProcessPool:
                self._replace(pool)
        raise JudgingFailed("the judging process stopped twice while judging this file; nothing was recorded "
                            "and it does not count: try again in a minute")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """One new pool for every thread that saw the old one break (only the first replaces it)."""
        with self._lock:
            if self.pool is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self.pool = self._start()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)  # at most one judgement long; no orphans
