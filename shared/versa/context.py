"""The request context: who is asking, where and when — every signal with where it came from.

`resolve(headers, query, now, options)` turns what the edge delivered (CloudFront viewer headers, the
normalized `x-versa-*` headers added by Versa's CloudFront Function, the query string) into a frozen
`RequestContext`. Each attribute records a `Signal` saying which input decided it, so a preview or a
decision trace can explain every variant.

Trust order for an attribute, strongest first: a query value a verified signature covers (`signed`),
the edge's normalized header (`cdn`), the raw CloudFront header (`header`), a computation from other
signals (`derived`), the pack / settings default (`default`). Behind an email image proxy the headers
describe the proxy, so geo, time zone, device and language fall back to `signed` values or to
defaults marked `proxy`.

Failure policy: a header value Versa cannot use is ignored (the fallback is recorded); a header never
makes a request fail. A query value that is malformed raises `ParamError` naming the parameter.

Pure: no IO beyond loading time-zone data, no environment, no clock (`now` is an argument).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from versa.clients import (
    DEVICES,
    Device,
    EmailClient,
    OperatingSystem,
    classify_client,
    is_proxy,
    parse_user_agent,
)
from versa.errors import ParamError
from versa.params import ParamSpec, ParamValue, coerce, parse_aware_datetime
from versa.timefeatures import (
    DEFAULT_DAYPARTS,
    DEFAULT_WEEKEND,
    WEEKDAYS,
    Daypart,
    Hemisphere,
    Season,
    Weekday,
    local_features,
    validate_dayparts,
)

Theme = Literal["light", "dark"]

_T = TypeVar("_T", bound=str)
_E = TypeVar("_E", bound=StrEnum)
_V = TypeVar("_V")

SIGNED_OVERRIDES = frozenset({"country", "tz", "lang", "device", "client", "at"})
"""Query names that override context signals, honoured only when a verified signature covers them."""
RENDER_PARAMS = frozenset({"dpr", "theme", "w"})
"""Query names always read and validated (they shape the bytes, not the viewer)."""
SIGNING_PARAMS = frozenset({"sig", "kid", "exp", "scope", "m"})
"""Query names of the signature itself; the core ignores them (the edge verifies)."""
RESERVED_QUERY_NAMES = SIGNED_OVERRIDES | RENDER_PARAMS | SIGNING_PARAMS
"""No declared parameter may use one of these names."""

BUILTIN_ATTRIBUTES = frozenset(
    {
        "country", "region", "city", "tz", "latitude", "longitude", "asn", "device", "os", "client",
        "lang", "now", "local", "date", "local_time", "hour", "minute", "weekday", "weekend",
        "daypart", "season", "hemisphere", "dpr", "theme", "width",
    }
)  # fmt: skip
"""Attribute names `RequestContext.attribute` answers besides declared parameters."""

DPR_MIN, DPR_MAX = 1.0, 3.0
MAX_WIDTH = 8192
"""Largest `w` the context accepts; renderers may cap output further."""

_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
_REGION_RE = re.compile(r"[A-Za-z0-9]{1,3}")
_TZ_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")
_TZ_REFUSED = frozenset({"localtime", "posixrules", "Factory", "leapseconds"})
_TAG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_UNKNOWN_COUNTRIES = frozenset({"XX", "ZZ", "T1", "A1", "A2", "O1"})
_MAX_HEADER_LEN = 1024
_MAX_LANGUAGE_RANGES = 24

_CF_COUNTRY = "cloudfront-viewer-country"
_CF_REGION = "cloudfront-viewer-country-region"
_CF_CITY = "cloudfront-viewer-city"
_CF_TZ = "cloudfront-viewer-time-zone"
_CF_LAT = "cloudfront-viewer-latitude"
_CF_LON = "cloudfront-viewer-longitude"
_CF_ASN = "cloudfront-viewer-asn"
_CF_DEVICE: tuple[tuple[str, Device], ...] = (  # checked in this order: the most specific first
    ("cloudfront-is-smarttv-viewer", "tv"),
    ("cloudfront-is-tablet-viewer", "tablet"),
    ("cloudfront-is-mobile-viewer", "mobile"),
    ("cloudfront-is-desktop-viewer", "desktop"),
)
_CF_OS: tuple[tuple[str, OperatingSystem], ...] = (
    ("cloudfront-is-ios-viewer", "ios"),
    ("cloudfront-is-android-viewer", "android"),
)
_OTHER_OS: OperatingSystem = "other"
_X_COUNTRY = "x-versa-country"
_X_TZ = "x-versa-tz"
_X_DEVICE = "x-versa-device"
_X_CLIENT = "x-versa-client"
_X_LANG = "x-versa-lang"


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
    """What `resolve` needs from the pack and the settings. Built once per pack/creative by callers.

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
        bad_locales = [loc for loc in self.locales if not _TAG_RE.fullmatch(loc)]
        if bad_locales:
            raise ValueError(f"locales must be language tags like 'en' or 'pt-BR': {bad_locales}")
        validate_dayparts(self.dayparts)
        bad_days = sorted(set(self.weekend_days) - set(WEEKDAYS))
        if bad_days:
            raise ValueError(f"weekend_days must be among {', '.join(WEEKDAYS)}: {bad_days}")
        if _zone(self.default_tz) is None:
            raise ValueError(f"default_tz {self.default_tz!r} is not a known IANA time zone")
        if self.default_country is not None and (
            not _COUNTRY_RE.fullmatch(self.default_country)
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
    in `params`. Render inputs: dpr (1–3), theme, width.
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


def resolve(
    headers: Mapping[str, str], query: Mapping[str, str], now: datetime, options: ContextOptions
) -> RequestContext:
    """Resolve a request into a `RequestContext` (see the module docstring for the trust order).

    `headers` are matched case-insensitively; `now` is the request's instant (aware). Never raises
    because of a header value; raises `ParamError` for a malformed query value (a render parameter,
    a declared parameter, or a signed override) and ValueError for a naive `now`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    r = _Resolver({k.lower(): v.strip() for k, v in headers.items() if isinstance(v, str)}, query, options)
    return r.run(now)


class _Resolver:
    """One resolution: reads inputs, records a Signal per attribute."""

    def __init__(self, headers: dict[str, str], query: Mapping[str, str], options: ContextOptions) -> None:
        self.h = headers
        self.q = query
        self.o = options
        self.signals: dict[str, Signal] = {}

    def put(self, name: str, value: _V, source: Source, detail: str | None = None) -> _V:
        self.signals[name] = Signal(value, source, detail)
        return value

    def header(self, name: str) -> str | None:
        value = self.h.get(name)
        if value is None or value == "" or len(value) > _MAX_HEADER_LEN:
            return None
        return value

    def signed(self, name: str) -> str | None:
        """A signed override's raw value, or None when absent or not covered by the signature."""
        if name not in self.o.signed_names:
            return None
        value = self.q.get(name)
        return value if value else None

    def run(self, now: datetime) -> RequestContext:
        asn = self.resolve_asn()
        client = self.resolve_client(asn)
        proxy = is_proxy(client)
        country = self.resolve_country(proxy)
        region, city, lat, lon = self.resolve_geo_detail(proxy, country)
        tz_name, zone = self.resolve_tz(proxy)
        device, os = self.resolve_device(proxy)
        lang = self.resolve_lang(proxy)

        instant = now.astimezone(UTC)
        at = self.signed("at")
        if at is not None:
            instant = self.put("now", parse_aware_datetime("at", at).astimezone(UTC), Source.signed, "at")
        else:
            self.put("now", instant, Source.default, "request clock")
        feats = local_features(
            instant, zone, dayparts=self.o.dayparts, weekend_days=self.o.weekend_days, country=country
        )
        clock = "tz, now"
        for attr in ("local", "date", "hour", "minute", "weekday", "weekend", "daypart", "season"):
            self.put(attr, getattr(feats, attr), Source.derived, clock)
        self.put("local_time", feats.time, Source.derived, clock)
        self.put("hemisphere", feats.hemisphere, Source.derived, "tz, country")

        dpr, theme, width = self.resolve_render()
        params = self.resolve_params()
        return RequestContext(
            country=country,
            region=region,
            city=city,
            tz=tz_name,
            latitude=lat,
            longitude=lon,
            asn=asn,
            device=device,
            os=os,
            client=client,
            lang=lang,
            now=instant,
            local=feats.local,
            date=feats.date,
            time=feats.time,
            hour=feats.hour,
            minute=feats.minute,
            weekday=feats.weekday,
            weekend=feats.weekend,
            daypart=feats.daypart,
            season=feats.season,
            hemisphere=feats.hemisphere,
            params=MappingProxyType(params),
            dpr=dpr,
            theme=theme,
            width=width,
            signals=MappingProxyType(dict(self.signals)),
        )

    # -- network and client ------------------------------------------------------------------------

    def resolve_asn(self) -> int | None:
        raw = self.header(_CF_ASN)
        if raw is not None and raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) < 2**32:
            return self.put("asn", int(raw), Source.header, _CF_ASN)
        return self.put("asn", None, Source.default, _ignored(_CF_ASN, raw))

    def resolve_client(self, asn: int | None) -> EmailClient:
        raw = self.signed("client")
        if raw is not None:
            return self.put("client", _enum_value("client", raw, EmailClient), Source.signed, "client")
        cdn = self.header(_X_CLIENT)
        if cdn is not None:
            if cdn.lower() in EmailClient.__members__:
                return self.put("client", EmailClient(cdn.lower()), Source.cdn, _X_CLIENT)
            return self.put("client", EmailClient.unknown, Source.default, _ignored(_X_CLIENT, cdn))
        ua = self.header("user-agent")
        detail = "user-agent, cloudfront-viewer-asn" if asn is not None else "user-agent"
        return self.put("client", classify_client(ua, asn), Source.derived, detail)

    # -- geo ---------------------------------------------------------------------------------------

    def resolve_country(self, proxy: bool) -> str | None:
        default = self.o.default_country
        raw = self.signed("country")
        if raw is not None:
            if not _COUNTRY_RE.fullmatch(raw):
                raise ParamError("country", raw, "a two-letter ISO 3166 country code")
            code = raw.upper()
            if code in _UNKNOWN_COUNTRIES:
                return self.put("country", default, Source.default, "default_country (country unknown)")
            return self.put("country", code, Source.signed, "country")
        if proxy:
            return self.put("country", default, Source.proxy, "default_country")
        for name, source in ((_X_COUNTRY, Source.cdn), (_CF_COUNTRY, Source.header)):
            value = self.header(name)
            if value is None:
                continue
            if _COUNTRY_RE.fullmatch(value) and value.upper() not in _UNKNOWN_COUNTRIES:
                return self.put("country", value.upper(), source, name)
            # the first header present decides (x-versa-country is what the CDN keys on)
            return self.put("country", default, Source.default, _ignored(name, value, "default_country"))
        return self.put("country", default, Source.default, "default_country")

    def resolve_geo_detail(
        self, proxy: bool, country: str | None
    ) -> tuple[str | None, str | None, float | None, float | None]:
        """Region, city, latitude and longitude come only from CloudFront headers, and only when they
        describe the country in effect (not a proxy's, nor one a signed value replaced)."""
        names = ("region", "city", "latitude", "longitude")
        raw_country = (self.header(_CF_COUNTRY) or "").upper()
        if proxy:
            for n in names:
                self.put(n, None, Source.proxy, "email proxy")
            return None, None, None, None
        if country is None or raw_country != country:
            for n in names:
                self.put(n, None, Source.default, f"{_CF_COUNTRY} does not match country")
            return None, None, None, None

        region_raw = self.header(_CF_REGION)
        region = region_raw.upper() if region_raw and _REGION_RE.fullmatch(region_raw) else None
        self._put_optional("region", region, _CF_REGION, region_raw)

        city_raw = self.header(_CF_CITY)
        city = _clean_city(city_raw) if city_raw else None
        self._put_optional("city", city, _CF_CITY, city_raw)

        lat = _coordinate(self.header(_CF_LAT), 90.0)
        lon = _coordinate(self.header(_CF_LON), 180.0)
        if lat is None or lon is None:  # a coordinate is only useful as a pair
            lat = lon = None
        self._put_optional("latitude", lat, _CF_LAT, self.header(_CF_LAT))
        self._put_optional("longitude", lon, _CF_LON, self.header(_CF_LON))
        return region, city, lat, lon

    def _put_optional(self, name: str, value: Any, header: str, raw: str | None) -> None:
        if value is not None:
            self.put(name, value, Source.header, header)
        else:
            self.put(name, None, Source.default, _ignored(header, raw))

    def resolve_tz(self, proxy: bool) -> tuple[str, ZoneInfo]:
        raw = self.signed("tz")
        if raw is not None:
            zone = _zone(raw)
            if zone is None:
                raise ParamError("tz", raw, "an IANA time zone name, e.g. Europe/Berlin")
            self.put("tz", zone.key, Source.signed, "tz")
            return zone.key, zone
        default = _zone(self.o.default_tz)
        assert default is not None  # ContextOptions checked it
        if proxy:
            self.put("tz", default.key, Source.proxy, "default_tz")
            return default.key, default
        for name, source in ((_X_TZ, Source.cdn), (_CF_TZ, Source.header)):
            value = self.header(name)
            if value is None:
                continue
            zone = _zone(value)
            if zone is not None:
                self.put("tz", zone.key, source, name)
                return zone.key, zone
            self.put("tz", default.key, Source.default, _ignored(name, value, "default_tz"))
            return default.key, default
        self.put("tz", default.key, Source.default, "default_tz")
        return default.key, default

    # -- device ------------------------------------------------------------------------------------

    def resolve_device(self, proxy: bool) -> tuple[Device, OperatingSystem]:
        ua = self.header("user-agent")
        ua_device, ua_os = parse_user_agent(ua)
        device: Device
        raw = self.signed("device")
        if raw is not None:
            device = self.put("device", _literal_value("device", raw, DEVICES), Source.signed, "device")
        elif proxy:
            device = self.put("device", self.o.default_device, Source.proxy, "default_device")
        else:
            device = self._device_from_headers(ua, ua_device)

        if proxy:
            return device, self.put("os", _OTHER_OS, Source.proxy, "email proxy")
        for name, value in _CF_OS:
            if _flag(self.header(name)):
                return device, self.put("os", value, Source.header, name)
        if ua is not None:
            return device, self.put("os", ua_os, Source.derived, "user-agent")
        return device, self.put("os", _OTHER_OS, Source.default, "no user-agent")

    def _device_from_headers(self, ua: str | None, ua_device: Device) -> Device:
        cdn = self.header(_X_DEVICE)
        if cdn is not None:
            if cdn.lower() in DEVICES:
                return self.put(
                    "device", _literal_value("device", cdn.lower(), DEVICES), Source.cdn, _X_DEVICE
                )
            return self.put("device", self.o.default_device, Source.default, _ignored(_X_DEVICE, cdn))
        for name, value in _CF_DEVICE:
            if _flag(self.header(name)):
                return self.put("device", value, Source.header, name)
        if ua is not None:
            return self.put("device", ua_device, Source.derived, "user-agent")
        return self.put("device", self.o.default_device, Source.default, "default_device")

    # -- language ----------------------------------------------------------------------------------

    def resolve_lang(self, proxy: bool) -> str:
        locales = self.o.locales
        raw = self.signed("lang")
        if raw is not None:
            if not _TAG_RE.fullmatch(raw.replace("_", "-")):
                raise ParamError("lang", raw, "a language tag, e.g. " + ", ".join(locales))
            chosen = negotiate_locale(raw, locales, default=None)
            if chosen is None:
                return self.put("lang", locales[0], Source.default, "default locale (lang not offered)")
            return self.put("lang", chosen, Source.signed, "lang")
        if proxy:
            return self.put("lang", locales[0], Source.proxy, "default locale")
        cdn = self.header(_X_LANG)
        if cdn is not None:
            # The CDN keys on x-versa-lang, so Accept-Language must not decide behind its back.
            chosen = negotiate_locale(cdn, locales, default=None)
            if chosen is None:
                return self.put("lang", locales[0], Source.default, _ignored(_X_LANG, cdn, "default locale"))
            return self.put("lang", chosen, Source.cdn, _X_LANG)
        accept = self.header("accept-language")
        if accept is not None:
            chosen = negotiate_locale(accept, locales, default=None)
            if chosen is not None:
                return self.put("lang", chosen, Source.header, "accept-language")
            return self.put("lang", locales[0], Source.default, "default locale (no acceptable language)")
        return self.put("lang", locales[0], Source.default, "default locale")

    # -- query -------------------------------------------------------------------------------------

    def resolve_render(self) -> tuple[float, Theme | None, int | None]:
        dpr = 1.0
        raw = self.q.get("dpr")
        if raw:
            coerced = coerce("dpr", _DPR_SPEC, raw)
            assert isinstance(coerced, float)
            dpr = coerced
            self.put("dpr", dpr, Source.query, "dpr")
        else:
            self.put("dpr", dpr, Source.default, None)
        theme: Theme | None = None
        raw = self.q.get("theme")
        if raw:
            theme = _literal_value("theme", raw, get_args(Theme))
            self.put("theme", theme, Source.query, "theme")
        else:
            self.put("theme", None, Source.default, None)
        width: int | None = None
        raw = self.q.get("w")
        if raw:
            coerced_w = coerce("w", _WIDTH_SPEC, raw)
            assert isinstance(coerced_w, int)
            width = coerced_w
            self.put("width", width, Source.query, "w")
        else:
            self.put("width", None, Source.default, None)
        return dpr, theme, width

    def resolve_params(self) -> dict[str, ParamValue]:
        values: dict[str, ParamValue] = {}
        for name, spec in self.o.params.items():
            raw = self.q.get(name)
            if raw:  # an empty value (an unfilled merge tag) counts as absent
                source = (
                    Source.merge
                    if spec.merge
                    else Source.signed
                    if name in self.o.signed_names
                    else Source.query
                )
                values[name] = self.put(name, coerce(name, spec, raw), source, name)
                continue
            default = spec.default_value()
            if default is not None:
                values[name] = self.put(name, default, Source.default, "pack default")
            else:
                self.put(name, None, Source.default, "absent")
        return values


