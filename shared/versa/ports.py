"""Ports: the small interfaces the core owns and each adapter (local or AWS) implements, and the
renderer's port: what the service needs of an image renderer, and the typed result it returns.

Behaviour shared by every adapter lives here in the base classes (expiry checks, lease rules,
validation), so an adapter only implements a few storage primitives; the same contract tests run
against each adapter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
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

    def published_fallback(self, pack: Pack, name: str) -> bytes | None:
        """The PNG fallback `versa publish` wrote for `name` (`creative`, or `creative@WxH` for a
        creative with `sizes`) of `pack`'s brand, for a creative that gives no `fallback` file; None
        when the store has none (the default: a local store's packs carry theirs, drawn on load)."""
        return None


# ------------------------------------------------------------------------------------------- copy


class CopyStatus(StrEnum):
    """Where a copy item stands: `pending` a generation is leased; `generated` written and serving (no
    review); `review` written, awaiting a reviewer (not served); `approved` a reviewer approved it
    (served); `rejected` a generation failed or a reviewer rejected it (`reason` says which)."""

    pending = "pending"
    generated = "generated"
    review = "review"
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
    brand: str | None = None
    """The brand the copy belongs to; items with a brand are listed (`CopyStore.list_items`), items
    without one (leases, lineage records) are not."""

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
            ("brand", item.brand is None or isinstance(item.brand, str)),
        )
        if not ok
    ]
    return Malformed(key, "wrong type: " + ", ".join(problems)) if problems else item


@dataclass(frozen=True)
class CopyPage:
    """One page of a listing: items in the store's order (status, then key) and the cursor of the next
    page (None: this was the last). Expired items are left out, so a page may hold fewer than asked."""

    items: tuple[CopyItem, ...]
    cursor: str | None = None
    malformed: tuple[str, ...] = ()


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

    def put_new(self, item: CopyItem, *, now: datetime) -> bool:
        """Insert `item` when nothing (or only an expired item) is stored under its key; returns whether
        it was written."""
        return self._put_if_absent_or_expired(item, now=now)

    def get(self, key: str) -> CopyItem | None:
        """The raw stored item regardless of status or expiry (for tools and tests); None when absent
        or malformed."""
        item = self._get_batch([key]).get(key)
        return item if isinstance(item, CopyItem) else None

    def list_items(
        self, brand: str, *, status: CopyStatus | None = None, now: datetime, limit: int = 50,
        cursor: str | None = None,
    ) -> CopyPage:
        """The brand's unexpired items (of `status`, or all), ordered by status then key, at most
        `limit` per page; pass the returned cursor to continue. Raises ValueError for a cursor this
        store did not give, StoreUnavailable when the store fails."""
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit {limit} must be between 1 and 1000")
        rows, next_cursor = self._list(brand, status, limit, cursor)
        items = tuple(r for r in rows if isinstance(r, CopyItem) and not r.expired(now))
        malformed = tuple(r.key for r in rows if isinstance(r, Malformed))
        return CopyPage(items, next_cursor, malformed)

    # Primitives each adapter implements.
    @abstractmethod
    def _list(
        self, brand: str, status: CopyStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[CopyItem | Malformed], str | None]:
        """Up to `limit` stored items of `brand` (and `status`), ordered by status then key, starting
        after `cursor`; and the cursor after the last one returned (None when no more)."""

    @abstractmethod
    def _get_batch(self, keys: Sequence[str]) -> dict[str, CopyItem | Malformed]:
        """Stored items by key (absent keys left out), each decoded through `decode_item`."""

    @abstractmethod
    def _put_if_absent_or_expired(self, item: CopyItem, *, now: datetime) -> bool: ...

    @abstractmethod
    def _put(self, item: CopyItem, *, expected_version: int | None) -> bool: ...


# ---------------------------------------------------------------------------------- generation


GENERATION_KINDS = ("copy", "visual")
"""What a generation request asks for: a copy slot's text, or a visual slot's scene."""


