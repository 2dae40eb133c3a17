"""Opening a SQLite store while another process holds the lock (`versa serve --workers`) waits and
retries rather than failing the server's start."""

from __future__ import annotations

import sqlite3

import pytest

from versa.adapters.sqlite_init import with_retry_while_locked


def test_a_locked_database_is_retried_until_the_setup_succeeds() -> None:
    # GIVEN a setup that finds the database locked twice (another process creating it)
    calls: list[int] = []

    def setup() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")

    # WHEN it runs under the retry THEN it succeeds on the third try
    with_retry_while_locked(setup, timeout=5)
    assert len(calls) == 3


def test_other_errors_and_a_lock_past_the_timeout_are_raised() -> None:
    def broken() -> None:
        raise sqlite3.OperationalError("no such table: x")

    def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        with_retry_while_locked(broken, timeout=5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        with_retry_while_locked(locked, timeout=0.1)
