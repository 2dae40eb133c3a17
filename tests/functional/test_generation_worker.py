"""The generation worker's spending bounds and its conditional write over the lease."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from test_copy_flow import NOW, PACKS, HoldingQueue, Recorder, request, settings

from copy_pack import copy_pack_data, write_copy_pack
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.local_queue import OfflineWriter
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.generate.worker import GenerationWorker, Limits, Spending
from versa.ports import CopyItem, CopyStatus
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

DAY = date(2026, 12, 1)


def test_the_rate_window_slides_and_the_budget_resets_each_day() -> None:
    # GIVEN two generations a minute and a budget of 100 tokens, on a clock the test moves
    clock = [1000.0]
    spending = Spending(Limits(daily_tokens=100, per_minute=2), clock=lambda: clock[0])
    # WHEN three start within a minute, THEN the third is stopped by the rate
    assert [spending.admit("acme", DAY) for _ in range(3)] == [None, None, "rate"]
    # WHEN a minute has passed, THEN one may start again
    clock[0] += 60
    assert spending.admit("acme", DAY) is None
    # WHEN the brand spent its tokens, THEN it is stopped by the budget, another brand is not
    spending.spend("acme", DAY, 100)
    clock[0] += 60
    assert (spending.admit("acme", DAY), spending.admit("other", DAY)) == ("budget", None)
    # WHEN the UTC day changes, THEN the budget is fresh
    assert spending.admit("acme", date(2026, 12, 2)) is None


def test_the_kill_switch_stops_everything() -> None:
    assert Spending(Limits(kill_switch=True)).admit("acme", DAY) == "kill-switch"


class RacingStore(SQLiteCopyStore):
    """A store where another generator writes the key just after the worker read its lease."""

    def get(self, key: str) -> CopyItem | None:
        item = super().get(key)
        if item is not None and item.status is CopyStatus.pending:
            theirs = CopyItem(key, CopyStatus.generated, text="theirs", version=item.version + 1)
            assert super().put_result(theirs, expected_version=item.version)
        return item


def test_a_worker_whose_lease_was_replaced_does_not_overwrite_its_successor(tmp_path: Path) -> None:
    # GIVEN a leased key whose lease another generator replaces while this worker writes
    store, queue = RacingStore(tmp_path / "copy.db"), HoldingQueue()
    packs = DirectoryPackStore(PACKS, checks=PACK_CHECKS)
    renderer = build_renderer(Settings(memo_items=0))
    service = RenderService(packs, store, queue, renderer, Keyring({"k1": b"k" * 32}, "k1"),
                            config=ServiceConfig.from_settings(settings(tmp_path)))
    service.image(request(NOW))
    [generation] = queue.requests
    metrics = Recorder()
    worker = GenerationWorker(packs, store, OfflineWriter(), renderer.fonts, metrics=metrics,
                              now=lambda: datetime(2026, 12, 1, 15, 0, 1, tzinfo=UTC))
    # WHEN the worker runs
    written = worker.run(generation)
    # THEN its write was refused by the version check and the other generator's copy stands
    stored = store.get(generation.key)
    assert not written and stored is not None and stored.text == "theirs"
    assert len(metrics.named("CopyWriteLost")) == 1


def test_written_copy_stays_fresh_for_the_slots_ttl(tmp_path: Path) -> None:
    # GIVEN a leased key of a slot whose generated copy stays fresh for an hour (`generate.ttl: 3600`)
    data = copy_pack_data()
    data["creatives"]["promo"]["copy"]["headline"]["generate"]["ttl"] = 3600
    write_copy_pack(tmp_path / "packs" / "shop", data)
    packs = DirectoryPackStore(tmp_path / "packs", checks=PACK_CHECKS)
    store, queue = SQLiteCopyStore(tmp_path / "copy.db"), HoldingQueue()
    renderer = build_renderer(Settings(memo_items=0))
    service = RenderService(packs, store, queue, renderer, Keyring({"k1": b"k" * 32}, "k1"),
                            config=ServiceConfig.from_settings(settings(tmp_path)))
    query = {"seg": "vip", "at": NOW.isoformat()}
    service.image(CreativeRequest("shop", "promo", "png", {}, query, NOW, path="/v1/shop/promo.png"))
    [generation] = [r for r in queue.requests if r.slot == "headline"]
    written_at = datetime(2026, 12, 1, 15, 0, 1, tzinfo=UTC)
    worker = GenerationWorker(packs, store, OfflineWriter(), renderer.fonts, now=lambda: written_at)
    # WHEN the worker writes its copy
    assert worker.run(generation)
    # THEN it expires after the slot's ttl, not the week every other slot gets
    stored = store.get(generation.key)
    assert stored is not None and stored.status is CopyStatus.generated
    assert stored.expires_at == written_at + timedelta(seconds=3600)
