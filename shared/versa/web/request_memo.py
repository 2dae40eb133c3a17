"""The request memo: a repeated image request answered before the context, the decision and the render.

A rendered answer is remembered under its request key: the brand, creative, format, size, the whole
query (the signed request, parameters in a canonical order) and every request header except the few
that vary per request without feeding the decision (the CDN's request ids, forwarding headers, the
validators, the origin secret). Two requests with the same key resolve the same context, so they get the
same decision and the same bytes: the key holds every viewer attribute the decision may read (country,
time zone, device, language, visitor bucket, client, Accept) as the headers that carry it.

What depends on the clock is checked again on every hit, never remembered: the signature's `exp` (an
expired link falls through to the full path, which refuses it), the decision's `valid_until` (at or
after it the entry is dropped and the request decided again) and the `Cache-Control` max-age, computed
from the request's instant. A hit also asks the pack store for the brand's current version (a publish
drops every entry of the old one), and an entry is decided again after `seconds` at the latest, which
bounds what the key cannot see (copy approved or rewritten in the store, a rotated key).

Not remembered: fallbacks, previews, animated countdowns (their frames depend on the instant) and
answers drawn with default copy while generated copy is missing (so copy that arrives shows at once).
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from versa.ports import ORIGIN_SECRET_HEADER

if TYPE_CHECKING:
    from versa.pack.model import CacheSettings

IGNORED_HEADERS = frozenset({
    "if-none-match", "if-modified-since", ORIGIN_SECRET_HEADER,
    "x-amzn-trace-id", "x-amz-cf-id", "x-amz-cf-pop", "x-forwarded-for", "x-forwarded-port",
    "x-forwarded-proto", "via", "host", "connection", "content-length", "cache-control", "pragma",
    "cloudfront-forwarded-proto", "x-request-id",
})
"""Headers that vary per request and feed no decision: left out of the key (any other header is in it)."""

RequestKey = tuple[object, ...]


class ImageRequest(Protocol):
    """What the key reads of a request (`versa.web.service.CreativeRequest` is one)."""

    @property
    def brand(self) -> str: ...
    @property
    def creative(self) -> str: ...
    @property
    def ext(self) -> str: ...
    @property
    def size(self) -> tuple[int, int] | None: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def query(self) -> Mapping[str, str]: ...
    @property
    def multi_query(self) -> Mapping[str, list[str]]: ...


def request_key(req: ImageRequest) -> RequestKey:
    """The memo key of an image request (see the module docstring): equal keys, equal decisions."""
    query = req.multi_query or {k: [v] for k, v in req.query.items()}
    return (
        req.brand, req.creative, req.ext, req.size,
        tuple(sorted((k, tuple(v)) for k, v in query.items())),
        tuple(sorted((k, v) for k, v in req.headers.items() if k not in IGNORED_HEADERS)),
    )


@dataclass(frozen=True)
class MemoEntry:
    """A remembered 200 answer and what its Cache-Control is computed from on each hit."""

    pack_version: str
    body: bytes
    encoded: str
    """The body in base64, as the Lambda proxy response carries it."""
    content_type: str
    headers: dict[str, str]
    """Every response header but Cache-Control (ETag, X-Versa-Variant, Vary...)."""
    etag: str
    cache: CacheSettings
    valid_until: datetime | None
    expires: datetime | None
    """The signature's `exp`, None when the URL has none or is unsigned."""
    fixed_now: datetime | None
    """The decision's instant when a signed `at` set it (then max-age does not move), else None."""
    proxy_refetch: bool
    stale_at: float
    """Monotonic instant after which the request is decided again."""

    @property
    def weight(self) -> int:
        return len(self.body) + len(self.encoded)


class RequestMemo:
    """A bounded, thread-safe map of request keys to `MemoEntry` (least recently used leave first)."""

    def __init__(
        self, items: int, max_bytes: int, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.items, self.max_bytes, self.seconds, self.clock = items, max_bytes, seconds, clock
        self._data: OrderedDict[RequestKey, MemoEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.weight = 0

    def get(self, key: RequestKey) -> MemoEntry | None:
        """The live entry for `key`, or None (an entry past `seconds` is dropped)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if self.clock() >= entry.stale_at:
                self._pop(key)
                return None
            self._data.move_to_end(key)
            return entry

    def drop(self, key: RequestKey) -> None:
        """Forget `key` (its decision changed or its pack did)."""
        with self._lock:
            self._pop(key)

    def put(self, key: RequestKey, *, body: bytes, **fields: object) -> MemoEntry | None:
        """Remember a 200 answer under `key` (its base64 body computed once here) and return it,
        evicting as needed; nothing is kept (None) when the memo is off (`items` 0) or the body alone
        exceeds `max_bytes`."""
        if self.items <= 0 or self.seconds <= 0 or 3 * len(body) > self.max_bytes:
            return None
        entry = MemoEntry(body=body, encoded=base64.b64encode(body).decode("ascii"),
                          stale_at=self.clock() + self.seconds, **fields)  # type: ignore[arg-type]
        with self._lock:
            self._pop(key)
            self._data[key] = entry
            self.weight += entry.weight
            while self._data and (len(self._data) > self.items or self.weight > self.max_bytes):
                self._pop(next(iter(self._data)))
        return entry

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()
            self.weight = 0

    def __len__(self) -> int:
        return len(self._data)

    def _pop(self, key: RequestKey) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self.weight -= entry.weight