_DPR_SPEC = ParamSpec(type="number", min=DPR_MIN, max=DPR_MAX)
_WIDTH_SPEC = ParamSpec(type="int", min=1, max=MAX_WIDTH)


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
    for index, part in enumerate(accept_language.split(",")[:_MAX_LANGUAGE_RANGES]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().replace("_", "-")
        q = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key.strip().lower() == "q":
                q = _quality(val.strip())
        if q <= 0 or not (tag == "*" or _TAG_RE.fullmatch(tag)):
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
    if not re.fullmatch(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", text):
        return 0.0
    return float(text)


def _zone(name: str) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name, or None for anything that is not one (never raises)."""
    if len(name) > 64 or not _TZ_RE.fullmatch(name) or name in _TZ_REFUSED:
        return None
    if name.split("/")[0] in ("posix", "right"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


def _coordinate(raw: str | None, limit: float) -> float | None:
    if raw is None or len(raw) > 32:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return value


def _clean_city(raw: str) -> str | None:
    """CloudFront URL-encodes the city name; decode it and drop anything that is not printable."""
    text = unquote(raw, errors="replace").strip()
    if not text or len(text) > 128 or not text.isprintable() or "\ufffd" in text:
        return None
    return text


def _ignored(name: str, raw: str | None, fallback: str | None = None) -> str:
    """A detail for a fallback: which input was missing or unusable."""
    head = f"{fallback}; " if fallback else ""
    return f"{head}{name} {'absent' if raw is None else 'unusable'}"


def _literal_value(name: str, raw: str, allowed: tuple[_T, ...]) -> _T:
    for option in allowed:
        if raw.lower() == option:
            return option
    raise ParamError(name, raw, "one of: " + ", ".join(allowed))


def _enum_value(name: str, raw: str, enum: type[_E]) -> _E:
    try:
        return enum(raw.lower())
    except ValueError:
        raise ParamError(name, raw, "one of: " + ", ".join(m.value for m in enum)) from None


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
    "RENDER_PARAMS",
    "RESERVED_QUERY_NAMES",
    "SIGNED_OVERRIDES",
    "SIGNING_PARAMS",
    "ContextOptions",
    "RequestContext",
    "Signal",
    "Source",
    "Theme",
    "negotiate_locale",
    "resolve",
]
