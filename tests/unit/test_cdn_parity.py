"""The viewer-request CloudFront Function (cdn/viewer-request.js) and Versa's own context resolution agree.

The same CloudFront header sets go through the function under Node (one `node` process for every event,
via cdn/test/harness.js) and through `versa.context.resolve`. Three properties:

- parity: the function's x-versa-* headers name the country, time zone, device, client and primary
  language that `resolve` finds in the raw headers (and the `.auto` format that
  `versa.render.encode.negotiate` picks);
- transparency: `resolve` fed the function's output (raw headers plus x-versa-*) gives the same context
  as `resolve` fed the raw headers;
- cache safety: the keyed attributes `resolve` finds in the function's output depend on the x-versa-*
  headers alone (what the cache policy keys on), for every example pack's locales.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from versa.context.attributes import CDN_HEADER_OF, DEFAULT_KEYABLE, TIME_FEATURES
from versa.context.clients import APPLE_ASNS, GOOGLE_ASNS, PROXY_CLIENTS, YAHOO_ASNS, EmailClient
from versa.context.resolve import ContextOptions, RequestContext, negotiate_locale, resolve
from versa.decide.rules import context_options
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "cdn" / "test" / "harness.js"
EXAMPLES = ROOT / "examples" / "packs"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None, reason="`node` is not on PATH: the CloudFront Function runs under Node for this test"
)

NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)  # a Friday: evening in Europe, midday in the Americas
URI = "/v1/acme/winter-sale.auto"

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X910) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SMART_TV = (
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/4.0 Chrome/76.0 TV Safari/537.36"
)
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
OUTLOOK = (
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; Win64; x64; Trident/7.0; "
    "Microsoft Outlook 16.0.17628; ms-office; MSOffice 16)"
)
CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI_ACCEPT = "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"


def _flags(device: str | None) -> dict[str, str]:
    """The four CloudFront-Is-*-Viewer headers as CloudFront sends them."""
    names = {"desktop": "desktop", "mobile": "mobile", "tablet": "tablet", "tv": "smarttv"}
    return {f"cloudfront-is-{n}-viewer": str(device == d).lower() for d, n in names.items()}


def _viewer(
    ua: str | None, country: str, tz: str, device: str | None, lang: str, **extra: str
) -> dict[str, str]:
    headers = {
        "cloudfront-viewer-country": country,
        "cloudfront-viewer-time-zone": tz,
        "accept-language": lang,
        "accept": CHROME_ACCEPT,
        **_flags(device),
        **extra,
    }
    if ua is not None:
        headers["user-agent"] = ua
    return headers


CASES: dict[str, dict[str, str]] = {
    "desktop-chrome-us": _viewer(
        CHROME_WIN, "US", "America/New_York", "desktop", "en-US,en;q=0.9", **{"cloudfront-viewer-asn": "7922"}
    ),
    "mobile-safari-de": _viewer(
        SAFARI_IPHONE,
        "DE",
        "Europe/Berlin",
        "mobile",
        "de-DE,de;q=0.9",
        accept=SAFARI_ACCEPT,
        **{"cloudfront-viewer-asn": "3320"},
    ),
    "ipad": _viewer(SAFARI_IPAD, "FR", "Europe/Paris", "tablet", "fr-FR", accept=SAFARI_ACCEPT),
    "android-tablet": _viewer(ANDROID_TABLET, "AE", "Asia/Dubai", "tablet", "ar-AE,ar;q=0.9,en;q=0.5"),
    "smart-tv": _viewer(SMART_TV, "JP", "Asia/Tokyo", "tv", "ja-JP"),
    "ua-only-iphone": {"user-agent": SAFARI_IPHONE, "cloudfront-viewer-country": "es"},
    "gmail-proxy-google-asn": _viewer(
        GMAIL_PROXY, "US", "America/Los_Angeles", "desktop", "en-US", **{"cloudfront-viewer-asn": "15169"}
    ),
    "gmail-prefetch": _viewer(None, "US", "America/Chicago", None, "", **{"cloudfront-viewer-asn": "396982"}),
    "chrome-on-google-network": _viewer(
        CHROME_WIN, "IE", "Europe/Dublin", "desktop", "en-IE", **{"cloudfront-viewer-asn": "15169"}
    ),
    "yahoo-proxy": _viewer(
        YAHOO_PROXY, "US", "America/New_York", "desktop", "en", **{"cloudfront-viewer-asn": "36647"}
    ),
    "apple-mpp": _viewer(
        "Mozilla/5.0", "US", "America/Los_Angeles", "desktop", "en-US", **{"cloudfront-viewer-asn": "714"}
    ),
    "outlook-desktop": _viewer(
        OUTLOOK, "GB", "Europe/London", "desktop", "en-GB,en;q=0.8", accept="image/png,*/*"
    ),
    "curl": {"user-agent": "curl/8.5.0", "accept": "*/*"},
    "empty": {},
    "garbage": {
        "user-agent": "\x00\x7f<script>alert(1)</script>",
        "cloudfront-viewer-asn": "AS-15169",
        "cloudfront-viewer-country": "Germany",
        "cloudfront-viewer-time-zone": "../../etc/passwd",
        "cloudfront-is-mobile-viewer": "yes",
        "accept-language": ";;;q=1,=,",
        "accept": ";q=;,/,image/;q=2",
    },
    "unknown-zone-and-country": _viewer(CHROME_WIN, "XX", "Mars/Olympus_Mons", "desktop", "en"),
    "lowercase-country-and-flags": _viewer(
        CHROME_WIN, "br", "America/Sao_Paulo", None, "pt-BR", **{"cloudfront-is-mobile-viewer": "TRUE"}
    ),
    "language-star-first": _viewer(CHROME_WIN, "NL", "Europe/Amsterdam", "desktop", "*, nl;q=0.5"),
    "language-q-values": _viewer(CHROME_WIN, "CH", "Europe/Zurich", "desktop", "fr;q=0.4, de-CH, en;q=0.9"),
    "over-long-user-agent": _viewer(CHROME_WIN + "x" * 1100, "US", "UTC", "desktop", "en"),
    "bot-on-yahoo-network": {"user-agent": "Slurp bot/1.0", "cloudfront-viewer-asn": "36647"},
    "no-user-agent-from-apple": {"cloudfront-viewer-asn": "714", "cloudfront-viewer-country": "US"},
}

LOCALES = ("en", "de", "fr", "ar", "ja", "es", "pt", "nl")
"""A pack offering every language the cases ask for (so the language comparison is meaningful)."""
BROAD = ContextOptions(locales=LOCALES)
KEYED = sorted((DEFAULT_KEYABLE - {"window"}) | {"tz"})
"""Context attributes the CDN key decides: the x-versa-* ones and the time features derived from tz."""
ALL_FORMATS = ("png", "jpg", "webp", "gif", "avif")


def _event(headers: Mapping[str, str], uri: str = URI) -> dict[str, Any]:
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": {"w": {"value": "600"}, "dpr": {"value": "2"}},
            "headers": {name: {"value": value} for name, value in headers.items()},
            "cookies": {},
        },
    }


def run_function(header_sets: list[Mapping[str, str]], uri: str = URI) -> list[dict[str, str]]:
    """Each header set through the CloudFront Function; the headers of each returned request."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HARNESS), "--stdin"],
        input=json.dumps([_event(h, uri) for h in header_sets]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    requests = json.loads(done.stdout)
    return [{name: entry["value"] for name, entry in r["headers"].items()} for r in requests]


@pytest.fixture(scope="module")
def edge() -> dict[str, dict[str, str]]:
    """Case name → the headers the function hands to the origin (raw ones plus x-versa-*)."""
    return dict(zip(CASES, run_function(list(CASES.values())), strict=True))


def _versa(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.removeprefix("x-versa-"): v for k, v in headers.items() if k.startswith("x-versa-")}


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _fields(ctx: RequestContext) -> dict[str, Any]:
    out = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx) if f.name != "signals"}
    out["params"] = dict(out["params"])
    return out


