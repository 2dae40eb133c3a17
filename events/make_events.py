"""Sample API Gateway REST proxy events for the render function, generated and signed.

    .venv/bin/python events/make_events.py          # (re)write events/*.json
    .venv/bin/python events/make_events.py --check  # exit 1 when a committed event is out of date

Each event is what the `/{proxy+}` resource of Versa's REGIONAL REST API hands the Lambda function for a
request that came through Versa's CloudFront distribution: the viewer headers the origin request
policy forwards (`CloudFront-Viewer-Country`, `-Time-Zone`, `-ASN`, `CloudFront-Is-*-Viewer`, ...), the
normalized `x-versa-*` headers the viewer-request CloudFront Function adds (the cache key), CloudFront's
own `Via`/`X-Amz-Cf-Id`/`X-Forwarded-*` (the function, cdn/viewer-request.js, sends x-versa-client
always, country/tz/device/lang only when no email proxy fetched, and x-versa-fmt for a browser's
`.auto`), both `headers` and `multiValueHeaders`, the decoded
`queryStringParameters` and `multiValueQueryStringParameters`, and a `requestContext` with stage,
request id and identity. Use them for local invokes (`sam local invoke -e events/NAME.json`) and in
`tests/functional/test_handler_events.py`, which runs the handler on every file here.

Signatures: every creative URL is signed with the FIXED test keyring of `tests/keys.py` (a public,
worthless key), so the files are deterministic and the tests verify them with the same keyring. A
deployed function has other keys and answers these events with 403.

Time: the handler's clock is the real one, so each creative event pins the viewer's instant with a
signed `at` (the context then computes daypart, weekday and countdowns from it, and the TTL runs from
it). Expected TTLs in the tests follow from these instants. Only the expired-signature events depend on
the real clock, and only in that their `exp` lies in 2026-01 (always in the past by now).

Email events are template-signed (`m=first_name,tier,uid`): the email tool fills in the merge values
after signing, exactly as it would per recipient.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from versa.signing.signer import Keyring, click_path, creative_path, decision_path, sign

EVENTS_DIR = Path(__file__).resolve().parent
KEYS_FILE = EVENTS_DIR.parent / "tests" / "keys.py"

API_ID = "k7x2q9v4mb"
API_HOST = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
STAGE = "prod"
ACCOUNT = "123456789012"
EDGE_IP = "130.176.212.71"  # a CloudFront edge: API Gateway sees it as the source
EXPIRED = datetime(2026, 1, 1, tzinfo=UTC)
"""`exp` of the expired-signature events."""
PROXY_CLIENTS = ("gmail", "gmail_prefetch", "yahoo", "apple_mpp")


def load_test_keyring() -> Keyring:
    """The keyring of tests/keys.py, loaded by path (events/ and tests/ are not packages)."""
    spec = importlib.util.spec_from_file_location("versa_test_keys", KEYS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keyring = module.TEST_KEYRING
    assert isinstance(keyring, Keyring)
    return keyring


# ------------------------------------------------------------------------------------- viewers


@dataclass(frozen=True)
class Viewer:
    """Who is fetching: the viewer's User-Agent, network and location as CloudFront sees them, and
    what the viewer-request function normalizes them to."""

    user_agent: str | None
    ip: str
    asn: int
    country: str
    time_zone: str
    device: str  # desktop | mobile | tablet | tv (CloudFront-Is-*-Viewer)
    client: str  # x-versa-client: the CDN function's email client class
    lang: str | None  # x-versa-lang: the primary language it keys on (None without Accept-Language)
    accept_language: str | None = None
    os: str | None = None  # ios | android (CloudFront-Is-IOS/Android-Viewer)
    region: str | None = None
    city: str | None = None
    accept: str | None = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GMAIL_PROXY_UA = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
APPLE_MPP_UA = "Mozilla/5.0"
OUTLOOK_UA = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
CHROME_NAVIGATION_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)

DESKTOP_US = Viewer(
    CHROME_MAC, "203.0.113.17", 7922, "US", "America/New_York", "desktop", "browser", "en",
    accept_language="en-US,en;q=0.9", region="NY", city="New%20York",
)
MOBILE_DE = Viewer(
    SAFARI_IPHONE, "198.51.100.23", 3320, "DE", "Europe/Berlin", "mobile", "browser", "de",
    accept_language="de-DE,de;q=0.9", os="ios", region="BE", city="Berlin",
)
DESKTOP_DE = Viewer(
    CHROME_WINDOWS, "198.51.100.77", 3320, "DE", "Europe/Berlin", "desktop", "browser", "de",
    accept_language="de-DE,de;q=0.9,en;q=0.8", region="HH", city="Hamburg",
)
DESKTOP_AE = Viewer(
    CHROME_WINDOWS, "192.0.2.45", 5384, "AE", "Asia/Dubai", "desktop", "browser", "ar",
    accept_language="ar-AE,ar;q=0.9,en;q=0.6", region="DU", city="Dubai",
)
OUTLOOK_MX = Viewer(
    OUTLOOK_UA, "192.0.2.201", 8151, "MX", "America/Mexico_City", "desktop", "outlook", "es",
    accept_language="es-MX", region="CMX", city="Mexico%20City", accept="image/*",
)
# Email image proxies: their headers describe the proxy's data centre, not the reader.
GMAIL_PROXY = Viewer(
    GMAIL_PROXY_UA, "66.249.84.12", 15169, "US", "America/Los_Angeles", "desktop", "gmail", "en",
    accept=None,
)
# Route 53 health checks reach /healthz through the distribution like any other client.
HEALTH_CHECKER = Viewer(
    "Amazon-Route53-Health-Check-Service (ref 4c1b2a9e-0f3d-4e8a-9b7c-2d5e6f7a8b9c; report http://amzn.to/1vsZADi)",
    "15.177.2.10", 16509, "US", "America/New_York", "desktop", "unknown", None, accept="*/*",
)
APPLE_MPP = Viewer(
    APPLE_MPP_UA, "17.58.102.9", 714, "US", "America/Los_Angeles", "desktop", "apple_mpp", "en",
    accept_language="en-US,en;q=0.9", accept="image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
)


# -------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Spec:
    """One sample event: a path, its query, how it is signed and who asks."""

    name: str
    path: str
    viewer: Viewer | None
    query: dict[str, str] = field(default_factory=dict)
    sign: bool = True
    scope: str | None = None
    expires: datetime | None = None
    merge: dict[str, str] = field(default_factory=dict)
    """Merge parameter -> the value the email tool filled in (the URL is template-signed)."""
    tamper: bool = False
    accept: str | None = "viewer"
    """The Accept header: "viewer" for the viewer's own, None for none, or a value."""
    fmt: str | None = None
    """x-versa-fmt, the CDN function's format choice for `.auto` fetched by a browser: avif, webp or
    png by the Accept header (the function does not know the pack; Versa answers webp or png where the
    pack does not allow avif). `tests/functional/test_handler_events.py` runs the function itself on
    every event's headers and checks that these x-versa-* values are what it sets."""


