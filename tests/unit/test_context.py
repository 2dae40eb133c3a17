"""Resolving a request into a RequestContext: signals, provenance, proxies, negotiation, validation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from versa.context.clients import EmailClient
from versa.context.params import ParamSpec
from versa.context.resolve import (
    BUILTIN_ATTRIBUTES,
    ContextOptions,
    RequestContext,
    Signal,
    Source,
    negotiate_locale,
    resolve,
)
from versa.errors import ParamError

NOW = datetime(2025, 12, 5, 21, 30, tzinfo=UTC)  # a Friday

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1"
)
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
OUTLOOK_2016 = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)"

DESKTOP_CHROME_US = {
    "Host": "cdn.example.com",
    "User-Agent": CHROME_WINDOWS,
    "Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "CloudFront-Viewer-Country": "US",
    "CloudFront-Viewer-Country-Region": "MI",
    "CloudFront-Viewer-City": "Ann%20Arbor",
    "CloudFront-Viewer-Time-Zone": "America/Detroit",
    "CloudFront-Viewer-Latitude": "42.30680",
    "CloudFront-Viewer-Longitude": "-83.70590",
    "CloudFront-Viewer-ASN": "7922",
    "CloudFront-Is-Desktop-Viewer": "true",
    "CloudFront-Is-Mobile-Viewer": "false",
    "CloudFront-Is-Tablet-Viewer": "false",
    "CloudFront-Is-SmartTV-Viewer": "false",
    "CloudFront-Is-IOS-Viewer": "false",
    "CloudFront-Is-Android-Viewer": "false",
    "X-Forwarded-For": "203.0.113.10, 130.176.1.1",
}

MOBILE_SAFARI_DE = {
    "user-agent": SAFARI_IPHONE,
    "accept-language": "de-DE,de;q=0.9",
    "cloudfront-viewer-country": "DE",
    "cloudfront-viewer-country-region": "BY",
    "cloudfront-viewer-city": "M%C3%BCnchen",
    "cloudfront-viewer-time-zone": "Europe/Berlin",
    "cloudfront-viewer-latitude": "48.13710",
    "cloudfront-viewer-longitude": "11.57540",
    "cloudfront-viewer-asn": "3320",
    "cloudfront-is-desktop-viewer": "false",
    "cloudfront-is-mobile-viewer": "true",
    "cloudfront-is-tablet-viewer": "false",
    "cloudfront-is-smarttv-viewer": "false",
    "cloudfront-is-ios-viewer": "true",
    "cloudfront-is-android-viewer": "false",
}

GMAIL_PROXY_HEADERS = {
    "User-Agent": GMAIL_PROXY,
    "Accept-Encoding": "gzip, deflate, br",
    "CloudFront-Viewer-Country": "US",
    "CloudFront-Viewer-Country-Region": "CA",
    "CloudFront-Viewer-City": "Mountain%20View",
    "CloudFront-Viewer-Time-Zone": "America/Los_Angeles",
    "CloudFront-Viewer-Latitude": "37.42240",
    "CloudFront-Viewer-Longitude": "-122.08420",
    "CloudFront-Viewer-ASN": "15169",
    "CloudFront-Is-Desktop-Viewer": "true",
    "CloudFront-Is-Mobile-Viewer": "false",
}

APPLE_MPP_HEADERS = {
    "User-Agent": "Mozilla/5.0",
    "Accept-Language": "en-GB,en;q=0.9",
    "CloudFront-Viewer-Country": "US",
    "CloudFront-Viewer-Time-Zone": "America/Chicago",
    "CloudFront-Viewer-ASN": "714",
    "CloudFront-Is-Desktop-Viewer": "true",
}

YAHOO_HEADERS = {
    "User-Agent": YAHOO_PROXY,
    "CloudFront-Viewer-Country": "US",
    "CloudFront-Viewer-Time-Zone": "America/New_York",
    "CloudFront-Viewer-ASN": "36647",
}

OUTLOOK_HEADERS = {
    "User-Agent": OUTLOOK_2016,
    "Accept-Language": "fr-FR",
    "CloudFront-Viewer-Country": "FR",
    "CloudFront-Viewer-Country-Region": "IDF",
    "CloudFront-Viewer-City": "Paris",
    "CloudFront-Viewer-Time-Zone": "Europe/Paris",
    "CloudFront-Viewer-ASN": "3215",
    "CloudFront-Is-Desktop-Viewer": "true",
}

OPTIONS = ContextOptions(
    locales=("en", "de", "fr"),
    params={
        "first_name": ParamSpec(type="text", max_len=24, merge=True),
        "tier": ParamSpec(type="enum", values=["gold", "silver"], default="silver"),
        "points": ParamSpec(type="int", min=0, max=1_000_000),
        "offer_end": ParamSpec(type="datetime"),
    },
    default_tz="Europe/London",
    default_country="GB",
)


def signed(*names: str) -> ContextOptions:
    return ContextOptions(
        locales=OPTIONS.locales,
        params=OPTIONS.params,
        default_tz=OPTIONS.default_tz,
        default_country=OPTIONS.default_country,
        signed_names=frozenset(names),
    )


def source_of(ctx: RequestContext, name: str) -> tuple[Source, str | None]:
    sig = ctx.signals[name]
    return sig.source, sig.detail


# -- ordinary viewers ---------------------------------------------------------------------------------


def test_desktop_chrome_in_the_us_uses_cloudfront_headers() -> None:
    # GIVEN a desktop Chrome in Michigan behind CloudFront
    # WHEN the request is resolved
    ctx = resolve(DESKTOP_CHROME_US, {}, NOW, OPTIONS)

    # THEN geo, device and time come from the viewer's headers, in the viewer's zone
    assert (ctx.country, ctx.region, ctx.city) == ("US", "MI", "Ann Arbor")
    assert (ctx.latitude, ctx.longitude, ctx.asn) == (42.3068, -83.7059, 7922)
    assert ctx.tz == "America/Detroit"
    assert (ctx.device, ctx.os, ctx.client, ctx.lang) == ("desktop", "windows", EmailClient.browser, "en")
    assert ctx.now == NOW
    assert ctx.local.isoformat() == "2025-12-05T16:30:00-05:00"
    assert (ctx.date, ctx.time, ctx.hour, ctx.minute) == (date(2025, 12, 5), time(16, 30), 16, 30)
    assert (ctx.weekday, ctx.weekend, ctx.daypart) == ("fri", False, "afternoon")
    assert (ctx.season, ctx.hemisphere) == ("winter", "north")
    assert (ctx.dpr, ctx.theme, ctx.width) == (1.0, None, None)
    assert ctx.params == {"tier": "silver"}
    assert not ctx.is_proxy

    # AND every attribute says where it came from
    assert source_of(ctx, "country") == (Source.header, "cloudfront-viewer-country")
    assert source_of(ctx, "city") == (Source.header, "cloudfront-viewer-city")
    assert source_of(ctx, "tz") == (Source.header, "cloudfront-viewer-time-zone")
    assert source_of(ctx, "device") == (Source.header, "cloudfront-is-desktop-viewer")
    assert source_of(ctx, "os") == (Source.derived, "user-agent")
    assert source_of(ctx, "client") == (Source.derived, "user-agent, cloudfront-viewer-asn")
    assert source_of(ctx, "lang") == (Source.header, "accept-language")
    assert source_of(ctx, "daypart") == (Source.derived, "tz, now")
    assert source_of(ctx, "tier") == (Source.default, "pack default")
    assert source_of(ctx, "points") == (Source.default, "absent")
    assert set(ctx.signals) == BUILTIN_ATTRIBUTES | set(OPTIONS.params)


def test_mobile_safari_in_germany() -> None:
    # GIVEN an iPhone in Munich, German first
    # WHEN resolved
    ctx = resolve(MOBILE_SAFARI_DE, {}, NOW, OPTIONS)

    # THEN it is a German mobile iOS viewer on a Friday night in Berlin time
    assert (ctx.country, ctx.region, ctx.city) == ("DE", "BY", "München")
    assert (ctx.device, ctx.os, ctx.lang) == ("mobile", "ios", "de")
    assert (ctx.tz, ctx.hour, ctx.daypart) == ("Europe/Berlin", 22, "night")
    assert source_of(ctx, "device") == (Source.header, "cloudfront-is-mobile-viewer")
    assert source_of(ctx, "os") == (Source.header, "cloudfront-is-ios-viewer")


def test_outlook_desktop_is_not_a_proxy() -> None:
    ctx = resolve(OUTLOOK_HEADERS, {}, NOW, OPTIONS)
    assert ctx.client is EmailClient.outlook
    assert (ctx.country, ctx.region, ctx.tz, ctx.lang) == ("FR", "IDF", "Europe/Paris", "fr")
    assert source_of(ctx, "country") == (Source.header, "cloudfront-viewer-country")


def test_headers_are_case_insensitive() -> None:
    upper = {k.upper(): v for k, v in DESKTOP_CHROME_US.items()}
    assert resolve(upper, {}, NOW, OPTIONS) == resolve(DESKTOP_CHROME_US, {}, NOW, OPTIONS)


def test_device_and_os_fall_back_to_the_user_agent() -> None:
    # GIVEN no CloudFront device headers
    headers = {"User-Agent": SAFARI_IPHONE, "CloudFront-Viewer-Country": "DE"}

    # WHEN resolved
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the User-Agent decides, marked as derived
    assert (ctx.device, ctx.os) == ("mobile", "ios")
    assert source_of(ctx, "device") == (Source.derived, "user-agent")
    assert source_of(ctx, "os") == (Source.derived, "user-agent")


def test_nothing_known_gives_defaults() -> None:
    ctx = resolve({}, {}, NOW, OPTIONS)
    assert (ctx.country, ctx.tz, ctx.device, ctx.os, ctx.lang) == (
        "GB",
        "Europe/London",
        "desktop",
        "other",
        "en",
    )
    assert ctx.client is EmailClient.unknown
    assert (ctx.region, ctx.city, ctx.latitude, ctx.longitude, ctx.asn) == (None,) * 5
    assert source_of(ctx, "country") == (Source.default, "default_country")
    assert source_of(ctx, "tz") == (Source.default, "default_tz")
    assert source_of(ctx, "device") == (Source.default, "default_device")
    assert source_of(ctx, "lang") == (Source.default, "default locale")


# -- normalized CDN headers ---------------------------------------------------------------------------


def test_normalized_cdn_headers_win_over_raw_ones() -> None:
    # GIVEN the edge function's normalized headers next to raw ones that disagree
    headers = DESKTOP_CHROME_US | {
        "x-versa-country": "ca",
        "X-Versa-Tz": "America/Toronto",
        "x-versa-device": "tablet",
        "x-versa-client": "browser",
        "x-versa-lang": "fr",
    }

    # WHEN resolved
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the normalized values (what the CDN keys on) win, marked cdn
    assert (ctx.country, ctx.tz, ctx.device, ctx.client, ctx.lang) == (
        "CA", "America/Toronto", "tablet", EmailClient.browser, "fr"
    )  # fmt: skip
    for name, header in [
        ("country", "x-versa-country"),
        ("tz", "x-versa-tz"),
        ("device", "x-versa-device"),
        ("client", "x-versa-client"),
        ("lang", "x-versa-lang"),
    ]:
        assert source_of(ctx, name) == (Source.cdn, header)
    # AND city-level detail from a different country is not mixed in
    assert (ctx.region, ctx.city, ctx.latitude) == (None, None, None)


def test_unoffered_cdn_language_uses_the_default_not_accept_language() -> None:
    # GIVEN the CDN keyed the request on "ja", which the pack does not offer
    headers = DESKTOP_CHROME_US | {"Accept-Language": "de", "x-versa-lang": "ja"}

    # WHEN resolved
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the pack default is used: Accept-Language is not in the cache key, so it may not decide
    assert ctx.lang == "en"
    assert ctx.signals["lang"].source is Source.default


def test_an_unusable_cdn_header_falls_back_to_the_default_not_the_raw_header() -> None:
    # GIVEN normalized headers the edge got wrong, next to usable raw ones
    headers = DESKTOP_CHROME_US | {"x-versa-country": "U$", "x-versa-tz": "Nowhere", "x-versa-device": "car"}

    # WHEN resolved
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the defaults are used (the raw headers are not in the cache key) and the reason recorded
    assert (ctx.country, ctx.tz, ctx.device) == ("GB", "Europe/London", "desktop")
    assert source_of(ctx, "country") == (Source.default, "default_country; x-versa-country unusable")
    assert source_of(ctx, "tz") == (Source.default, "default_tz; x-versa-tz unusable")
    assert source_of(ctx, "device") == (Source.default, "x-versa-device unusable")


def test_cdn_client_class_can_mark_a_proxy() -> None:
    headers = DESKTOP_CHROME_US | {"x-versa-client": "apple_mpp"}
    ctx = resolve(headers, {}, NOW, OPTIONS)
    assert ctx.client is EmailClient.apple_mpp
    assert ctx.is_proxy
    assert source_of(ctx, "country") == (Source.proxy, "default_country")


# -- email proxies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "client"),
    [
        (GMAIL_PROXY_HEADERS, EmailClient.gmail),
        (APPLE_MPP_HEADERS, EmailClient.apple_mpp),
        (YAHOO_HEADERS, EmailClient.yahoo),
        ({"CloudFront-Viewer-ASN": "15169", "CloudFront-Viewer-Country": "US"}, EmailClient.gmail_prefetch),
    ],
)
def test_proxy_headers_are_not_used_for_the_reader(headers: dict[str, str], client: EmailClient) -> None:
    # GIVEN an email image proxy fetching with its own geo and device
    # WHEN resolved without signed send-time values
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the client is recognised and the proxy's geo/device/zone/language are replaced by defaults
    assert ctx.client is client
    assert ctx.is_proxy
    assert (ctx.country, ctx.tz, ctx.device, ctx.os, ctx.lang) == (
        "GB",
        "Europe/London",
        "desktop",
        "other",
        "en",
    )
    assert (ctx.region, ctx.city, ctx.latitude, ctx.longitude) == (None,) * 4
    for name in ("country", "region", "city", "latitude", "longitude", "tz", "device", "os", "lang"):
        assert ctx.signals[name].source is Source.proxy, name
    # AND the local features follow the default zone, not the proxy's
    assert (ctx.hour, ctx.daypart) == (21, "evening")
    # AND the ASN still records the proxy's network
    assert source_of(ctx, "asn") == (Source.header, "cloudfront-viewer-asn")


def test_proxy_with_signed_send_time_values() -> None:
    # GIVEN a Gmail proxy fetch whose URL carries signed send-time values for the recipient
    query = {
        "country": "de",
        "tz": "Europe/Berlin",
        "lang": "de-AT",
        "device": "mobile",
        "sig": "abc",
        "kid": "k1",
    }
    options = signed("country", "tz", "lang", "device")

    # WHEN resolved
    ctx = resolve(GMAIL_PROXY_HEADERS, query, NOW, options)

    # THEN the signed values describe the reader; the rest stays a proxy default
    assert (ctx.country, ctx.tz, ctx.lang, ctx.device) == ("DE", "Europe/Berlin", "de", "mobile")
    for name in ("country", "tz", "lang", "device"):
        assert source_of(ctx, name) == (Source.signed, name)
    assert ctx.signals["city"].source is Source.proxy
    assert ctx.signals["os"].source is Source.proxy
    assert (ctx.hour, ctx.daypart, ctx.hemisphere) == (22, "night", "north")


def test_signed_values_also_override_a_browsers_headers() -> None:
    ctx = resolve(
        DESKTOP_CHROME_US, {"country": "AU", "tz": "Australia/Sydney"}, NOW, signed("country", "tz")
    )
    assert (ctx.country, ctx.tz, ctx.season, ctx.hemisphere) == ("AU", "Australia/Sydney", "summer", "south")
    # the header's city describes another country, so it is not kept
    assert ctx.city is None
    assert ctx.signals["city"].source is Source.default


def test_unsigned_overrides_are_ignored() -> None:
    # GIVEN override values in the query that no signature covers
    query = {"country": "FR", "tz": "Asia/Tokyo", "lang": "de", "device": "tv", "client": "gmail", "at": "x"}

    # WHEN resolved
    ctx = resolve(DESKTOP_CHROME_US, query, NOW, OPTIONS)

    # THEN they change nothing (and, being ignored, are not even validated)
    assert ctx == resolve(DESKTOP_CHROME_US, {}, NOW, OPTIONS)


def test_signed_at_simulates_now() -> None:
    # GIVEN a preview link simulating Saturday morning in Berlin
    query = {"at": "2025-12-06T08:15:00+01:00"}

    # WHEN resolved
    ctx = resolve(MOBILE_SAFARI_DE, query, NOW, signed("at"))

    # THEN local features come from the simulated instant
    assert ctx.now == datetime(2025, 12, 6, 7, 15, tzinfo=UTC)
    assert (ctx.weekday, ctx.weekend, ctx.daypart, ctx.hour) == ("sat", True, "morning", 8)
    assert source_of(ctx, "now") == (Source.signed, "at")


def test_signed_client_class() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"client": "yahoo"}, NOW, signed("client"))
    assert ctx.client is EmailClient.yahoo
    assert ctx.is_proxy


def test_signed_unknown_country_falls_back_to_default() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"country": "XX"}, NOW, signed("country"))
    assert ctx.country == "GB"
    assert ctx.signals["country"].source is Source.default


def test_signed_language_the_pack_does_not_offer_falls_back_to_default() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"lang": "ja"}, NOW, signed("lang"))
    assert ctx.lang == "en"
    assert ctx.signals["lang"].source is Source.default


@pytest.mark.parametrize(
    ("name", "raw", "allowed"),
    [
        ("country", "USA", "two-letter"),
        ("tz", "Mars/Olympus_Mons", "IANA time zone"),
        ("tz", "../../etc/passwd", "IANA time zone"),
        ("device", "fridge", "one of: mobile, tablet, desktop, tv"),
        ("client", "hotmail", "one of: browser, gmail"),
        ("lang", "not a tag!", "language tag"),
        ("at", "2025-12-06T08:15:00", "UTC offset"),
    ],
)
def test_malformed_signed_values_raise_param_error(name: str, raw: str, allowed: str) -> None:
    with pytest.raises(ParamError) as caught:
        resolve(DESKTOP_CHROME_US, {name: raw}, NOW, signed(name))
    assert caught.value.name == name
    assert allowed in caught.value.allowed


# -- malformed headers --------------------------------------------------------------------------------


def test_malformed_headers_are_ignored_with_recorded_fallbacks() -> None:
    # GIVEN headers CloudFront (or someone) sent in bad shape
    headers = {
        "CloudFront-Viewer-Country": "USA",
        "CloudFront-Viewer-Time-Zone": "Mars/Olympus_Mons",
        "CloudFront-Viewer-ASN": "AS7922",
        "CloudFront-Is-Mobile-Viewer": "yes",
        "Accept-Language": "klingon;q=high, ;;;",
        "User-Agent": CHROME_WINDOWS,
    }

    # WHEN resolved
    ctx = resolve(headers, {}, NOW, OPTIONS)

    # THEN the request still resolves, on defaults, saying which input was unusable
    assert (ctx.country, ctx.tz, ctx.asn, ctx.lang) == ("GB", "Europe/London", None, "en")
    assert source_of(ctx, "country") == (
        Source.default,
        "default_country; cloudfront-viewer-country unusable",
    )
    assert source_of(ctx, "tz") == (Source.default, "default_tz; cloudfront-viewer-time-zone unusable")
    assert source_of(ctx, "asn") == (Source.default, "cloudfront-viewer-asn unusable")
    assert ctx.device == "desktop"
    assert ctx.signals["device"].source is Source.derived


@pytest.mark.parametrize("lat", ["abc", "nan", "inf", "91", "", "1e400"])
def test_unusable_coordinates_are_dropped_as_a_pair(lat: str) -> None:
    ctx = resolve(DESKTOP_CHROME_US | {"CloudFront-Viewer-Latitude": lat}, {}, NOW, OPTIONS)
    assert ctx.latitude is None
    assert ctx.longitude is None
    assert ctx.signals["latitude"].source is Source.default


@pytest.mark.parametrize("country", ["XX", "xx", "ZZ"])
def test_unknown_country_uses_the_default_country(country: str) -> None:
    ctx = resolve({"CloudFront-Viewer-Country": country}, {}, NOW, OPTIONS)
    assert ctx.country == "GB"
    no_default = ContextOptions(locales=("en",))
    assert resolve({"CloudFront-Viewer-Country": country}, {}, NOW, no_default).country is None


def test_country_is_upper_cased() -> None:
    assert resolve({"CloudFront-Viewer-Country": "de"}, {}, NOW, OPTIONS).country == "DE"


def test_tz_header_cannot_reach_outside_the_zone_database() -> None:
    for bad in ("/etc/localtime", "../../../etc/passwd", "localtime", "posix/Europe/Berlin", "America"):
        ctx = resolve({"CloudFront-Viewer-Time-Zone": bad}, {}, NOW, OPTIONS)
        assert ctx.tz == "Europe/London", bad


# -- render parameters --------------------------------------------------------------------------------


def test_render_parameters_are_read_and_validated() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"dpr": "2", "theme": "dark", "w": "600"}, NOW, OPTIONS)
    assert (ctx.dpr, ctx.theme, ctx.width) == (2.0, "dark", 600)
    assert source_of(ctx, "dpr") == (Source.query, "dpr")
    assert source_of(ctx, "width") == (Source.query, "w")


@pytest.mark.parametrize(
    ("name", "raw", "allowed"),
    [
        ("dpr", "4", "a number from 1 to 3"),
        ("dpr", "0.5", "a number from 1 to 3"),
        ("dpr", "retina", "a number from 1 to 3"),
        ("theme", "sepia", "one of: light, dark"),
        ("w", "0", "an integer from 1 to 8192"),
        ("w", "-600", "an integer from 1"),
        ("w", "600px", "an integer"),
    ],
)
def test_bad_render_parameters_raise_param_error(name: str, raw: str, allowed: str) -> None:
    with pytest.raises(ParamError) as caught:
        resolve(DESKTOP_CHROME_US, {name: raw}, NOW, OPTIONS)
    assert caught.value.name == name
    assert allowed in caught.value.allowed


# -- declared parameters ------------------------------------------------------------------------------


def test_declared_parameters_are_typed_with_their_source() -> None:
    # GIVEN a merge value, an unsigned value, a signed value, an undeclared one and signature fields
    query = {
        "first_name": "Zoë",
        "tier": "gold",
        "points": "1200",
        "utm_source": "newsletter",
        "sig": "c2lnbmF0dXJl",
        "exp": "1767225600",
        "m": "first_name",
    }

    # WHEN resolved with `points` covered by the signature
    ctx = resolve(DESKTOP_CHROME_US, query, NOW, signed("points"))

    # THEN declared values are typed and attributed; the rest is ignored
    assert ctx.params == {"first_name": "Zoë", "tier": "gold", "points": 1200}
    assert source_of(ctx, "first_name") == (Source.merge, "first_name")
    assert source_of(ctx, "tier") == (Source.query, "tier")
    assert source_of(ctx, "points") == (Source.signed, "points")
    assert "utm_source" not in ctx.signals
    assert "sig" not in ctx.signals


def test_an_empty_merge_value_counts_as_absent() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"first_name": "", "tier": ""}, NOW, OPTIONS)
    assert ctx.params == {"tier": "silver"}
    assert ctx.attribute("first_name") is None


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("first_name", "*|FNAME|*"),
        ("first_name", "<img src=x onerror=alert(1)>"),
        ("first_name", "A" * 25),
        ("tier", "platinum"),
        ("points", "lots"),
        ("offer_end", "2025-12-31"),
    ],
)
def test_malformed_declared_values_raise_param_error(name: str, raw: str) -> None:
    with pytest.raises(ParamError) as caught:
        resolve(DESKTOP_CHROME_US, {name: raw}, NOW, OPTIONS)
    assert caught.value.name == name
    assert caught.value.value == raw


# -- Accept-Language negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "locales", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", ("en", "de"), "de"),
        ("de-CH, fr;q=0.9", ("en", "de", "fr"), "de"),  # primary subtag before a lower-q exact match
        ("fr;q=0.5, de;q=0.8", ("en", "de", "fr"), "de"),  # by q, not by order
        ("fr, de", ("en", "de", "fr"), "fr"),  # equal q keeps header order
        ("en-GB", ("en-US", "de"), "en-US"),
        ("pt", ("en", "pt-BR"), "pt-BR"),
        ("PT-br", ("en", "pt-BR"), "pt-BR"),  # case-insensitive, pack spelling returned
        ("pt_BR", ("en", "pt-BR"), "pt-BR"),
        ("zh-Hant-TW", ("en", "zh-Hans", "zh-Hant"), "zh-Hant"),
        ("es-419", ("en", "es-ES", "es"), "es"),  # the bare primary locale before another region
        ("ja, *;q=0.1", ("en", "de"), "en"),
        ("de;q=0, en;q=0.5", ("fr", "de", "en"), "en"),  # q=0 means "not acceptable"
        ("de;q=0", ("fr", "de"), None),
        ("ja", ("en", "de"), None),
        ("", ("en",), None),
        ("de;q=1.5, en;q=abc", ("fr", "de", "en"), None),
        ("%%%, ,;q=, en", ("fr", "en"), "en"),
    ],
)
def test_negotiate_locale(accept: str, locales: tuple[str, ...], expected: str | None) -> None:
    assert negotiate_locale(accept, locales) == expected


def test_lang_from_accept_language_falls_back_to_the_first_locale() -> None:
    ctx = resolve(DESKTOP_CHROME_US | {"Accept-Language": "ja-JP,ja;q=0.9"}, {}, NOW, OPTIONS)
    assert ctx.lang == "en"
    assert source_of(ctx, "lang") == (Source.default, "default locale (no acceptable language)")


# -- attributes and provenance ------------------------------------------------------------------------


def test_attribute_reads_builtins_and_declared_params() -> None:
    ctx = resolve(MOBILE_SAFARI_DE, {"first_name": "Jürgen"}, NOW, OPTIONS)
    assert ctx.attribute("country") == "DE"
    assert ctx.attribute("daypart") == "night"
    assert ctx.attribute("local_time") == time(22, 30)
    assert ctx.attribute("local") == ctx.local
    assert ctx.attribute("client") == "browser"
    assert ctx.attribute("first_name") == "Jürgen"
    assert ctx.attribute("tier") == "silver"
    assert ctx.attribute("points") is None
    for name in BUILTIN_ATTRIBUTES:
        ctx.attribute(name)
    with pytest.raises(KeyError):
        ctx.attribute("utm_source")
    with pytest.raises(KeyError):
        ctx.attribute("signals")


def test_provenance_is_json_ready() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {"first_name": "Ana", "offer_end": "2025-12-31T23:59:59Z"}, NOW, OPTIONS)
    prov = ctx.provenance()
    json.dumps(prov)
    assert prov["country"] == {"value": "US", "source": "header", "detail": "cloudfront-viewer-country"}
    assert prov["local"]["value"] == "2025-12-05T16:30:00-05:00"
    assert prov["client"]["value"] == "browser"
    assert prov["offer_end"] == {
        "value": "2025-12-31T23:59:59+00:00",
        "source": "query",
        "detail": "offer_end",
    }
    assert prov["first_name"]["source"] == "merge"


def test_context_is_frozen() -> None:
    ctx = resolve(DESKTOP_CHROME_US, {}, NOW, OPTIONS)
    with pytest.raises(AttributeError):
        ctx.country = "FR"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctx.params["tier"] = "gold"  # type: ignore[index]
    with pytest.raises(TypeError):
        ctx.signals["country"] = Signal("FR", Source.query)  # type: ignore[index]
    assert Signal("x", Source.cdn) == Signal("x", Source.cdn, None)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve({}, {}, datetime(2025, 1, 1), OPTIONS)


# -- options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"locales": ()}, "at least one locale"),
        ({"locales": ("en", "en US")}, "language tags"),
        ({"default_tz": "Mars/Base"}, "time zone"),
        ({"default_country": "gb"}, "upper-case"),
        ({"default_country": "GBR"}, "upper-case"),
        ({"weekend_days": frozenset({"saturday"})}, "weekend_days"),
        ({"params": {"country": ParamSpec()}}, "clash"),
        ({"params": {"sig": ParamSpec()}}, "clash"),
        ({"params": {"w": ParamSpec(type="int")}}, "clash"),
    ],
)
def test_inconsistent_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ContextOptions(**kwargs)


# -- properties ---------------------------------------------------------------------------------------

HEADER_NAMES = [
    "User-Agent",
    "Accept-Language",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-City",
    "CloudFront-Viewer-Time-Zone",
    "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude",
    "CloudFront-Viewer-ASN",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-Tablet-Viewer",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-IOS-Viewer",
    "CloudFront-Is-Android-Viewer",
    "x-versa-country",
    "x-versa-tz",
    "x-versa-device",
    "x-versa-client",
    "x-versa-lang",
]
HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["true", "false", "US", "XX", "Europe/Berlin", "../x", "15169", "%C3%BC", "%ZZ", "nan"]),
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUES, max_size=12),
    now=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_resolve_never_raises_on_arbitrary_header_values(headers: dict[str, str], now: datetime) -> None:
    # GIVEN any header values at all
    # WHEN resolved
    ctx = resolve(headers, {}, now, OPTIONS)

    # THEN a complete context comes back, with provenance for every attribute
    assert ctx.lang in OPTIONS.locales
    assert ctx.country is None or (len(ctx.country) == 2 and ctx.country.isupper())
    assert set(ctx.signals) >= BUILTIN_ATTRIBUTES
    json.dumps(ctx.provenance())


@settings(max_examples=100, deadline=None)
@given(accept=st.text(max_size=80))
def test_negotiation_only_ever_returns_an_offered_locale(accept: str) -> None:
    assert negotiate_locale(accept, ("en", "de-DE", "pt-BR"), default="en") in ("en", "de-DE", "pt-BR")