# --------------------------------------------------------------------------------------- parity


@pytest.mark.parametrize("case", CASES)
def test_function_names_what_versa_resolves(case: str, edge: dict[str, dict[str, str]]) -> None:
    # GIVEN a header set, WHEN the function and resolve() both read it
    raw = CASES[case]
    ctx = resolve(raw, {}, NOW, BROAD)
    cdn = _versa(edge[case])

    # THEN they agree on the client class, and (for readers, not proxies) country, zone and device
    assert cdn["client"] == ctx.client
    proxy = ctx.client in PROXY_CLIENTS
    if proxy:
        assert not {"country", "tz", "device", "lang"} & set(cdn), "proxy headers describe the proxy"
    assert cdn.get("country") == ctx.country  # None when absent or unusable (no default country here)
    tz = cdn.get("tz")
    assert ctx.tz == (tz if tz is not None and _is_zone(tz) else BROAD.default_tz)
    assert cdn.get("device", BROAD.default_device) == ctx.device

    # AND the primary language the function keys on is the one Versa negotiates when the pack offers it
    lang = cdn.get("lang")
    if lang is not None:
        assert lang in LOCALES, f"the case list should ask only for offered languages, not {lang!r}"
        assert ctx.lang == lang
    else:
        assert ctx.lang == LOCALES[0]


