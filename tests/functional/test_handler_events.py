"""Functional tests: the Lambda handler (`versa.api.lambda_handler`) on every sample event in events/.

Each event is a real-shaped API Gateway REST proxy event (see events/make_events.py). The service is
wired by the real composition root over examples/packs, a fresh SQLite copy store and the fixed test
keyring (written as the state directory's key file, which is how the composition root finds keys
locally). The expected TTLs below are worked out by hand from each event's signed `at`, not by calling
Versa's own `valid_until`.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

import keys as test_keys
from services import RecordingMetrics, install, keyed_settings
from versa.composition import build_service
from versa.context.clients import PROXY_CLIENTS, EmailClient
from versa.web import api
from versa.web.service import RenderService

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = ROOT / "events"
EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
PACKS = ROOT / "examples" / "packs"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


make_events = _load("versa_make_events", EVENTS_DIR / "make_events.py")


# ------------------------------------------------------------------------------ expectations

IMAGE_CACHE = "public, max-age={ttl}, s-maxage={ttl}, stale-if-error=86400"
DEFAULT_COPY_TTL = 300  # the packs' cache.default_copy_ttl: a copy default stood in
FALLBACK_CACHE = "public, max-age=60, s-maxage=60"  # the packs' cache.fallback_ttl
BLANK_CACHE = "public, max-age=60"
ERROR_CACHE = "public, max-age=60"
APPLE_MAIL_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"


@dataclass(frozen=True)
class Expect:
    status: int
    content_type: str
    image: tuple[str, tuple[int, int]] | None = None
    """PIL format and size of the decoded body."""
    frames: int = 1
    ttl: int | None = None
    """max-age once generated copy exists (the first render of a generating creative uses a copy
    default and gets min(ttl, DEFAULT_COPY_TTL) with X-Versa-Copy: default)."""
    cache_control: str | None = None
    """The exact Cache-Control when it is not the TTL form."""
    generates_copy: bool = False
    vary: bool = False
    fallback: str | None = None
    problem: dict[str, Any] = field(default_factory=dict)
    """Fields the problem document must hold (besides type/title/status/detail)."""


EXPECTED: dict[str, Expect] = {
    # acme/winter-sale reads daypart (morning-copy, evening-dark) and weekend; its headline generates
    # copy varied by daypart. Tue 08:30 New York: morning until 12:00 -> 3 h 30 min.
    "desktop-us-morning": Expect(200, "image/png", ("PNG", (600, 300)), ttl=12_600, generates_copy=True),
    # Tue 19:30 Berlin: evening until night at 22:00 -> 2 h 30 min.
    "mobile-de-evening": Expect(200, "image/png", ("PNG", (600, 300)), ttl=9_000, generates_copy=True),
    # Fri 13:00 Dubai: afternoon until 17:00 -> 4 h (midnight is 11 h away).
    "rtl-ae-ar": Expect(200, "image/png", ("PNG", (600, 300)), ttl=14_400, generates_copy=True),
    # Sat 15:00 New York: afternoon until 17:00 -> 2 h. `auto` varies on Accept.
    "auto-accept-html": Expect(200, "image/webp", ("WEBP", (600, 300)), ttl=7_200, generates_copy=True,
                               vary=True),
    "auto-accept-any": Expect(200, "image/png", ("PNG", (600, 300)), ttl=7_200, generates_copy=True,
                              vary=True),
    "auto-no-accept": Expect(200, "image/png", ("PNG", (600, 300)), ttl=7_200, generates_copy=True,
                             vary=True),
    # northwind/welcome reads daypart (morning). Wed 08:00 Mexico City (UTC-6): morning until 12:00.
    "outlook-mx-welcome": Expect(200, "image/jpeg", ("JPEG", (600, 200)), ttl=14_400),
    # Gmail's proxy and a countdown: re-fetched on every open; an animated 30-frame GIF.
    "gmail-proxy": Expect(200, "image/gif", ("GIF", (600, 240)), frames=30, cache_control="no-cache, max-age=0"),
    # Apple MPP prefetch: the time-robust "Ends Fri Dec 04, 23:59" (one frame), true until the deadline
    # (2026-12-05T05:59Z, 2 d 15 h after `at`), so the pack's max_age (86400) caps it.
    "apple-mpp-prefetch": Expect(200, "image/gif", ("GIF", (600, 240)), frames=1, ttl=86_400),
    # Email proxies never get an error on an image route: the creative's fallback, or a blank pixel.
    "gmail-unknown-brand": Expect(200, "image/png", ("PNG", (1, 1)), cache_control=BLANK_CACHE,
                                  fallback="unknown-creative"),
    "gmail-bad-param": Expect(200, "image/png", ("PNG", (600, 240)), cache_control=FALLBACK_CACHE,
                              fallback="bad-request"),
    "gmail-expired-signature": Expect(200, "image/png", ("PNG", (600, 240)), cache_control=FALLBACK_CACHE,
                                      fallback="expired"),
    # Browsers get precise problems.
    "unknown-brand": Expect(404, "application/problem+json", cache_control=ERROR_CACHE),
    "bad-param": Expect(400, "application/problem+json", cache_control=ERROR_CACHE,
                        problem={"parameter": "tier", "allowed": "one of: gold, silver, basic"}),
    "bad-signature": Expect(403, "application/problem+json", cache_control=ERROR_CACHE),
    "expired-signature": Expect(410, "application/problem+json", cache_control=ERROR_CACHE),
    "decision-without-debug-scope": Expect(403, "application/problem+json", cache_control=ERROR_CACHE),
    # JSON and redirect routes.
    "decision-debug": Expect(200, "application/json", cache_control="no-store"),
    "click": Expect(302, "text/plain", cache_control="no-store"),
    "healthz": Expect(200, "application/json", cache_control="no-store"),
}


# ----------------------------------------------------------------------------------- fixtures


@dataclass
class FakeLambdaContext:
    """What Powertools reads of a Lambda context."""

    function_name: str = "versa-render"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/versa-render"
    log_stream_name: str = "2026/12/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


@pytest.fixture
def service(tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch) -> Iterator[RenderService]:
    """The service as the composition root builds it, with the test keyring; installed in versa.api."""
    settings = keyed_settings(tmp_path, packs=PACKS, require_signature=True)
    svc = build_service(settings, metrics=metrics)
    assert svc.keyring == test_keys.TEST_KEYRING
    yield install(svc, monkeypatch)


Invoke = Callable[[dict[str, Any]], "Result"]


@dataclass(frozen=True)
class Result:
    raw: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.raw["statusCode"])

    @property
    def headers(self) -> dict[str, str]:
        """Response headers, one value each (API Gateway REST responses use multiValueHeaders)."""
        out = {k: str(v) for k, v in (self.raw.get("headers") or {}).items()}
        for name, values in (self.raw.get("multiValueHeaders") or {}).items():
            assert len(values) == 1, f"{name} sent {len(values)} times"
            out[name] = str(values[0])
        return out

    @property
    def body(self) -> bytes:
        body = self.raw.get("body") or ""
        return base64.b64decode(body) if self.raw.get("isBase64Encoded") else str(body).encode()

    def json(self) -> Any:
        return json.loads(self.body)

    def image(self) -> Image.Image:
        image = Image.open(io.BytesIO(self.body))
        image.load()
        return image


@pytest.fixture
def invoke(service: RenderService) -> Invoke:
    def run(event: dict[str, Any]) -> Result:
        return Result(api.lambda_handler(event, FakeLambdaContext()))

    return run


def load_event(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(event, dict)
    return event


def with_headers(event: dict[str, Any], **changes: str | None) -> dict[str, Any]:
    """A copy of `event` with headers set (or removed with None), in both header maps."""
    out = json.loads(json.dumps(event))
    for name, value in changes.items():
        for key in [k for k in out["headers"] if k.lower() == name.lower()]:
            del out["headers"][key]
            del out["multiValueHeaders"][key]
        if value is not None:
            out["headers"][name] = value
            out["multiValueHeaders"][name] = [value]
    return out


def as_proxy(event: dict[str, Any], client: str) -> dict[str, Any]:
    """`event` as fetched through an email image proxy: its User-Agent and network, and the CDN
    function's headers for it (x-versa-client only: the rest would describe the proxy)."""
    ua, asn = {"gmail": (make_events.GMAIL_PROXY_UA, "15169"), "apple_mpp": (make_events.APPLE_MPP_UA, "714")}[client]
    dropped: dict[str, str | None] = {f"x-versa-{n}": None for n in ("country", "tz", "device", "lang", "fmt")}
    return with_headers(event, **{"User-Agent": ua, "CloudFront-Viewer-ASN": asn, "x-versa-client": client},
                        **dropped)