@dataclass(frozen=True)
class GenerationRequest:
    """What the generator needs to write one slot's copy (`kind` copy) or paint one visual slot's scene
    in one aspect class (`kind` visual: `slot` names a visual slot, `default` its default image, `aspect`
    one of `ASPECTS`, `locale` the pack's default locale, `vary` without the aspect). The two fields added
    for visuals have defaults, so a message written before them still decodes as copy."""

    key: str
    brand: str
    creative: str
    slot: str
    locale: str
    brief: str
    constraints: Mapping[str, Any]
    vary: Mapping[str, str]
    default: str
    kind: str = "copy"
    aspect: str = ""


class GenerationQueue(ABC):
    """Where copy that is missing goes to be written (SQS when deployed, in-process locally)."""

    @abstractmethod
    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        """Hand requests to the generator; must not block the request path for long."""


@dataclass(frozen=True)
class WriteRequest:
    """What a copy writer is asked, as the core built it (`versa.generate.write.prepare`): the
    instructions (`system`: Versa's rules and the brand's voice), the rendered brief (`prompt`), how
    many candidates and how long each may be. Nothing in it comes from a request's own text."""

    key: str
    system: str
    prompt: str
    locale: str
    default: str
    candidates: int = 1
    max_chars: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class Rejection:
    """A candidate that was not used, and why (`check` names the guardrail: max_chars, banned, fit...)."""

    text: str
    check: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "check": self.check, "reason": self.reason}