@pytest.mark.parametrize("case", CASES)
def test_resolving_the_output_gives_the_same_context(case: str, edge: dict[str, dict[str, str]]) -> None:
    # GIVEN what the origin receives (the raw headers plus the function's x-versa-*)
    raw, out = CASES[case], edge[case]
    assert {k: v for k, v in out.items() if not k.startswith("x-versa-")} == raw

    # WHEN resolved, THEN the context is the one the raw headers give
    assert _fields(resolve(out, {}, NOW, BROAD)) == _fields(resolve(raw, {}, NOW, BROAD))


def _example_options() -> dict[str, ContextOptions]:
    out = {"broad": BROAD}
    for root in sorted(EXAMPLES.iterdir()):
        pack = load_pack(root, checks=PACK_CHECKS)
        for creative in pack.model.creatives:
            out[f"{pack.brand}/{creative}"] = context_options(pack.model, creative)
    return out


OPTIONS = _example_options()


@pytest.mark.parametrize("creative", OPTIONS)
def test_cache_key_alone_decides_keyed_attributes(creative: str, edge: dict[str, dict[str, str]]) -> None:
    options = OPTIONS[creative]
    # GIVEN each case's request as the origin sees it, and only the part the cache policy keys on
    for case, out in edge.items():
        full = resolve(out, {}, NOW, options)
        key_only = resolve({k: v for k, v in out.items() if k.startswith("x-versa-")}, {}, NOW, options)
        # THEN every keyed attribute (and every time feature derived from the keyed zone) is the same:
        # two viewers that share a cache entry get the same decision
        for attr in KEYED:
            assert full.attribute(attr) == key_only.attribute(attr), (case, attr)


def test_keyed_attributes_cover_the_cdn_headers() -> None:
    assert set(CDN_HEADER_OF) <= set(KEYED)
    assert set(TIME_FEATURES) <= set(KEYED)


# --------------------------------------------------------------------------------------- client

USER_AGENTS = [
    None,
    "",
    CHROME_WIN,
    SAFARI_IPHONE,
    SMART_TV,
    GMAIL_PROXY,
    YAHOO_PROXY,
    OUTLOOK,
    "Microsoft Office/16.0 (Windows NT 10.0; MAPI 16.0.17628; Pro)",
    "Mozilla/5.0",
    " Mozilla/5.0 ",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "python-requests/2.32",
    "Google",
    "x" * 1100,
]
ASNS = [
    None,
    *sorted(GOOGLE_ASNS | YAHOO_ASNS | APPLE_ASNS),
    "7922",
    "0",
    "4294967295",
    "4294967296",
    "AS714",
    "-714",
]


def test_client_parity_over_user_agents_and_asns() -> None:
    # GIVEN every pairing of User-Agents (browsers, proxies, bots, none) and networks Versa knows
    header_sets = []
    for ua in USER_AGENTS:
        for asn in ASNS:
            headers = {} if ua is None else {"user-agent": ua}
            if asn is not None:
                headers["cloudfront-viewer-asn"] = str(asn)
            header_sets.append(headers)
    # WHEN the function classifies them, THEN it agrees with resolve() (which calls classify_client)
    for headers, out in zip(header_sets, run_function(header_sets), strict=True):
        assert out["x-versa-client"] == resolve(headers, {}, NOW, BROAD).client, headers


DEVICE_TOKENS = [
    "SmartTV", "SMART-TV", "Smart TV", "Tizen", "Web0S", "webOS", "AppleTV", "Apple TV", "GoogleTV",
    "Android TV", "AndroidTV", "BRAVIA", "HbbTV", "CrKey", "Roku", "AFTMM", "aftb", "NetCast", "Viera",
    "PlayStation 5", "Xbox One", "iPad", "Tablet", "Kindle", "Silk/1.0", "PlayBook", "Android 14",
    "Android 14; Mobile", "Mobi", "iPhone", "iPod", "Windows Phone", "BlackBerry", "Opera Mini",
    "IEMobile", "Macintosh", "X11; Linux", "",
]  # fmt: skip


def test_device_parity_over_user_agent_tokens() -> None:
    # GIVEN User-Agents carrying each token Versa's device guess looks at, and no CloudFront flags
    header_sets = [
        {"user-agent": f"Mozilla/5.0 ({token}) AppleWebKit/537.36 (KHTML, like Gecko)"}
        for token in DEVICE_TOKENS
    ]
    # THEN the function guesses the device resolve() guesses
    for headers, out in zip(header_sets, run_function(header_sets), strict=True):
        assert out["x-versa-device"] == resolve(headers, {}, NOW, BROAD).device, headers


# ------------------------------------------------------------------------------------- language

