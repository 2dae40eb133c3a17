"""Attacks on the failure contract, expiring links, render work and the smaller doors (issue 8, classes
3, 4, 5 and 7's unknown brands and methods).

The service is built by the real composition root over examples/packs with the test keyring; requests
go through `versa.web.api.lambda_handler` as API Gateway events (`versa.web.server.to_event`), or over
real HTTP to `versa.web.server`. Faults come from the real adapters: rows written into the real SQLite
file, items written into DynamoDB on the moto server, made-up brands asked of the directory and S3
stores. Where a fault cannot be caused from outside (an exception nobody expected), a subclass of the
real adapter raises it.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from PIL import Image

from services import TEST_KEYRING as KEYRING
from services import RecordingMetrics, in_process, install, keyed_settings, signed_query
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.dynamo_copy import DynamoCopyStore, create_table
from versa.adapters.local_queue import InProcessQueue
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.budget import run_with_deadline
from versa.composition import build_service
from versa.errors import RenderTimeout, UnknownBrand
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS
from versa.render.engine import Renderer
from versa.settings import Settings
from versa.signing.signer import verify
from versa.web import api
from versa.web import service as service_module
from versa.web.http import cap_lifetime
from versa.web.server import to_event
from versa.web.service import BLANK_PNG, RenderService

_DEFAULTS = Settings()
RENDERER_LIMITS: dict[str, Any] = {
    "memo_size": 0,
    "memo_bytes": 0,
    "max_output_bytes": _DEFAULTS.max_output_bytes,
    "max_work": _DEFAULTS.max_render_work,
}
"""A renderer with the settings' limits and no memo."""

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "examples" / "packs"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
AT = "2026-12-01T13:30:00Z"
LEAKS = ("Traceback", "Error", "Exception", "/work", "/tmp", "/etc", "/opt", ".py", "sqlite", "secret")
"""Strings that would show an exception type, message or internal path in a response body."""


# ------------------------------------------------------------------------------------ plumbing


@dataclass(frozen=True)
class Result:
    raw: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.raw["statusCode"])

    @property
    def headers(self) -> dict[str, str]:
        out = {k.lower(): str(v) for k, v in (self.raw.get("headers") or {}).items()}
        for name, values in (self.raw.get("multiValueHeaders") or {}).items():
            out[name.lower()] = str(values[-1])
        return out

    @property
    def body(self) -> bytes:
        body = self.raw.get("body") or ""
        return base64.b64decode(body) if self.raw.get("isBase64Encoded") else str(body).encode()

    def image(self) -> Image.Image:
        image = Image.open(io.BytesIO(self.body))
        image.load()
        return image


class Ctx:
    aws_request_id = "attack"
    function_name = "versa-render"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def signed(path: str, query: Mapping[str, str] | None = None, *, expires: datetime | None = None) -> str:
    return path + "?" + urlencode(sorted(signed_query(path, query, expires=expires).items()), quote_via=quote)


def call(target: str, ua: str = CHROME, **headers: str) -> Result:
    pairs = [("User-Agent", ua), ("Accept", "image/png,image/*"), *headers.items()]
    return Result(api.lambda_handler(to_event("GET", target, pairs, "203.0.113.9"), Ctx()))


@pytest.fixture
def svc(tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch) -> RenderService:
    """The service from the composition root (SQLite copy, directory packs), installed in the API."""
    return install(build_service(keyed_settings(tmp_path), metrics=metrics), monkeypatch)


def assert_clean_problem(result: Result, status: int) -> dict[str, Any]:
    assert result.status == status, result.body[:300]
    assert result.headers["content-type"] == "application/problem+json"
    text = result.body.decode()
    for leak in LEAKS:
        assert leak not in text, (leak, text)
    doc = json.loads(text)
    assert doc["status"] == status
    return dict(doc)


def assert_image(result: Result, reason: str | None = None) -> Image.Image:
    assert result.status == 200, result.body[:300]
    assert result.headers["content-type"].startswith("image/")
    if reason is not None:
        assert result.headers.get("x-versa-fallback") == reason, result.headers
    return result.image()


