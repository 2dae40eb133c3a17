"""What a resolved request context is: `RequestContext`, its `Signal`s, and the `ContextOptions`
resolving needs. `versa.context.resolve` builds them (and re-exports every name here).

Pure: no IO beyond loading time-zone data, no environment, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from versa.context import attributes
from versa.context.clients import DEVICES, Device, EmailClient, OperatingSystem, is_proxy
from versa.context.headers import COUNTRY_RE, parse_zone
from versa.context.negotiation import LANGUAGE_TAG_RE
from versa.context.params import ParamSpec, ParamValue
from versa.context.timefeatures import (
    DEFAULT_DAYPARTS,
    DEFAULT_WEEKEND,
    WEEKDAYS,
    Daypart,
    Hemisphere,
    Season,
    Weekday,
    validate_dayparts,
)
from versa.context.visitor import VISITOR_PARAM
from versa.signing.signer import RESERVED_PARAMS

Theme = Literal["light", "dark"]

SIGNED_OVERRIDES = frozenset({"country", "tz", "lang", "device", "client", "at"})
"""Query names that override context signals, honoured only when a verified signature covers them."""
RENDER_PARAMS = frozenset({"dpr", "theme", "w"})
"""Query names always read and validated (they shape the bytes, not the viewer)."""
SIGNING_PARAMS = RESERVED_PARAMS
"""Query names of the signature itself (`versa.signing.RESERVED_PARAMS`); the core ignores them (the
edge verifies)."""
RESERVED_QUERY_NAMES = SIGNED_OVERRIDES | RENDER_PARAMS | SIGNING_PARAMS | {VISITOR_PARAM}
"""No declared parameter may use one of these names."""

BUILTIN_ATTRIBUTES: frozenset[str] = (attributes.BUILTIN_ATTRIBUTES - {"window"}) | {
    "now", "local", "dpr", "width"
}
"""Attribute names `RequestContext.attribute` answers besides declared parameters: those rules may name
(`versa.attributes.BUILTIN_ATTRIBUTES`) but `window`, a condition rules evaluate from `now` and `tz`,
plus the instant (`now`, `local`) and the render inputs `dpr` and `width`."""

DPR_MIN, DPR_MAX = 1.0, 3.0
"""The device pixel ratios the context (and the renderer) accept."""
MAX_WIDTH = 8192
"""Largest `w` the context accepts; renderers may cap output further."""


class Source(StrEnum):
    """Where a context signal came from."""

    header = "header"
    """A raw CloudFront viewer header."""
    cdn = "cdn"
    """A normalized `x-versa-*` header added by Versa's CloudFront Function (it is in the cache key)."""
    signed = "signed"
    """A query value covered by a verified signature."""
    merge = "merge"
    """A merge parameter an email tool filled in, bounded by its declared type."""
    query = "query"
    """An unsigned declared (or render) parameter."""
    proxy = "proxy"
    """A default used because the request came through an email image proxy."""
    default = "default"
    """The pack / settings default."""
    derived = "derived"
    """Computed from other signals (e.g. daypart from the time zone and the clock)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One resolved value and its provenance; `detail` names the input (a header, a query name)."""

    value: Any
    source: Source
    detail: str | None = None


