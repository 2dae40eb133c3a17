"""Generated copy in a local SQLite file: the CopyStore the local server and the tests use.

One connection in WAL mode, shared by threads behind a lock; every primitive is a single statement, so
it is atomic across processes too (SQLite's own locking, with a busy timeout). Expiry is stored as whole
epoch seconds, rounded up, exactly as the DynamoDB adapter stores it, so both behave alike.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from versa.adapters.sqlite_init import with_retry_while_locked
from versa.ports import (
    CopyItem,
    CopyStatus,
    CopyStore,
    Malformed,
    StoreUnavailable,
    decode_cursor,
    decode_item,
    encode_cursor,
    expiry_seconds,
    now_seconds,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS copy_items (
    key        TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    text       TEXT,
    version    INTEGER NOT NULL,
    expires_at INTEGER,
    reason     TEXT,
    meta       TEXT NOT NULL DEFAULT '{}',
    brand      TEXT
)
"""
_MIGRATIONS = {"brand": "ALTER TABLE copy_items ADD COLUMN brand TEXT"}
"""Columns added since the first schema, each added to an older file when missing."""
_INDEX = "CREATE INDEX IF NOT EXISTS copy_items_by_brand ON copy_items (brand, status, key) WHERE brand IS NOT NULL"
_COLUMNS = "key, status, text, version, expires_at, reason, meta, brand"
_UPSERT_VALUES = (
    f"INSERT INTO copy_items ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
)
_LEASE = (
    _UPSERT_VALUES + "status = excluded.status, text = excluded.text, version = copy_items.version + 1, "
    "expires_at = excluded.expires_at, reason = excluded.reason, meta = excluded.meta, brand = excluded.brand "
    "WHERE copy_items.expires_at IS NOT NULL AND copy_items.expires_at <= ?"
)
_PUT = (
    _UPSERT_VALUES + "status = excluded.status, text = excluded.text, version = excluded.version, "
    "expires_at = excluded.expires_at, reason = excluded.reason, meta = excluded.meta, brand = excluded.brand"
)
_PUT_IF_VERSION = (
    "UPDATE copy_items SET status = ?, text = ?, version = ?, expires_at = ?, reason = ?, meta = ?, brand = ? "
    "WHERE key = ? AND version = ?"
)
_LIST = f"SELECT {_COLUMNS} FROM copy_items WHERE brand = ? AND (status > ? OR (status = ? AND key > ?))"

Row = tuple[str, str, str | None, int, int | None, str | None, str, str | None]


def _row(item: CopyItem) -> Row:
    expires = expiry_seconds(item.expires_at) if item.expires_at is not None else None
    meta = json.dumps(dict(item.meta), sort_keys=True, separators=(",", ":"))
    return (item.key, item.status.value, item.text, item.version, expires, item.reason, meta, item.brand)


def _item(row: Row) -> CopyItem | Malformed:
    key, status, text, version, expires, reason, meta, brand = row

    def build() -> CopyItem:
        if expires is not None and not isinstance(expires, int):
            raise TypeError(f"expires_at {expires!r} is not whole epoch seconds")
        return CopyItem(
            key=key,
            status=CopyStatus(status),
            text=text,
            version=version,
            expires_at=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
            reason=reason,
            meta=json.loads(meta),
            brand=brand,
        )

    return decode_item(key, build)


class SQLiteCopyStore(CopyStore):
    """CopyStore on a SQLite file at `path` (created with its parent directory if missing).

    A lease over an expired item replaces it and increments its version, so a generator holding the
    previous lease cannot overwrite the new one with `expected_version`.
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            with_retry_while_locked(self._setup, timeout=busy_timeout)

    def _setup(self) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)
        have = {row[1] for row in self._conn.execute("PRAGMA table_info(copy_items)")}
        for column, statement in _MIGRATIONS.items():
            if column not in have:
                self._conn.execute(statement)
        self._conn.execute(_INDEX)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _run(self, sql: str, params: Sequence[object]) -> tuple[int, list[Row]]:
        """Run one statement under the lock: (rows changed, rows returned)."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql, params)
                return cursor.rowcount, cursor.fetchall()
        except sqlite3.Error as exc:  # locked past the busy timeout, disk I/O, closed...
            raise StoreUnavailable(f"SQLite copy store {self.path}: {exc}") from exc

    def _get_batch(self, keys: Sequence[str]) -> dict[str, CopyItem | Malformed]:
        found: dict[str, CopyItem | Malformed] = {}
        for start in range(0, len(keys), self.MAX_BATCH):
            chunk = list(keys[start : start + self.MAX_BATCH])
            marks = ", ".join("?" * len(chunk))
            _, rows = self._run(f"SELECT {_COLUMNS} FROM copy_items WHERE key IN ({marks})", chunk)
            found.update((row[0], _item(row)) for row in rows)
        return found

    def _list(
        self, brand: str, status: CopyStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[CopyItem | Malformed], str | None]:
        after_status, after_key = decode_cursor(cursor) if cursor else ("", "")
        sql, params = _LIST, [brand, after_status, after_status, after_key]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        _, rows = self._run(sql + " ORDER BY status, key LIMIT ?", [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][1], rows[-1][0]) if more and rows else None
        return [_item(row) for row in rows], next_cursor

    def _put_if_absent_or_expired(self, item: CopyItem, *, now: datetime) -> bool:
        changed, _ = self._run(_LEASE, (*_row(item), now_seconds(now)))
        return changed == 1

    def _put(self, item: CopyItem, *, expected_version: int | None) -> bool:
        row = _row(item)
        if expected_version is None:
            changed, _ = self._run(_PUT, row)
        else:
            changed, _ = self._run(_PUT_IF_VERSION, (*row[1:], row[0], expected_version))
        return changed == 1


__all__ = ["SQLiteCopyStore"]
