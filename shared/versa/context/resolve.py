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

Pure: no IO beyond loading time-zone data, no environment, no clock (`now` is an argument). The types
live in `versa.context.model`, header names and parsers in `versa.context.headers`, language negotiation in
`versa.context.negotiation`; the public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar, get_args
from zoneinfo import ZoneInfo

from versa.context.clients import (
    DEVICES,
    Device,
    EmailClient,
    OperatingSystem,
    classify_client,
    is_proxy,
    parse_user_agent,
)
from versa.context.headers import (
    CF_ASN,
    CF_CITY,
    CF_COUNTRY,
    CF_DEVICE,
    CF_LAT,
    CF_LON,
    CF_OS,
    CF_REGION,
    CF_TZ,
    COUNTRY_RE,
    MAX_HEADER_LEN,
    REGION_RE,
    UNKNOWN_COUNTRIES,
    X_CLIENT,
    X_COUNTRY,
    X_DEVICE,
    X_LANG,
    X_TZ,
    lower_headers,
    parse_asn,
    parse_city,
    parse_coordinate,
    parse_flag,
    parse_zone,
)
from versa.context.model import (
    BUILTIN_ATTRIBUTES,
    DPR_MAX,
    DPR_MIN,
    MAX_WIDTH,
    RENDER_PARAMS,
    RESERVED_QUERY_NAMES,
    SIGNED_OVERRIDES,
    SIGNING_PARAMS,
    ContextOptions,
    RequestContext,
    Signal,
    Source,
    Theme,
)
from versa.context.negotiation import LANGUAGE_TAG_RE, negotiate_locale
from versa.context.params import ParamSpec, ParamValue, coerce, parse_aware_datetime
from versa.context.timefeatures import local_features
from versa.context.visitor import VISITOR_PARAM, X_VISITOR_BUCKET, parse_bucket_header, visitor_bucket
from versa.errors import ParamError

_T = TypeVar("_T", bound=str)
_E = TypeVar("_E", bound=StrEnum)
_V = TypeVar("_V")

