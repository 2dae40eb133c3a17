"""Which links a pack may send a click to: absolute https URLs (http only where the pack allows it).

A creative's `link`, a link a rule sets and the `/click` redirect all use `link_problem`, so a
`javascript:`, `data:`, `vbscript:` or `file:` link, a protocol-relative `//host`, a link with
credentials (`https://bank.example@evil.example`), and links hiding control characters, whitespace
or invisible formatting characters (which browsers strip or ignore, turning `java\tscript:` into
`javascript:`) are refused when the pack loads, and never redirected to even if one got through.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_LINK_LENGTH = 2048
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _allowed(allow_http: bool) -> str:
    return "https:// (or http:// with allow_http_links: true)" if not allow_http else "https:// or http://"


def link_problem(value: object, *, allow_http: bool = False) -> str | None:
    """Why `value` may not be a click destination, or None when it may: an absolute https URL with a
    host (http too when `allow_http`), no credentials, no whitespace, control or format characters,
    no backslash, at most MAX_LINK_LENGTH characters."""
    allowed = _allowed(allow_http)
    if not isinstance(value, str):
        return f"{value!r} is not a URL (a link must start with {allowed})"
    if len(value) > MAX_LINK_LENGTH:
        return f"link is {len(value)} characters long (at most {MAX_LINK_LENGTH})"
    for ch in value:
        if ch == "\\" or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            code = f"U+{ord(ch):04X}"
            name = unicodedata.name(ch, "")
            what = f"{name} ({code})" if name else code
            return f"{value!r} contains {what}: links may not hold whitespace, control characters or backslashes"
    schemes = ("https",) if not allow_http else ("https", "http")
    head, sep, _ = value.partition("://")
    if not sep or head.lower() not in schemes:
        return f"{value!r} is not an allowed link: it must start with {allowed}"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        return f"{value!r} is not a well-formed URL ({exc})"
    if not parts.hostname:
        return f"{value!r} has no host (a link must look like https://example.com/page)"
    if "@" in parts.netloc:
        return f"{value!r} carries credentials before its host ('user@'): refused, it disguises where the link goes"
    return None


def is_allowed_link(value: object, *, allow_http: bool = False) -> bool:
    """True when `value` may be a click destination (see `link_problem`)."""
    return link_problem(value, allow_http=allow_http) is None


__all__ = ["MAX_LINK_LENGTH", "is_allowed_link", "link_problem"]
