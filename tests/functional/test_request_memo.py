"""The request memo answers a repeated image request without deciding it again, and changes nothing a
viewer, a CDN or an email proxy can see: every answer equals a memo-free service's answer to the same
request at the same instant (viewers whose attributes differ each get their own variant), `exp` is
still enforced, max-age is computed from the request's instant, a decision past its `valid_until` is
made again, and generated copy that arrives shows (a new ETag)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from services import TEST_KEYRING, RecordingMetrics, install, keyed_settings, signed_query
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.local_queue import InProcessQueue
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer, build_service
from versa.errors import SignatureExpired
from versa.ports import CopyItem, CopyStatus, GenerationQueue, GenerationRequest, OriginSecrets
from versa.render.checks import PACK_CHECKS
from versa.web import api
from versa.web.http import HttpResponse
from versa.web.request_memo import RequestMemo
from versa.web.server import to_event
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

PATH = "/v1/acme/winter-sale.png"
NOW = datetime(2026, 12, 1, 15, 0, 7, tzinfo=UTC)  # a Tuesday afternoon in UTC
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


def service(tmp_path: Path, name: str, **overrides: Any) -> tuple[RenderService, RecordingMetrics]:
    metrics = RecordingMetrics()
    svc = build_service(keyed_settings(tmp_path / name, memo_items=0, **overrides), metrics=metrics)
    return svc, metrics


def request(now: datetime, headers: dict[str, str] | None = None, *, expires: datetime | None = None,
            query: dict[str, str] | None = None) -> CreativeRequest:
    signed = signed_query(PATH, query, expires=expires)
    headers = {"user-agent": BROWSER, "cloudfront-viewer-country": "US",
               "cloudfront-viewer-time-zone": "UTC", **(headers or {})}
    return CreativeRequest("acme", "winter-sale", "png", headers, signed, now, path=PATH,
                           multi_query={k: [v] for k, v in signed.items()})


def generated(svc: RenderService, req: CreativeRequest) -> None:
    """Answer `req` once and let the in-process writer store its copy (the next answer uses it)."""
    svc.image(req)
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.drain()


def same(a: HttpResponse, b: HttpResponse) -> None:
    assert (a.status, a.content_type, a.headers) == (b.status, b.content_type, b.headers)
    assert a.body == b.body


VIEWERS: list[dict[str, str]] = [
    {},
    {"cloudfront-viewer-country": "DE"},
    {"cloudfront-viewer-country": "FR"},
    {"cloudfront-is-mobile-viewer": "true"},
    {"x-versa-device": "mobile"},
    {"x-versa-lang": "de"},
    {"accept-language": "fr-FR,fr;q=0.9"},
    {"x-versa-vb": "7"},
    {"x-versa-vb": "93"},
    {"x-versa-client": "gmail"},
    {"user-agent": GMAIL},
    {"cloudfront-viewer-time-zone": "Asia/Tokyo"},
]


def test_every_answer_equals_a_memo_free_services_and_repeats_are_hits(tmp_path: Path) -> None:
    # GIVEN a service with the request memo and one without, copy already written for each viewer
    memo, metrics = service(tmp_path, "memo")
    plain, _ = service(tmp_path, "plain", request_memo_items=0)
    assert memo.memo is not None and plain.memo is None
    for svc in (memo, plain):
        for viewer in VIEWERS:
            generated(svc, request(NOW, viewer))
    # WHEN every viewer asks twice, interleaved, a little later each time
    variants = set()
    for round_ in range(2):
        metrics.counts.clear()
        for i, viewer in enumerate(VIEWERS):
            at = NOW + timedelta(seconds=10 + 20 * round_ + i)
            got, want = memo.image(request(at, viewer)), plain.image(request(at, viewer))
            # THEN each answer is the memo-free one: same variant, bytes, ETag and Cache-Control
            same(got, want)
            assert got.status == 200 and "X-Versa-Copy" not in got.headers
            variants.add((got.headers["X-Versa-Variant"], got.headers["Cache-Control"]))
    # AND the viewers were told apart (the memo did not hand one viewer's answer to another)
    assert len({v for v, _ in variants}) >= 5
    # AND the whole second round came from the memo
    assert metrics.total("RequestMemoHits") == len(VIEWERS)


def test_a_hit_recomputes_max_age_and_answers_304_to_its_etag(tmp_path: Path) -> None:
    memo, metrics = service(tmp_path, "memo")
    plain, _ = service(tmp_path, "plain", request_memo_items=0)
    for svc in (memo, plain):
        generated(svc, request(NOW))
    first = memo.image(request(NOW))
    # WHEN the same request comes 90 s later, then with the ETag in If-None-Match
    later = memo.image(request(NOW + timedelta(seconds=90)))
    etag = later.headers["ETag"]
    revalidated = memo.image(request(NOW + timedelta(seconds=95), {"if-none-match": etag}))
    # THEN the later hit's max-age is what a fresh decision gives at that instant (the afternoon
    # daypart ends at a fixed hour, so it is 90 s shorter), and the 304 carries it too
    assert metrics.total("RequestMemoHits") == 2
    same(later, plain.image(request(NOW + timedelta(seconds=90))))
    assert first.headers["Cache-Control"] != later.headers["Cache-Control"]
    assert revalidated.status == 304 and revalidated.body == b""
    same(revalidated, plain.image(request(NOW + timedelta(seconds=95), {"if-none-match": etag})))


def test_a_hit_still_refuses_an_expired_signature_and_caps_max_age_by_exp(tmp_path: Path) -> None:
    memo, metrics = service(tmp_path, "memo")
    exp = NOW + timedelta(seconds=600)
    generated(memo, request(NOW, expires=exp))
    memo.image(request(NOW, expires=exp))
    # WHEN the link is asked for 500 s later (a hit), then at its expiry
    hit = memo.image(request(NOW + timedelta(seconds=500), expires=exp))
    assert metrics.total("RequestMemoHits") == 1
    # THEN the hit's lifetime ends by exp
    max_age = int(hit.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 100
    # AND at exp the browser is refused as without the memo
    with pytest.raises(SignatureExpired):
        memo.image(request(exp, expires=exp))
    # AND an email proxy gets the `expired` fallback, not the remembered image
    generated(memo, request(NOW, {"user-agent": GMAIL}, expires=exp))
    memo.image(request(NOW, {"user-agent": GMAIL}, expires=exp))
    late = memo.image(request(exp + timedelta(seconds=1), {"user-agent": GMAIL}, expires=exp))
    assert late.headers.get("X-Versa-Fallback") == "expired"


def test_a_decision_past_its_valid_until_is_made_again(tmp_path: Path) -> None:
    memo, metrics = service(tmp_path, "memo")
    plain, _ = service(tmp_path, "plain", request_memo_items=0)
    for svc in (memo, plain):
        generated(svc, request(NOW))
    afternoon = memo.image(request(NOW))
    metrics.counts.clear()
    memo.image(request(NOW + timedelta(seconds=1)))
    hits = metrics.total("RequestMemoHits")
    assert hits == 1
    # WHEN the same request comes in the evening (past the afternoon decision's valid_until)
    evening = NOW.replace(hour=19)
    for svc in (memo, plain):
        generated(svc, request(evening))
    got = memo.image(request(evening))
    # THEN it was decided again: the evening variant, as the memo-free service answers
    assert metrics.total("RequestMemoHits") == hits
    same(got, plain.image(request(evening)))
    assert got.headers["X-Versa-Variant"] != afternoon.headers["X-Versa-Variant"]


class HoldingQueue(GenerationQueue):
    """Keeps requests: a generator that has not run yet."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        self.requests.extend(requests)


