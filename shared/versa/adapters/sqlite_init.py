"""Opening a SQLite file that several processes may open at the same moment (`versa serve --workers`):
switching a new file to WAL and creating its tables take an exclusive lock that SQLite's busy timeout
does not always wait for, so the first steps are retried until the timeout."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable


def with_retry_while_locked(setup: Callable[[], None], *, timeout: float) -> None:
    """Run `setup`, again while another process holds the lock ("database is locked" / "busy"), for at
    most `timeout` seconds; then the last error is raised."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            setup()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


__all__ = ["with_retry_while_locked"]