def lifetime(cache_control: str) -> int:
    """The longest a cache may serve a response: max(max-age, s-maxage) + the larger stale allowance."""
    found = {k: int(v) for k, v in re.findall(r"([a-z-]+)=(\d+)", cache_control)}
    fresh = max(found.get("max-age", 0), found.get("s-maxage", 0))
    return fresh + max(found.get("stale-while-revalidate", 0), found.get("stale-if-error", 0))


def sqlite_rows(tmp: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp / "state" / "copy.sqlite3", isolation_level=None)


# ------------------------------------------------------------------ class 3: total failure contract


WINTER = "/v1/acme/winter-sale.png"


@pytest.mark.parametrize(
    "column, value",
    [("status", "hacked"), ("meta", "{not json"), ("expires_at", "soon"), ("version", "x")],
)
def test_malformed_sqlite_copy_item_is_missing_not_a_500(
    svc: RenderService, metrics: RecordingMetrics, tmp_path: Path, column: str, value: str
) -> None:
    """Malformed SQLite copy row (bad status, unparsable meta, wrong types) → image renders with defaults for browser and Gmail, CopyMalformed counted."""
    # GIVEN copy rows that a first request leased and generated, then corrupted in the real file
    target = signed(WINTER, {"at": AT})
    assert call(target).status == 200
    assert isinstance(svc.queue, InProcessQueue) and svc.queue.drain()  # the worker wrote the copy
    with sqlite_rows(tmp_path) as db:
        changed = db.execute(f"UPDATE copy_items SET {column} = ?", (value,)).rowcount
    assert changed >= 1
    # WHEN a browser and Gmail's proxy ask for a fresh render
    for ua, width in ((CHROME, "300"), (GMAIL, "1200")):
        result = call(signed(WINTER, {"at": AT, "w": width}), ua)
        # THEN both get the real image (copy defaults), and the bad items were counted
        image = assert_image(result)
        assert "x-versa-fallback" not in result.headers
        assert image.size[0] == int(width)
        assert result.headers.get("x-versa-copy") == "default"
    # (once: the first miss leaves the key pending in this process, so the second reads no store)
    assert metrics.total("CopyMalformed") == 1