@dataclass(frozen=True)
class Draft:
    """What a copy writer answered: candidates in its order of preference, whether a model wrote them
    (`generated`; the offline writer's defaults are not), which model, the tokens spent, candidates the
    writer itself dropped (empty, repeated) and notes on how the answer was obtained (a JSON-mode
    fallback, sampling parameters dropped, retries)."""

    candidates: tuple[str, ...]
    generated: bool
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rejections: tuple[Rejection, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class WriterUnavailable(VersaError, RuntimeError):
    """The writer cannot write at all as configured (no model set, a model the server does not know,
    a refused API key): every request would fail the same way, so the caller stops and says so."""


class WriteFailed(VersaError, RuntimeError):
    """This one request got no usable answer: `reason` is one of refused, invalid_json, truncated,
    content_filter, timeout, rate_limited, server_error, bad_request; the slot keeps its default."""

    def __init__(self, reason: str, detail: str, *, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


class CopyWriter(ABC):
    """Writes candidates for one slot's copy (an LLM through `versa.adapters.openai_writer`, or the
    offline writer, which answers the pack's default). The core guards what it answers."""

    model: str | None = None
    """The model that writes (None: nothing generates); part of the key generated copy is stored under."""

    @abstractmethod
    def write(self, request: WriteRequest) -> Draft:
        """Candidates for the request. Raises WriteFailed when this request got no usable answer and
        WriterUnavailable when no request can be answered as configured."""


STOP_BOUNDS = ("kill-switch", "budget", "rate")
"""What may stop a generation before a writer is asked: the kill switch, the brand's daily tokens, the rate."""


class SpendingLedger(ABC):
    """The tallies that bound copy spending: tokens each brand spent per UTC day, and generations
    started per minute. In-process (`versa.generate.worker.Spending`: one process's tallies) or shared by
    every generator (`versa.adapters.dynamo_spending`: atomic counters in DynamoDB). The worker asks
    `admit` before a writer is called and reports the tokens it spent with `spend`."""

    @abstractmethod
    def admit(self, brand: str, today: date) -> str | None:
        """None when a generation for `brand` may start now (it is counted against the rate), else the
        bound that stops it: "kill-switch", "budget" or "rate". A shared ledger that cannot be reached
        raises StoreUnavailable (the generation is retried later, never started unbounded)."""

    @abstractmethod
    def spend(self, brand: str, today: date, tokens: int) -> None:
        """Add `tokens` to what `brand` spent on the UTC day `today`."""

    @abstractmethod
    def spent(self, brand: str, today: date | None = None) -> int:
        """Tokens `brand` spent on `today` (None: the day the ledger last counted)."""


class NullQueue(GenerationQueue):
    """Drops requests (used where nothing generates copy)."""

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        return None


# --------------------------------------------------------------------------------------- visuals


ASPECTS = ("square", "landscape", "portrait")
"""The aspect classes a visual is generated in (the Images API's few output sizes: 1:1, 3:2, 2:3); a
creative size is cropped from the class nearest its own aspect, around the composition's focal point."""


@dataclass(frozen=True)
class PaintRequest:
    """What a visual writer is asked for one scene, as the core built it: the rendered brief with the
    brand's style (`prompt`, nothing from a request's own text), the output size in pixels (one the model
    offers, of the aspect class `aspect`), the quality tier, and the mode: `scene` paints a scene the
    brand's product is composited over; `edit` redraws `source` (the product photo, PNG with alpha) into
    the scene. `palette` (hex colours) and `key` let an offline writer paint a deterministic placeholder."""

    key: str
    prompt: str
    size: tuple[int, int]
    aspect: str = "square"
    quality: str = "medium"
    mode: str = "scene"
    source: bytes | None = None
    palette: tuple[str, ...] = ()


@dataclass(frozen=True)
class Painting:
    """What a visual writer answered: the image as encoded bytes (PNG, JPEG or WebP; the core checks the
    format, dimensions and content), whether a model made it (`generated`; the offline placeholder is
    not), which model, the size and quality billed, and notes (a revised prompt, retries)."""

    image: bytes
    generated: bool
    model: str | None = None
    size: tuple[int, int] | None = None
    quality: str | None = None
    notes: tuple[str, ...] = ()


class PaintFailed(VersaError, RuntimeError):
    """This one request got no usable image: `reason` is one of moderation (the prompt was flagged before
    spending), content_policy (the model refused), timeout, rate_limited, server_error, bad_image (the
    answer did not decode), bad_request. The slot keeps its default image; a refusal is a rejection."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class VisualWriter(ABC):
    """Paints one scene for a visual slot (an Images API model through `versa.adapters.openai_visuals`,
    or the offline placeholder painter). The core guards what it answers and stores it as an asset.
    `WriterUnavailable` (above) means no request can be painted as configured."""

    model: str | None = None
    """The model that paints (None: nothing generates); part of the key a visual is stored under."""

    @abstractmethod
    def paint(self, request: PaintRequest) -> Painting:
        """An image for the request. Raises PaintFailed when this request got none and WriterUnavailable
        when no request can be answered as configured."""


class AssetMissing(VersaError, LookupError):
    """No generated asset is stored under the key."""


class AssetStore(ABC):
    """Generated images by content-addressed key (`generated/BRAND/SHA256.EXT`): immutable once written.
    A local folder on the embedded default, S3 under the `generated/` prefix when deployed (rejected
    objects are tagged so a lifecycle rule removes them). The base owns the key scheme; an adapter only
    stores and fetches bytes."""

    @staticmethod
    def key_for(brand: str, data: bytes, ext: str) -> str:
        """The content address of `data` for `brand` (same bytes, same key)."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", brand):
            raise ValueError(f"brand {brand!r} is not a brand id")
        if ext not in ("png", "jpg", "webp"):
            raise ValueError(f"extension {ext!r} is not one of png, jpg, webp")
        return f"generated/{brand}/{hashlib.sha256(data).hexdigest()}.{ext}"

    def put(self, brand: str, data: bytes, ext: str) -> str:
        """Store `data` (idempotent: the same bytes keep their key) and return its key."""
        key = self.key_for(brand, data, ext)
        self._put(key, data)
        return key

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`. Raises AssetMissing, or StoreUnavailable when the store fails."""
        if not re.fullmatch(r"generated/[a-z0-9][a-z0-9-]{0,62}/[0-9a-f]{64}\.(png|jpg|webp)", key):
            raise AssetMissing(f"{key!r} is not a generated asset key")
        return self._get(key)

    def reject(self, key: str) -> None:
        """Mark a stored asset rejected (S3: tagged for the lifecycle rule; locally: noted). Idempotent."""
        self._mark_rejected(key)

    @abstractmethod
    def _put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _mark_rejected(self, key: str) -> None: ...


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
    def render_fallback(self, pack: Pack, creative_id: str, size: tuple[int, int] | None = None) -> bytes:
        """The creative's fallback image bytes at `size` (one of its sizes; None: its first, the
        fallback asset as it is); raises RenderError when they cannot be read."""

    @abstractmethod
    def content_type(self, body: bytes) -> str:
        """The media type of encoded image bytes (a fallback asset's, say)."""

    @abstractmethod
    def negotiate(self, accept: str | None, client: str, allowed: Iterable[str], *, animated: bool = False) -> str:
        """The format to serve for `auto`, from the Accept header, the client class and the pack's
        formats (`animated`: the creative has a countdown)."""


# ------------------------------------------------------------------------------ origin secret


ORIGIN_SECRET_HEADER = "x-versa-origin-secret"
"""The header CloudFront adds to every origin request (template.yaml's OriginCustomHeaders)."""

ORIGIN_SECRET_RE = re.compile(r"[\x21-\x7e]{16,256}")
"""What a stored origin secret value may be: 16 to 256 visible ASCII characters, no whitespace."""


class OriginSecretUnavailable(StoreUnavailable):
    """The origin secret could not be read and no earlier value is known: the request is refused with
    503 (behind CloudFront, a 5xx fails over to the S3 fallback image)."""


@dataclass(frozen=True)
class OriginSecretValues:
    """The values an origin request may carry: the current one, and the previous one while a rotation
    is under way (CloudFront still sends it until its distribution is updated)."""

    current: str
    previous: str | None = None

    @classmethod
    def parse(cls, text: str | bytes, *, source: str = "origin secret") -> OriginSecretValues:
        """Parse the stored document ``{"current": "...", "previous": "..."}`` (`previous` optional or
        null). Raises ValueError naming `source`, the field and what is allowed; never the value."""
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f'{source}: not JSON; expected {{"current": "...", "previous": "..."}}') from None
        if not isinstance(doc, dict):
            raise ValueError(f'{source}: expected a JSON object {{"current": "...", "previous": "..."}}')
        extra = sorted(set(doc) - {"current", "previous"})
        if extra:
            raise ValueError(f"{source}: unknown field(s) {', '.join(map(repr, extra))} (allowed: current, previous)")
        for name in ("current", "previous"):
            value = doc.get(name)
            if value is None and name == "previous":
                continue
            if not isinstance(value, str) or not ORIGIN_SECRET_RE.fullmatch(value):
                raise ValueError(
                    f"{source}: field {name!r} must be a string of 16 to 256 visible ASCII characters"
                    f" (no spaces){'' if name == 'current' else ', or null'}"
                )
        return cls(doc["current"], doc.get("previous"))

    def accepts(self, presented: str | None) -> bool:
        """True when `presented` equals the current or the previous value exactly (byte for byte,
        compared in constant time with each; no trimming, no case folding)."""
        if not presented:
            return False
        given = presented.encode("utf-8", "surrogatepass")
        matches = [hmac.compare_digest(given, value.encode("ascii")) for value in self.accepted()]
        return any(matches)

    def accepted(self) -> tuple[str, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)


OriginEvent = Callable[..., None]
"""`on_event(name, /, **props)`: "origin_secret_stale" (serving the last good values after a failed
read) and "origin_secret_unavailable" (none known: refused); props never hold secret material."""


class OriginSecrets(ABC):
    """Where the secret CloudFront sends as x-versa-origin-secret is kept (Secrets Manager when
    deployed; nothing locally, where no origin check applies).

    The base owns the behaviour: it parses the stored document, accepts the current and the previous
    value, and when the store fails it keeps the last good values (stale-if-error, with `on_event`)
    and does not ask the store again for `retry_seconds`, so an outage of the secret store neither
    opens the API nor slows every request. With no good value yet, `OriginSecretUnavailable` (503).
    An adapter only implements `_fetch`, cached by the adapter for its max age."""

    def __init__(
        self,
        *,
        retry_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_event: OriginEvent | None = None,
    ) -> None:
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._emit: OriginEvent = on_event or (lambda *a, **k: None)
        self._last_good: OriginSecretValues | None = None
        self._last_text = ""
        self._retry_at = -math.inf
        self._lock = threading.Lock()

    def accepts(self, presented: str | None) -> bool:
        """Whether a request carrying `presented` in x-versa-origin-secret came through the CDN.
        Raises OriginSecretUnavailable when the secret cannot be read and no earlier value is known."""
        return self.values().accepts(presented)

    def values(self) -> OriginSecretValues:
        """The values in force: freshly read (within the adapter's cache age), else the last good ones."""
        with self._lock:
            if self._clock() < self._retry_at:
                return self._known("backing off after a failed read")
            try:
                text = self._fetch()
                if self._last_good is not None and text == self._last_text:
                    return self._last_good  # the adapter's cached value: parsed already
                values = OriginSecretValues.parse(text, source=self.describe())
            except (StoreUnavailable, ValueError) as exc:
                self._retry_at = self._clock() + self.retry_seconds
                return self._known(str(exc))
            self._last_good, self._last_text = values, text
            return values

    def _known(self, reason: str) -> OriginSecretValues:
        if self._last_good is None:
            self._emit("origin_secret_unavailable", reason=reason)
            raise OriginSecretUnavailable(f"{self.describe()} cannot be read and no earlier value is known")
        self._emit("origin_secret_stale", reason=reason)
        return self._last_good

    def describe(self) -> str:
        """Where the secret is kept, for messages (no secret material)."""
        return "origin secret"

    @abstractmethod
    def _fetch(self) -> str:
        """The stored document's text. Raises StoreUnavailable when the store fails or times out."""



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


def encode_cursor(status: str, key: str) -> str:
    """An opaque cursor for the position after (status, key)."""
    return base64.urlsafe_b64encode(json.dumps([status, key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(status, key) from `encode_cursor`; ValueError for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"cursor {cursor!r} is not one this store gave") from None
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw)):
        raise ValueError(f"cursor {cursor!r} is not one this store gave")
    return raw[0], raw[1]




def bump(item: CopyItem, **changes: Any) -> CopyItem:
    """A copy of the item with the version incremented and changes applied."""
    return replace(item, version=item.version + 1, **changes)


__all__ = [
    "ASPECTS",
    "ORIGIN_SECRET_HEADER",
    "STOP_BOUNDS",
    "USABLE",
    "AssetMissing",
    "AssetStore",
    "CopyItem",
    "CopyPage",
    "CopyStatus",
    "CopyStore",
    "CopyWriter",
    "Draft",
    "GenerationQueue",
    "GenerationRequest",
    "ImageRenderer",
    "Malformed",
    "NullQueue",
    "OriginSecretUnavailable",
    "OriginSecretValues",
    "OriginSecrets",
    "PackStore",
    "PaintFailed",
    "PaintRequest",
    "Painting",
    "Rejection",
    "Rendered",
    "SpendingLedger",
    "StoreUnavailable",
    "VisualWriter",
    "WriteFailed",
    "WriteRequest",
    "WriterUnavailable",
    "bump",
    "decode_cursor",
    "decode_item",
    "encode_cursor",
    "expiry_seconds",
    "now_seconds",
]
