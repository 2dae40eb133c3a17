"""Publishing is atomic enough to trust (issue 8, class 6), against moto's standalone server over HTTP.

The invariant every test checks: the brand's pointer names a version, and either every fallback object
under `fallbacks/v1/{brand}/` is that version's (the exact set of keys that version writes, each
recording the version in its metadata), or the brand's journal says a repair is due; after a repair,
or a completed publish, always the former.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import EndpointConnectionError
from PIL import Image

from versa.adapters.s3_packs import PackLayout, Pointer
from versa.publish.lock import DEFAULT_LOCK_TTL, Journal
from versa.publish.s3 import LockLost, PublishBusy, Publisher, PublishError, Release, UnknownVersion

BRAND = "tiny"
LAYOUT = PackLayout()


# ------------------------------------------------------------------------------------------ helpers


def write_pack(root: Path, creatives: tuple[str, ...], ink: str) -> Path:
    """A small valid pack of brand `tiny` with the given creatives (each with a fallback image)."""
    (root / "assets").mkdir(parents=True)
    Image.new("RGB", (60, 20), ink).save(root / "assets" / "fallback.png")
    creative = {
        "size": [60, 20],
        "fallback": "assets/fallback.png",
        "link": "https://example.com/",
        "layers": [{"id": "bg", "type": "background", "fill": "paper"}],
    }
    data = {
        "brand": BRAND,
        "locales": ["en"],
        "default_tz": "UTC",
        "tokens": {"colors": {"ink": ink, "paper": "#ffffff"}, "fonts": {"body": "sans"}},
        "creatives": {name: dict(creative) for name in creatives},
        "render": {"formats": ["png"]},  # two fallbacks per creative: png and auto
    }
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory, s3_client: Any) -> dict[str, Release]:
    """Prepared releases of `tiny` (checked, bundled, fallbacks drawn once per module): v1 has the
    creatives promo and teaser, the others promo and banner (so publishing them prunes teaser's)."""
    base = tmp_path_factory.mktemp("packs")
    publisher = Publisher("unused", client=s3_client)
    specs = {"v1": (("promo", "teaser"), "#111111")}
    specs |= {f"v{i}": (("promo", "banner"), f"#{i:02d}{i:02d}{i:02d}") for i in range(2, 7)}
    return {
        name: publisher.prepare(write_pack(base / name, creatives, ink))
        for name, (creatives, ink) in specs.items()
    }


def expected_keys(release: Release) -> set[str]:
    return {LAYOUT.fallback_key(release.brand, f.creative, f.ext) for f in release.fallbacks}


@dataclass
class BrandState:
    pointer: str | None
    fallbacks: dict[str, str]
    journal: Journal | None

    def consistent(self, releases: dict[str, Release]) -> bool:
        """The fallbacks are exactly those of the pointer's version, each recording that version."""
        by_version = {r.version: r for r in releases.values()}
        if self.pointer is None:
            return not self.fallbacks
        wanted = expected_keys(by_version[self.pointer])
        return set(self.fallbacks) == wanted and set(self.fallbacks.values()) == {self.pointer}

    @property
    def repair_due(self) -> bool:
        return self.journal is None or self.journal.repair_due(self.pointer)

    @property
    def locked(self) -> bool:
        return self.journal is not None and self.journal.owner is not None


def brand_state(s3: Any, bucket: str) -> BrandState:
    try:
        body = s3.get_object(Bucket=bucket, Key=LAYOUT.pointer_key(BRAND))["Body"].read()
        pointer: str | None = Pointer.from_json(body).version
    except s3.exceptions.NoSuchKey:
        pointer = None
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=LAYOUT.fallback_prefix(BRAND)).get("Contents", [])
    fallbacks = {
        o["Key"]: s3.head_object(Bucket=bucket, Key=o["Key"])["Metadata"].get("version", "") for o in listed
    }
    try:
        journal = Journal.from_json(s3.get_object(Bucket=bucket, Key=LAYOUT.journal_key(BRAND))["Body"].read())
    except s3.exceptions.NoSuchKey:
        journal = None
    return BrandState(pointer, fallbacks, journal)


