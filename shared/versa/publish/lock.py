"""The brand's publish lock and journal: one S3 object, `packs/{brand}/publish.json`.

S3 has no multi-object transaction, so publishes, rollbacks and repairs of one brand take turns on
this object, written only with conditional PUTs:

- **take** a free lock: create it with `If-None-Match: *`, or replace a released or expired one with
  `If-Match: <its ETag>`; of two publishers racing, S3 lets exactly one write succeed.
- **hold** it: each update (the steps done so far, a renewed expiry) is `If-Match: <our last ETag>`,
  so a publisher whose lock expired and was taken over finds out at its next update (`LockLost`) and
  stops before it flips anything.
- **release** it: one last conditional PUT with no owner and the outcome (`complete` or `failed`).

The object stays after release: it is the journal of the brand's last operation (what it set out to
do, which steps it completed, whether it finished), so the next publish or `versa publish --repair`
knows whether the fallbacks may disagree with the pointer (`repair_due`). An expiry inside the object
(`expires_at`, by the holder's clock) lets the next publisher take over from one that crashed.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import BotoCoreError, ClientError

from versa.publish.errors import LockLost, PublishBusy, PublishError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

State = Literal["running", "complete", "failed"]
STEPS = ("bundle", "fallbacks", "pointer", "pruned", "invalidated")
"""The steps an operation may complete, in order (a repair has no bundle or pointer step)."""
CONDITION_FAILED = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
DEFAULT_LOCK_TTL = timedelta(minutes=10)
"""How long a lock outlives its holder's last update. Longer than any step (an S3 call is bounded at
about two minutes by the publish client's timeouts and retries; the holder renews every third)."""