def is_image_route(event: dict[str, Any]) -> bool:
    return re.fullmatch(r"/v1/[^/]+/[^/]+\.(png|jpe?g|gif|webp|avif|auto)", event["path"]) is not None


def is_email_proxy(event: dict[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in event["headers"].items()}
    return headers.get("x-versa-client") in {c.value for c in PROXY_CLIENTS}


def assert_problem(result: Result, status: int) -> dict[str, Any]:
    assert result.headers["Content-Type"] == "application/problem+json"
    doc = result.json()
    assert doc["status"] == status == result.status
    assert doc["type"] == "about:blank"
    assert doc["title"] and doc["detail"]
    return dict(doc)


# -------------------------------------------------------------------------------------- tests


def test_events_are_generated_and_current() -> None:
    # GIVEN the generator and the committed files
    files = make_events.render_all(test_keys.TEST_KEYRING)
    # THEN every committed event is exactly what the script writes, and every event has expectations
    assert sorted(files) == [p.name for p in EVENT_FILES]
    for path in EVENT_FILES:
        assert path.read_text(encoding="utf-8") == files[path.name], f"{path.name}: run events/make_events.py"
    assert sorted(EXPECTED) == sorted(p.stem for p in EVENT_FILES)


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_event_shape(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    assert event["resource"] == "/{proxy+}"
    assert event["httpMethod"] == "GET"
    assert event["isBase64Encoded"] is False
    assert event["pathParameters"] == {"proxy": event["path"].lstrip("/")}
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["resourcePath"] == "/{proxy+}"
    assert event["requestContext"]["identity"]["sourceIp"]
    assert {k: v[-1] for k, v in event["multiValueHeaders"].items()} == event["headers"]
    multi = event["multiValueQueryStringParameters"] or {}
    assert {k: v[-1] for k, v in multi.items()} == (event["queryStringParameters"] or {})
    if event["path"] != "/healthz":
        assert "CloudFront-Viewer-Country" in event["headers"]
        assert "CloudFront-Viewer-Time-Zone" in event["headers"]
        assert "CloudFront-Viewer-ASN" in event["headers"]
        assert "x-versa-client" in event["headers"]
        assert ("x-versa-fmt" in event["headers"]) == event["path"].endswith(".auto")


@pytest.mark.skipif(shutil.which("node") is None, reason="`node` runs the CloudFront Function")
def test_events_carry_what_the_cloudfront_function_sets() -> None:
    # GIVEN each event's viewer headers without the x-versa-* ones, as a CloudFront Functions event
    events = {p.stem: load_event(p.stem) for p in EVENT_FILES}
    requests = [
        {
            "version": "1.0",
            "context": {"eventType": "viewer-request"},
            "viewer": {"ip": "198.51.100.7"},
            "request": {
                "method": "GET", "uri": event["path"], "querystring": {}, "cookies": {},
                "headers": {k.lower(): {"value": v} for k, v in event["headers"].items()
                            if not k.lower().startswith("x-versa-")},
            },
        }
        for event in events.values()
    ]
    # WHEN cdn/viewer-request.js runs on them (under Node, as its own tests run it)
    done = subprocess.run(
        [str(shutil.which("node")), str(ROOT / "cdn" / "test" / "harness.js"), "--stdin"],
        input=json.dumps(requests), capture_output=True, text=True, check=True, timeout=60,
    )
    # THEN the x-versa-* headers of every event are exactly the ones the function sets
    for (name, event), request in zip(events.items(), json.loads(done.stdout), strict=True):
        ours = {k: v for k, v in event["headers"].items() if k.lower().startswith("x-versa-")}
        theirs = {k: v["value"] for k, v in request["headers"].items() if k.startswith("x-versa-")}
        assert ours == theirs, name


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_handler_answers_event(path: Path, invoke: Invoke, metrics: RecordingMetrics) -> None:
    # GIVEN a sample event and what it must get
    expect = EXPECTED[path.stem]
    event = load_event(path.stem)

    # WHEN the handler runs it
    result = invoke(event)

    # THEN status, headers and body are as expected
    headers = result.headers
    assert result.status == expect.status, result.body[:300]
    assert headers["Content-Type"] == expect.content_type
    if expect.image is not None:
        assert result.raw["isBase64Encoded"] is True
        image = result.image()
        assert (image.format, image.size) == expect.image
        assert getattr(image, "n_frames", 1) == expect.frames
    if expect.vary:
        assert headers["Vary"] == "Accept"
    else:
        assert "Vary" not in headers
    if expect.fallback is not None:
        assert headers["X-Versa-Fallback"] == expect.fallback
        assert expect.fallback in metrics.reasons()
        assert "ETag" not in headers
    else:
        assert "X-Versa-Fallback" not in headers
    rendered = expect.status == 200 and expect.image is not None and expect.fallback is None
    if rendered:
        assert re.fullmatch(r'"[0-9a-f]{16}"', headers["ETag"])
        assert re.fullmatch(r"[0-9a-f]{16}", headers["X-Versa-Variant"])
    else:
        assert "ETag" not in headers
    if expect.status >= 400:
        assert_problem(result, expect.status)
        for name, value in expect.problem.items():
            assert result.json()[name] == value

    if expect.ttl is None:
        assert headers["Cache-Control"] == expect.cache_control
        assert "X-Versa-Copy" not in headers
        return
    if expect.generates_copy:
        # The first render finds no generated copy: the default stands in, briefly cached.
        assert headers["X-Versa-Copy"] == "default"
        assert headers["Cache-Control"] == IMAGE_CACHE.format(ttl=min(expect.ttl, DEFAULT_COPY_TTL))
        # The offline writer stored copy meanwhile: the same event now gets the full, exact TTL.
        again = invoke(event)
        assert again.status == 200
        assert again.headers["ETag"] == headers["ETag"]
        headers = again.headers
    assert "X-Versa-Copy" not in headers
    assert headers["Cache-Control"] == IMAGE_CACHE.format(ttl=expect.ttl)


@pytest.mark.parametrize(
    "path", [p for p in EVENT_FILES if is_image_route(json.loads(p.read_text()))], ids=lambda p: p.stem
)
def test_email_proxies_never_get_an_error_on_an_image_route(path: Path, invoke: Invoke) -> None:
    # GIVEN any image event, as its own client and as fetched through Gmail's and Apple's proxies
    event = load_event(path.stem)
    variants = [event] if is_email_proxy(event) else []
    variants += [as_proxy(event, "gmail"), as_proxy(event, "apple_mpp")]
    for variant in variants:
        # WHEN the handler runs it
        result = invoke(variant)
        # THEN it is an image with status 200, whatever went wrong
        assert result.status == 200, (variant["headers"]["User-Agent"], result.body[:200])
        assert result.headers["Content-Type"].startswith("image/")
        assert result.image().size[0] >= 1


def test_apple_mpp_prefetch_gets_the_time_robust_countdown(invoke: Invoke) -> None:
    # GIVEN the Apple MPP prefetch event and the same URL opened in the reader's own Mail app
    prefetch = load_event("apple-mpp-prefetch")
    reader = with_headers(
        prefetch,
        **{"User-Agent": APPLE_MAIL_UA, "CloudFront-Viewer-ASN": "7922", "x-versa-client": "browser",
           "x-versa-country": "US", "x-versa-device": "desktop", "x-versa-lang": "en",
           "x-versa-tz": "America/Los_Angeles"},
    )

    # WHEN both are rendered
    robust, ticking = invoke(prefetch), invoke(reader)

    # THEN the prefetch gets one still frame of absolute text ("Ends Fri Dec 04, 23:59"), true until
    # the deadline; the reader an animated timer with a one-loop TTL
    assert robust.status == ticking.status == 200
    assert robust.headers["ETag"] != ticking.headers["ETag"]
    assert getattr(robust.image(), "n_frames", 1) == 1
    assert ticking.image().n_frames == 30
    assert robust.headers["Cache-Control"] == IMAGE_CACHE.format(ttl=86_400)
    assert ticking.headers["Cache-Control"] == IMAGE_CACHE.format(ttl=30)
    timer = (24, 108, 384, 184)  # the countdown layer's box
    first_frame = ticking.image().convert("RGB").crop(timer)
    assert robust.image().convert("RGB").crop(timer).tobytes() != first_frame.tobytes()


def test_gmail_refetches_time_sensitive_creatives_only(invoke: Invoke) -> None:
    # GIVEN Gmail's proxy fetching a countdown and a creative whose decision never changes with time
    gmail = load_event("gmail-proxy")
    result = invoke(gmail)
    assert result.headers["Cache-Control"] == "no-cache, max-age=0"
    # The leaderboard reads country only (and no clock): an ordinary TTL even through Gmail.
    keyring = test_keys.TEST_KEYRING
    spec = make_events.Spec("gmail-leaderboard", "/v1/acme/leaderboard.png", make_events.GMAIL_PROXY,
                            {"at": "2026-12-03T02:30:00Z"})
    stable = invoke(make_events.build_event(spec, keyring))
    assert stable.status == 200
    assert stable.headers["Cache-Control"] == "public, max-age=86400, s-maxage=86400, stale-while-revalidate=3600, stale-if-error=86400"


@pytest.mark.parametrize("name", ["auto-accept-html", "auto-accept-any", "auto-no-accept"])
def test_auto_negotiates_the_same_format_without_the_cdn_header(name: str, invoke: Invoke) -> None:
    # GIVEN an `auto` event without the CDN function's headers (a local server, or a direct call)
    event = load_event(name)
    bare = with_headers(event, **{k: None for k in event["headers"] if k.startswith("x-versa-")})
    # THEN the handler's own negotiation over Accept picks what the CDN picked
    assert invoke(bare).headers["Content-Type"] == EXPECTED[name].content_type
    assert invoke(bare).headers["Vary"] == "Accept"


def test_email_clients_never_get_webp_from_auto(invoke: Invoke) -> None:
    event = as_proxy(load_event("auto-accept-html"), "gmail")
    assert invoke(event).headers["Content-Type"] == "image/png"


def test_if_none_match_gets_304(invoke: Invoke) -> None:
    # GIVEN a rendered creative and its ETag
    event = load_event("desktop-us-morning")
    first = invoke(event)
    etag = first.headers["ETag"]

    # WHEN the client revalidates with it (also as a weak validator, and in a list)
    for value in (etag, f"W/{etag}", f'"0000000000000000", {etag}'):
        result = invoke(with_headers(event, **{"If-None-Match": value}))
        # THEN 304, no body, same validator and caching headers
        assert result.status == 304
        assert result.body == b""
        assert result.headers["ETag"] == etag
        assert result.headers["X-Versa-Variant"] == first.headers["X-Versa-Variant"]
        assert "max-age=" in result.headers["Cache-Control"]

    # AND a stale validator gets the full image
    stale = invoke(with_headers(event, **{"If-None-Match": '"0000000000000000"'}))
    assert stale.status == 200
    assert stale.image().size == (600, 300)


def test_rtl_locale_changes_the_design(invoke: Invoke) -> None:
    us, ae = invoke(load_event("desktop-us-morning")), invoke(load_event("rtl-ae-ar"))
    assert us.headers["X-Versa-Variant"] != ae.headers["X-Versa-Variant"]
    assert us.body != ae.body


def test_decision_route_with_debug_signature(invoke: Invoke) -> None:
    # GIVEN the debug-scoped decision event (signed country DE, zone Berlin, at Tue 19:30 there)
    result = invoke(load_event("decision-debug"))
    assert result.status == 200
    doc = result.json()
    # THEN the decision, its trace and where each signal came from
    assert doc["brand"] == "acme" and doc["creative"] == "winter-sale"
    assert doc["matched"] == ["evening-dark", "dach"]
    assert doc["locale"] == "de"
    assert doc["link"] == "https://acme.example/de/sale"
    assert doc["valid_until"] == "2026-12-01T21:00:00+00:00"  # 22:00 in Berlin: night begins
    assert re.fullmatch(r"[0-9a-f]{16}", doc["design_key"])
    assert {t["rule"] for t in doc["trace"]} >= {"evening-dark", "morning-copy", "dach", "gulf"}
    assert doc["context"]["country"] == {"value": "DE", "source": "signed", "detail": "country"}
    assert doc["context"]["now"]["source"] == "signed"
    assert doc["context"]["daypart"]["value"] == "evening"


def test_click_redirects_to_the_variants_link(invoke: Invoke) -> None:
    result = invoke(load_event("click"))
    assert result.status == 302
    assert result.headers["Location"] == "https://acme.example/de/sale"


def test_healthz(invoke: Invoke) -> None:
    result = invoke(load_event("healthz"))
    assert result.status == 200
    assert result.json() == {"status": "ok"}


def test_unknown_brand_problem(invoke: Invoke) -> None:
    doc = assert_problem(invoke(load_event("unknown-brand")), 404)
    assert "globex" in doc["detail"]


def test_bad_parameter_problem_names_the_parameter(invoke: Invoke) -> None:
    doc = assert_problem(invoke(load_event("bad-param")), 400)
    assert doc["parameter"] == "tier"
    assert "platinum" in doc["detail"]
    assert all(v in doc["allowed"] for v in ("gold", "silver", "basic"))


def test_signature_problems(invoke: Invoke) -> None:
    assert_problem(invoke(load_event("bad-signature")), 403)
    assert_problem(invoke(load_event("decision-without-debug-scope")), 403)
    expired = assert_problem(invoke(load_event("expired-signature")), 410)
    assert "2026-01-01" in expired["detail"]
    unsigned = load_event("desktop-us-morning")
    unsigned["queryStringParameters"] = {"at": unsigned["queryStringParameters"]["at"]}
    unsigned["multiValueQueryStringParameters"] = {"at": [unsigned["queryStringParameters"]["at"]]}
    assert_problem(invoke(unsigned), 403)


def test_merge_values_are_bounded_but_not_signed(invoke: Invoke) -> None:
    # GIVEN the Gmail event with another recipient's merge values (the template signature still holds)
    event = load_event("gmail-proxy")
    for multi in (False, True):
        key = "multiValueQueryStringParameters" if multi else "queryStringParameters"
        value: Any = ["Søren"] if multi else "Søren"
        event[key]["first_name"] = value
    result = invoke(event)
    assert result.status == 200
    assert "X-Versa-Fallback" not in result.headers
    assert result.headers["ETag"] != invoke(load_event("gmail-proxy")).headers["ETag"]


def test_client_classification_of_the_email_events() -> None:
    from versa.context.clients import classify_client

    for name, client in (("gmail-proxy", EmailClient.gmail), ("apple-mpp-prefetch", EmailClient.apple_mpp),
                         ("outlook-mx-welcome", EmailClient.outlook), ("desktop-us-morning", EmailClient.browser)):
        headers = load_event(name)["headers"]
        assert classify_client(headers["User-Agent"], int(headers["CloudFront-Viewer-ASN"])) is client
        assert headers["x-versa-client"] == client.value