def test_malformed_dynamodb_copy_items_count_as_missing(
    tmp_path: Path, metrics: RecordingMetrics, moto_endpoint: str, dynamodb_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Malformed DynamoDB copy items (moto: bad status, meta not JSON, text not a string) → each is missing, the rest still read, the image renders."""
    # GIVEN the composition root on DynamoDB (moto), and the copy items a first request wrote
    table = f"copy-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_client, table)
    svc = install(build_service(keyed_settings(tmp_path, copy_table=table, aws_endpoint_url=moto_endpoint),
                                metrics=metrics), monkeypatch)
    assert isinstance(svc.copy, DynamoCopyStore)
    assert call(signed(WINTER, {"at": AT})).status == 200
    assert isinstance(svc.queue, InProcessQueue) and svc.queue.drain()  # the worker wrote the copy
    (stored,) = dynamodb_client.scan(TableName=table)["Items"]
    assert stored["status"]["S"] != "pending"
    real = stored["pk"]["S"]
    damages = [
        {"status": {"S": "hacked"}},
        {"meta": {"S": "{not json"}},
        {"text": {"N": "12"}},
        {"version": {"S": "one"}},
    ]
    dynamodb_client.put_item(TableName=table, Item={**stored, **damages[0]})
    for i, damage in enumerate(damages[1:]):
        dynamodb_client.put_item(TableName=table, Item={**stored, "pk": {"S": f"bad-{i}"}, **damage})
    dynamodb_client.put_item(TableName=table, Item={**stored, "pk": {"S": "good"}})
    damaged = [real] + [f"bad-{i}" for i in range(len(damages) - 1)]
    # WHEN the store is read directly and through the image route
    malformed: list[str] = []
    found = svc.copy.get_many([*damaged, "good"], now=datetime.now(UTC), malformed=malformed)
    result = call(signed(WINTER, {"at": AT, "w": "300"}), GMAIL)
    # THEN the damaged items are missing and reported, the good one read, and the image rendered
    assert sorted(malformed) == sorted(damaged)
    assert set(found) == {"good"}
    assert_image(result)
    assert "x-versa-fallback" not in result.headers
    assert metrics.total("CopyMalformed") >= 1


class ExplodingPacks(DirectoryPackStore):
    """The directory store, failing with an exception nobody expected (carrying an internal path)."""

    def current(self, brand: str) -> Pack:
        raise KeyError("/opt/versa/secret/packs/acme/pack.yaml")


class ExplodingCopy(SQLiteCopyStore):
    """The SQLite store, failing with an exception nobody expected."""

    def _get_batch(self, keys: Any) -> Any:
        raise ZeroDivisionError("/tmp/secret/copy.sqlite3")


class ExplodingRenderer(Renderer):
    """The renderer, failing with an exception nobody expected."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        raise AttributeError("'NoneType' object has no attribute 'secret' in /opt/versa/render.py")


def test_unexpected_pack_store_exception_gives_proxy_an_image_and_browser_a_bare_problem(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pack store raises an unexpected exception → Gmail gets a 200 image with X-Versa-Fallback; a browser's decision route gets a 500 problem with no type, message or path."""
    # GIVEN a service whose pack store raises KeyError with an internal path
    svc = build_service(keyed_settings(tmp_path), metrics=metrics)
    svc.packs = ExplodingPacks(PACKS, checks=PACK_CHECKS)
    install(svc, monkeypatch)
    # WHEN Gmail and a browser ask for the image, and a browser for a JSON route
    proxied = call(signed(WINTER, {"at": AT}), GMAIL)
    browser = call(signed(WINTER, {"at": AT}), CHROME)
    decision = call(signed("/v1/acme/winter-sale/decision", {"at": AT}), CHROME)
    # THEN the image clients get an image (a blank: no pack, no creative fallback) and the JSON client
    # a 500 that says nothing of the exception
    assert assert_image(proxied, "pack-error").size == (1, 1)
    assert_image(browser, "pack-error")
    doc = assert_clean_problem(decision, 500)
    assert decision.headers["cache-control"] == "no-store"
    assert "KeyError" not in json.dumps(doc)


def test_unexpected_copy_store_exception_renders_the_defaults(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copy store raises an unexpected exception → the image renders with the slots' defaults (200, X-Versa-Copy: default)."""
    svc = build_service(keyed_settings(tmp_path), metrics=metrics)
    svc.copy = ExplodingCopy(tmp_path / "other.sqlite3")
    install(svc, monkeypatch)
    for ua in (CHROME, GMAIL):
        result = call(signed(WINTER, {"at": AT}), ua)
        assert_image(result)
        assert result.headers.get("x-versa-copy") == "default"
    assert metrics.total("CopyStoreErrors") == 2


def test_unexpected_renderer_exception_serves_the_creative_fallback(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renderer raises an unexpected exception → browser and Gmail get the creative's fallback image (200, render-error), no detail."""
    svc = build_service(keyed_settings(tmp_path), metrics=metrics)
    good = svc.renderer
    bad = ExplodingRenderer(**RENDERER_LIMITS)
    bad.render_fallback = good.render_fallback  # type: ignore[method-assign]
    svc.renderer = bad
    install(svc, monkeypatch)
    fallback = (PACKS / "acme" / "assets" / "fallback-winter-sale.png").read_bytes()
    for ua in (CHROME, GMAIL):
        result = call(signed(WINTER, {"at": AT}), ua)
        assert_image(result, "render-error")
        assert result.body == fallback


def test_unexpected_failure_before_the_render_still_answers_a_proxy_with_an_image(
    svc: RenderService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception nobody expected while resolving the context → Gmail gets the creative's fallback (200, internal); a browser a bare 500."""
    # GIVEN context resolution that fails in a way no handler names
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("/opt/versa/context/resolve.py line 1")

    monkeypatch.setattr(service_module, "resolve", broken)
    # WHEN Gmail and a browser ask
    proxied = call(signed(WINTER, {"at": AT}), GMAIL)
    browser = call(signed(WINTER, {"at": AT}), CHROME)
    # THEN the proxy gets an image, the browser a problem that says nothing of it
    assert_image(proxied, "internal")
    assert proxied.body == (PACKS / "acme" / "assets" / "fallback-winter-sale.png").read_bytes()
    assert_clean_problem(browser, 500)


@pytest.mark.parametrize(
    "path",
    ["/v1//acme/winter-sale.png", "/v1/acme/winter-sale/extra.png", "/V1/acme/winter-sale.png",
     "/v2/acme/winter-sale.gif", "/images/logo.JPG", "/v1/acme/winter-sale/a/b", "/v1/acme/x/y/z.webp"],
)
def test_unroutable_image_path_gets_a_neutral_image(svc: RenderService, metrics: RecordingMetrics, path: str) -> None:
    """Unroutable image-looking path (empty segment, extra segment, /V1, unknown prefix) → neutral 1x1 image, X-Versa-Fallback: not-found, metric; never a brand's fallback."""
    for ua in (GMAIL, CHROME):
        result = call(path, ua)
        if not path.rsplit("/", 1)[-1].count("."):  # not image-looking: a plain 404 problem
            assert_clean_problem(result, 404)
            continue
        assert_image(result, "not-found")
        assert result.body == BLANK_PNG
    if path.rsplit("/", 1)[-1].count("."):
        assert metrics.reasons().count("not-found") == 2


@pytest.mark.parametrize(
    "target",
    [
        "/v1/acme/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/decision",
        "/v1/acme/%3Cscript%3Ealert(1)%3E.png",
        "/v1/%3Cb%3Ebrand%3C%2Fb%3E/winter-sale/click",
        "/v1/acme/winter-sale.png?dpr=%3Csvg%2Fonload%3Dalert(1)%3E",
        "/nowhere/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
)
def test_problem_detail_never_echoes_markup(tmp_path: Path, metrics: RecordingMetrics,
                                            monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Markup in a path segment or parameter → the problem document names the error without echoing any tag."""
    # GIVEN signatures off, so a bad parameter reaches the parameter checks
    install(build_service(keyed_settings(tmp_path, require_signature=False), metrics=metrics), monkeypatch)
    # WHEN a browser sends markup
    result = call(target, CHROME)
    # THEN a clean 4xx problem, with no tag in it
    assert 400 <= result.status < 500, result.status
    assert result.headers["content-type"] == "application/problem+json"
    text = result.body.decode()
    assert not re.search(r"<\s*[a-zA-Z/!?]", text), text
    assert json.loads(text)["detail"]


def test_local_server_last_resort_reveals_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler that raises past every mapping, behind versa serve → 500 problem without the exception's type, message or path."""
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise OSError("/etc/versa/secret-key.json: permission denied")

    with in_process(handler) as server:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        conn.request("GET", "/v1/acme/winter-sale.png")
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
    assert resp.status == 500
    for leak in LEAKS:
        assert leak not in body, (leak, body)


# ------------------------------------------------------------------------ class 4: expiring links


@pytest.mark.parametrize("seconds", [30, 3, 0])
def test_short_lived_signature_caps_every_cache_lifetime(svc: RenderService, seconds: int) -> None:
    """URL signed to expire in N seconds → max-age/s-maxage + stale allowance <= N on the 200, the 304, a proxy's fallback and a browser's 400."""
    # GIVEN a URL that expires `seconds` from now (the packs' max-age is a day, stale-if-error a day)
    now = datetime.now(UTC).replace(microsecond=0)
    target = signed(WINTER, {"at": AT}, expires=now + timedelta(seconds=seconds + 1))
    bad_width = signed(WINTER, {"at": AT, "w": "333"}, expires=now + timedelta(seconds=seconds + 1))
    # WHEN the image, its revalidation and a proxy's fallback (a width the creative does not allow) are fetched
    first = call(target)
    if seconds == 0:
        return  # expires before the request: covered by the expired-link behaviour
    revalidated = call(target, **{"If-None-Match": first.headers["etag"]})
    fallback = call(bad_width, GMAIL)
    refused = call(bad_width, CHROME)
    # THEN no cache may keep any of them past the expiry (the browser's 400 problem included)
    assert first.status == 200 and revalidated.status == 304
    assert fallback.headers.get("x-versa-fallback") == "bad-request"
    assert refused.status == 400
    for result in (first, revalidated, fallback, refused):
        assert lifetime(result.headers["cache-control"]) <= seconds + 1, result.headers["cache-control"]


@pytest.mark.parametrize("exp", ["%C2%B9", "%D9%A1%D9%A2", "%E2%91%A0"])
@pytest.mark.parametrize("ua", [CHROME, GMAIL])
def test_non_ascii_digit_expiry_is_refused_not_a_500(svc: RenderService, exp: str, ua: str) -> None:
    """`exp` of Unicode digits ('¹', Arabic-Indic, '①': isdigit() but not unix seconds) → the unsigned-request answer, never a 500."""
    # GIVEN an image URL whose exp is made of characters Python calls digits but int() may refuse
    # WHEN a browser and an email proxy fetch it, with and without a signature made for another exp
    forged = call(f"{WINTER}?at={AT}&exp={exp}", ua)
    now = datetime.now(UTC).replace(microsecond=0)
    resigned = call(signed(WINTER, {"at": AT}, expires=now + timedelta(hours=1)).replace("exp=", f"exp={exp}"), ua)
    # THEN both are refused as any bad signature is: a problem for the browser, an image for the proxy
    for result in (forged, resigned):
        assert result.status != 500
        if ua == CHROME:
            assert_clean_problem(result, result.status)
            assert 400 <= result.status < 500
        else:
            assert result.headers["content-type"].startswith("image/")


def test_cap_lifetime_bounds_every_directive() -> None:
    """Cache-Control from any path (fresh, stale-while-revalidate, stale-if-error) vs remaining lifetime → each sum fits, nothing negative."""
    header = "public, max-age=86400, s-maxage=86400, stale-while-revalidate=3600, stale-if-error=86400"
    for remaining in (-5, 0, 1, 30, 3599, 86400, 90000, 10**7):
        capped = cap_lifetime(header, remaining)
        assert lifetime(capped) <= max(0, remaining), (remaining, capped)
        assert capped.startswith("public, max-age=")
        assert "-" not in re.sub(r"[a-z]+-[a-z-]+", "", capped)
    assert cap_lifetime("no-cache, max-age=0", 5) == "no-cache, max-age=0"


def test_html_page_derived_urls_carry_the_page_expiry(svc: RenderService) -> None:
    """HTML page signed to expire → every image, srcset and click URL it derives carries that exp (verifiable), and the page's own caching ends by it."""
    # GIVEN a page URL that expires in ten minutes
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(minutes=10)
    result = call(signed("/v1/acme/winter-sale.html", {"at": AT}, expires=expires), CHROME)
    assert result.status == 200, result.body[:300]
    html = result.body.decode()
    # WHEN every URL in the page is collected
    urls = {u.replace("&amp;", "&") for u in re.findall(r'(?:src|href)="([^"]+)"', html)}
    urls |= {u.replace("&amp;", "&") for u in re.findall(r'(/v1/[^" ,]+)\s+\d+w', html)}
    derived = [u for u in urls if "/v1/" in u]
    assert derived, html[:500]
    # THEN each carries an expiry no later than the page's, and verifies
    for url in derived:
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        assert "exp" in query, url
        assert int(query["exp"][0]) <= int(expires.timestamp()), url
        info = verify(parts.path, query, KEYRING, now=now)
        assert info.expires is not None and info.expires <= expires
    assert lifetime(result.headers["cache-control"]) <= 600


# --------------------------------------------------------------------------- class 5: render work


COUNTDOWN = "/v1/northwind/cyber-week.gif"


def test_render_over_the_work_bound_is_refused_before_drawing(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Animated GIF whose pixels x frames exceed max_render_work → browser 400 naming dpr, Gmail the fallback; no render counted."""
    # GIVEN a work bound below the countdown's 1200x480 x 30 frames at dpr 2 (17.3 million)
    install(build_service(keyed_settings(tmp_path, max_render_work=10_000_000), metrics=metrics), monkeypatch)
    target = signed(COUNTDOWN, {"at": AT, "dpr": "2"})
    # WHEN a browser and Gmail ask for it
    browser = call(target, CHROME)
    proxied = call(target, GMAIL)
    # THEN refused before any drawing
    doc = assert_clean_problem(browser, 400)
    assert doc["parameter"] == "dpr" and "frames" in doc["detail"]
    assert_image(proxied, "bad-request")
    assert metrics.total("Renders") == 0
    # AND within the bound it renders (the static PNG of the same size is 20x less work)
    assert_image(call(signed("/v1/northwind/cyber-week.png", {"at": AT, "dpr": "2"}), CHROME))


class SpyRenderer(Renderer):
    """The real renderer, recording how each render ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended: list[str] = []
        self.done = threading.Event()

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            rendered = super().render(*args, **kwargs)
        except BaseException as exc:
            self.ended.append(type(exc).__name__)
            raise
        finally:
            self.done.set()
        self.ended.append("finished")
        return rendered


def test_abandoned_render_stops_inside_the_frame_loop(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Animated render over its time budget → the fallback is served and the render itself stops (RenderTimeout), not run to the end."""
    # GIVEN a 1 ms render budget
    svc = build_service(keyed_settings(tmp_path, render_budget_ms=1), metrics=metrics)
    spy = SpyRenderer(**RENDERER_LIMITS)
    svc.renderer = spy
    install(svc, monkeypatch)
    # WHEN a browser asks for the 30-frame countdown
    result = call(signed(COUNTDOWN, {"at": AT, "dpr": "2"}), CHROME)
    # THEN the fallback answered, and once the pool has drained the render never ran to its end: it
    # stopped at a deadline check (or, if it had not started yet, never started)
    assert_image(result, "render-timeout")
    drained = threading.Event()
    for _ in range(300):
        if svc._in_flight == 0:
            drained.set()
            break
        drained.wait(0.1)
    assert drained.is_set()
    assert spy.ended in ([], ["RenderTimeout"])


def test_deadline_check_stops_a_countdown_between_frames() -> None:
    """A countdown render with a deadline already passed → RenderTimeout at the first check, no GIF produced."""
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.pack.loader import load_pack

    pack = load_pack(PACKS / "northwind", checks=PACK_CHECKS)
    now = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    ctx = resolve({}, {}, now, context_options(pack.model, "cyber-week", signed_names=frozenset()))
    decision = decide(pack.model, "cyber-week", ctx)
    renderer = Renderer(**RENDERER_LIMITS)
    kwargs: dict[str, Any] = dict(texts={}, params=ctx.params, fmt="gif", width=None, dpr=1.0, now=now, tz="UTC")
    assert renderer.render(pack, decision, **kwargs).frames > 1  # without a deadline: animated
    with pytest.raises(RenderTimeout):
        run_with_deadline(0.0, renderer.render, pack, decision, **kwargs)


def test_countdown_frame_loop_checks_the_deadline_every_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadline that passes in the middle of a 30-frame countdown → the loop stops at the next frame, the rest never drawn."""
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.pack.loader import load_pack
    from versa.render import countdown

    pack = load_pack(PACKS / "northwind", checks=PACK_CHECKS)
    now = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    ctx = resolve({}, {}, now, context_options(pack.model, "cyber-week", signed_names=frozenset()))
    decision = decide(pack.model, "cyber-week", ctx)
    # GIVEN a clock that passes the deadline at the loop's fifth check
    checks: list[int] = []

    def deadline_after_five() -> None:
        checks.append(1)
        if len(checks) >= 5:
            raise RenderTimeout("deadline passed")

    monkeypatch.setattr(countdown, "check_deadline", deadline_after_five)
    # WHEN the countdown animates
    with pytest.raises(RenderTimeout):
        Renderer(**RENDERER_LIMITS).render(pack, decision, texts={}, params=ctx.params, fmt="gif", width=None,
                                     dpr=1.0, now=now, tz="UTC")
    # THEN it stopped there: five checks, not one per frame of the 30
    assert len(checks) == 5


class BlockingRenderer(Renderer):
    """The real renderer, each render waiting until `release` is set (a saturated pool on demand)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        self.started.release()
        self.release.wait(30)
        return super().render(*args, **kwargs)


def test_saturated_render_pool_sheds_load(
    tmp_path: Path, metrics: RecordingMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every render worker busy and no queue room → browser 503 with Retry-After (no-store), Gmail the fallback (overloaded); work resumes after."""
    # GIVEN no queue room and both workers held by slow renders
    svc = build_service(keyed_settings(tmp_path, render_queue=0, render_budget_ms=20_000), metrics=metrics)
    blocking = BlockingRenderer(**RENDERER_LIMITS)
    blocking.render_fallback = svc.renderer.render_fallback  # type: ignore[method-assign]
    svc.renderer = blocking
    install(svc, monkeypatch)
    held = [threading.Thread(target=call, args=(signed(WINTER, {"at": AT, "w": w}),)) for w in ("300", "600")]
    for t in held:
        t.start()
    assert blocking.started.acquire(timeout=30) and blocking.started.acquire(timeout=30)
    try:
        # WHEN a third request arrives from a browser and from Gmail
        browser = call(signed(WINTER, {"at": AT, "w": "1200"}), CHROME)
        proxied = call(signed(WINTER, {"at": AT, "w": "1200"}), GMAIL)
    finally:
        blocking.release.set()
        for t in held:
            t.join(30)
    # THEN shed, each the safe way
    assert_clean_problem(browser, 503)
    assert browser.headers["retry-after"].isdigit() and browser.headers["cache-control"] == "no-store"
    assert_image(proxied, "overloaded")
    assert metrics.total("Shed") == 2
    # AND once the pool drains, renders run again
    assert_image(call(signed(WINTER, {"at": AT, "w": "1200"}), CHROME))
    assert "x-versa-fallback" not in call(signed(WINTER, {"at": AT, "w": "1200"}), CHROME).headers


def test_memo_byte_bound_holds_under_many_distinct_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many distinct renders against a small memo byte bound → the memo never holds more bytes than its bound."""
    svc = install(build_service(keyed_settings(tmp_path, memo_bytes=200_000)), monkeypatch)
    assert isinstance(svc.renderer, Renderer)
    for i in range(8):
        assert call(signed(WINTER, {"at": f"2026-12-0{1 + i % 7}T13:3{i}:00Z", "w": "1200"})).status == 200
        assert svc.renderer._memo.weight <= 200_000
    assert svc.renderer.memo_entries >= 1


# ------------------------------------------------------------------- class 7: unknown brands, methods


class CountingPacks(DirectoryPackStore):
    """The directory store, counting lookups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookups = 0

    def current(self, brand: str) -> Pack:
        self.lookups += 1
        return super().current(brand)


def test_unknown_brand_is_negatively_cached_in_a_bounded_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repeated and made-up brand names → one storage lookup per name per interval, and the remembered-name table stays bounded."""
    svc = build_service(keyed_settings(tmp_path))
    packs = CountingPacks(PACKS, checks=PACK_CHECKS)
    svc.packs = packs
    install(svc, monkeypatch)
    # WHEN one made-up brand is asked 50 times (browser and proxy)
    for i in range(50):
        result = call(signed("/v1/no-such-brand/x.png"), GMAIL if i % 2 else CHROME)
        assert result.status in (200, 404)
    # THEN the store was asked once
    assert packs.lookups == 1
    # AND many distinct names keep the table bounded
    monkeypatch.setattr(service_module, "MAX_UNKNOWN_BRANDS", 16)
    for i in range(100):
        call(signed(f"/v1/made-up-{i}/x.png"), GMAIL)
    assert len(svc._unknown) <= 16


def test_s3_store_lock_table_stays_bounded_under_made_up_brands(
    s3_client: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made-up brands against the S3 pack store (moto) → UnknownBrand each, the per-brand lock table stays bounded."""
    from versa.adapters import s3_packs

    monkeypatch.setattr(s3_packs, "MAX_BRAND_LOCKS", 8)
    store = s3_packs.S3PackStore(s3_bucket, client=s3_client, cache_dir=Path("/nonexistent-unused"), checks=PACK_CHECKS)
    for i in range(30):
        with pytest.raises(UnknownBrand):
            store.current(f"ghost-{i}")
        assert len(store._brand_locks) <= 8


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"])
def test_local_server_answers_unrouted_methods_405_with_allow(svc: RenderService, method: str) -> None:
    """Unrouted HTTP method against versa serve → 405 with Allow: GET, HEAD (not 501)."""
    with in_process(api.lambda_handler) as server:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        conn.request(method, "/v1/acme/winter-sale.png", body=b"x" if method in ("POST", "PUT") else None)
        resp = conn.getresponse()
        resp.read()
        conn.close()
    assert resp.status == 405
    assert resp.getheader("Allow") == "GET, HEAD"