def _merge_placeholders(merge: dict[str, str]) -> dict[str, str]:
    return {name: f"*|{name.upper()}|*" for name in merge}


NORTHWIND_MERGE = {"first_name": "Ana", "tier": "gold", "uid": "u7"}

SPECS: tuple[Spec, ...] = (
    # -- images for browsers ----------------------------------------------------------------------
    Spec("desktop-us-morning", creative_path("acme", "winter-sale", "png"), DESKTOP_US,
         {"at": "2026-12-01T13:30:00Z"}),  # Tue 08:30 in New York: morning, weekday
    Spec("mobile-de-evening", creative_path("acme", "winter-sale", "png"), MOBILE_DE,
         {"at": "2026-12-01T18:30:00Z"}),  # Tue 19:30 in Berlin: evening
    Spec("rtl-ae-ar", creative_path("acme", "winter-sale", "png"), DESKTOP_AE,
         {"at": "2026-12-04T09:00:00Z"}),  # Fri 13:00 in Dubai: afternoon, Arabic
    Spec("auto-accept-html", creative_path("acme", "winter-sale", "auto"), DESKTOP_US,
         {"at": "2026-12-05T20:00:00Z"}, accept=CHROME_NAVIGATION_ACCEPT, fmt="avif"),  # Sat 15:00 NY
    Spec("auto-accept-any", creative_path("acme", "winter-sale", "auto"), DESKTOP_US,
         {"at": "2026-12-05T20:00:00Z"}, accept="*/*", fmt="png"),
    Spec("auto-no-accept", creative_path("acme", "winter-sale", "auto"), DESKTOP_US,
         {"at": "2026-12-05T20:00:00Z"}, accept=None, fmt="png"),
    Spec("outlook-mx-welcome", creative_path("northwind", "welcome", "jpg"), OUTLOOK_MX,
         {"at": "2026-12-02T14:00:00Z"}),  # Wed 08:00 in Mexico City: morning, Spanish
    # -- email image proxies ----------------------------------------------------------------------
    Spec("gmail-proxy", creative_path("northwind", "cyber-week", "gif"), GMAIL_PROXY,
         {"at": "2026-12-03T02:30:00Z"}, merge=NORTHWIND_MERGE),
    Spec("apple-mpp-prefetch", creative_path("northwind", "cyber-week", "gif"), APPLE_MPP,
         {"at": "2026-12-02T15:00:00Z"}, merge={**NORTHWIND_MERGE, "tier": "basic", "uid": "u2"}),
    Spec("gmail-unknown-brand", creative_path("globex", "spring-sale", "png"), GMAIL_PROXY,
         {"at": "2026-12-03T02:30:00Z"}),
    Spec("gmail-bad-param", creative_path("northwind", "cyber-week", "gif"), GMAIL_PROXY,
         {"at": "2026-12-03T02:30:00Z"}, merge={**NORTHWIND_MERGE, "tier": "platinum"}),
    Spec("gmail-expired-signature", creative_path("northwind", "cyber-week", "gif"), GMAIL_PROXY,
         {"at": "2026-12-03T02:30:00Z"}, merge=NORTHWIND_MERGE, expires=EXPIRED),
    # -- errors for browsers ----------------------------------------------------------------------
    Spec("unknown-brand", creative_path("globex", "spring-sale", "png"), DESKTOP_US,
         {"at": "2026-12-01T13:30:00Z"}),
    Spec("bad-param", creative_path("northwind", "cyber-week", "png"), DESKTOP_US,
         {"at": "2026-12-01T13:30:00Z"}, merge={**NORTHWIND_MERGE, "tier": "platinum"}),
    Spec("bad-signature", creative_path("acme", "winter-sale", "png"), DESKTOP_US,
         {"at": "2026-12-01T13:30:00Z"}, tamper=True),
    Spec("expired-signature", creative_path("acme", "winter-sale", "png"), DESKTOP_US,
         {"at": "2026-12-01T13:30:00Z"}, expires=EXPIRED),
    # -- JSON and redirect routes -----------------------------------------------------------------
    Spec("decision-debug", decision_path("acme", "winter-sale"), DESKTOP_US,
         {"at": "2026-12-01T18:30:00Z", "country": "DE", "tz": "Europe/Berlin"}, scope="debug",
         accept="application/json"),
    Spec("decision-without-debug-scope", decision_path("acme", "winter-sale"), DESKTOP_US,
         {"at": "2026-12-01T18:30:00Z"}, accept="application/json"),
    Spec("click", click_path("acme", "winter-sale"), DESKTOP_DE,
         {"at": "2026-12-01T10:00:00Z"}, accept=CHROME_NAVIGATION_ACCEPT),
    Spec("healthz", "/healthz", HEALTH_CHECKER, sign=False),
)