@dataclass
class Calls:
    """Counts the API calls of every client wrapped with it, and fails the chosen one."""

    fail_at: int | None = None
    mode: str = "before"
    """before: the call never reaches the service; after: it does, but its answer is lost;
    dead: the call and every later one fail (a crash, or the network gone)."""
    count: int = 0
    names: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, client: Any) -> Any:
        return Faulty(client, self)


class Faulty:
    """A boto3 client whose API calls are counted by `calls`, and one (or all from one on) fails."""

    def __init__(self, client: Any, calls: Calls) -> None:
        self._client = client
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in ("meta", "exceptions", "get_paginator") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            calls = self._calls
            with calls.lock:
                calls.count += 1
                n = calls.count
                calls.names.append(name)
            failing = calls.fail_at is not None and (
                n == calls.fail_at or (calls.mode == "dead" and n > calls.fail_at)
            )
            if failing and calls.mode == "after":
                attr(*args, **kwargs)
            if failing:
                raise EndpointConnectionError(endpoint_url=f"http://injected-fault/{name}#{n}")
            return attr(*args, **kwargs)

        return call


def fresh_bucket(s3: Any) -> str:
    bucket = f"versa-atomic-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return bucket


class Clock:
    """A settable UTC clock for lock expiry."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


# --------------------------------------------------------------------------------------- publishes


def test_a_publish_is_consistent_and_prunes_what_the_new_version_lacks(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN v1 published (creatives promo and teaser)
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)
    first = publisher.publish_release(releases["v1"])
    assert brand_state(s3_client, bucket).consistent(releases)
    # WHEN v2 (promo and banner) is published
    second = publisher.publish_release(releases["v2"])
    # THEN the pointer, every fallback and the journal agree on v2, and teaser's fallbacks are gone
    state = brand_state(s3_client, bucket)
    assert state.pointer == releases["v2"].version == second.version
    assert state.consistent(releases) and not state.repair_due and not state.locked
    assert sorted(second.pruned) == sorted(expected_keys(releases["v1"]) - expected_keys(releases["v2"]))
    assert state.journal is not None and state.journal.steps == ("bundle", "fallbacks", "pointer", "pruned", "invalidated")
    assert (first.repaired, second.repaired) == (False, False)


def test_racing_publishers_take_turns_and_leave_one_consistent_version(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN v1 published, and five publishers of five other versions started at the same moment
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    names = ["v2", "v3", "v4", "v5", "v6"]
    start = threading.Barrier(len(names))
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        publisher = Publisher(bucket, client=s3_client, lock_wait=60, lock_poll=0.02)
        start.wait()
        try:
            results[name] = publisher.publish_release(releases[name])
        except Exception as exc:  # recorded, asserted below
            results[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # THEN every publish succeeded, one after another: each replaced the one before it
    assert all(not isinstance(r, Exception) for r in results.values()), results
    chain = {r.previous: r.version for r in results.values()}
    assert len(chain) == len(names), "two publishes read the same pointer: they overlapped"
    version, seen = releases["v1"].version, []
    while version in chain:
        version = chain[version]
        seen.append(version)
    assert sorted(seen) == sorted(releases[n].version for n in names)
    # AND the final state is the last one's, consistent, unlocked
    state = brand_state(s3_client, bucket)
    assert state.pointer == seen[-1]
    assert state.consistent(releases) and not state.repair_due and not state.locked


def test_racing_publishers_that_do_not_wait_are_refused_and_leave_a_consistent_state(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN v1 published, and four publishers that will not wait for the lock
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    names = ["v2", "v3", "v4", "v5"]
    start = threading.Barrier(len(names))
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        publisher = Publisher(bucket, client=s3_client, lock_wait=0)
        start.wait()
        try:
            results[name] = publisher.publish_release(releases[name])
        except Exception as exc:  # recorded, asserted below
            results[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # THEN each either published or was refused as busy (nothing else), at least one published
    won = [r for r in results.values() if not isinstance(r, Exception)]
    busy = [r for r in results.values() if isinstance(r, PublishBusy)]
    assert won and len(won) + len(busy) == len(names), results
    assert all("locked by" in str(b) for b in busy)
    # AND the state is consistent on the version of one that won
    state = brand_state(s3_client, bucket)
    assert state.pointer in {r.version for r in won}
    assert state.consistent(releases) and not state.repair_due and not state.locked


# ----------------------------------------------------------------------------- a failure anywhere


def _calls_of_a_publish(s3_client: Any, cloudfront_client: Any, distribution: str, releases: dict[str, Release]) -> list[str]:
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    calls = Calls()
    Publisher(
        bucket, client=calls.wrap(s3_client), distribution_id=distribution,
        cloudfront_client=calls.wrap(cloudfront_client),
    ).publish_release(releases["v2"])
    return calls.names


@pytest.mark.parametrize("mode", ["before", "after", "dead"])
def test_a_failure_at_every_step_of_a_publish_is_detected_and_repaired(
    mode: str, s3_client: Any, cloudfront_client: Any, distribution: str, releases: dict[str, Release]
) -> None:
    # GIVEN the calls a publish of v2 over v1 makes (S3 and CloudFront)
    names = _calls_of_a_publish(s3_client, cloudfront_client, distribution, releases)
    assert {"put_object", "get_object", "list_objects_v2", "delete_objects", "create_invalidation"} <= set(names)
    old, new = releases["v1"].version, releases["v2"].version
    for n in range(1, len(names) + 1):
        # WHEN the n-th call fails (never reaching S3, or its answer lost, or S3 gone from then on)
        bucket = fresh_bucket(s3_client)
        Publisher(bucket, client=s3_client).publish_release(releases["v1"])
        calls = Calls(fail_at=n, mode=mode)
        publisher = Publisher(
            bucket, client=calls.wrap(s3_client), distribution_id=distribution,
            cloudfront_client=calls.wrap(cloudfront_client),
        )
        try:
            publisher.publish_release(releases["v2"])
            failed = False
        except PublishError:
            failed = True
        # THEN the pointer is the old or the new version, and the fallbacks match it unless the
        # journal says a repair is due
        state = brand_state(s3_client, bucket)
        where = f"call {n} ({names[n - 1]}, {mode})"
        assert failed or mode == "after", f"{where}: the failure went unnoticed"
        assert state.pointer in (old, new), where
        assert state.consistent(releases) or state.repair_due, f"{where}: inconsistent, no repair due"
        # WHEN `versa publish --repair` runs (after the lock's expiry, if the failed publisher kept it)
        later = Clock()
        later.now = datetime.now(UTC) + DEFAULT_LOCK_TTL + timedelta(seconds=1)
        Publisher(bucket, client=s3_client, clock=later).repair(BRAND)
        # THEN the fallbacks match the pointer, the journal says so, and the lock is free
        state = brand_state(s3_client, bucket)
        assert state.pointer in (old, new), where
        assert state.consistent(releases) and not state.repair_due and not state.locked, where


def test_the_next_publish_also_brings_the_fallbacks_back(s3_client: Any, releases: dict[str, Release]) -> None:
    # GIVEN a publish of v2 that died after writing one fallback (pointer still v1)
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    calls = Calls()
    Publisher(bucket, client=calls.wrap(s3_client)).publish_release(releases["v3"])  # count a publish
    first_fallback = calls.names.index("put_object", calls.names.index("head_object") + 2) + 1
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    dying = Calls(fail_at=first_fallback + 1, mode="dead")
    with pytest.raises(PublishError):
        Publisher(bucket, client=dying.wrap(s3_client)).publish_release(releases["v2"])
    broken = brand_state(s3_client, bucket)
    assert broken.pointer == releases["v1"].version
    assert not broken.consistent(releases) and broken.repair_due and broken.locked
    # WHEN the next publish (of v3) runs once the dead publisher's lock has expired
    later = Clock()
    later.now = datetime.now(UTC) + DEFAULT_LOCK_TTL + timedelta(seconds=1)
    result = Publisher(bucket, client=s3_client, clock=later).publish_release(releases["v3"])
    # THEN it says it repaired, and everything is v3
    assert result.repaired
    state = brand_state(s3_client, bucket)
    assert state.pointer == releases["v3"].version
    assert state.consistent(releases) and not state.repair_due and not state.locked


# ------------------------------------------------------------------------------------------ the lock


def test_a_crashed_publishers_lock_blocks_until_it_expires_then_is_taken_over(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN a publisher that took the lock and then lost S3 for good (a crash)
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    clock = Clock()
    dead = Calls(fail_at=3, mode="dead")  # call 1 reads the lock, call 2 takes it
    with pytest.raises(PublishError):
        Publisher(bucket, client=dead.wrap(s3_client), clock=clock).publish_release(releases["v2"])
    assert dead.names[:2] == ["get_object", "put_object"]
    assert brand_state(s3_client, bucket).locked
    # WHEN another publisher tries before the lock's expiry
    clock.now += DEFAULT_LOCK_TTL - timedelta(seconds=1)
    # THEN it is refused, told who holds it and until when
    with pytest.raises(PublishBusy, match=r"locked by .* until"):
        Publisher(bucket, client=s3_client, clock=clock).publish_release(releases["v3"])
    # WHEN it tries after the expiry
    clock.now += timedelta(seconds=2)
    result = Publisher(bucket, client=s3_client, clock=clock).publish_release(releases["v3"])
    # THEN it takes the lock over and publishes, and the brand is consistent
    state = brand_state(s3_client, bucket)
    assert state.pointer == result.version == releases["v3"].version
    assert state.consistent(releases) and not state.repair_due and not state.locked


def test_a_stalled_publisher_whose_lock_was_taken_over_stops_before_writing_more(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN a publisher of v2 that stalls, after its first fallback, for longer than its lock lasts,
    # while another publisher takes the lock over and publishes v3
    bucket = fresh_bucket(s3_client)
    Publisher(bucket, client=s3_client).publish_release(releases["v1"])
    clock = Clock()
    other: list[Any] = []

    class Stalling(Faulty):
        def __getattr__(self, name: str) -> Any:
            inner = super().__getattr__(name)
            if name != "put_object":
                return inner

            def call(**kwargs: Any) -> Any:
                answer = inner(**kwargs)
                if "/fallbacks/" in f"/{kwargs['Key']}" and not other:
                    clock.now += DEFAULT_LOCK_TTL + timedelta(seconds=1)
                    taker = Publisher(bucket, client=s3_client, clock=clock)
                    other.append(taker.publish_release(releases["v3"]))
                return answer

            return call

    stalled = Publisher(bucket, client=Stalling(s3_client, Calls()), clock=clock)
    # WHEN the stalled publisher resumes
    # THEN it finds its lock lost and stops, and v3 stands, consistent
    with pytest.raises(LockLost):
        stalled.publish_release(releases["v2"])
    state = brand_state(s3_client, bucket)
    assert state.pointer == other[0].version == releases["v3"].version
    assert state.consistent(releases) and not state.repair_due and not state.locked


def test_repair_with_nothing_to_do_changes_nothing(s3_client: Any, releases: dict[str, Release]) -> None:
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)
    publisher.publish_release(releases["v1"])
    before = brand_state(s3_client, bucket)
    result = publisher.repair(BRAND)
    after = brand_state(s3_client, bucket)
    assert result.fallbacks == () and not result.repaired
    assert after.fallbacks == before.fallbacks and after.journal == before.journal


def test_rollback_takes_the_lock_and_restores_the_old_versions_fallbacks(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    # GIVEN v1 then v2 published
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)
    publisher.publish_release(releases["v1"])
    publisher.publish_release(releases["v2"])
    # WHEN rolled back to v1
    result = publisher.rollback(BRAND, releases["v1"].version)
    # THEN v1's fallbacks (teaser included) are back, v2's banner gone, the journal says rollback
    state = brand_state(s3_client, bucket)
    assert state.pointer == releases["v1"].version
    assert state.consistent(releases) and not state.repair_due and not state.locked
    assert state.journal is not None and state.journal.operation == "rollback"
    assert set(result.pruned) == expected_keys(releases["v2"]) - expected_keys(releases["v1"])


def test_a_rollback_that_fails_midway_is_repaired(s3_client: Any, releases: dict[str, Release]) -> None:
    # GIVEN v1 then v2 published, and a rollback to v1 that fails at its first fallback write
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)
    publisher.publish_release(releases["v1"])
    publisher.publish_release(releases["v2"])
    calls = Calls()
    Publisher(bucket, client=calls.wrap(s3_client)).rollback(BRAND, releases["v2"].version)  # count
    put = [i for i, name in enumerate(calls.names, 1) if name == "put_object"]
    failing = Calls(fail_at=put[2], mode="before")  # lock take, fallback 1, fallback 2
    with pytest.raises(PublishError):
        Publisher(bucket, client=failing.wrap(s3_client)).rollback(BRAND, releases["v1"].version)
    broken = brand_state(s3_client, bucket)
    assert broken.pointer == releases["v2"].version
    assert not broken.consistent(releases) and broken.repair_due and not broken.locked
    assert broken.journal is not None and broken.journal.state == "failed"
    # WHEN repaired THEN consistent on the pointer's version
    publisher.repair(BRAND)
    state = brand_state(s3_client, bucket)
    assert state.pointer == releases["v2"].version
    assert state.consistent(releases) and not state.repair_due


def test_a_rollback_to_an_unknown_version_leaves_the_record_as_it_was(
    s3_client: Any, releases: dict[str, Release]
) -> None:
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)
    publisher.publish_release(releases["v1"])
    before = brand_state(s3_client, bucket)
    with pytest.raises(UnknownVersion):
        publisher.rollback(BRAND, "0000000000ff")
    after = brand_state(s3_client, bucket)
    assert after.journal == before.journal and not after.repair_due and not after.locked


def test_a_failed_first_publish_leaves_no_fallback_after_repair(s3_client: Any, releases: dict[str, Release]) -> None:
    # GIVEN a brand's first publish that died after writing its first fallback (no pointer yet)
    bucket = fresh_bucket(s3_client)
    calls = Calls()
    Publisher(fresh_bucket(s3_client), client=calls.wrap(s3_client)).publish_release(releases["v1"])
    first_fallback = calls.names.index("put_object", calls.names.index("head_object") + 2) + 1
    dying = Calls(fail_at=first_fallback + 1, mode="dead")
    with pytest.raises(PublishError):
        Publisher(bucket, client=dying.wrap(s3_client)).publish_release(releases["v1"])
    broken = brand_state(s3_client, bucket)
    assert broken.pointer is None and broken.fallbacks and broken.repair_due
    # WHEN repaired once the lock has expired
    later = Clock()
    later.now = datetime.now(UTC) + DEFAULT_LOCK_TTL + timedelta(seconds=1)
    result = Publisher(bucket, client=s3_client, clock=later).repair(BRAND)
    # THEN no fallback of the unpublished brand is left for the CDN to serve
    state = brand_state(s3_client, bucket)
    assert result.pruned and state.pointer is None and not state.fallbacks
    assert not state.repair_due and not state.locked


def test_a_publish_writes_one_fallback_per_size_and_prunes_sizes_dropped(
    tmp_path: Path, s3_client: Any
) -> None:
    # GIVEN a pack whose promo comes in three sizes (its fallback image is 60x20)
    root = write_pack(tmp_path / "sized", ("promo",), "#224466")
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    data["creatives"]["promo"]["sizes"] = ["60x20", "20x60", "120x20"]
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    bucket = fresh_bucket(s3_client)
    publisher = Publisher(bucket, client=s3_client)

    # WHEN it is published
    result = publisher.publish(root)

    # THEN the plain key (the first size) and one key per size, in each format, are in the bucket
    prefix = LAYOUT.fallback_prefix(BRAND)
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    names = sorted(obj["Key"].removeprefix(prefix) for obj in listed)
    assert names == sorted(
        f"promo{size}.{ext}" for size in ("", "@60x20", "@20x60", "@120x20") for ext in ("png", "auto")
    )
    assert sorted(k.removeprefix(prefix) for k in result.fallbacks) == names
    # AND each is an image of its size
    for size in ((20, 60), (120, 20), (60, 20)):
        key = LAYOUT.fallback_key(BRAND, f"promo@{size[0]}x{size[1]}", "png")
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        with Image.open(io.BytesIO(body)) as image:
            assert image.size == size
    assert brand_state(s3_client, bucket).journal is not None

    # WHEN a version without sizes is published
    del data["creatives"]["promo"]["sizes"]
    data["tokens"]["colors"]["ink"] = "#664422"
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    second = publisher.publish(root)

    # THEN the sized fallbacks are pruned and the plain ones stay
    assert sorted(k.removeprefix(prefix) for k in second.pruned) == sorted(n for n in names if "@" in n)
    left = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert sorted(obj["Key"].removeprefix(prefix) for obj in left) == ["promo.auto", "promo.png"]
