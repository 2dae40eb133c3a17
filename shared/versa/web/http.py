"""HTTP semantics for CDNs and email proxies, as pure functions: caching, validators, problems.

`Cache-Control` lasts exactly until the decision can change (capped by the pack), never a blind year;
`stale-while-revalidate` only where that moment is unbounded (otherwise a CDN would serve the old
daypart past its boundary). Errors for browsers are RFC 9457 problem documents; image clients that are
email proxies never see an error status (they cache it for weeks), they get the fallback with 200.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from versa.errors import (
    DecidedElsewhere,
    Overloaded,
    PackError,
    ParamError,
    ReviewError,
    SignatureError,
    SignatureExpired,
    UnknownBrand,
    UnknownCopy,
    UnknownCreative,
    UnknownSize,
    VersaError,
    WrongStatus,
)
from versa.pack.model import CacheSettings
from versa.ports import StoreUnavailable

PROBLEM_TYPE = "application/problem+json"
ERROR_MAX_AGE = 60
CSP = "default-src 'none'; img-src 'self' data: https:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class HttpResponse:
    """A transport-neutral response: the Lambda handler and the local server both send these."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    encoded: str | None = None
    """The body in base64 when already at hand (a request memo hit), so the Lambda answer skips encoding."""

    def with_headers(self, **extra: str) -> HttpResponse:
        return HttpResponse(self.status, self.body, self.content_type, {**self.headers, **extra}, self.encoded)


def ttl_seconds(
    now: datetime,
    valid_until: datetime | None,
    cache: CacheSettings,
    *,
    copy_default_used: bool = False,
    loop_seconds: int | None = None,
) -> int:
    """How long this response stays true: until `valid_until`, capped by the pack's max_age, by a
    countdown's loop length, and by the short default-copy TTL when generated copy was missing."""
    ttl = cache.max_age
    if valid_until is not None:
        ttl = min(ttl, max(0, math.floor((valid_until - now).total_seconds())))
    if loop_seconds is not None:
        ttl = min(ttl, loop_seconds)
    if copy_default_used:
        ttl = min(ttl, cache.default_copy_ttl)
    return max(0, ttl)


def cache_control(
    ttl: int, cache: CacheSettings, *, unbounded: bool, proxy_refetch: bool = False
) -> str:
    """The Cache-Control header for a rendered creative.

    `proxy_refetch`: a time-sensitive creative fetched through Gmail's image proxy must be re-fetched
    on every open, so it gets `no-cache, max-age=0`.
    """
    if proxy_refetch:
        return "no-cache, max-age=0"
    parts = [f"public, max-age={ttl}, s-maxage={ttl}"]
    if unbounded and ttl > 0:
        parts.append(f"stale-while-revalidate={min(ttl, 3600)}")
    if cache.stale_if_error:
        parts.append(f"stale-if-error={cache.stale_if_error}")
    return ", ".join(parts)


def fallback_cache_control(cache: CacheSettings) -> str:
    """Cache-Control of a fallback response: shared and brief (`fallback_ttl`), so a recovery shows soon."""
    return f"public, max-age={cache.fallback_ttl}, s-maxage={cache.fallback_ttl}"


def etag_for(render_key: str) -> str:
    """The strong ETag of a rendered response: its render key, quoted."""
    return f'"{render_key}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against our ETag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_DETAIL = 400


def inert(text: str) -> str:
    """`text` safe to echo in a problem document: no control characters, no `<` that could open a
    tag (it becomes `‹`; a comparison such as `<= 2` stays), at most MAX_DETAIL characters."""
    text = _TAG_START.sub("\u2039", _CONTROL.sub(" ", text))
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "\u2026"


def problem(status: int, title: str, detail: str, **extra: Any) -> HttpResponse:
    """An application/problem+json response; 4xx cache briefly, 5xx never. The detail and string
    extras pass through `inert`: a problem never echoes markup from the request."""
    extra = {k: inert(v) if isinstance(v, str) else v for k, v in extra.items()}
    body = {"type": "about:blank", "title": title, "status": status, "detail": inert(detail), **extra}
    cache = "no-store" if status >= 500 else f"public, max-age={ERROR_MAX_AGE}"
    return HttpResponse(
        status,
        json.dumps(body, ensure_ascii=False).encode(),
        PROBLEM_TYPE,
        {"Cache-Control": cache},
    )


@dataclass(frozen=True)
class ProblemKind:
    """How one class of exception is answered on every HTTP surface (the API, the studio, the local
    server's last resort).

    `detail`: a fixed detail that replaces the exception's message (server-side problems keep their
    cause private; a local tool may reveal it); else the message, or `default_detail` when it is empty.
    `members`: extra problem members taken from the exception; `headers`: response headers taken from it. `log`: how the API logs it
    (`exception` adds the traceback)."""

    status: int
    title: str
    detail: str | None = None
    default_detail: str = ""
    members: Callable[[Any], dict[str, Any]] | None = None
    headers: Callable[[Any], dict[str, str]] | None = None
    log: Literal["warning", "error", "exception"] | None = None


