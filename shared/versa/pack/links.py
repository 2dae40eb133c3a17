"""Which links a pack may send a click to: absolute https URLs (http only where the pack allows it).

A creative's `link`, a link a rule sets and the `/click` redirect all use `link_problem`, so a
`javascript:`, `data:`, `vbscript:` or `file:` link, a protocol-relative `//host`, a link with
credentials (`https://bank.example@evil.example`), and links hiding control characters, whitespace
or invisible formatting characters (which browsers strip or ignore, turning `java\tscript:` into
`javascript:`) are refused when the pack loads, and never redirected to even if one got through.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


MAX_UTM_LENGTH = 100
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
"""The campaign tags a click may carry, each sent as `utm_<field>`."""


class Utm(BaseModel):
    """Campaign tags (`utm_source`, `utm_medium`, ...) added to a click's destination by `/click`.

    Declared on the pack (for every creative) and on a creative (field by field over the pack's).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(default=None, description="utm_source, e.g. newsletter.")
    medium: str | None = Field(default=None, description="utm_medium, e.g. email.")
    campaign: str | None = Field(default=None, description="utm_campaign, e.g. winter-sale-2026.")
    term: str | None = Field(default=None, description="utm_term (paid keywords; rarely used in email).")
    content: str | None = Field(default=None, description="utm_content, e.g. header-banner.")

    @field_validator(*UTM_FIELDS)
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value or len(value) > MAX_UTM_LENGTH:
            raise ValueError(f"{value!r}: a tag is 1 to {MAX_UTM_LENGTH} characters")
        for ch in value:
            if unicodedata.category(ch) in _REFUSED_CATEGORIES and ch != " ":
                raise ValueError(f"{value!r} holds U+{ord(ch):04X}: tags may not hold control or invisible characters")
        return value

    def over(self, base: Utm | None) -> Utm:
        """These tags, with `base`'s filling the fields these leave unset."""
        if base is None:
            return self
        return Utm(**{f: getattr(self, f) if getattr(self, f) is not None else getattr(base, f) for f in UTM_FIELDS})

    def pairs(self) -> list[tuple[str, str]]:
        """The set tags as `(utm_<field>, value)`, in the order source, medium, campaign, term, content."""
        return [(f"utm_{f}", v) for f in UTM_FIELDS if (v := getattr(self, f)) is not None]


def with_utm(link: str, utm: Utm | None) -> str:
    """`link` with the `utm` tags added to its query; a `utm_*` the link already carries is kept (the
    author wrote it on purpose), its other parameters and fragment untouched."""
    if utm is None or not utm.pairs():
        return link
    parts = urlsplit(link)
    present = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = [(name, value) for name, value in utm.pairs() if name not in present]
    if not added:
        return link
    extra = "&".join(f"{name}={quote(value, safe='-._~')}" for name, value in added)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


__all__ = ["MAX_LINK_LENGTH", "MAX_UTM_LENGTH", "UTM_FIELDS", "Utm", "is_allowed_link", "link_problem", "with_utm"]
