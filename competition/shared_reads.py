"""Reads that requests arriving together share: one computation for a crowd, never a cached answer.

In the minute after the deadline a class asks for the leaderboard at once: 50 viewers, 100 requests,
each computing the same boards from 2,000 rows (0.05-0.2 CPU s each, one after the other under the
GIL) waited seconds. Here the calls of one key that overlap share one computation, one that began
after each of them arrived: it read the database after anything the caller had seen committed (its
own upload, say), so sharing it never shows an older board than computing it anew would. No result
is given to a later call, so nothing needs invalidating, also across server processes. While one
computation runs, the calls arriving wait for it and then share the next one: a crowd costs about
two computations.

The result is shared between the callers: treat it as read-only (copy what you change).
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable
from typing import Any


class SharedReads:
    def __init__(self):
        self._tickets = itertools.count(1)  # next() of a count is atomic: an arrival order across threads
        self._guard = threading.Lock()
        self._keys: dict[Hashable, tuple[threading.Lock, list]] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """compute(), or the result of a computation of `key` that began after this call arrived."""
        arrived = next(self._tickets)
        with self._guard:
            lock, last = self._keys.setdefault(key, (threading.Lock(), [0, None]))  # last: [began, result]
        with lock:  # one computation of a key at a time
            if last[0] > arrived:
                return last[1]
            began = next(self._tickets)  # every call with a smaller ticket arrived before this computation
            last[1] = result = compute()
            last[0] = began
            return result
