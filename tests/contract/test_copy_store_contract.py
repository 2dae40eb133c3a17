"""One contract for every CopyStore adapter: SQLite in a temporary file, DynamoDB against moto's
standalone server over HTTP."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from versa.adapters.dynamo_copy import DynamoCopyStore, create_table
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.errors import DecidedElsewhere
from versa.generate import review
from versa.ports import CopyItem, CopyStatus, CopyStore, bump

NOW = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CopyStore]:
    if request.param == "sqlite":
        sqlite = SQLiteCopyStore(tmp_path / "state" / "copy.db")
        yield sqlite
        sqlite.close()
    else:
        client = request.getfixturevalue("dynamodb_client")
        name = f"copy-{uuid.uuid4().hex[:12]}"
        create_table(client, name)
        yield DynamoCopyStore(name, client=client)
        client.delete_table(TableName=name)


def generated(key: str, text: str = "Hello", **changes: Any) -> CopyItem:
    return CopyItem(key, CopyStatus.generated, text=text, **changes)


# ------------------------------------------------------------------------------------------ reads


def test_missing_keys_are_left_out(store: CopyStore) -> None:
    # GIVEN an empty store
    # WHEN keys are read
    # THEN nothing is found, and get() answers None
    assert store.get_many(["a", "b", "a"], now=NOW) == {}
    assert store.get("a") is None


def test_round_trip_keeps_every_field(store: CopyStore) -> None:
    # GIVEN an item with every field set (expiry on a whole second)
    item = CopyItem(
        "k1",
        CopyStatus.approved,
        text="Winter sale: 20 % Rabatt",
        version=3,
        expires_at=NOW + timedelta(days=7),
        meta={"model": "gpt", "scores": [1, 2], "nested": {"ok": True}},
    )
    # WHEN it is written and read back
    assert store.put_result(item)
    # THEN it is equal, and usable
    assert store.get("k1") == item
    assert store.get_many(["k1"], now=NOW) == {"k1": item}


def test_more_than_one_batch_of_keys(store: CopyStore) -> None:
    # GIVEN 250 stored items (more than two BatchGetItem calls' worth)
    keys = [f"key-{i:03d}" for i in range(250)]
    for key in keys:
        store.put_result(generated(key, text=key.upper()))
    # WHEN they are read with missing keys mixed in
    found = store.get_many([*keys, "missing-1", "missing-2"], now=NOW)
    # THEN every stored one comes back with its own text
    assert sorted(found) == keys
    assert all(found[k].text == k.upper() for k in keys)


def test_only_usable_items_are_returned(store: CopyStore) -> None:
    # GIVEN items in every status, and an expired generated one
    store.put_result(generated("gen"))
    store.put_result(CopyItem("ok", CopyStatus.approved, text="Approved"))
    store.put_result(CopyItem("pend", CopyStatus.pending, expires_at=NOW + LEASE))
    store.put_result(CopyItem("rej", CopyStatus.rejected, text="Bad", reason="banned word"))
    store.put_result(generated("old", expires_at=NOW - timedelta(seconds=1)))
    store.put_result(CopyItem("empty", CopyStatus.generated, text=None))
    # WHEN they are read
    found = store.get_many(["gen", "ok", "pend", "rej", "old", "empty"], now=NOW)
    # THEN only the generated and approved ones with text are usable
    assert sorted(found) == ["gen", "ok"]
    # AND the others are still stored as they were
    rejected = store.get("rej")
    assert rejected is not None and rejected.reason == "banned word"


def test_expiry_is_checked_on_read(store: CopyStore) -> None:
    # GIVEN generated copy that expires at a given moment (a store's TTL deletion may never happen)
    expires = NOW + timedelta(hours=1)
    store.put_result(generated("k", expires_at=expires))
    # THEN it is usable before that moment and not at or after it
    assert "k" in store.get_many(["k"], now=expires - timedelta(seconds=1))
    assert store.get_many(["k"], now=expires) == {}
    assert store.get_many(["k"], now=expires + timedelta(days=1)) == {}
    assert store.get("k") is not None


def test_expiry_is_rounded_up_to_whole_seconds(store: CopyStore) -> None:
    # GIVEN an expiry with a fraction of a second
    store.put_result(generated("k", expires_at=NOW + timedelta(seconds=10, milliseconds=200)))
    stored = store.get("k")
    # THEN it is stored on the next whole second, never earlier
    assert stored is not None and stored.expires_at == NOW + timedelta(seconds=11)


def test_naive_times_are_refused(store: CopyStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.lease("k", now=NOW.replace(tzinfo=None), ttl=LEASE)


# ----------------------------------------------------------------------------------------- leases


def test_lease_first_caller_wins_until_it_expires(store: CopyStore) -> None:
    # GIVEN a first caller that takes the lease
    assert store.lease("k", now=NOW, ttl=LEASE) is True
    first = store.get("k")
    assert first is not None and first.status is CopyStatus.pending and first.version == 1
    # WHEN others try while it is fresh, THEN they lose
    assert store.lease("k", now=NOW, ttl=LEASE) is False
    assert store.lease("k", now=NOW + LEASE - timedelta(seconds=1), ttl=LEASE) is False
    # WHEN it has expired, THEN the next caller wins, and the version moves on
    assert store.lease("k", now=NOW + LEASE, ttl=LEASE) is True
    second = store.get("k")
    assert second is not None and second.version == 2
    assert second.expires_at == NOW + 2 * LEASE


def test_lease_never_replaces_live_copy(store: CopyStore) -> None:
    # GIVEN copy without expiry, and copy that expired
    store.put_result(generated("live"))
    store.put_result(generated("stale", version=4, expires_at=NOW - timedelta(seconds=1), meta={"a": 1}))
    # THEN a lease on the live copy loses and leaves it alone
    assert store.lease("live", now=NOW, ttl=LEASE) is False
    assert store.get("live") == generated("live")
    # AND a lease on the expired copy wins and replaces it with a pending item
    assert store.lease("stale", now=NOW, ttl=LEASE) is True
    assert store.get("stale") == CopyItem("stale", CopyStatus.pending, version=5, expires_at=NOW + LEASE)


def test_a_burst_of_concurrent_leases_has_one_winner(store: CopyStore, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.id.startswith("dynamodb"):
        # moto's server does not make a condition check and its write atomic under concurrent requests
        # (a loaded machine showed two winners): on DynamoDB the contract is proved without a race, by
        # test_lease_first_caller_wins_until_it_expires above and the generator tests' second conditional put
        pytest.skip("moto's DynamoDB is not atomic under races; the conditional write is proved without one")
    # GIVEN 20 threads released at the same moment
    start = threading.Barrier(20)

    def attempt(_: int) -> bool:
        start.wait(timeout=10)
        return store.lease("hot", now=NOW, ttl=LEASE)

    # WHEN each tries to take the lease
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    # THEN exactly one wins
    assert results.count(True) == 1


# ---------------------------------------------------------------------------------------- results


def test_put_result_with_expected_version(store: CopyStore) -> None:
    # GIVEN a generator that took the lease (version 1)
    assert store.lease("k", now=NOW, ttl=LEASE)
    leased = store.get("k")
    assert leased is not None
    result = bump(leased, status=CopyStatus.generated, text="Fresh", expires_at=None)
    # WHEN it writes its result expecting the version it saw
    assert store.put_result(result, expected_version=leased.version) is True
    # THEN it is stored and usable
    assert store.get_many(["k"], now=NOW) == {"k": result}
    # AND a second writer still expecting version 1 is refused, leaving the result alone
    assert (
        store.put_result(bump(leased, status=CopyStatus.generated, text="Late"), expected_version=1) is False
    )
    assert store.get("k") == result


def test_expected_version_of_a_missing_item_is_refused(store: CopyStore) -> None:
    assert store.put_result(generated("nope"), expected_version=1) is False
    assert store.get("nope") is None


def test_a_stale_generator_cannot_overwrite_a_newer_lease(store: CopyStore) -> None:
    # GIVEN a lease that expired and was taken again
    assert store.lease("k", now=NOW, ttl=LEASE)
    assert store.lease("k", now=NOW + LEASE, ttl=LEASE)
    # WHEN the first lease's generator finishes late, THEN its versioned write is refused
    assert store.put_result(generated("k", version=2), expected_version=1) is False


def test_rejected_needs_a_reason(store: CopyStore) -> None:
    with pytest.raises(ValueError, match="reason"):
        store.put_result(CopyItem("k", CopyStatus.rejected, text="Bad"))
    assert store.get("k") is None
    assert store.put_result(CopyItem("k", CopyStatus.rejected, text="Bad", reason="off brand"))
    stored = store.get("k")
    assert stored is not None and stored.reason == "off brand"


# ----------------------------------------------------------------------------------- listing


def listed(store: CopyStore, brand: str, *, status: CopyStatus | None = None, limit: int = 50) -> list[list[str]]:
    """Every page of a listing, as lists of keys."""
    pages, cursor = [], None
    while True:
        page = store.list_items(brand, status=status, now=NOW, limit=limit, cursor=cursor)
        pages.append([item.key for item in page.items])
        cursor = page.cursor
        if cursor is None:
            return pages


def test_listing_by_brand_and_status_is_paged_in_status_then_key_order(store: CopyStore) -> None:
    # GIVEN copy of two brands in several statuses, an unlisted lease and an expired item
    for key, status in [("k5", CopyStatus.review), ("k1", CopyStatus.review), ("k3", CopyStatus.generated),
                        ("k2", CopyStatus.review), ("k4", CopyStatus.approved), ("k6", CopyStatus.review)]:
        store.put_result(CopyItem(key, status, text=f"text {key}", brand="acme"))
    store.put_result(CopyItem("x1", CopyStatus.review, text="other brand", brand="zeta"))
    store.put_result(CopyItem("k0", CopyStatus.review, text="old", brand="acme", expires_at=NOW - LEASE))
    assert store.lease("lease", now=NOW, ttl=LEASE)
    # WHEN the brand's review copy is listed two at a time
    pages = listed(store, "acme", status=CopyStatus.review, limit=2)
    # THEN every review item of the brand comes once, in key order, the expired one left out
    assert [key for page in pages for key in page] == ["k1", "k2", "k5", "k6"]
    assert all(len(page) <= 2 for page in pages) and len(pages) >= 2  # the expired one took a place
    # AND without a status: every status, ordered by status then key; the other brand and the lease apart
    everything = [key for page in listed(store, "acme", limit=3) for key in page]
    assert everything == ["k4", "k3", "k1", "k2", "k5", "k6"]
    page = store.list_items("acme", status=CopyStatus.approved, now=NOW)
    assert [(i.key, i.brand, i.text, i.status) for i in page.items] == [("k4", "acme", "text k4", CopyStatus.approved)]
    assert listed(store, "nobody") == [[]]


def test_a_status_change_moves_an_item_between_listings(store: CopyStore) -> None:
    # GIVEN an item awaiting review
    store.put_result(CopyItem("k1", CopyStatus.review, text="Hi", brand="acme"))
    # WHEN it is approved (a versioned write)
    assert store.put_result(CopyItem("k1", CopyStatus.approved, text="Hi", version=2, brand="acme"), expected_version=1)
    # THEN it is listed as approved only
    assert listed(store, "acme", status=CopyStatus.review) == [[]]
    assert listed(store, "acme", status=CopyStatus.approved) == [["k1"]]


def test_a_lease_over_an_expired_listed_item_leaves_the_listing(store: CopyStore) -> None:
    # GIVEN a listed item that expired
    store.put_result(CopyItem("k1", CopyStatus.rejected, reason="no candidate passed", brand="acme",
                              expires_at=NOW + timedelta(seconds=5)))
    later = NOW + timedelta(seconds=10)
    # WHEN a lease replaces it
    assert store.lease("k1", now=later, ttl=LEASE)
    # THEN the lease (which has no brand) is not listed
    page = store.list_items("acme", now=later)
    assert page.items == () and page.cursor is None
    got = store.get("k1")
    assert got is not None and got.status is CopyStatus.pending and got.brand is None


def test_a_cursor_the_store_did_not_give_is_refused(store: CopyStore) -> None:
    with pytest.raises(ValueError, match="cursor"):
        store.list_items("acme", now=NOW, cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit"):
        store.list_items("acme", now=NOW, limit=0)


def test_put_new_writes_only_when_nothing_lives_under_the_key(store: CopyStore) -> None:
    # GIVEN nothing stored
    record = CopyItem("lin", CopyStatus.approved, text="Approved")
    # WHEN put_new runs twice
    # THEN the first writes and the second is refused; the record never expires
    assert store.put_new(record, now=NOW)
    assert not store.put_new(replace(record, text="Other"), now=NOW)
    got = store.get("lin")
    assert got is not None and got.text == "Approved" and got.expires_at is None


def test_two_reviewers_approving_one_item_have_one_winner(store: CopyStore) -> None:
    # GIVEN an item awaiting review in a lineage
    store.put_result(CopyItem("g1", CopyStatus.review, text="Fresh", brand="acme",
                              meta={"lineage": "lin1", "slot": "headline"}))
    barrier = threading.Barrier(8)

    def decide(who: int) -> str:
        barrier.wait()
        try:
            review.approve(store, "g1", review.Verdict("approve", f"r{who}", NOW, "v1"), expected_version=1)
        except DecidedElsewhere:
            return "lost"
        return "won"

    # WHEN eight reviewers approve it at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(decide, range(8)))
    # THEN exactly one wins; the item records one decision; the lineage serves its text
    assert results.count("won") == 1
    item = store.get("g1")
    assert item is not None and item.status is CopyStatus.approved and len(item.meta["decisions"]) == 1
    lineage = store.get("lin1")
    assert lineage is not None and lineage.text == "Fresh" and lineage.meta["generation"] == "g1"


def test_an_sqlite_file_from_before_listing_gains_the_brand_column(tmp_path: Path) -> None:
    import sqlite3

    # GIVEN a copy file with the first schema (no brand column) holding one item
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE copy_items (key TEXT PRIMARY KEY, status TEXT NOT NULL, text TEXT, "
            "version INTEGER NOT NULL, expires_at INTEGER, reason TEXT, meta TEXT NOT NULL DEFAULT '{}')"
        )
        conn.execute("INSERT INTO copy_items VALUES ('k1', 'generated', 'Hi', 2, NULL, NULL, '{}')")
    conn.close()
    # WHEN the store opens it
    store = SQLiteCopyStore(path)
    try:
        # THEN the old item reads as before (no brand, so unlisted) and new items are listed
        old = store.get("k1")
        assert old is not None and (old.text, old.version, old.brand) == ("Hi", 2, None)
        assert store.put_result(CopyItem("k2", CopyStatus.review, text="New", brand="acme"))
        assert [i.key for i in store.list_items("acme", now=NOW).items] == ["k2"]
    finally:
        store.close()
    # AND opening it again does not try to add the column twice
    SQLiteCopyStore(path).close()
