"""The request path's arm: the render service reads the (cached) allocation snapshot, maps the visitor
bucket and segment to an arm, hands it to `decide`, caps the response's lifetime at the snapshot's
`valid_until`; without a bucket or a snapshot no arm is shown and the trace says why; clicks are
credited to the arm the click URL carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.ports import NullQueue
from versa.relevance import arm_id, policy_for
from versa.relevance.buckets import BUCKETS
from versa.relevance.serving import NO_BUCKET, NO_SNAPSHOT, STORE_DOWN, choose_arms, clicked, parse_pins
from versa.relevance.snapshot import AllocationSnapshot
from versa.relevance.store import MemoryRelevanceStore, scope_of
from versa.render.checks import PACK_CHECKS
from versa.render.html import HtmlPages
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.allocations import CachedSnapshots
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

KEYS = Keyring({"k1": b"k" * 32}, "k1")
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"}
PACK = """
brand: optco
locales: [en]
default_tz: UTC
tokens:
  colors: {paper: "#ffffff", ink: "#111111"}
  fonts: {display: sans-bold}
creatives:
  hero:
    size: [120, 60]
    link: https://example.com/
    template: hero.html
    layers:
      - {type: background, fill: paper}
      - {type: text, slot: cta, box: [10, 20, 100, 20], font: display, size: 12, color: ink}
    copy:
      cta: {default: "Shop now"}
    rules:
      - id: paper-test
        optimize: clicks
        learn_by: [device]
        min_sample: 10
        reallocate: 15m
        arms:
          - {id: white}
          - {id: grey, set: {tokens.colors.paper: "#dddddd"}}
