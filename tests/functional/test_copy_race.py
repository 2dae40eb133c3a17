"""Deduplication by the copy store's conditional write, across processes: many misses for one copy key,
raced by separate processes against one SQLite file, make exactly one generation.

- Store level: four processes lease the same 300 keys at once; every key is won exactly once.
- End to end: two `versa serve` processes share one state directory (one SQLite copy store), each with
  its own in-process worker and the OpenAI writer pointed at the local OpenAI-compatible server (real
  HTTP), which counts the chat completions it is asked for. Dozens of concurrent requests per process
  for the same context all miss; the model is asked once, and both processes end up serving the
  generated copy (same ETag).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from copy_pack import copy_pack_data, write_copy_pack
from openai_server import FakeOpenAI, running_openai_server
from servers import Server, running_versa
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.ports import CopyStatus

MODEL = "race-model"
RACERS = 4
KEYS = 300
PER_PROCESS = 32
"""Concurrent requests each `versa serve` gets in the first wave."""
SETTLE_S = 60.0
"""Bound on waiting for both processes to serve the generated copy (a hang, not a speed check)."""


# ------------------------------------------------------------------------------------ store level


def _lease_all(path: str, keys: list[str], barrier: Any, out: Any) -> None:
    """One racing process: lease every key as soon as all racers are ready; report the keys won."""
    store = SQLiteCopyStore(path)
    now = datetime.now(UTC)
    barrier.wait()
    out.put([key for key in keys if store.lease(key, now=now, ttl=timedelta(minutes=10))])
    store.close()


def test_the_sqlite_lease_is_won_once_per_key_across_processes(tmp_path: Path) -> None:
    # GIVEN one SQLite copy store file and four processes started together
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(RACERS), ctx.Queue()
    keys = [f"key-{i}" for i in range(KEYS)]
    path = str(tmp_path / "copy.sqlite3")
    SQLiteCopyStore(path).close()  # the schema exists before the race
    racers = [ctx.Process(target=_lease_all, args=(path, keys, barrier, out)) for _ in range(RACERS)]
    # WHEN each leases every key
    for racer in racers:
        racer.start()
    try:
        won = [out.get(timeout=120) for _ in racers]
    finally:
        for racer in racers:
            racer.join(timeout=30)
            if racer.is_alive():
                racer.kill()
    # THEN every key was won by exactly one process
    wins = Counter(key for keys_won in won for key in keys_won)
    assert sorted(wins) == sorted(keys)
    assert set(wins.values()) == {1}
    # AND the store holds one pending lease per key, each at its first version
    store = SQLiteCopyStore(path)
    items = [store.get(key) for key in keys[:20]]
    assert all(i is not None and i.status is CopyStatus.pending and i.version == 1 for i in items)


# ------------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


def _race_pack(root: Path) -> None:
    """The copy pack with one generated slot (the tagline keeps its default) and a one-second
    default-copy TTL, so a process that stood in the default asks the store again a second later."""
    data = copy_pack_data()
    data["cache"] = {"default_copy_ttl": 1}
    del data["creatives"]["promo"]["copy"]["tagline"]["generate"]
    write_copy_pack(root / "shop", data)


def _get(url: str) -> tuple[int, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return response.status, dict(response.headers)


def _first_wave(servers: list[Server], path: str) -> list[tuple[int, dict[str, str]]]:
    """PER_PROCESS requests to each server, all released at once."""
    gate = threading.Barrier(PER_PROCESS * len(servers))

    def one(url: str) -> tuple[int, dict[str, str]]:
        gate.wait()
        return _get(url)

    urls = [s.url + path for s in servers for _ in range(PER_PROCESS)]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(one, urls))


def _settled(server: Server, path: str) -> dict[str, str]:
    """The server's answer once it serves generated copy (polled, bounded by SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        status, headers = _get(server.url + path)
        if status == 200 and "X-Versa-Copy" not in headers:
            return headers
        if time.monotonic() > deadline:
            raise AssertionError(f"{server.url} still serves the default after {SETTLE_S:.0f} s:\n{server.log_text()}")
        time.sleep(0.2)


@pytest.mark.slow
def test_two_processes_racing_misses_for_one_key_generate_once(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a model that takes five seconds to answer (the race window) with a passing headline
    fake.reset()
    fake.script(MODEL, {"candidates": ["VIP evenings: 20% off"], "delay": 5.0})
    packs, state = tmp_path / "packs", tmp_path / "state"
    _race_pack(packs)
    env = {
        "VERSA_COPY_MODEL": MODEL, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key",
        "VERSA_COPY_ATTEMPTS": "1", "VERSA_RENDER_QUEUE": str(4 * PER_PROCESS),
    }
    # AND two `versa serve` processes sharing one state directory, hence one SQLite copy store
    args = ["--no-signatures"]
    with (
        running_versa(packs, state_dir=state, extra_args=args, env=env, log_name="a.log") as a,
        running_versa(packs, state_dir=state, extra_args=args, env=env, log_name="b.log") as b,
    ):
        assert a.pid != b.pid
        # WHEN dozens of concurrent requests per process ask for one context (one copy key)
        path = "/v1/shop/promo.png?seg=vip&at=2026-12-01T20:00:00Z"
        first = _first_wave([a, b], path)
        # THEN every one was answered, and each process stood in the default for its misses (a
        # request that came late in the wave may already have found the generated copy)
        assert [status for status, _ in first] == [200] * len(first)
        misses = [sum(h.get("X-Versa-Copy") == "default" for _, h in wave)
                  for wave in (first[:PER_PROCESS], first[PER_PROCESS:])]
        assert min(misses) > 0, misses
        # AND both processes end up serving the generated copy: the same image
        settled = [_settled(a, path), _settled(b, path)]
        default_etag = next(h["ETag"] for _, h in first if h.get("X-Versa-Copy") == "default")
        assert settled[0]["ETag"] == settled[1]["ETag"] != default_etag
        # AND however often either process asked the store again meanwhile, the model was asked once
        calls = [r for r in fake.requests() if r.get("model") == MODEL]
        assert len(calls) == 1, f"{len(calls)} generations:\n{a.log_text()}\n{b.log_text()}"
    # AND the store holds one item: the generated copy, written over the only lease ever taken (version 1)
    with sqlite3.connect(state / "copy.sqlite3") as db:
        rows = db.execute("SELECT status, text, version FROM copy_items").fetchall()
    assert rows == [("generated", "VIP evenings: 20% off", 2)]