def test_default_copy_is_not_remembered_so_generated_copy_shows_with_a_new_etag(tmp_path: Path) -> None:
    # GIVEN a service with the memo whose generator has not run
    settings = keyed_settings(tmp_path, memo_items=0)
    queue, metrics = HoldingQueue(), RecordingMetrics()
    memo = RenderService(
        DirectoryPackStore(settings.packs_dir, checks=PACK_CHECKS), SQLiteCopyStore(tmp_path / "copy.db"), queue,
        build_renderer(settings), TEST_KEYRING, config=ServiceConfig.from_settings(settings), metrics=metrics,
        memo=RequestMemo(64, 2**24, 60),
    )
    # WHEN a request renders the default copy twice, then the copy is written and the request comes again
    first = memo.image(request(NOW))
    again = memo.image(request(NOW + timedelta(seconds=1)))
    [pending] = queue.requests
    assert memo.copy.put_result(CopyItem(pending.key, CopyStatus.generated, "Fresh words for winter", brand="acme"))
    memo.copy_written(pending.key)
    after = memo.image(request(NOW + timedelta(seconds=2)))
    # THEN the default answers were never remembered, and the answer after the copy arrived has a new ETag
    assert first.headers.get("X-Versa-Copy") == again.headers.get("X-Versa-Copy") == "default"
    assert "X-Versa-Copy" not in after.headers
    assert after.headers["ETag"] != first.headers["ETag"]
    assert metrics.total("RequestMemoHits") == 0
    # AND that answer is remembered from then on
    assert memo.image(request(NOW + timedelta(seconds=3))).headers["ETag"] == after.headers["ETag"]
    assert metrics.total("RequestMemoHits") == 1


