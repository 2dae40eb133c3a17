"""Language negotiation: one of a pack's locales for an Accept-Language value or a single tag.

Used by `versa.context.resolve` for the signed `lang` override, the CDN's `x-versa-lang` and the raw
`Accept-Language` header alike, so a preview and production choose the same locale.

Pure: no IO, no environment.
"""

from __future__ import annotations

import re

LANGUAGE_TAG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
"""The shape of a language tag (`en`, `pt-BR`, `zh-Hant-TW`); subtags are not checked against a registry."""
MAX_LANGUAGE_RANGES = 24
"""Only this many leading ranges of an Accept-Language value are read (a header is attacker-sized)."""

_QUALITY_RE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def negotiate_locale(
    accept_language: str, locales: tuple[str, ...], default: str | None = None
) -> str | None:
    """Choose one of `locales` for an Accept-Language value (or a single tag).

    Language ranges are tried by descending q (ties keep header order; q=0 and malformed entries are
    skipped). For each range: an exact (case-insensitive) match, then its shorter prefixes
    (zh-Hant-TW, zh-Hant, zh), then any locale with the same primary subtag. "*" accepts the first
    locale. Returns the pack's own spelling of the chosen locale, else `default`.
    """
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:MAX_LANGUAGE_RANGES]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().replace("_", "-")
        q = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key.strip().lower() == "q":
                q = _quality(val.strip())
        if q <= 0 or not (tag == "*" or LANGUAGE_TAG_RE.fullmatch(tag)):
            continue
        ranges.append((-q, index, tag.lower()))
    by_lower = {loc.lower(): loc for loc in locales}
    for _, _, tag in sorted(ranges):
        if tag == "*":
            return locales[0]
        subtags = tag.split("-")
        for end in range(len(subtags), 0, -1):
            found = by_lower.get("-".join(subtags[:end]))
            if found is not None:
                return found
        for loc in locales:
            if loc.lower().split("-")[0] == subtags[0]:
                return loc
    return default


def _quality(text: str) -> float:
    """An HTTP q-value in [0, 1]; anything malformed counts as 0 (the range is skipped)."""
    if not _QUALITY_RE.fullmatch(text):
        return 0.0
    return float(text)


__all__ = ["LANGUAGE_TAG_RE", "MAX_LANGUAGE_RANGES", "negotiate_locale"]