"""


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    root = tmp_path / "packs" / "optco"
    (root / "templates").mkdir(parents=True)
    (root / "pack.yaml").write_text(PACK, encoding="utf-8")
    (root / "templates" / "hero.html").write_text('<a href="{{ click_url }}">{{ img() }}</a>', encoding="utf-8")
    return tmp_path / "packs"


def _service(packs: Path, tmp: Path, store: MemoryRelevanceStore | None, *, ttl: float = 60.0,
             clock: list[float] | None = None) -> RenderService:
    reader = None
    if store is not None:
        reader = CachedSnapshots(store.snapshot, ttl, clock=(lambda: clock[0]) if clock else (lambda: 0.0))
    return RenderService(
        DirectoryPackStore(packs, checks=PACK_CHECKS), SQLiteCopyStore(tmp / "copy.db"), NullQueue(),
        build_renderer(Settings(memo_items=0)), KEYS,
        config=ServiceConfig.from_settings(Settings(require_signature=False)), html=HtmlPages(KEYS),
        allocations=reader, credit=store.add if store else None, impressions=store.add if store else None,
    )


def _snapshot(service: RenderService, *, grey_from: int, valid: timedelta = timedelta(minutes=15),
              epoch: int = 1) -> AllocationSnapshot:
    """Buckets grey_from..99 show grey, the rest white; holdout buckets 0..9 (as the table says)."""
    rule = service.current_pack("optco").model.creative("hero").rules[0]
    white, grey = policy_for(rule).arms
    table = tuple(white if b < grey_from else grey for b in range(BUCKETS))
    return AllocationSnapshot("paper-test", epoch, NOW + valid, (white, grey), frozenset(range(10)), {"*": table})


def _req(ext: str, query: dict[str, str], headers: dict[str, str] | None = None) -> CreativeRequest:
    path = "/v1/optco/hero/click" if ext == "click" else f"/v1/optco/hero.{ext}"
    return CreativeRequest("optco", "hero", ext, {**BROWSER, **(headers or {})}, query, NOW, path=path)


def _trace(service: RenderService, query: dict[str, str]) -> str:
    _, _, _, decision, _, _ = service._decided(_req("png", query))
    [rule] = [t for t in decision.trace if t.rule == "paper-test"]
    return rule.reason


def test_the_same_bucket_always_gets_the_same_arm_and_the_table_decides_it(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    scope = scope_of("optco", "hero", "paper-test")
    store.put_snapshot(scope, _snapshot(service, grey_from=60))
    seen: dict[int, str] = {}
    for bucket in range(BUCKETS):
        for _ in range(2):
            resp = service.image(_req("png", {}, {"x-versa-vb": str(bucket)}))
            assert resp.status == 200
            arm = resp.headers["X-Versa-Arm"].split(":")[1]
            assert seen.setdefault(bucket, arm) == arm  # same bucket, same arm
    assert {b for b, a in seen.items() if arm_id(a) == "grey"} == set(range(60, 100))
    # the arm shows (a different design, so a different cache key and ETag), and the trace names it
    white = service.image(_req("png", {}, {"x-versa-vb": "5"}))
    grey = service.image(_req("png", {}, {"x-versa-vb": "95"}))
    assert white.headers["X-Versa-Variant"] != grey.headers["X-Versa-Variant"]
    assert white.headers["ETag"] != grey.headers["ETag"] and white.body != grey.body
    assert _trace(service, {"vid": "visitor-1"}).endswith(("; arm white", "; arm grey"))


def test_no_bucket_or_no_snapshot_shows_no_arm_and_the_trace_says_why(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    # no snapshot yet
    assert _trace(service, {"vid": "visitor-1"}).endswith(f"; no arm: {NO_SNAPSHOT}")
    resp = service.image(_req("png", {}, {"x-versa-vb": "3"}))
    assert "X-Versa-Arm" not in resp.headers
    # a snapshot, but no visitor id
    store.put_snapshot(scope_of("optco", "hero", "paper-test"), _snapshot(service, grey_from=0))
    service = _service(packs, tmp_path, store)
    assert _trace(service, {}).endswith(f"; no arm: {NO_BUCKET}")
    assert "X-Versa-Arm" not in service.image(_req("png", {})).headers
    # and neither is counted as an impression of any arm
    assert list(store.counters(scope_of("optco", "hero", "paper-test")).items()) == []


def test_max_age_ends_by_the_snapshots_valid_until(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    store.put_snapshot(scope_of("optco", "hero", "paper-test"), _snapshot(service, grey_from=50, valid=timedelta(seconds=90)))
    without = service.image(_req("png", {}))  # no bucket: the pack's own max-age
    shown = service.image(_req("png", {}, {"x-versa-vb": "70"}))
    assert "max-age=86400" in without.headers["Cache-Control"]
    assert "max-age=90" in shown.headers["Cache-Control"], shown.headers["Cache-Control"]
    page = service.page(_req("html", {"vid": "visitor-1"}))
    assert "max-age=90" in page.headers["Cache-Control"]


def test_the_snapshot_is_read_once_per_ttl(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    clock = [0.0]
    reads: list[int | None] = []

    def read(scope: str, epoch: int | None) -> AllocationSnapshot | None:
        reads.append(epoch)
        return store.snapshot(scope, epoch)

    cached = CachedSnapshots(read, 60, clock=lambda: clock[0])
    scope = scope_of("optco", "hero", "paper-test")
    assert cached(scope, None) is None and cached(scope, None) is None and len(reads) == 1
    service = _service(packs, tmp_path, store)
    store.put_snapshot(scope, _snapshot(service, grey_from=50))
    clock[0] = 59.0
    assert cached(scope, None) is None  # still the cached "none yet"
    clock[0] = 61.0
    snap = cached(scope, None)
    assert snap is not None and snap.epoch == 1 and len(reads) == 2



def test_a_failing_store_shows_no_arm_says_so_and_is_asked_once_per_ttl(packs: Path, tmp_path: Path) -> None:
    calls = []

    def broken(scope: str, epoch: int | None) -> AllocationSnapshot | None:
        calls.append(scope)
        raise OSError("disk gone")

    service = _service(packs, tmp_path, None)
    service.allocations = CachedSnapshots(broken, 60, clock=lambda: 0.0)
    for _ in range(3):
        resp = service.image(_req("png", {}, {"x-versa-vb": "42"}))
        assert resp.status == 200 and "X-Versa-Arm" not in resp.headers
    assert _trace(service, {"vid": "visitor-1"}).endswith(f"; no arm: {STORE_DOWN}")
    assert len(calls) == 1


def test_a_page_click_credits_the_arm_it_showed_and_bots_credit_nothing(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    scope = scope_of("optco", "hero", "paper-test")
    store.put_snapshot(scope, _snapshot(service, grey_from=50))
    page = service.page(_req("html", {}, {"x-versa-vb": "80"}))  # a grey bucket, optimized group
    href = page.body.decode().split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    query = dict(parse_qsl(urlsplit(href).query, keep_blank_values=True))
    assert query["arm"].startswith("paper-test:grey~") and query["arm"].endswith(":1:o")
    # the page's image URL carries vid (blank: the edge fills the bucket), so the image gets the same arm
    src = page.body.decode().split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(src).query, keep_blank_values=True))["vid"] == ""
    # a bot following the link, then the reader (with another bucket: the URL decides, not the bucket)
    bot = service.click(_req("click", query, {"user-agent": "curl/8.5.0"}))
    assert bot.status == 302 and list(store.counters(scope).items()) == []
    resp = service.click(_req("click", query, {"x-versa-vb": "3"}))
    assert resp.status == 302
    [(key, impressions, clicks)] = list(store.counters(scope).items())
    assert (key[0], arm_id(key[1]), key[2], impressions, clicks) == ("device=desktop", "grey", "optimized", 0, 1)


def test_an_email_send_pins_its_epoch_for_the_image_and_the_click(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    scope = scope_of("optco", "hero", "paper-test")
    store.put_snapshot(scope, _snapshot(service, grey_from=100, epoch=1))  # all white at send time
    store.put_snapshot(scope, _snapshot(service, grey_from=0, epoch=2))  # all grey since
    pinned = service.image(_req("png", {"send": "1"}, {"x-versa-vb": "40"}))
    latest = service.image(_req("png", {}, {"x-versa-vb": "40"}))
    assert pinned.headers["X-Versa-Arm"].split(":")[1].startswith("white~")
    assert latest.headers["X-Versa-Arm"].split(":")[1].startswith("grey~")
    assert "max-age=86400" in pinned.headers["Cache-Control"]  # a pinned epoch never changes
    before = store.counters(scope).arm("device=desktop", policy_for(_rule(service)).arms[0]).clicks
    service.click(_req("click", {"send": "1"}, {"x-versa-vb": "40"}))
    after = store.counters(scope).arm("device=desktop", policy_for(_rule(service)).arms[0]).clicks
    assert after == before + 1
    # an unpinned email click (no send, no arm) credits nothing: the latest table may not be what was shown
    total = sum(c for _, _, c in store.counters(scope).items())
    service.click(_req("click", {}, {"x-versa-vb": "40"}))
    assert sum(c for _, _, c in store.counters(scope).items()) == total


def _rule(service: RenderService) -> object:
    return service.current_pack("optco").model.creative("hero").rules[0]


def test_values_in_urls_are_read_strictly(packs: Path, tmp_path: Path) -> None:
    assert parse_pins("3") == 3 and parse_pins("paper-test:4,other:5") == {"paper-test": 4, "other": 5}
    assert parse_pins("") is None
    for bad in ("x", "3,paper-test:4", "-1"):
        with pytest.raises(ValueError, match="send"):
            parse_pins(bad)
    service = _service(packs, tmp_path, MemoryRelevanceStore())
    creative = service.current_pack("optco").model.creative("hero")
    with pytest.raises(ValueError, match="arm 'paper-test:white'"):
        clicked("optco", "hero", creative, "paper-test:white", {}.get)
    # an arm key the pack no longer has (the arm was edited) credits nothing
    assert clicked("optco", "hero", creative, "paper-test:white~00000000:1:o", {}.get).shown == ()
    # choose_arms without any store says so
    choice = choose_arms("optco", "hero", creative, {}.get, 4, None)
    assert choice.shown == () and "no allocation configured" in choice.reasons["paper-test"]
    assert json.dumps(choice.counts(clicks=1)) == "{}"


def test_impressions_are_counted_per_arm_and_bots_are_not(packs: Path, tmp_path: Path) -> None:
    store = MemoryRelevanceStore()
    service = _service(packs, tmp_path, store)
    scope = scope_of("optco", "hero", "paper-test")
    store.put_snapshot(scope, _snapshot(service, grey_from=50))
    for bucket in (1, 2, 60):
        service.image(_req("png", {}, {"x-versa-vb": str(bucket)}))
    service.image(_req("png", {}, {"x-versa-vb": "61", "user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}))
    got = {(k[0], arm_id(k[1]), k[2]): (i, c) for k, i, c in store.counters(scope).items()}
    assert got == {("device=desktop", "white", "holdout"): (2, 0), ("device=desktop", "grey", "optimized"): (1, 0)}


def test_versa_sign_pins_a_send_to_the_current_epoch(
    packs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from versa.adapters.sqlite_relevance import SQLiteRelevanceStore
    from versa.cli.main import main

    state = tmp_path / "state"
    monkeypatch.setenv("VERSA_PACKS_DIR", str(packs))
    monkeypatch.setenv("VERSA_STATE_DIR", str(state))
    # no allocation yet: the command says so
    with pytest.raises(SystemExit):
        main(["sign", "/v1/optco/hero.png?vid=", "--pin-send", "--base-url", ""])
    assert "rule 'paper-test' of optco/hero has no allocation yet" in capsys.readouterr().err
    store = SQLiteRelevanceStore(state / "relevance.sqlite3")
    service = _service(packs, tmp_path, MemoryRelevanceStore())
    for epoch in (1, 2):
        store.put_snapshot(scope_of("optco", "hero", "paper-test"), _snapshot(service, grey_from=50, epoch=epoch))
    assert main(["sign", "/v1/optco/hero.png?vid=", "--pin-send", "--base-url", ""]) == 0
    url = capsys.readouterr().out.strip()
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert query["send"] == "paper-test:2" and "sig" in query
    store.close()
