"""Ports: the small interfaces the core owns and each adapter (local or AWS) implements, and the
renderer's port: what the service needs of an image renderer, and the typed result it returns.

Behaviour shared by every adapter lives here in the base classes (expiry checks, lease rules,
validation), so an adapter only implements a few storage primitives; the same contract tests run
against each adapter.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from versa.errors import VersaError
from versa.pack.model import Pack

if TYPE_CHECKING:
    from versa.decide.rules import Decision


class StoreUnavailable(VersaError, ConnectionError):
    """A backing store failed or timed out; callers degrade (last good pack, copy defaults)."""


# ------------------------------------------------------------------------------------------ packs


class PackStore(ABC):
    """Where packs come from: a directory locally, S3 when deployed."""

    @abstractmethod
    def current(self, brand: str) -> Pack:
        """The brand's current pack. Raises UnknownBrand, PackError, or StoreUnavailable."""

    @abstractmethod
    def brands(self) -> list[str]:
        """Brands this store knows, sorted."""


# ------------------------------------------------------------------------------------------- copy


class CopyStatus(StrEnum):
    pending = "pending"
    generated = "generated"
    approved = "approved"
    rejected = "rejected"


USABLE = frozenset({CopyStatus.generated, CopyStatus.approved})


@dataclass(frozen=True)
class CopyItem:
    """Generated copy for one copy key. `text` is usable only when status is generated/approved and
    the item has not expired."""

    key: str
    status: CopyStatus
    text: str | None = None
    version: int = 1
    expires_at: datetime | None = None
    reason: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def usable(self, now: datetime) -> bool:
        return self.status in USABLE and self.text is not None and not self.expired(now)


@dataclass(frozen=True)
class Malformed:
    """A stored copy item that does not decode (unknown status, unparsable metadata, wrong types):
    readers treat it as missing and report it."""

    key: str
    why: str


def decode_item(key: str, build: Callable[[], CopyItem]) -> CopyItem | Malformed:
    """`build()` checked: the item, or Malformed when decoding raised or a field has the wrong type.
    Adapters decode every stored row through this, so one bad row never fails a whole read."""
    try:
        item = build()
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError, IndexError) as exc:
        return Malformed(key, f"{type(exc).__name__}: {exc}")
    problems = [
        name
        for name, ok in (
            ("key", isinstance(item.key, str)),
            ("status", isinstance(item.status, CopyStatus)),
            ("text", item.text is None or isinstance(item.text, str)),
            ("version", isinstance(item.version, int) and not isinstance(item.version, bool)),
            ("reason", item.reason is None or isinstance(item.reason, str)),
            ("meta", isinstance(item.meta, Mapping)),
        )
        if not ok
    ]
    return Malformed(key, "wrong type: " + ", ".join(problems)) if problems else item


class CopyStore(ABC):
    """Generated copy by copy key, with a conditional 'pending' lease so a burst of misses enqueues one
    generation. Expiry is always checked on read (TTL deletion is late or, in moto, never)."""

    MAX_BATCH = 100

    def get_many(
        self, keys: Iterable[str], *, now: datetime, malformed: list[str] | None = None
    ) -> dict[str, CopyItem]:
        """Usable items for the keys that have one (missing, pending, rejected, expired or malformed
        are left out); the keys of malformed items are appended to `malformed` when it is given."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CopyItem | Malformed] = {}
        for start in range(0, len(wanted), self.MAX_BATCH):
            found.update(self._get_batch(wanted[start : start + self.MAX_BATCH]))
        usable: dict[str, CopyItem] = {}
        for key, item in found.items():
            if isinstance(item, Malformed):
                if malformed is not None:
                    malformed.append(key)
            elif item.usable(now):
                usable[key] = item
        return usable

    def lease(self, key: str, *, now: datetime, ttl: timedelta) -> bool:
        """Insert a pending item if none exists or the existing one expired. True when this caller won
        the lease (and should enqueue generation); False when someone else holds it or copy exists."""
        return self._put_if_absent_or_expired(
            CopyItem(key, CopyStatus.pending, expires_at=now + ttl), now=now
        )

    def put_result(self, item: CopyItem, *, expected_version: int | None = None) -> bool:
        """Write a generation result (or approval/rejection). With expected_version, only if the stored
        version still matches (optimistic concurrency); returns whether it was written."""
        if item.status is CopyStatus.rejected and not item.reason:
            raise ValueError("a rejected item needs a reason")
        return self._put(item, expected_version=expected_version)

    def get(self, key: str) -> CopyItem | None:
        """The raw stored item regardless of status or expiry (for tools and tests); None when absent
        or malformed."""
        item = self._get_batch([key]).get(key)
        return item if isinstance(item, CopyItem) else None

    # Primitives each adapter implements.
    @abstractmethod
    def _get_batch(self, keys: Sequence[str]) -> dict[str, CopyItem | Malformed]:
        """Stored items by key (absent keys left out), each decoded through `decode_item`."""

    @abstractmethod
    def _put_if_absent_or_expired(self, item: CopyItem, *, now: datetime) -> bool: ...

    @abstractmethod
    def _put(self, item: CopyItem, *, expected_version: int | None) -> bool: ...


# ---------------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class GenerationRequest:
    """What a copy writer needs to write one slot's copy."""

    key: str
    brand: str
    creative: str
    slot: str
    locale: str
    brief: str
    constraints: Mapping[str, Any]
    vary: Mapping[str, str]
    default: str