@dataclass(frozen=True)
class ContextOptions:
    """What `resolve` needs from the pack and the settings (`versa.rules.context_options` builds it).

    `locales`: the pack's locales, the first being the default. `params`: the creative's declared
    query parameters. `signed_names`: query names whose values a verified signature covers (the edge
    verifies; the core only trusts this set). Raises ValueError when inconsistent.
    """

    locales: tuple[str, ...] = ("en",)
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    dayparts: tuple[Daypart, ...] = DEFAULT_DAYPARTS
    weekend_days: frozenset[str] = DEFAULT_WEEKEND
    default_tz: str = "UTC"
    default_country: str | None = None
    signed_names: frozenset[str] = frozenset()
    default_device: Device = "desktop"

    def __post_init__(self) -> None:
        if not self.locales:
            raise ValueError("at least one locale is needed (the first is the default)")
        bad_locales = [loc for loc in self.locales if not LANGUAGE_TAG_RE.fullmatch(loc)]
        if bad_locales:
            raise ValueError(f"locales must be language tags like 'en' or 'pt-BR': {bad_locales}")
        validate_dayparts(self.dayparts)
        bad_days = sorted(set(self.weekend_days) - set(WEEKDAYS))
        if bad_days:
            raise ValueError(f"weekend_days must be among {', '.join(WEEKDAYS)}: {bad_days}")
        if parse_zone(self.default_tz) is None:
            raise ValueError(f"default_tz {self.default_tz!r} is not a known IANA time zone")
        if self.default_country is not None and (
            not COUNTRY_RE.fullmatch(self.default_country)
            or self.default_country != self.default_country.upper()
        ):
            raise ValueError(f"default_country must be an upper-case ISO 3166 code: {self.default_country!r}")
        if self.default_device not in DEVICES:
            raise ValueError(f"default_device must be one of {', '.join(DEVICES)}")
        clashes = sorted(set(self.params) & (RESERVED_QUERY_NAMES | BUILTIN_ATTRIBUTES))
        if clashes:
            raise ValueError(f"parameter names clash with reserved or built-in names: {', '.join(clashes)}")


@dataclass(frozen=True)
class RequestContext:
    """Everything Versa knows about one request, each attribute's provenance in `signals`.

    Geo and network: country (upper-case ISO code or None), region (ISO 3166-2 subdivision suffix),
    city, tz (IANA zone name), latitude, longitude, asn. Device: device, os, client. Language: lang,
    the NEGOTIATED pack locale. Time: now (UTC) and the local features in `tz`. Declared parameters
    in `params`. Render inputs: dpr (1–3), theme, width. The visitor's bucket (0–99, None without a
    visitor id) in `vid` (`versa.context.visitor`).
    """

    country: str | None
    region: str | None
    city: str | None
    tz: str
    latitude: float | None
    longitude: float | None
    asn: int | None
    device: Device
    os: OperatingSystem
    client: EmailClient
    lang: str
    now: datetime
    local: datetime
    date: date
    time: time
    hour: int
    minute: int
    weekday: Weekday
    weekend: bool
    daypart: str
    season: Season
    hemisphere: Hemisphere
    params: Mapping[str, ParamValue]
    dpr: float
    theme: Theme | None
    width: int | None
    signals: Mapping[str, Signal]
    vid: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The viewer's time zone."""
        return ZoneInfo(self.tz)

    @property
    def is_proxy(self) -> bool:
        """True when an email image proxy fetched this request."""
        return is_proxy(self.client)

    def attribute(self, name: str) -> Any:
        """The value of a built-in attribute (see `BUILTIN_ATTRIBUTES`; `local_time` is the local wall
        time) or of a declared parameter by its own name. A declared parameter absent from the
        request and without a default is None. Raises KeyError for any other name."""
        if name in BUILTIN_ATTRIBUTES:
            return getattr(self, _ATTRIBUTE_FIELDS.get(name, name))
        if name in self.params:
            return self.params[name]
        if name in self.signals:  # a declared parameter, absent and without a default
            return None
        raise KeyError(name)

    def provenance(self) -> dict[str, dict[str, Any]]:
        """JSON-ready provenance: {name: {"value": ..., "source": ..., "detail": ...}} for every
        attribute and every declared parameter."""
        return {
            name: {"value": _jsonable(sig.value), "source": str(sig.source), "detail": sig.detail}
            for name, sig in sorted(self.signals.items())
        }


_ATTRIBUTE_FIELDS = {"local_time": "time"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, tzinfo):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    return value


__all__ = [
    "BUILTIN_ATTRIBUTES",
    "DPR_MAX",
    "DPR_MIN",
    "MAX_WIDTH",
    "RENDER_PARAMS",
    "RESERVED_QUERY_NAMES",
    "SIGNED_OVERRIDES",
    "SIGNING_PARAMS",
    "ContextOptions",
    "RequestContext",
    "Signal",
    "Source",
    "Theme",
]
