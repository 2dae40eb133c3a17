"""One contract for every relevance store: in memory, SQLite in a temporary file, DynamoDB against
moto's standalone server over HTTP; and the optimizer run the scheduled function makes on top."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from versa.adapters.dynamo_relevance import DynamoRelevanceStore, create_relevance_table
from versa.adapters.sqlite_relevance import SQLiteRelevanceStore
from versa.ports import StoreUnavailable
from versa.relevance import ArmCounts, Counters, Policy, holdout_buckets
from versa.relevance.store import MemoryRelevanceStore, RelevanceStore, scope_of

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCOPE = scope_of("acme", "winter-sale", "headline-test")
POLICY = Policy(rule="headline-test", arms=("a", "b", "c"), holdout=0.1, min_share=0.05, min_sample=100)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RelevanceStore]:
    if request.param == "memory":
        yield MemoryRelevanceStore()
    elif request.param == "sqlite":
        sqlite = SQLiteRelevanceStore(tmp_path / "state" / "relevance.db")
        yield sqlite
        sqlite.close()
    else:
        client = request.getfixturevalue("dynamodb_client")
        name = f"relevance-{uuid.uuid4().hex[:12]}"
        create_relevance_table(client, name)
        yield DynamoRelevanceStore(name, client=client)
        client.delete_table(TableName=name)


def test_counts_add_up_per_scope(store: RelevanceStore) -> None:
    # GIVEN two batches for one scope and one for another
    first = Counters({("country=DE", "a", "optimized"): (100, 3), ("country=DE", "a", "holdout"): (10, 1)})
    second = Counters({("country=DE", "a", "optimized"): (50, 2), ("country=US", "b", "optimized"): (7, 0)})
    store.add(SCOPE, first)
    store.add(SCOPE, second)
    store.add(scope_of("acme", "winter-sale", "other"), first)
    # WHEN read back THEN each tally is the sum of its batches, and scopes do not mix
    got = store.counters(SCOPE)
    assert got.arm("country=DE", "a") == ArmCounts(160, 6)
    assert got.arm("country=DE", "a", ["holdout"]) == ArmCounts(10, 1)
    assert got.arm("country=US", "b") == ArmCounts(7, 0)
    assert list(store.counters("acme/winter-sale/none").items()) == []


def test_concurrent_adds_lose_nothing(store: RelevanceStore) -> None:
    if isinstance(store, MemoryRelevanceStore):
        pytest.skip("the in-memory store is for one thread")
    one = Counters({("all", "a", "optimized"): (1, 1)})
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: store.add(SCOPE, one), range(40)))
    assert store.counters(SCOPE).arm("all", "a") == ArmCounts(40, 40)


def test_an_epoch_is_written_once_and_old_epochs_stay_readable(store: RelevanceStore) -> None:
    # GIVEN a first optimizer run
    assert store.snapshot(SCOPE) is None
    first = store.run_optimizer(SCOPE, POLICY, NOW, random.Random(1))
    assert first.epoch == 1 and store.snapshot(SCOPE) == first
    # WHEN counts arrive and the optimizer runs again
    store.add(SCOPE, Counters({("all", "a", "optimized"): (500, 2), ("all", "b", "optimized"): (500, 40),
                               ("all", "c", "optimized"): (500, 3)}))
    second = store.run_optimizer(SCOPE, POLICY, NOW + timedelta(hours=1), random.Random(2))
    # THEN the latest is epoch 2, it moved traffic to the clear winner, and epoch 1 is still there (pinned sends)
    assert second.epoch == 2 and store.snapshot(SCOPE) == second
    assert second.shares("all")["b"] > 0.7
    assert store.snapshot(SCOPE, 1) == first
    assert store.snapshot(SCOPE, 7) is None
    # AND the holdout is where the rule's id puts it, whatever the store
    assert second.holdout == holdout_buckets("headline-test", 0.1)
    # AND a second writer of epoch 2 is refused; its run returns the stored snapshot
    assert store.put_snapshot(SCOPE, second) is False


def test_a_racing_optimizer_run_returns_the_stored_epoch(store: RelevanceStore) -> None:
    # GIVEN a run that read epoch 0 (none) but another run stored epoch 1 meanwhile
    winner = store.run_optimizer(SCOPE, POLICY, NOW, random.Random(1))

    class Late(type(store)):  # type: ignore[misc]
        def snapshot(self, scope: str, epoch: int | None = None):  # type: ignore[no-untyped-def]
            return None if epoch is None else super().snapshot(scope, epoch)

    store.__class__ = Late
    # WHEN the late run finishes THEN it gets the winner's snapshot, not its own
    assert store.run_optimizer(SCOPE, POLICY, NOW + timedelta(minutes=1), random.Random(9)) == winner


def test_a_snapshot_of_another_rule_is_refused(store: RelevanceStore) -> None:
    other = Policy(rule="cta-test", arms=("x", "y"))
    snap = MemoryRelevanceStore().run_optimizer(scope_of("acme", "winter-sale", "cta-test"), other, NOW, random.Random(1))
    with pytest.raises(ValueError, match="does not belong to scope"):
        store.put_snapshot(SCOPE, snap)


def test_dynamodb_failure_is_store_unavailable(dynamodb_client: object) -> None:
    store = DynamoRelevanceStore(f"missing-{uuid.uuid4().hex[:8]}", client=dynamodb_client)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable, match=r"DynamoDB Query on missing-.* \(relevance\) failed: ResourceNotFoundException"):
        store.snapshot(SCOPE)
    with pytest.raises(StoreUnavailable, match="UpdateItem"):
        store.add(SCOPE, Counters({("all", "a", "optimized"): (1, 0)}))
