"""Generated copy on the request path and in the in-process worker: a miss renders the default with a
short TTL and leases once; a pending key costs no store read; the worker writes the copy (the offline
writer's default, or a model's answer from a local OpenAI-compatible server) and the next request
renders it with a new ETag; the kill switch, the daily budget and the rate limit stop generation while
serving goes on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openai_server import FakeOpenAI, running_openai_server
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.local_queue import InProcessQueue
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer, build_service, writer_line
from versa.decide.keys import generation_key
from versa.ports import CopyItem, CopyStatus, GenerationQueue, GenerationRequest
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
MODEL = "copy-test-model"


class CountingStore(SQLiteCopyStore):
    """The SQLite store, counting the reads and leases the service makes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.leases = 0
        self.reads = 0

    def lease(self, key: str, *, now: datetime, ttl: timedelta) -> bool:
        self.leases += 1
        return super().lease(key, now=now, ttl=ttl)

    def get_many(self, keys: Any, *, now: datetime, malformed: list[str] | None = None) -> dict[str, CopyItem]:
        self.reads += 1
        return super().get_many(keys, now=now, malformed=malformed)


class HoldingQueue(GenerationQueue):
    """Keeps requests (a generator that has not run yet)."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        self.requests.extend(requests)


class Recorder:
    """A metrics sink that keeps what it was told."""

    def __init__(self) -> None:
        self.counts: list[tuple[str, float, dict[str, Any]]] = []

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        self.counts.append((name, value, props))

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        return None

    def named(self, name: str) -> list[dict[str, Any]]:
        return [props for n, _, props in self.counts if n == name]


def settings(tmp_path: Path, **given: Any) -> Settings:
    return Settings(packs_dir=PACKS, state_dir=tmp_path, require_signature=False, memo_items=0, **given)


def request(now: datetime, country: str = "DE") -> CreativeRequest:
    query = {"country": country, "at": now.isoformat()}
    return CreativeRequest("acme", "winter-sale", "png", {}, query, now, path="/v1/acme/winter-sale.png")


def queue_of(service: RenderService) -> InProcessQueue:
    assert isinstance(service.queue, InProcessQueue)
    return service.queue


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


def test_a_pending_key_is_leased_once_and_costs_no_store_read(tmp_path: Path) -> None:
    # GIVEN a copy store with nothing generated and a queue whose generator has not run
    store, queue = CountingStore(tmp_path / "copy.db"), HoldingQueue()
    service = RenderService(
        DirectoryPackStore(PACKS, checks=PACK_CHECKS), store, queue, build_renderer(Settings(memo_items=0)),
        Keyring({"k1": b"k" * 32}, "k1"), config=ServiceConfig.from_settings(settings(tmp_path)),
    )
    # WHEN the same variant is requested three times within the short default-copy TTL
    responses = [service.image(request(NOW + timedelta(seconds=i))) for i in range(3)]
    # THEN each used the default copy with a short TTL; one read, one lease, one queued request
    assert all(r.status == 200 and r.headers.get("X-Versa-Copy") == "default" for r in responses)
    assert all("max-age=300" in r.headers["Cache-Control"] for r in responses)
    assert (store.reads, store.leases) == (1, 1)
    assert [r.slot for r in queue.requests] == ["headline"]
    assert queue.requests[0].locale == "de" and queue.requests[0].vary["country"] == "dach"
    # WHEN the short TTL has run out
    service.image(request(NOW + timedelta(seconds=301)))
    # THEN the store is read again (and the lease, still held in the store, is not won twice)
    assert (store.reads, len(queue.requests)) == (2, 1)


def test_the_offline_writer_stores_the_default_and_the_next_request_uses_it(tmp_path: Path) -> None:
    # GIVEN the embedded default: the composition with no model configured
    service = build_service(settings(tmp_path))
    assert "offline" in writer_line(settings(tmp_path))
    # WHEN a first request misses, the worker runs, and a second request follows
    first = service.image(request(NOW))
    assert queue_of(service).drain()
    second = service.image(request(NOW + timedelta(seconds=1)))
    # THEN the first stood in the default (short TTL); the second used stored copy (full TTL)
    assert first.headers.get("X-Versa-Copy") == "default"
    assert "X-Versa-Copy" not in second.headers
    assert "max-age=300," not in second.headers["Cache-Control"]
    key = _headline_key(service, None)
    item = service.copy.get(key)
    assert item is not None and item.status is CopyStatus.generated and item.meta["generated"] is False


def _headline_key(service: RenderService, model: str | None) -> str:
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide

    pack = service.current_pack("acme")
    req = request(NOW)
    ctx = resolve({}, req.query, NOW, context_options(pack.model, "winter-sale", signed_names=frozenset(req.query)))
    ref = decide(pack.model, "winter-sale", ctx).copy["headline"]
    assert ref.key is not None
    return generation_key(ref.key, model)


def model_service(tmp_path: Path, fake: FakeOpenAI, metrics: Recorder, **given: Any) -> RenderService:
    """The composition with the local OpenAI-compatible server as the model."""
    return build_service(
        settings(tmp_path, copy_model=MODEL, openai_base_url=fake.base_url, openai_api_key="test-key",
                 copy_attempts=1, **given),
        metrics=metrics,
    )


def test_the_model_writes_the_copy_and_the_next_request_gets_it_with_a_new_etag(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    # GIVEN a model whose first candidate breaks a guardrail (banned word) and whose second passes
    fake.script(MODEL, {"candidates": ["Cheap winter gear, 30 % off", "30 % auf Winterjacken"]})
    metrics = Recorder()
    service = model_service(tmp_path, fake, metrics)
    assert MODEL in writer_line(settings(tmp_path, copy_model=MODEL, openai_base_url=fake.base_url))
    # WHEN a first request misses and the worker runs
    first = service.image(request(NOW))
    assert queue_of(service).drain()
    second = service.image(request(NOW + timedelta(seconds=1)))
    # THEN the first got the default with a short TTL; the second the generated copy, a full TTL and a new ETag
    assert first.headers.get("X-Versa-Copy") == "default" and "max-age=300," in first.headers["Cache-Control"]
    assert "X-Versa-Copy" not in second.headers and "max-age=300," not in second.headers["Cache-Control"]
    assert second.headers["ETag"] != first.headers["ETag"]
    # AND the copy is stored under the generation key of that model, with what came of the generation
    assert service.copy.get(_headline_key(service, None)) is None
    item = service.copy.get(_headline_key(service, MODEL))
    assert item is not None and item.status is CopyStatus.generated and item.text == "30 % auf Winterjacken"
    assert item.meta["generated"] is True and item.meta["model"] == MODEL and item.meta["tokens"] > 0
    assert [r["check"] for r in item.meta["rejections"]] == ["banned"]
    assert len(fake.requests()) == 1 and len(metrics.named("CopyGenerated")) == 1


def test_no_passing_candidate_keeps_the_default_and_records_why(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a model whose only candidate lacks the required "30"
    fake.script(MODEL, {"candidates": ["Warm durch den Winter"]})
    metrics = Recorder()
    service = model_service(tmp_path, fake, metrics)
    # WHEN a request misses and the worker runs
    service.image(request(NOW))
    assert queue_of(service).drain()
    again = service.image(request(NOW + timedelta(seconds=1)))
    # THEN the default keeps serving (short TTL), the failure is stored, logged as a metric, not retried at once
    assert again.headers.get("X-Versa-Copy") == "default"
    item = service.copy.get(_headline_key(service, MODEL))
    assert item is not None and item.status is CopyStatus.rejected and "guardrails" in (item.reason or "")
    assert len(metrics.named("CopyGenerationFailed")) == 1 and len(fake.requests()) == 1


def test_the_kill_switch_stops_generation_and_serving_continues(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a model configured but the kill switch on
    fake.script(MODEL, {"candidates": ["30 % auf Winterjacken"]})
    metrics = Recorder()
    service = model_service(tmp_path, fake, metrics, copy_kill_switch=True)
    assert "stopped" in writer_line(settings(tmp_path, copy_kill_switch=True))
    # WHEN requests miss and the worker runs
    first = service.image(request(NOW))
    assert queue_of(service).drain()
    second = service.image(request(NOW + timedelta(seconds=1)))
    # THEN nothing asked the model, the stop was counted, and both requests rendered the default
    assert fake.requests() == []
    assert [p["bound"] for p in metrics.named("CopyGenerationStopped")] == ["kill-switch"]
    assert all(r.status == 200 and r.headers.get("X-Versa-Copy") == "default" for r in (first, second))


def test_the_daily_budget_stops_a_brand_after_its_tokens_are_spent(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a budget of one token a day: the first generation spends more than that
    fake.script(MODEL, {"candidates": ["30 % auf Winterjacken"]})
    metrics = Recorder()
    service = model_service(tmp_path, fake, metrics, copy_daily_tokens=1)
    # WHEN two contexts with different copy keys miss in turn
    service.image(request(NOW, "DE"))
    assert queue_of(service).drain()
    us = service.image(request(NOW, "US"))
    assert queue_of(service).drain()
    # THEN only the first reached the model; the second was stopped by the budget and served the default
    assert len(fake.requests()) == 1
    assert [p["bound"] for p in metrics.named("CopyGenerationStopped")] == ["budget"]
    assert us.status == 200 and us.headers.get("X-Versa-Copy") == "default"


def test_the_rate_limit_stops_generations_beyond_it(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN one generation per minute
    fake.script(MODEL, {"candidates": ["30 % auf Winterjacken"]})
    metrics = Recorder()
    service = model_service(tmp_path, fake, metrics, copy_per_minute=1)
    # WHEN two contexts with different copy keys miss at once
    service.image(request(NOW, "DE"))
    service.image(request(NOW, "US"))
    assert queue_of(service).drain()
    # THEN one generation ran and the other was stopped by the rate
    assert len(fake.requests()) == 1
    assert [p["bound"] for p in metrics.named("CopyGenerationStopped")] == ["rate"]


def _get(url: str) -> tuple[int, dict[str, str]]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status, dict(response.headers)


def test_versa_serve_with_a_model_says_so_and_generates_for_real(tmp_path: Path, fake: FakeOpenAI) -> None:
    import time

    from servers import running_versa

    # GIVEN `versa serve` with the local OpenAI-compatible server as its model
    fake.script(MODEL, {"candidates": ["30 % auf Winterjacken"]})
    env = {"VERSA_COPY_MODEL": MODEL, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key"}
    with running_versa(PACKS, state_dir=tmp_path / "state", extra_args=["--no-signatures"], env=env) as served:
        # THEN it said at start which writer it uses
        assert f"copy writer      model {MODEL} at {fake.base_url}" in served.log_text()
        # WHEN a context is requested, and again until the worker has written its copy
        url = f"{served.url}/v1/acme/winter-sale.png?country=DE"
        status, first = _get(url)
        assert status == 200 and first.get("X-Versa-Copy") == "default"
        deadline = time.monotonic() + 30
        later = first
        while "X-Versa-Copy" in later and time.monotonic() < deadline:
            time.sleep(0.1)
            _, later = _get(url)
    # THEN the generated copy came with a full TTL and a new ETag, after one call to the model
    assert "X-Versa-Copy" not in later and later["ETag"] != first["ETag"]
    assert "max-age=300," not in later["Cache-Control"]
    assert len(fake.requests()) == 1
