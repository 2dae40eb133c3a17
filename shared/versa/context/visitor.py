"""The built-in visitor id `vid` and the one step that turns it into a visitor bucket (0–99).

A page's script or an email tool fills `vid` with its own visitor or recipient id; it is a
template-signed merge value (`versa.signing` always signs it as one), so its value is free and bounded
here. The id never travels past the edge: the CloudFront Function (cdn/viewer-request.js) turns it into
a bucket, sends that as `x-versa-vb` (a cache-key header) and blanks the query value, so the CDN keeps
one entry per bucket, never per visitor. The local server does the same step with `edge_visitor`, and
a test runs the JavaScript twin of `visitor_bucket` under Node on many ids for parity.

Which creatives get a bucket: only a URL that carries `vid` (filled or empty) asks for one. `versa sign`,
the studio and the HTML helpers add `vid` only to URLs of creatives whose rules split on it, so a
creative without a split never multiplies its cache entries. An empty `vid` on a brand's own domain
may be filled by the first-party cookie `versa_vid` when the deployment turns it on
(`VisitorCookie`, the consent setting); without any id the request gets no bucket and every `bucket:`
over `vid` fails, so the default arm is served and the trace says why.

Pure: no IO, no environment, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from versa.signing.signer import VISITOR_PARAM

X_VISITOR_BUCKET: Final = "x-versa-vb"
"""The header the edge sets to the visitor bucket; the cache policy keys on it."""
VISITOR_COOKIE: Final = "versa_vid"
"""The first-party cookie that may hold the visitor id on a brand's own domain."""
BUCKETS: Final = 100
"""Visitors fall in buckets 0..99, so a `vid` split is set in whole percent."""
COOKIE_MAX_AGE: Final = 31_536_000
"""How long the edge's cookie lives (a year, in seconds)."""

ID_RE: Final = re.compile(r"[A-Za-z0-9._~@:+\-]{1,128}")
"""A usable visitor id after `canonical_id`: ASCII letters, digits and ._~@:+- (an email address, a
UUID, an ESP's recipient id), 1 to 128 characters."""
_NOT_ID = re.compile(r"[^A-Za-z0-9._~@:+\-]")

VisitorSource = Literal["url", "cookie", "new-cookie"]


def canonical_id(raw: str | None) -> str | None:
    """The id as both the edge and Python hash it, or None when `raw` is no usable id.

    A space stands for a `+` that form decoding turned into one (plus-addressed emails), so it is
    read back as `+`; anything outside `ID_RE` after that is unusable (never an error: the request
    simply has no id).
    """
    if raw is None:
        return None
    value = raw.replace(" ", "+")
    return value if ID_RE.fullmatch(value) else None


def _mul32(a: int, b: int) -> int:
    return (a * b) & 0xFFFFFFFF


def visitor_hash(value: str) -> int:
    """A 32-bit hash of an id: FNV-1a over its bytes, then MurmurHash3's finalizer to mix the low
    bits. Chosen because the edge can compute it without a crypto module, exactly as written here."""
    h = 0x811C9DC5
    for byte in value.encode("ascii"):
        h = _mul32(h ^ byte, 0x01000193)
    h ^= h >> 16
    h = _mul32(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _mul32(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def visitor_bucket(raw: str | None) -> int | None:
    """The visitor bucket (0..99) of a raw id, or None when there is no usable id."""
    value = canonical_id(raw)
    return None if value is None else visitor_hash(value) % BUCKETS


def parse_bucket_header(raw: str | None) -> int | None:
    """The bucket the edge sent in `x-versa-vb`, or None when absent or not a bucket (never raises)."""
    if raw is None or not re.fullmatch(r"[0-9]{1,2}", raw.strip()):
        return None
    return int(raw.strip())


def minted_id(request_id: str | None) -> str | None:
    """The id the edge gives a visitor without one when the cookie is on: the request id CloudFront
    gives the request (and its response), cut to the id alphabet; None without a request id."""
    if not request_id:
        return None
    value = _NOT_ID.sub("", request_id)[:64]
    return value or None


def read_cookie(cookie_header: str | None, name: str = VISITOR_COOKIE) -> str | None:
    """The value of cookie `name` in a Cookie header, or None."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip()
    return None


@dataclass(frozen=True)
class EdgeVisitor:
    """What the edge's visitor step decided: the bucket (None: no id), where the id came from, and the
    id to store in the cookie (only when the edge minted one)."""

    bucket: int | None
    source: VisitorSource | None
    set_cookie: str | None = None


def edge_visitor(
    query_vid: str | None, cookie: str | None, *, cookie_on: bool, request_id: str | None
) -> EdgeVisitor:
    """The edge's visitor step, as cdn/viewer-request.js does it (and cdn/viewer-response.js for the
    cookie). `query_vid` is None when the URL carries no `vid` (the creative does not split: no bucket,
    the cookie is not even read); a filled `vid` wins; an empty one is filled from the cookie when
    `cookie_on`, else from a minted id that the response then stores."""
    if query_vid is None:
        return EdgeVisitor(None, None)
    if query_vid != "":
        return EdgeVisitor(visitor_bucket(query_vid), "url" if canonical_id(query_vid) else None)
    if not cookie_on:
        return EdgeVisitor(None, None)
    if canonical_id(cookie) is not None:
        return EdgeVisitor(visitor_bucket(cookie), "cookie")
    fresh = minted_id(request_id)
    if fresh is None:
        return EdgeVisitor(None, None)
    return EdgeVisitor(visitor_bucket(fresh), "new-cookie", fresh)


def edge_query(
    pairs: list[tuple[str, str]], cookie_header: str | None, *, cookie_on: bool, request_id: str | None
) -> tuple[list[tuple[str, str]], EdgeVisitor]:
    """The edge's visitor step over a decoded query: the query with every `vid` value blanked, and what
    `edge_visitor` decided (the local server sends `x-versa-vb` from it, as the CDN does)."""
    values = [value for name, value in pairs if name == VISITOR_PARAM]
    if not values:
        return pairs, EdgeVisitor(None, None)
    visitor = edge_visitor(values[0], read_cookie(cookie_header), cookie_on=cookie_on, request_id=request_id)
    return [(name, "" if name == VISITOR_PARAM else value) for name, value in pairs], visitor


def cookie_header_for(visitor: EdgeVisitor, cookie_header: str | None, *, cookie_on: bool) -> str | None:
    """The Set-Cookie value cdn/viewer-response.js would send: the minted id when the edge minted one,
    an expiry for a cookie left from before when the cookie is off, else None."""
    attributes = "Path=/; Secure; HttpOnly; SameSite=Lax"
    if not cookie_on:
        held = read_cookie(cookie_header)
        return None if held is None else f"{VISITOR_COOKIE}=; {attributes}; Max-Age=0"
    if visitor.set_cookie is None:
        return None
    return f"{VISITOR_COOKIE}={visitor.set_cookie}; {attributes}; Max-Age={COOKIE_MAX_AGE}"


__all__ = [
    "BUCKETS",
    "COOKIE_MAX_AGE",
    "ID_RE",
    "VISITOR_COOKIE",
    "VISITOR_PARAM",
    "X_VISITOR_BUCKET",
    "EdgeVisitor",
    "canonical_id",
    "cookie_header_for",
    "edge_query",
    "edge_visitor",
    "minted_id",
    "parse_bucket_header",
    "read_cookie",
    "visitor_bucket",
    "visitor_hash",
]