ACCEPT_LANGUAGES = [
    "de-DE,de;q=0.9,en;q=0.8",
    "en;q=0.5, fr",
    "EN_us",
    "pt-BR,pt;q=0.9",
    "*",
    "*, de;q=0.5",
    "de, *;q=0.5",
    "x-klingon, ja;q=0.5",
    "i-navajo, es;q=0.1",
    "en;q=0",
    "fr;q=abc, de;q=0.5",
    "fr;q=1.5, de;q=0.5",
    "fr;q=0.9999, de;q=0.5",
    "fr; Q=0.4, de;q=0.5",
    "de;q=0.8, fr;q=0.8",
    "nl;q=0.001, ar;q=0.002",
    "@@@, 12",
    ",,,",
    ";q=1",
    ",".join(["zz-@"] * 24 + ["de"]),
]


def test_language_parity_over_accept_language_variants() -> None:
    # GIVEN Accept-Language values from tidy to broken, and a pack that offers every 2-3 letter primary
    # language they mention (so negotiation never skips a range because it is not offered)
    outs = run_function([{"accept-language": v, "user-agent": CHROME_WIN} for v in ACCEPT_LANGUAGES])
    for accept, out in zip(ACCEPT_LANGUAGES, outs, strict=True):
        lang = out.get("x-versa-lang")
        chosen = negotiate_locale(accept, LOCALES, default=None)
        # THEN the function's primary language is Versa's choice, and when it sets none, Versa
        # falls back to the default (no usable range, or "*" ranked first)
        if lang is not None:
            assert chosen == lang, accept
        else:
            assert chosen in (None, LOCALES[0]), accept


def test_a_second_choice_language_is_not_keyed() -> None:
    """Known, deliberate coarsening: the key carries one primary language, so a viewer whose first
    choice the pack lacks gets the pack's default, not its second choice (the raw header would
    pick it, but the CDN could not tell such viewers apart)."""
    # GIVEN a viewer preferring Japanese, then German; a pack offering English and German
    raw = {"accept-language": "ja, de;q=0.8", "user-agent": CHROME_WIN}
    options = ContextOptions(locales=("en", "de"))
    [out] = run_function([raw])

    # THEN the function keys on ja; behind the CDN Versa answers the default; the raw header alone
    # would have chosen German
    assert out["x-versa-lang"] == "ja"
    assert resolve(out, {}, NOW, options).lang == "en"
    assert resolve(raw, {}, NOW, options).lang == "de"


# --------------------------------------------------------------------------------------- format

ACCEPTS = [
    CHROME_ACCEPT,
    SAFARI_ACCEPT,
    "image/webp,*/*",
    "image/avif;q=0.8,image/webp",
    "image/png,image/webp;q=0.5",
    "image/webp;q=0.5,image/*",
    "image/avif;q=0,image/webp;q=0",
    "*/*",
    "text/html,application/xhtml+xml",
    "image/webp;q=1_0",
    "image/webp;q=nan",
    "image/webp;q=inf",
    "image/webp;q= 0.5, image/png;q=0.4",
    "image/webp;q=0x1",
    "image/webp;q=-inf",
    "IMAGE/WEBP",
    "garbage;;;,",
    "",
]
CLIENT_UAS = {
    EmailClient.browser: CHROME_WIN,
    EmailClient.unknown: "curl/8.5.0",
    EmailClient.outlook: OUTLOOK,
    EmailClient.gmail: GMAIL_PROXY,
    EmailClient.apple_mpp: "Mozilla/5.0",
}


def test_format_parity_with_versa_negotiation(monkeypatch: pytest.MonkeyPatch) -> None:
    encode = pytest.importorskip(
        "versa.render.encode", reason="Versa's format negotiation is not in this tree"
    )
    # GIVEN every format allowed and AVIF available (the function cannot know the pack's formats)
    monkeypatch.setattr(encode, "avif_supported", lambda: True)
    header_sets = [{"user-agent": ua, "accept": a} for ua in CLIENT_UAS.values() for a in ACCEPTS]
    outs = run_function(header_sets)
    for headers, out in zip(header_sets, outs, strict=True):
        client = out["x-versa-client"]
        expected = encode.negotiate(headers["accept"], client, ALL_FORMATS, animated=False)
        if client in ("browser", "unknown"):
            # THEN a browser gets the format Versa would negotiate from the same Accept header
            assert out.get("x-versa-fmt") == expected, headers
        else:
            # THEN an email client gets no x-versa-fmt (Versa picks png, or gif for an animated
            # creative, from the keyed client alone) and never WebP/AVIF
            assert "x-versa-fmt" not in out, headers
            assert expected not in ("webp", "avif")


def test_only_auto_urls_get_a_format() -> None:
    [out] = run_function(
        [{"user-agent": CHROME_WIN, "accept": CHROME_ACCEPT}], uri="/v1/acme/winter-sale.png"
    )
    assert "x-versa-fmt" not in out