_OTHER_OS: OperatingSystem = "other"
_DPR_SPEC = ParamSpec(type="number", min=DPR_MIN, max=DPR_MAX)
_WIDTH_SPEC = ParamSpec(type="int", min=1, max=MAX_WIDTH)


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
    return _Resolver(lower_headers(headers), query, options).run(now)


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
        if value is None or value == "" or len(value) > MAX_HEADER_LEN:
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
        vid = self.resolve_vid()
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
            vid=vid,
        )

    # -- network and client ------------------------------------------------------------------------

    def resolve_asn(self) -> int | None:
        raw = self.header(CF_ASN)
        asn = parse_asn(raw)
        if asn is not None:
            return self.put("asn", asn, Source.header, CF_ASN)
        return self.put("asn", None, Source.default, _ignored(CF_ASN, raw))

    def resolve_client(self, asn: int | None) -> EmailClient:
        raw = self.signed("client")
        if raw is not None:
            return self.put("client", _enum_value("client", raw, EmailClient), Source.signed, "client")
        cdn = self.header(X_CLIENT)
        if cdn is not None:
            if cdn.lower() in EmailClient.__members__:
                return self.put("client", EmailClient(cdn.lower()), Source.cdn, X_CLIENT)
            return self.put("client", EmailClient.unknown, Source.default, _ignored(X_CLIENT, cdn))
        ua = self.header("user-agent")
        detail = "user-agent, cloudfront-viewer-asn" if asn is not None else "user-agent"
        return self.put("client", classify_client(ua, asn), Source.derived, detail)

    # -- geo ---------------------------------------------------------------------------------------

    def resolve_country(self, proxy: bool) -> str | None:
        default = self.o.default_country
        raw = self.signed("country")
        if raw is not None:
            if not COUNTRY_RE.fullmatch(raw):
                raise ParamError("country", raw, "a two-letter ISO 3166 country code")
            code = raw.upper()
            if code in UNKNOWN_COUNTRIES:
                return self.put("country", default, Source.default, "default_country (country unknown)")
            return self.put("country", code, Source.signed, "country")
        if proxy:
            return self.put("country", default, Source.proxy, "default_country")
        for name, source in ((X_COUNTRY, Source.cdn), (CF_COUNTRY, Source.header)):
            value = self.header(name)
            if value is None:
                continue
            if COUNTRY_RE.fullmatch(value) and value.upper() not in UNKNOWN_COUNTRIES:
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
        raw_country = (self.header(CF_COUNTRY) or "").upper()
        if proxy:
            for n in names:
                self.put(n, None, Source.proxy, "email proxy")
            return None, None, None, None
        if country is None or raw_country != country:
            for n in names:
                self.put(n, None, Source.default, f"{CF_COUNTRY} does not match country")
            return None, None, None, None

        region_raw = self.header(CF_REGION)
        region = region_raw.upper() if region_raw and REGION_RE.fullmatch(region_raw) else None
        self._put_optional("region", region, CF_REGION, region_raw)

        city_raw = self.header(CF_CITY)
        city = parse_city(city_raw) if city_raw else None
        self._put_optional("city", city, CF_CITY, city_raw)

        lat = parse_coordinate(self.header(CF_LAT), 90.0)
        lon = parse_coordinate(self.header(CF_LON), 180.0)
        if lat is None or lon is None:  # a coordinate is only useful as a pair
            lat = lon = None
        self._put_optional("latitude", lat, CF_LAT, self.header(CF_LAT))
        self._put_optional("longitude", lon, CF_LON, self.header(CF_LON))
        return region, city, lat, lon

    def _put_optional(self, name: str, value: Any, header: str, raw: str | None) -> None:
        if value is not None:
            self.put(name, value, Source.header, header)
        else:
            self.put(name, None, Source.default, _ignored(header, raw))

    def resolve_tz(self, proxy: bool) -> tuple[str, ZoneInfo]:
        raw = self.signed("tz")
        if raw is not None:
            zone = parse_zone(raw)
            if zone is None:
                raise ParamError("tz", raw, "an IANA time zone name, e.g. Europe/Berlin")
            self.put("tz", zone.key, Source.signed, "tz")
            return zone.key, zone
        default = parse_zone(self.o.default_tz)
        assert default is not None  # ContextOptions checked it
        if proxy:
            self.put("tz", default.key, Source.proxy, "default_tz")
            return default.key, default
        for name, source in ((X_TZ, Source.cdn), (CF_TZ, Source.header)):
            value = self.header(name)
            if value is None:
                continue
            zone = parse_zone(value)
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
        for name, value in CF_OS:
            if parse_flag(self.header(name)):
                return device, self.put("os", value, Source.header, name)
        if ua is not None:
            return device, self.put("os", ua_os, Source.derived, "user-agent")
        return device, self.put("os", _OTHER_OS, Source.default, "no user-agent")

    def _device_from_headers(self, ua: str | None, ua_device: Device) -> Device:
        cdn = self.header(X_DEVICE)
        if cdn is not None:
            if cdn.lower() in DEVICES:
                return self.put(
                    "device", _literal_value("device", cdn.lower(), DEVICES), Source.cdn, X_DEVICE
                )
            return self.put("device", self.o.default_device, Source.default, _ignored(X_DEVICE, cdn))
        for name, value in CF_DEVICE:
            if parse_flag(self.header(name)):
                return self.put("device", value, Source.header, name)
        if ua is not None:
            return self.put("device", ua_device, Source.derived, "user-agent")
        return self.put("device", self.o.default_device, Source.default, "default_device")

    # -- language ----------------------------------------------------------------------------------

    def resolve_lang(self, proxy: bool) -> str:
        locales = self.o.locales
        raw = self.signed("lang")
        if raw is not None:
            if not LANGUAGE_TAG_RE.fullmatch(raw.replace("_", "-")):
                raise ParamError("lang", raw, "a language tag, e.g. " + ", ".join(locales))
            chosen = negotiate_locale(raw, locales, default=None)
            if chosen is None:
                return self.put("lang", locales[0], Source.default, "default locale (lang not offered)")
            return self.put("lang", chosen, Source.signed, "lang")
        if proxy:
            return self.put("lang", locales[0], Source.proxy, "default locale")
        cdn = self.header(X_LANG)
        if cdn is not None:
            # The CDN keys on x-versa-lang, so Accept-Language must not decide behind its back.
            chosen = negotiate_locale(cdn, locales, default=None)
            if chosen is None:
                return self.put("lang", locales[0], Source.default, _ignored(X_LANG, cdn, "default locale"))
            return self.put("lang", chosen, Source.cdn, X_LANG)
        accept = self.header("accept-language")
        if accept is not None:
            chosen = negotiate_locale(accept, locales, default=None)
            if chosen is not None:
                return self.put("lang", chosen, Source.header, "accept-language")
            return self.put("lang", locales[0], Source.default, "default locale (no acceptable language)")
        return self.put("lang", locales[0], Source.default, "default locale")

    # -- query -------------------------------------------------------------------------------------

    def resolve_render(self) -> tuple[float, Theme | None, int | None]:
        dpr = self._render_param("dpr", "dpr", _DPR_SPEC, 1.0)
        assert isinstance(dpr, float)
        theme: Theme | None = None
        raw = self.q.get("theme")
        if raw:
            theme = _literal_value("theme", raw, get_args(Theme))
            self.put("theme", theme, Source.query, "theme")
        else:
            self.put("theme", None, Source.default, None)
        width = self._render_param("width", "w", _WIDTH_SPEC, None)
        assert width is None or isinstance(width, int)
        return dpr, theme, width

    def _render_param(
        self, attr: str, name: str, spec: ParamSpec, default: ParamValue | None
    ) -> ParamValue | None:
        raw = self.q.get(name)
        if raw:
            return self.put(attr, coerce(name, spec, raw), Source.query, name)
        return self.put(attr, default, Source.default, None)

    def resolve_vid(self) -> int | None:
        """The visitor bucket: the edge's `x-versa-vb` (the id itself never passes the edge), else the
        bucket of a raw `vid` in the query (a request that did not pass the edge). Never raises: an
        unusable id is no id, and the trace says so."""
        cdn = parse_bucket_header(self.header(X_VISITOR_BUCKET))
        if cdn is not None:
            return self.put("vid", cdn, Source.cdn, X_VISITOR_BUCKET)
        raw = self.q.get(VISITOR_PARAM)
        if raw:
            bucket = visitor_bucket(raw)
            if bucket is not None:
                source = Source.signed if VISITOR_PARAM in self.o.signed_names else Source.merge
                return self.put("vid", bucket, source, f"{VISITOR_PARAM} (bucket of the id)")
            return self.put("vid", None, Source.default, NO_VISITOR_UNUSABLE)
        return self.put("vid", None, Source.default, NO_VISITOR)

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



NO_VISITOR = "no visitor id: vid empty or absent and no cookie"
"""The provenance detail of a request without a visitor id (its splits serve the default arm)."""
NO_VISITOR_UNUSABLE = "no visitor id: vid is not an id (letters, digits and ._~@:+-, at most 128)"
"""The provenance detail of a request whose `vid` is no usable id."""


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
    "negotiate_locale",
    "resolve",
]