class GenerationQueue(ABC):
    """Where copy that is missing goes to be written (SQS when deployed, in-process locally)."""

    @abstractmethod
    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        """Hand requests to the generator; must not block the request path for long."""


class CopyWriter(ABC):
    """Writes one slot's copy for a `GenerationRequest` (an LLM when deployed, an offline writer locally)."""

    @abstractmethod
    def write(self, request: GenerationRequest) -> str:
        """Copy text for the request (validated by the caller against the slot's constraints)."""


class NullQueue(GenerationQueue):
    """Drops requests (used where nothing generates copy)."""

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        return None


# ------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """An encoded image and what the HTTP layer needs to serve it. `loop_seconds` is how long these
    bytes stay true because of a countdown: an animation's loop, a minute for a static frame of a
    running timer, None when nothing ticks (no countdown, ended, no deadline, or time-robust text)."""

    body: bytes
    content_type: str
    width: int
    height: int
    render_key: str
    memo_hit: bool
    frames: int
    loop_seconds: int | None = None


class ImageRenderer(ABC):
    """What the service needs of an image renderer (`versa.render.engine.Renderer` is the one)."""

    @abstractmethod
    def render(
        self,
        pack: Pack,
        decision: Decision,
        *,
        texts: Mapping[str, str],
        params: Mapping[str, Any],
        fmt: str,
        width: int | None,
        dpr: float,
        now: datetime,
        tz: str,
        robust: bool = False,
    ) -> Rendered:
        """`decision` drawn and encoded as `fmt` at `width` and `dpr`, countdowns as they stand at
        `now` in `tz`. Raises ParamError for a width, dpr or format the creative does not allow,
        RenderError (OutputTooLarge included) when drawing or encoding fails."""

    @abstractmethod
    def render_fallback(self, pack: Pack, creative_id: str) -> bytes:
        """The creative's fallback image bytes; raises RenderError when they cannot be read."""

    @abstractmethod
    def content_type(self, body: bytes) -> str:
        """The media type of encoded image bytes (a fallback asset's, say)."""

    @abstractmethod
    def negotiate(self, accept: str | None, client: str, allowed: Iterable[str], *, animated: bool = False) -> str:
        """The format to serve for `auto`, from the Accept header, the client class and the pack's
        formats (`animated`: the creative has a countdown)."""


def expiry_seconds(moment: datetime) -> int:
    """Whole epoch seconds, rounded up (an item never expires before it was asked to)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; copy store times must be timezone-aware")
    return math.ceil(moment.timestamp())


def now_seconds(now: datetime) -> int:
    """`now` in whole epoch seconds, rounded down: for whole-second expiries, `expires <= now` holds
    exactly when it holds for the exact instant."""
    if now.tzinfo is None:
        raise ValueError(f"{now!r} is naive; copy store times must be timezone-aware")
    return math.floor(now.timestamp())


def bump(item: CopyItem, **changes: Any) -> CopyItem:
    """A copy of the item with the version incremented and changes applied."""
    return replace(item, version=item.version + 1, **changes)


__all__ = [
    "USABLE",
    "CopyItem",
    "CopyStatus",
    "CopyStore",
    "CopyWriter",
    "GenerationQueue",
    "GenerationRequest",
    "ImageRenderer",
    "Malformed",
    "NullQueue",
    "PackStore",
    "Rendered",
    "StoreUnavailable",
    "bump",
    "decode_item",
    "expiry_seconds",
    "now_seconds",
]