def test_entries_are_decided_again_after_their_lifetime_and_bounded() -> None:
    clock = [0.0]
    memo = RequestMemo(2, 10_000, 60, clock=lambda: clock[0])
    fields: dict[str, Any] = {
        "pack_version": "v1", "content_type": "image/png", "headers": {}, "etag": '"e"', "cache": None,
        "valid_until": None, "expires": None, "fixed_now": None, "proxy_refetch": False,
    }
    for key in ("a", "b", "c"):
        memo.put((key,), body=b"x" * 100, **fields)
    assert memo.get(("a",)) is None and memo.get(("c",)) is not None and len(memo) == 2
    clock[0] = 60.0
    assert memo.get(("c",)) is None
    memo.put(("big",), body=b"x" * 5000, **fields)  # raw + base64 over the byte bound: not kept
    assert memo.get(("big",)) is None


class FixedOrigin(OriginSecrets):
    def _fetch(self) -> str:
        return json.dumps({"current": "edge-secret-0123456789"})


def event_for(now_query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    target = PATH + "?" + urlencode(sorted(now_query.items()), quote_via=quote)
    return to_event("GET", target, [("User-Agent", BROWSER), *headers.items()], "130.176.212.71")


def test_the_handlers_fast_path_answers_exactly_as_the_router(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the handler on a service with the memo and an origin secret, copy already written
    svc, _ = service(tmp_path, "memo")
    svc.origin = FixedOrigin()
    install(svc, monkeypatch)
    query = signed_query(PATH, expires=datetime.now(UTC) + timedelta(hours=1))
    edge = {"x-versa-origin-secret": "edge-secret-0123456789", "CloudFront-Viewer-Country": "US"}
    api.handle(event_for(query, edge), None)
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.drain()
    routed = api.handle(event_for(query, edge), None)  # stored copy: remembered from here on
    assert routed["statusCode"] == 200, routed
    etag = routed["multiValueHeaders"]["ETag"][0]
    for headers in (edge, {**edge, "If-None-Match": etag}):
        # WHEN the same event goes through the fast path and through the router alone
        fast = api.remembered(event_for(query, headers))
        slow = api.app.resolve(event_for(query, headers), None)
        # THEN both give the same answer, body and headers
        assert fast is not None and fast["statusCode"] in (200, 304)
        assert {**fast, "multiValueHeaders": dict(fast["multiValueHeaders"])} == {
            **slow, "multiValueHeaders": dict(slow["multiValueHeaders"])}
    # AND without the origin secret, or with a wrong one, the fast path declines and the router refuses
    for headers in ({"CloudFront-Viewer-Country": "US"}, {**edge, "x-versa-origin-secret": "guess"}):
        assert api.remembered(event_for(query, headers)) is None
        assert api.handle(event_for(query, headers), None)["statusCode"] == 403
    # AND other routes and methods are never answered by it
    assert api.remembered({**event_for(query, edge), "httpMethod": "HEAD"}) is None
    assert api.remembered({**event_for(query, edge), "path": PATH.replace(".png", ".html")}) is None


def test_a_service_that_cannot_be_built_is_answered_by_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a composition root that fails (SSM unreachable at cold start, say)
    def broken() -> RenderService:
        raise RuntimeError("signing keys unavailable")

    monkeypatch.setattr(api, "_service", None)
    monkeypatch.setattr(api, "_factory", broken)
    query = signed_query(PATH)
    # WHEN an image request arrives, THEN the fast path steps aside and the router maps the error
    assert api.remembered(event_for(query, {})) is None
    assert api.handle(event_for(query, {}), None)["statusCode"] == 500