def signed_query(spec: Spec, keyring: Keyring) -> list[tuple[str, str]]:
    """The decoded query as the request carries it: fixed values, merge values filled in, signature."""
    pairs = list(spec.query.items())
    if not spec.sign:
        return pairs
    placeholders = _merge_placeholders(spec.merge)
    added = sign(
        spec.path, [*pairs, *placeholders.items()], keyring,
        scope=spec.scope, expires=spec.expires, merge_names=sorted(spec.merge),
    )
    if spec.tamper:  # flip one character of the MAC: same shape, wrong value
        sig = added["sig"]
        added["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    return sorted([*pairs, *spec.merge.items(), *added.items()])


def _digest(name: str, what: str, n: int) -> str:
    return hashlib.sha512(f"{name}/{what}".encode()).hexdigest()[:n]


def _request_time(spec: Spec) -> datetime:
    at = spec.query.get("at")
    return datetime.fromisoformat(at) if at else datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def viewer_headers(spec: Spec) -> list[tuple[str, str]]:
    """Headers in the order API Gateway lists them: the viewer's, CloudFront's, the CDN function's."""
    v = spec.viewer
    cf_id = base64.urlsafe_b64encode(bytes.fromhex(_digest(spec.name, "cf", 80))).decode()
    epoch = int(_request_time(spec).timestamp())
    headers: list[tuple[str, str]] = []
    accept = (v.accept if v else None) if spec.accept == "viewer" else spec.accept
    if accept is not None:
        headers.append(("Accept", accept))
    headers.append(("Accept-Encoding", "br,gzip"))
    if v and v.accept_language:
        headers.append(("Accept-Language", v.accept_language))
    headers.append(("CloudFront-Forwarded-Proto", "https"))
    if v is not None:
        headers += [
            ("CloudFront-Is-Android-Viewer", str(v.os == "android").lower()),
            ("CloudFront-Is-Desktop-Viewer", str(v.device == "desktop").lower()),
            ("CloudFront-Is-IOS-Viewer", str(v.os == "ios").lower()),
            ("CloudFront-Is-Mobile-Viewer", str(v.device == "mobile").lower()),
            ("CloudFront-Is-SmartTV-Viewer", str(v.device == "tv").lower()),
            ("CloudFront-Is-Tablet-Viewer", str(v.device == "tablet").lower()),
            ("CloudFront-Viewer-ASN", str(v.asn)),
        ]
        if v.city:
            headers.append(("CloudFront-Viewer-City", v.city))
        headers.append(("CloudFront-Viewer-Country", v.country))
        if v.region:
            headers.append(("CloudFront-Viewer-Country-Region", v.region))
        headers.append(("CloudFront-Viewer-Time-Zone", v.time_zone))
    headers.append(("Host", API_HOST))
    if v and v.user_agent is not None:
        headers.append(("User-Agent", v.user_agent))
    headers += [
        ("Via", f"2.0 {_digest(spec.name, 'via', 32)}.cloudfront.net (CloudFront)"),
        ("X-Amz-Cf-Id", cf_id),
        ("X-Amzn-Trace-Id", f"Root=1-{epoch:08x}-{_digest(spec.name, 'trace', 24)}"),
        ("X-Forwarded-For", f"{v.ip if v else '203.0.113.9'}, {EDGE_IP}"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    if v is not None:  # what Versa's viewer-request CloudFront Function adds (the cache key)
        headers.append(("x-versa-client", v.client))
        if v.client not in PROXY_CLIENTS:  # behind a proxy they would describe the proxy: not sent
            headers += [("x-versa-country", v.country), ("x-versa-device", v.device)]
        if spec.fmt is not None:
            headers.append(("x-versa-fmt", spec.fmt))
        if v.client not in PROXY_CLIENTS:
            headers += [("x-versa-lang", v.lang)] if v.lang else []
            headers.append(("x-versa-tz", v.time_zone))
    return headers


def build_event(spec: Spec, keyring: Keyring) -> dict[str, Any]:
    """The API Gateway REST proxy event (resource `/{proxy+}`) for one spec."""
    pairs = signed_query(spec, keyring)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    headers = viewer_headers(spec)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    when = _request_time(spec)
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"versa-event:{spec.name}"))
    source_ip = EDGE_IP
    user_agent = spec.viewer.user_agent if spec.viewer else None
    return {
        "resource": "/{proxy+}",
        "path": spec.path,
        "httpMethod": "GET",
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": spec.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "x1y2z3",
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "extendedRequestId": _digest(spec.name, "ext", 16),
            "requestTime": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{quote(spec.path)}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(when.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": API_HOST,
            "apiId": API_ID,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def render_all(keyring: Keyring, specs: Iterable[Spec] = SPECS) -> dict[str, str]:
    """File name -> JSON text of every event."""
    return {
        f"{spec.name}.json": json.dumps(build_event(spec, keyring), indent=2, ensure_ascii=False) + "\n"
        for spec in specs
    }


def main(argv: list[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing")
    parser.add_argument("--dir", type=Path, default=EVENTS_DIR, help="where the events go (default: here)")
    args = parser.parse_args(argv)
    files = render_all(load_test_keyring())
    stale = sorted(
        name for name, text in files.items()
        if not (args.dir / name).is_file() or (args.dir / name).read_text(encoding="utf-8") != text
    )
    unknown = sorted(p.name for p in args.dir.glob("*.json") if p.name not in files)
    if args.check:
        for name in stale:
            out(f"out of date: {name}")
        for name in unknown:
            out(f"not generated by this script: {name}")
        return 1 if stale or unknown else 0
    for name in stale:
        (args.dir / name).write_text(files[name], encoding="utf-8")
    out(f"wrote {len(stale)} of {len(files)} events to {args.dir}")
    for name in unknown:
        out(f"note: {name} is not generated by this script")
    return 0


if __name__ == "__main__":
    sys.exit(main())
