"""Relevance counts and allocation snapshots in a local SQLite file (what `versa serve` would count
into). Every primitive is one statement, so it is atomic across threads and processes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from versa.adapters.sqlite_init import with_retry_while_locked
from versa.ports import StoreUnavailable
from versa.relevance.counters import Counters
from versa.relevance.snapshot import AllocationSnapshot, SnapshotError
from versa.relevance.store import RelevanceStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS relevance_counts (
    scope TEXT NOT NULL, segment TEXT NOT NULL, arm TEXT NOT NULL, grp TEXT NOT NULL,
    impressions INTEGER NOT NULL DEFAULT 0, clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, segment, arm, grp)
);
CREATE TABLE IF NOT EXISTS relevance_snapshots (
    scope TEXT NOT NULL, epoch INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (scope, epoch)
);
"""
_ADD = (
    "INSERT INTO relevance_counts (scope, segment, arm, grp, impressions, clicks) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (scope, segment, arm, grp) DO UPDATE SET impressions = impressions + excluded.impressions, "
    "clicks = clicks + excluded.clicks"
)


class SQLiteRelevanceStore(RelevanceStore):
    """The store in the SQLite file `path` (its folder is created)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=5, isolation_level=None)
        with_retry_while_locked(self._setup, timeout=5)

    def _setup(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, scope: str, counts: Counters) -> None:
        rows = [(scope, s, a, g, i, c) for (s, a, g), i, c in counts.items()]
        with self._lock, self._errors("add"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_ADD, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def counters(self, scope: str) -> Counters:
        with self._lock, self._errors("read counts"):
            rows = self._db.execute(
                "SELECT segment, arm, grp, impressions, clicks FROM relevance_counts WHERE scope = ?", (scope,)
            ).fetchall()
        return Counters.from_data(
            {"segment": s, "arm": a, "group": g, "impressions": i, "clicks": c} for s, a, g, i, c in rows
        )

    def _put_new(self, scope: str, snapshot: AllocationSnapshot) -> bool:
        with self._lock, self._errors("write snapshot"):
            cur = self._db.execute(
                "INSERT OR IGNORE INTO relevance_snapshots (scope, epoch, body) VALUES (?, ?, ?)",
                (scope, snapshot.epoch, snapshot.to_json()),
            )
        return cur.rowcount == 1

    def snapshot(self, scope: str, epoch: int | None = None) -> AllocationSnapshot | None:
        with self._lock, self._errors("read snapshot"):
            if epoch is None:
                row = self._db.execute(
                    "SELECT body FROM relevance_snapshots WHERE scope = ? ORDER BY epoch DESC LIMIT 1", (scope,)
                ).fetchone()
            else:
                row = self._db.execute(
                    "SELECT body FROM relevance_snapshots WHERE scope = ? AND epoch = ?", (scope, epoch)
                ).fetchone()
        return None if row is None else _decode(row[0], scope)

    def _errors(self, what: str) -> _Wrap:
        return _Wrap(what)


class _Wrap:
    """Turns sqlite3 errors into StoreUnavailable naming the operation."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, sqlite3.Error):
            raise StoreUnavailable(f"SQLite relevance store: {self.what} failed: {exc}") from exc


def _decode(body: str, scope: str) -> AllocationSnapshot:
    try:
        return AllocationSnapshot.from_json(body)
    except (SnapshotError, ValueError) as exc:
        raise StoreUnavailable(f"relevance snapshot of {scope} is unreadable: {exc}") from exc


__all__ = ["SQLiteRelevanceStore"]
