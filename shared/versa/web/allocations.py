"""The allocation snapshots a render process reads, cached in the process for a short TTL.

Each (scope, epoch) read is kept for `ttl` seconds, a failed read too (raised again from the cache), so a busy container
reads the relevance store about once a minute per optimized rule and a store outage costs one failed
read per TTL, not one per request. A latest-epoch read may so lag a reallocation by up to `ttl`: the
old snapshot's arms keep being shown that long (its `valid_until` has passed, so those responses get a
zero max-age until the cache catches up); a pinned epoch never changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from versa.ports import StoreUnavailable
from versa.relevance.serving import SnapshotReader
from versa.relevance.snapshot import AllocationSnapshot

MAX_CACHED = 4096
"""Snapshots kept per process; the cache is cleared when full."""


class CachedSnapshots:
    """A `SnapshotReader` over `read` (the relevance store's `snapshot`) caching each answer `ttl` seconds."""

    def __init__(
        self, read: SnapshotReader, ttl: float, *, clock: Callable[[], float] = time.monotonic,
        log: Callable[..., None] | None = None,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._log = log or (lambda *a, **k: None)
        self._cache: dict[tuple[str, int | None], tuple[float, AllocationSnapshot | None, str | None]] = {}
        self._lock = threading.Lock()
        self.reads = 0
        """Reads that reached the store (tests and metrics)."""

    def __call__(self, scope: str, epoch: int | None) -> AllocationSnapshot | None:
        """The cached snapshot (None: absent); raises `StoreUnavailable` when the store failed on this
        read or on one within the last `ttl` seconds."""
        now = self._clock()
        key = (scope, epoch)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            if hit[2] is not None:
                raise StoreUnavailable(hit[2])
            return hit[1]
        self.reads += 1
        snapshot, failure = None, None
        try:
            snapshot = self._read(scope, epoch)
        except Exception as exc:
            self._log("allocation unreadable", scope=scope, epoch=epoch, error=repr(exc))
            failure = f"allocation of {scope} unreadable: {exc}"
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, snapshot, failure)
        if failure is not None:
            raise StoreUnavailable(failure)
        return snapshot
