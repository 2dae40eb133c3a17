"""The pure core of `versa warm` (versa.generate.warm): which keys a pack can ask for, the estimate, what
is skipped on a resume, how failures are grouped; and how the command finds tiktoken's encoding (or
falls back to characters ÷ 4 when it cannot be downloaded)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import socket
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from versa.cli.warm import tiktoken_counter
from versa.decide.keys import generation_key
from versa.decide.variants import enumerate_variants
from versa.generate.warm import (
    SKIP_APPROVED,
    SKIP_DONE,
    SKIP_FINAL,
    SKIP_PENDING,
    SKIP_REJECTED,
    SKIP_REVIEW,
    CharCounter,
    Prices,
    Tally,
    estimate,
    failure_group,
    longest_answer,
    plan,
    warm_requests,
)
from versa.generate.write import prepare
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.ports import CopyItem, CopyStatus, WriteRequest
from versa.render.checks import PACK_CHECKS
from versa.render.scene import FontBook

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "examples" / "packs"
FIXTURE = ROOT / "tests" / "fixtures" / "northwind_segment_hero_copy.json"
MODEL = "warm-test-model"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def northwind() -> Pack:
    return load_pack(PACKS / "northwind", checks=PACK_CHECKS)


@pytest.fixture(scope="module")
def acme() -> Pack:
    return load_pack(PACKS / "acme", checks=PACK_CHECKS)


# ------------------------------------------------------------------------------------------- keys


def test_segment_hero_has_a_key_per_slot_segment_and_locale(northwind: Pack) -> None:
    # WHEN segment-hero's keys are enumerated
    requests = warm_requests(northwind, "segment-hero", model=MODEL)
    # THEN there is one per slot, segment and locale: 2 x 3 x 4, each a distinct generation key
    seen = {(r.slot, r.locale, r.vary["seg"]) for r in requests}
    expected = set(itertools.product(("headline", "cta"), northwind.model.locales, ("outdoor", "lapsed", "vip")))
    assert seen == expected and len(requests) == 24
    assert len({r.key for r in requests}) == 24
    assert all(r.brand == "northwind" and r.creative == "segment-hero" for r in requests)


@pytest.mark.parametrize("brand", ["acme", "northwind"])
def test_the_keys_are_exactly_those_of_every_design_at_every_size(brand: str, acme: Pack, northwind: Pack) -> None:
    # GIVEN every design of every creative at every size, from the exact enumeration
    pack = {"acme": acme, "northwind": northwind}[brand]
    expected = set()
    for cid in pack.model.creatives:
        for variant in enumerate_variants(pack.model, cid).variants:
            expected |= {generation_key(ref.key, MODEL) for ref in variant.decision.copy.values() if ref.key}
    # WHEN the pack is warmed (one size per creative)
    keys = [r.key for r in warm_requests(pack, model=MODEL)]
    # THEN the keys are the same set, each once
    assert set(keys) == expected and len(keys) == len(expected)
    assert expected, "the example pack generates no copy: the test would test nothing"


def test_acme_warms_only_the_reachable_combinations(acme: Pack) -> None:
    # GIVEN winter-sale's headline, varied by a country bucket and the daypart, in six locales
    requests = warm_requests(acme, "winter-sale", model=MODEL)
    combos = {(r.locale, r.vary["country"], r.vary["daypart"]) for r in requests}
    # THEN not every product of locale x bucket x daypart is asked for: only those a request can reach
    locales, buckets = acme.model.locales, ("dach", "us", "other")
    dayparts = {r.vary["daypart"] for r in requests}
    assert len(combos) < len(locales) * len(buckets) * len(dayparts)
    assert len(combos) == len(requests)


def test_the_model_is_part_of_each_key(northwind: Pack) -> None:
    offline = warm_requests(northwind, "segment-hero", model=None)
    other = warm_requests(northwind, "segment-hero", model="another-model")
    mine = warm_requests(northwind, "segment-hero", model=MODEL)
    assert not {r.key for r in offline} & {r.key for r in mine}
    assert not {r.key for r in other} & {r.key for r in mine}
    assert [(r.slot, r.locale, r.vary) for r in offline] == [(r.slot, r.locale, r.vary) for r in mine]


# --------------------------------------------------------------------------------------- estimate


def test_the_chars_estimate_counts_the_prompt_the_writer_is_sent(northwind: Pack) -> None:
    # GIVEN each request as the worker prepares it for the writer
    for request in warm_requests(northwind, "segment-hero", model=MODEL):
        write = prepare(northwind, request, model=MODEL, fonts=FontBook()).write
        # WHEN estimated with characters ÷ 4
        got = estimate(write, CharCounter())
        # THEN the prompt is the system text and the brief, each rounded up
        assert got.prompt_tokens == math.ceil(len(write.system) / 4) + math.ceil(len(write.prompt) / 4)
        assert got.requests == 1


def test_the_completion_bound_holds_every_answer_the_guardrails_accept(northwind: Pack) -> None:
    # GIVEN the fixture's hand-written answers (each candidate within max_chars)
    answers = json.loads(FIXTURE.read_text(encoding="utf-8"))["answers"]
    requests = {(r.slot, r.locale, r.vary["seg"]): r for r in warm_requests(northwind, "segment-hero", model=MODEL)}
    counter = CharCounter()
    checked = 0
    for a in answers:
        write = prepare(northwind, requests[(a["slot"], a["locale"], a["seg"])], model=MODEL, fonts=FontBook()).write
        fitting = [c for c in a["candidates"] if len(c) <= (write.max_chars or 500)][: write.candidates]
        if not fitting:
            continue
        # WHEN the answer the writer would get is counted
        answer = json.dumps({"candidates": fitting}, ensure_ascii=False)
        # THEN it is within the bound
        assert counter.count(answer) <= estimate(write, counter).completion_tokens, a
        checked += 1
    assert checked >= 12


class PerLetter:
    """A counter where every non-ASCII character is a token (as scripts other than Latin often are)."""

    name = "per-letter"

    def count(self, text: str) -> int:
        return sum(1 if ord(c) > 127 else 0 for c in text) + math.ceil(sum(1 for c in text if ord(c) <= 127) / 4)


def test_the_bound_is_written_in_the_locales_own_text() -> None:
    # GIVEN two requests alike but for the locale's default text
    def write(default: str, candidates: int = 2, max_chars: int | None = 40) -> WriteRequest:
        return WriteRequest("k", "system", "brief", "xx", default, candidates=candidates, max_chars=max_chars)

    english, arabic = write("New winter gear"), write("معدات شتوية جديدة")
    # THEN a counter that takes more tokens for Arabic letters bounds the Arabic answer higher
    assert estimate(arabic, PerLetter()).completion_tokens > estimate(english, PerLetter()).completion_tokens
    # AND the answer bound has `candidates` candidates of exactly max_chars characters
    assert [len(c) for c in json.loads(longest_answer(write("Go", 3, 17)))["candidates"]] == [17, 17, 17]
    # AND without max_chars the largest a pack may set bounds each candidate
    assert [len(c) for c in json.loads(longest_answer(write("Go", 1, None)))["candidates"]] == [500]
    assert estimate(write("Go", 4), CharCounter()).completion_tokens > estimate(write("Go", 2), CharCounter()).completion_tokens


def test_cost_is_tokens_times_the_prices_per_million() -> None:
    assert Prices(0.15, 0.60).cost(1_000_000, 0) == pytest.approx(0.15)
    assert Prices(0.15, 0.60).cost(2_000, 500) == pytest.approx((2_000 * 0.15 + 500 * 0.60) / 1e6)


# ------------------------------------------------------------------------------------- plan (resume)


def item(status: CopyStatus, *, expires: timedelta | None = timedelta(hours=1), text: str | None = "x",
         **meta: object) -> CopyItem:
    return CopyItem("k", status, text=text, version=3, expires_at=NOW + expires if expires is not None else None,
                    reason="why" if status is CopyStatus.rejected else None, meta=meta)


@pytest.mark.parametrize(
    ("stored", "skipped"),
    [
        (None, None),
        (item(CopyStatus.generated), SKIP_DONE),
        (item(CopyStatus.generated, expires=-timedelta(seconds=1)), None),
        (item(CopyStatus.review), SKIP_REVIEW),
        (item(CopyStatus.approved, expires=None), SKIP_APPROVED),
        (item(CopyStatus.rejected, text=None), SKIP_REJECTED),
        (item(CopyStatus.rejected, text=None, expires=-timedelta(seconds=1)), None),
        (item(CopyStatus.rejected, text=None, expires=None, decisions=[{"action": "reject"}]), SKIP_FINAL),
        (item(CopyStatus.pending, text=None, expires=timedelta(minutes=5)), SKIP_PENDING),
        (item(CopyStatus.pending, text=None, expires=-timedelta(seconds=1)), None),
    ],
    ids=["missing", "generated", "generated-expired", "review", "approved", "rejected", "rejected-expired",
         "reviewer-rejected", "leased", "lease-expired"],
)
def test_what_a_resumed_run_skips(northwind: Pack, stored: CopyItem | None, skipped: str | None) -> None:
    request = warm_requests(northwind, "segment-hero", model=MODEL)[0]
    got = plan([request], {request.key: stored}, NOW)
    if skipped is None:
        assert got.todo == [request] and got.skipped == {}
    else:
        assert got.todo == [] and got.skipped == {skipped: 1}


def test_retry_rejected_takes_over_a_failed_generation_but_never_a_reviewers_rejection(northwind: Pack) -> None:
    first, second = warm_requests(northwind, "segment-hero", model=MODEL)[:2]
    failed = item(CopyStatus.rejected, text=None)
    final = item(CopyStatus.rejected, text=None, expires=None, decisions=[{"action": "reject"}])
    got = plan([first, second], {first.key: failed, second.key: final}, NOW, retry_rejected=True)
    assert got.todo == [first] and got.retake == {first.key: 3} and got.skipped == {SKIP_FINAL: 1}


# ------------------------------------------------------------------------------------- results


def test_failures_are_grouped_by_what_failed() -> None:
    def failed(reason: str, *checks: str) -> CopyItem:
        rejections = [{"text": "t", "check": c, "reason": "r"} for c in checks]
        return CopyItem("k", CopyStatus.rejected, reason=reason, meta={"rejections": rejections})

    assert failure_group(failed("no candidate passed the guardrails (3 tried)", "max_chars", "banned", "banned")) == (
        "guardrails: banned, max_chars"
    )
    assert failure_group(failed("no candidate passed the guardrails (2 tried)", "banned", "max_chars")) == (
        "guardrails: banned, max_chars"
    )
    assert failure_group(failed("writer: timeout: the call took longer than 30 s")) == "writer: timeout"
    assert failure_group(failed("brief: key abc is stale: the pack and model give def for this slot now")) == (
        "brief: stale key (the pack or model changed)"
    )


def test_the_tally_counts_generated_defaults_failures_and_tokens() -> None:
    tally = Tally()
    tally.add_written(CopyItem("a", CopyStatus.generated, text="t", meta={"generated": True, "prompt_tokens": 50,
                                                                          "completion_tokens": 9}))
    tally.add_written(CopyItem("b", CopyStatus.review, text="t", meta={"generated": True, "prompt_tokens": 40,
                                                                       "completion_tokens": 5}))
    tally.add_written(CopyItem("c", CopyStatus.generated, text="d", meta={"generated": False}))
    tally.add_written(CopyItem("d", CopyStatus.rejected, reason="writer: refused: no", meta={"prompt_tokens": 7}))
    assert (tally.generated, tally.defaults, tally.rejected) == (2, 1, {"writer: refused": 1})
    assert (tally.prompt_tokens, tally.completion_tokens, tally.done) == (97, 14, 4)


# ------------------------------------------------------------------------------------- tiktoken


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _offline(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """No way out: every HTTPS request goes to a proxy port nothing listens on."""
    proxy = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))


def test_without_the_encoding_and_without_internet_the_estimate_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tiktoken")
    # GIVEN an empty tiktoken cache but for a broken (truncated) file where the encoding would be, and no network
    cache = tmp_path / "tiktoken"
    cache.mkdir()
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    broken = cache / hashlib.sha1(url.encode()).hexdigest()  # where tiktoken caches that file
    broken.write_bytes(b"b3Blbg== 0\n")
    _offline(monkeypatch, cache)
    # WHEN a counter is asked for a model tiktoken maps to o200k_base
    counter, note = tiktoken_counter("gpt-4o", timeout=30)
    # THEN there is none, the note says why, and the cache holds nothing (the broken file is gone, none written)
    assert counter is None
    assert "o200k_base" in note and "not available offline" in note
    assert list(cache.iterdir()) == []


def test_with_the_encoding_available_offline_tiktoken_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiktoken = pytest.importorskip("tiktoken")
    # GIVEN no network: the encoding is usable only if it is already in tiktoken's cache
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    _offline(monkeypatch, tmp_path)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    counter, note = tiktoken_counter("gpt-4o", timeout=30)
    if counter is None:
        pytest.skip(f"tiktoken's encoding is not cached on this machine ({note})")
    # THEN it counts as the encoding does, and an unknown model is counted with o200k_base, said so
    text = "Dry feet, every mile — معدات شتوية جديدة"
    assert counter.count(text) == len(tiktoken.get_encoding("o200k_base").encode(text))
    assert counter.count(text) != CharCounter().count(text)
    other, why = tiktoken_counter("some-local-model", timeout=30)
    assert other is not None and "approximation" in why


# ------------------------------------------------------------------------------------- packaging


def test_rich_and_tiktoken_belong_to_the_cli_extra_never_to_the_lambda_layer() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    layer = (ROOT / "layers" / "deps" / "requirements.txt").read_text(encoding="utf-8")
    extra = " ".join(project["optional-dependencies"]["cli"])
    for name in ("rich", "tiktoken"):
        assert name in extra
        assert not any(dep.startswith(name) for dep in project["dependencies"])
        assert name not in layer
