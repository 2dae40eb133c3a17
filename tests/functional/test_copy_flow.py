"""Generated copy on the request path: a miss renders the default, leases once, and later hits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.local_queue import InProcessQueue, OfflineWriter
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.ports import GenerationQueue, GenerationRequest
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


class CountingStore(SQLiteCopyStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.leases = 0

    def lease(self, key: str, *, now: datetime, ttl: timedelta) -> bool:
        self.leases += 1
        return super().lease(key, now=now, ttl=ttl)


class HoldingQueue(GenerationQueue):
    """Keeps requests (a generator that has not run yet)."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def enqueue(self, requests: Any) -> None:
        self.requests.extend(requests)


def make_service(tmp_path: Path, queue: GenerationQueue, store: SQLiteCopyStore) -> RenderService:
    return RenderService(
        DirectoryPackStore(PACKS, checks=PACK_CHECKS), store, queue, build_renderer(Settings(memo_items=0)), Keyring({"k1": b"k" * 32}, "k1"),
        config=ServiceConfig.from_settings(Settings(require_signature=False)),
    )


def request(now: datetime) -> CreativeRequest:
    query = {"country": "DE", "at": now.isoformat()}
    return CreativeRequest("acme", "winter-sale", "png", {}, query, now, path="/v1/acme/winter-sale.png")


def test_a_pending_slot_is_leased_once_per_container_and_enqueued_once(tmp_path: Path) -> None:
    # GIVEN a copy store with nothing generated and a queue whose generator has not run
    store, queue = CountingStore(tmp_path / "copy.db"), HoldingQueue()
    service = make_service(tmp_path, queue, store)
    # WHEN the same variant is requested three times
    responses = [service.image(request(NOW + timedelta(seconds=i))) for i in range(3)]
    # THEN each response used the default copy with a short TTL, one lease was written, one request queued
    assert all(r.status == 200 and r.headers.get("X-Versa-Copy") == "default" for r in responses)
    assert all("max-age=300" in r.headers["Cache-Control"] for r in responses)
    assert store.leases == 1
    assert [r.slot for r in queue.requests] == ["headline"]
    assert queue.requests[0].locale == "de" and queue.requests[0].vary["country"] == "dach"


def test_generated_copy_is_used_once_written(tmp_path: Path) -> None:
    # GIVEN the in-process queue with the offline writer (the embedded default)
    store = SQLiteCopyStore(tmp_path / "copy.db")
    service = make_service(tmp_path, InProcessQueue(store, OfflineWriter()), store)
    # WHEN a first request misses and a second one follows
    first = service.image(request(NOW))
    second = service.image(request(NOW + timedelta(seconds=1)))
    # THEN the first stood in the default (short TTL) and the second used stored copy (full TTL)
    assert first.headers.get("X-Versa-Copy") == "default"
    assert "X-Versa-Copy" not in second.headers
    assert "max-age=300," not in second.headers["Cache-Control"]
