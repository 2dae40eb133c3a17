"""The edge's request headers: their names, and a tolerant parser for each value Versa reads.

CloudFront adds the `cloudfront-viewer-*` and `cloudfront-is-*-viewer` headers; Versa's viewer-request
function (cdn/viewer-request.js) adds the normalized `x-versa-*` ones the cache key carries
(`versa.attributes.CDN_HEADER_OF`). Every parser here returns None (or False) for a value Versa cannot
use and never raises: a header never makes a request fail.

Pure: no IO beyond loading time-zone data, no environment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from versa.context.attributes import CDN_HEADER_OF
from versa.context.clients import Device, OperatingSystem

CF_COUNTRY = "cloudfront-viewer-country"
CF_REGION = "cloudfront-viewer-country-region"
CF_CITY = "cloudfront-viewer-city"
CF_TZ = "cloudfront-viewer-time-zone"
CF_LAT = "cloudfront-viewer-latitude"
CF_LON = "cloudfront-viewer-longitude"
CF_ASN = "cloudfront-viewer-asn"
CF_DEVICE: tuple[tuple[str, Device], ...] = (  # checked in this order: the most specific first
    ("cloudfront-is-smarttv-viewer", "tv"),
    ("cloudfront-is-tablet-viewer", "tablet"),
    ("cloudfront-is-mobile-viewer", "mobile"),
    ("cloudfront-is-desktop-viewer", "desktop"),
)
"""CloudFront's device flags and the device each one means."""
CF_OS: tuple[tuple[str, OperatingSystem], ...] = (
    ("cloudfront-is-ios-viewer", "ios"),
    ("cloudfront-is-android-viewer", "android"),
)
"""CloudFront's operating-system flags and the system each one means."""

X_COUNTRY = CDN_HEADER_OF["country"]
X_TZ = CDN_HEADER_OF["tz"]
X_DEVICE = CDN_HEADER_OF["device"]
X_CLIENT = CDN_HEADER_OF["client"]
X_LANG = CDN_HEADER_OF["lang"]
X_FMT = "x-versa-fmt"
"""The best image format the viewer accepts (avif, webp or png), keyed instead of the raw Accept."""

MAX_HEADER_LEN = 1024
"""A longer header value is treated as absent."""
COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
REGION_RE = re.compile(r"[A-Za-z0-9]{1,3}")
UNKNOWN_COUNTRIES = frozenset({"XX", "ZZ", "T1", "A1", "A2", "O1"})
"""Codes CloudFront and GeoIP databases use for "no country" (unknown, Tor, anonymous proxy, ...)."""

_TZ_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")
_TZ_REFUSED = frozenset({"localtime", "posixrules", "Factory", "leapseconds"})


def lower_headers(headers: Mapping[str, object]) -> dict[str, str]:
    """Header names lower-cased and string values stripped; a value that is not a string is dropped."""
    return {k.lower(): v.strip() for k, v in headers.items() if isinstance(v, str)}


def parse_zone(name: str) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name, or None for anything that is not one (never raises).

    Refuses names that are not zones but files of the time-zone database (`localtime`, `posix/...`).
    """
    if len(name) > 64 or not _TZ_RE.fullmatch(name) or name in _TZ_REFUSED:
        return None
    if name.split("/")[0] in ("posix", "right"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_flag(value: str | None) -> bool:
    """True for a CloudFront boolean header set to "true" (any case)."""
    return value is not None and value.lower() == "true"


def parse_asn(raw: str | None) -> int | None:
    """An autonomous system number (decimal, below 2**32), or None."""
    if raw is not None and raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) < 2**32:
        return int(raw)
    return None


def parse_coordinate(raw: str | None, limit: float) -> float | None:
    """A finite latitude or longitude no larger than `limit` in magnitude, or None."""
    if raw is None or len(raw) > 32:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return value


def parse_city(raw: str) -> str | None:
    """CloudFront URL-encodes the city name; decode it, or None when it is not printable text."""
    text = unquote(raw, errors="replace").strip()
    if not text or len(text) > 128 or not text.isprintable() or "\ufffd" in text:
        return None
    return text


__all__ = [
    "CF_ASN",
    "CF_CITY",
    "CF_COUNTRY",
    "CF_DEVICE",
    "CF_LAT",
    "CF_LON",
    "CF_OS",
    "CF_REGION",
    "CF_TZ",
    "COUNTRY_RE",
    "MAX_HEADER_LEN",
    "REGION_RE",
    "UNKNOWN_COUNTRIES",
    "X_CLIENT",
    "X_COUNTRY",
    "X_DEVICE",
    "X_FMT",
    "X_LANG",
    "X_TZ",
    "lower_headers",
    "parse_asn",
    "parse_city",
    "parse_coordinate",
    "parse_flag",
    "parse_zone",
]