INTERNAL = ProblemKind(500, "Internal error", "the request could not be completed", log="exception")
"""An exception nothing else maps: 500 with a fixed detail (no type, message or path leaves the process)."""

PROBLEMS: dict[type[Exception], ProblemKind] = {
    ParamError: ProblemKind(
        400, "Bad request", members=lambda exc: {"parameter": exc.name, "allowed": exc.allowed}
    ),
    UnknownBrand: ProblemKind(404, "Unknown brand"),
    UnknownSize: ProblemKind(404, "Unknown size", members=lambda exc: {"sizes": exc.known}),
    UnknownCreative: ProblemKind(404, "Unknown creative"),
    SignatureExpired: ProblemKind(410, "Link expired", default_detail="the signature has expired"),
    SignatureError: ProblemKind(403, "Forbidden", default_detail="a valid signature is required"),
    StoreUnavailable: ProblemKind(
        503, "Service unavailable", "a backing store did not answer; try again", log="warning"
    ),
    Overloaded: ProblemKind(
        503,
        "Service busy",
        "every render worker is busy; try again shortly",
        headers=lambda exc: {"Retry-After": str(exc.retry_after)},
    ),
    PackError: ProblemKind(503, "Pack unavailable", "the brand's pack failed to load", log="error"),
    UnknownCopy: ProblemKind(404, "Unknown copy"),
    WrongStatus: ProblemKind(409, "Wrong status", members=lambda exc: {"key": exc.key, "status": exc.status}),
    DecidedElsewhere: ProblemKind(409, "Decided elsewhere", members=lambda exc: {"key": exc.key}),
    ReviewError: ProblemKind(400, "Bad review decision"),
    VersaError: INTERNAL,
}
"""Exception class → problem: the one table. An exception takes the entry of its nearest class."""


def problem_kind(exc: BaseException) -> ProblemKind:
    """The `PROBLEMS` entry of the exception's nearest class (`INTERNAL` when none)."""
    for cls in type(exc).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    return INTERNAL


def problem_for(exc: BaseException, *, reveal: bool = False, **extra: Any) -> HttpResponse:
    """The problem response for an exception, by `PROBLEMS`. `reveal` (local tools only) appends the
    exception's own message to a detail the table keeps private; `extra` adds surface members."""
    kind = problem_kind(exc)
    message = str(exc)
    if kind.detail is not None:
        detail = kind.detail + (f": {message}" if reveal and message else "")
    else:
        detail = message or kind.default_detail
    members = kind.members(exc) if kind.members is not None else {}
    resp = problem(kind.status, kind.title, detail, **members, **extra)
    return resp.with_headers(**kind.headers(exc)) if kind.headers is not None else resp


_LIFETIME = re.compile(r"(?<![-\w])(max-age|s-maxage|stale-while-revalidate|stale-if-error)=(\d+)")


def cap_lifetime(cache_control: str, remaining: int) -> str:
    """`cache_control` rewritten so that no cache may serve the response past `remaining` seconds
    (a signed URL's `exp - now`): max-age and s-maxage are capped at `remaining`, and each stale-*
    allowance at what is left after the longer of the two, so max-age + stale allowance <= remaining.
    A stale allowance that no longer fits is dropped. Directives without a lifetime stay as they are."""
    remaining = max(0, remaining)
    found = dict(_LIFETIME.findall(cache_control))
    fresh = max((int(found[n]) for n in ("max-age", "s-maxage") if n in found), default=0)
    left = max(0, remaining - min(fresh, remaining))
    parts = []
    for part in (p.strip() for p in cache_control.split(",")):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name in ("max-age", "s-maxage") and value.strip().isascii() and value.strip().isdigit():
            part = f"{name}={min(int(value), remaining)}"
        elif name in ("stale-while-revalidate", "stale-if-error") and value.strip().isascii() and value.strip().isdigit():
            allowed = min(int(value), left)
            if allowed <= 0:
                continue
            part = f"{name}={allowed}"
        if part:
            parts.append(part)
    return ", ".join(parts)


def json_response(data: Any, *, status: int = 200, cache: str = "no-store") -> HttpResponse:
    """`data` as indented JSON (values JSON cannot hold are written with `str`)."""
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    return HttpResponse(status, body, "application/json", {"Cache-Control": cache})


def redirect(location: str, *, cache: str = "no-store") -> HttpResponse:
    """A 302 to `location`, not cached by default (a click is re-decided every time)."""
    return HttpResponse(302, b"", "text/plain", {"Location": location, "Cache-Control": cache})


__all__ = [
    "CSP",
    "INTERNAL",
    "PROBLEMS",
    "PROBLEM_TYPE",
    "HttpResponse",
    "ProblemKind",
    "cache_control",
    "cap_lifetime",
    "etag_for",
    "etag_matches",
    "fallback_cache_control",
    "inert",
    "json_response",
    "problem",
    "problem_for",
    "problem_kind",
    "redirect",
    "ttl_seconds",
]