@dataclass(frozen=True)
class Journal:
    """The content of `publish.json`: who holds the brand's lock (if anyone) and what the last
    operation set out to do and completed."""

    operation: str
    """publish | rollback | repair"""
    version: str
    """The version the operation brings the brand to ('' until a repair has read the pointer)."""
    state: State
    steps: tuple[str, ...] = ()
    previous: str | None = None
    """The pointer's version when the operation read it."""
    owner: str | None = None
    """The holder's random token while the lock is held; None once released."""
    holder: str = ""
    """Who holds (or last held) the lock: host and process id, for people."""
    expires_at: str = ""
    started_at: str = ""
    updated_at: str = ""
    error: str | None = None

    def to_json(self) -> bytes:
        body = {
            "operation": self.operation,
            "version": self.version,
            "state": self.state,
            "steps": list(self.steps),
            "previous": self.previous,
            "owner": self.owner,
            "holder": self.holder,
            "expires_at": self.expires_at,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "error": self.error,
        }
        return json.dumps(body, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> Journal:
        """Parse a journal; an unreadable one counts as a released lock whose last operation failed
        (so it can be taken, and a repair is due)."""
        try:
            raw = json.loads(data)
            state: State = raw["state"] if raw["state"] in ("running", "complete", "failed") else "failed"
            return cls(
                operation=str(raw["operation"]),
                version=str(raw["version"]),
                state=state,
                steps=tuple(str(s) for s in raw.get("steps", ())),
                previous=raw.get("previous"),
                owner=raw.get("owner"),
                holder=str(raw.get("holder", "")),
                expires_at=str(raw.get("expires_at", "")),
                started_at=str(raw.get("started_at", "")),
                updated_at=str(raw.get("updated_at", "")),
                error=raw.get("error"),
            )
        except (ValueError, TypeError, KeyError) as exc:
            return cls(operation="unknown", version="", state="failed", error=f"unreadable journal: {exc}")

    def held(self, now: datetime) -> bool:
        """True while an owner holds it and its expiry has not passed."""
        if self.owner is None:
            return False
        try:
            return datetime.fromisoformat(self.expires_at) > now
        except ValueError:
            return False

    def repair_due(self, pointer_version: str | None) -> bool:
        """Whether the fallbacks may disagree with a pointer naming `pointer_version`: the last
        operation did not complete, or completed for another version than the pointer names."""
        if pointer_version is None:
            return self.state != "complete"
        return self.state != "complete" or self.version != pointer_version

    def describe(self) -> str:
        done = ", ".join(self.steps) or "none"
        what = f"{self.operation} of {self.version or '?'} ({self.state}; steps done: {done})"
        return f"{what}: {self.error}" if self.error else what


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass
class BrandLock:
    """The lock on one brand, held by this process once `take()` returns. `found` is the journal
    as it was before (None for a brand never published with a lock)."""

    s3: S3Client
    bucket: str
    key: str
    brand: str
    clock: Callable[[], datetime]
    ttl: timedelta = DEFAULT_LOCK_TTL
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    found: Journal | None = None
    journal: Journal | None = None
    dirty: bool = False
    """Set before the first write that could make the fallbacks disagree with the pointer."""
    _etag: str | None = None
    _renewed: datetime | None = None

    # ------------------------------------------------------------------------------------- take

    def take(self, operation: str, version: str, *, wait: float = 0.0, poll: float = 1.0) -> Journal:
        """Take the lock for `operation` towards `version`, waiting up to `wait` seconds for a holder
        to release it. Raises PublishBusy (naming the holder) when it stays held."""
        deadline = time.monotonic() + wait
        while True:
            current = self._read()
            now = self.clock()
            if current is not None and current[0].owner == self.owner:  # our write, answered late
                self._etag, self.journal, self._renewed = current[1], current[0], now
                return current[0]
            if current is None or not current[0].held(now):
                previous, etag = current if current is not None else (None, None)
                journal = Journal(
                    operation=operation,
                    version=version,
                    state="running",
                    owner=self.owner,
                    holder=self.holder,
                    expires_at=(now + self.ttl).isoformat(),
                    started_at=now.isoformat(timespec="seconds"),
                    updated_at=now.isoformat(timespec="seconds"),
                )
                if self._put(journal, if_match=etag):
                    self.found = previous
                    return journal
                continue  # another publisher took it first: look again
            held = current[0]
            if time.monotonic() >= deadline:
                raise PublishBusy(
                    f"brand {self.brand!r} is locked by {held.holder or 'another publisher'} "
                    f"({held.operation} of {held.version or '?'}, since {held.started_at}) until "
                    f"{held.expires_at}; try again later (a crashed publisher's lock expires then)"
                )
            time.sleep(max(0.0, min(poll, deadline - time.monotonic())))

    # ------------------------------------------------------------------------------------- hold

    def update(self, *, version: str | None = None, previous: str | None = None) -> Journal:
        """Write the steps noted so far (and the target `version` or the pointer's `previous`
        version, when given) and renew the expiry, conditionally on still holding the lock. Raises
        LockLost when another publisher took it over."""
        assert self.journal is not None and self._etag is not None, "take() first"
        now = self.clock()
        journal = replace(
            self.journal,
            version=self.journal.version if version is None else version,
            previous=self.journal.previous if previous is None else previous,
            expires_at=(now + self.ttl).isoformat(),
            updated_at=now.isoformat(timespec="seconds"),
        )
        if not self._put(journal, if_match=self._etag):
            raise LockLost(
                f"the lock on brand {self.brand!r} expired and was taken over during "
                f"{self.journal.operation} of {self.journal.version}; stopped before changing the pointer"
            )
        return journal

    def step(self, name: str) -> None:
        """Note a completed step in memory (written by the next `update` or `release`); renews the
        lock when a third of its lifetime has passed since the last write."""
        assert self.journal is not None, "take() first"
        self.journal = replace(self.journal, steps=(*self.journal.steps, name))
        self.heartbeat()

    def heartbeat(self) -> None:
        """Renew the lock if a third of its lifetime has passed since the last write. Called before
        every write that could undo another publisher's work (a fallback, a deletion), so a holder
        that stalled past its expiry finds out (LockLost) before writing anything."""
        if self._renewed is not None and self.clock() - self._renewed > self.ttl / 3:
            self.update()

    def release(self, state: State, *, error: str | None = None, keep: Journal | None = None) -> None:
        """Give the lock up, recording the outcome; `keep` writes that journal instead (a repair
        that found nothing to do leaves the last operation's record as it was)."""
        assert self.journal is not None and self._etag is not None, "take() first"
        now = self.clock().isoformat(timespec="seconds")
        if keep is not None:
            journal = replace(keep, owner=None, expires_at="")
        else:
            journal = replace(self.journal, state=state, owner=None, expires_at="", updated_at=now, error=error)
        if not self._put(journal, if_match=self._etag):
            raise LockLost(f"the lock on brand {self.brand!r} was taken over before it was released")

    # ------------------------------------------------------------------------------------ S3 I/O

    def read(self) -> Journal | None:
        """The journal as it is now (None when the brand has none)."""
        current = self._read()
        return current[0] if current else None

    def _read(self) -> tuple[Journal, str] | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key)
            return Journal.from_json(response["Body"].read()), response["ETag"]
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise PublishError(f"reading the lock {self.key} failed ({_code(exc)}): {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"reading the lock {self.key} failed: {exc}") from exc

    def _landed(self, body: bytes) -> str | None:
        """The object's ETag if it holds exactly `body` (our write happened), else None."""
        current = self._read()
        return current[1] if current is not None and current[0].to_json() == body else None

    def _put(self, journal: Journal, *, if_match: str | None) -> bool:
        """Write `journal` if the object is still `if_match` (an ETag), or absent when None; False
        when the condition failed. A write that S3 made but answered too late (so the client's retry
        failed its condition) counts as made: the object then holds exactly our bytes."""
        body = journal.to_json()
        try:
            if if_match is None:
                response = self.s3.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json",
                    CacheControl="no-store", IfNoneMatch="*",
                )
            else:
                response = self.s3.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json",
                    CacheControl="no-store", IfMatch=if_match,
                )
        except ClientError as exc:
            if _code(exc) not in CONDITION_FAILED and _code(exc) not in MISSING:
                raise PublishError(f"writing the lock {self.key} failed ({_code(exc)}): {exc}") from exc
            landed = self._landed(body)
            if landed is None:
                return False
            etag = landed
        except BotoCoreError as exc:  # the write may have happened: look before giving up
            try:
                landed = self._landed(body)
            except PublishError:
                landed = None
            if landed is None:
                raise PublishError(f"writing the lock {self.key} failed: {exc}") from exc
            etag = landed
        else:
            etag = response["ETag"]
        self._etag = etag
        self.journal = journal
        self._renewed = self.clock()
        return True


__all__ = ["DEFAULT_LOCK_TTL", "STEPS", "BrandLock", "Journal"]
