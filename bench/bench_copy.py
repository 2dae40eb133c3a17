"""Copy benchmark: what a request whose generated copy is pending costs against a memoized one
(``python bench/bench_copy.py``).

Every request goes through `lambda_handler` for `acme/winter-sale` (PNG, a browser), whose headline is
generated per country and daypart, with a fixed `at` (the same daypart all run) and signatures off
(the query is trusted, so `country` and `at` are plain parameters). The render memo answers every
timed call: the rows differ only in how the copy is found.

Rows (milliseconds):

- `copy/memoized`        the copy of the context (DE) is stored: one store read (SQLite), the stored
                         copy renders, full TTL. The baseline.
- `copy/pending`         the copy of the context (US) is pending and the process remembers it: no store
                         read, the default renders with the short TTL. Target: no more than the baseline.
- `copy/pending unremembered`  the same request with the process's memory of the key cleared before each
                         call (a process that did not take the lease, or whose memory ran out): a store
                         read and a lease attempt that loses. For scale only.

The generating process runs with the kill switch on, so the pending key stays pending all run; the
memoized copy was written beforehand by the offline writer through a second service on the same state
directory. Samples are interleaved (each round runs every case once, in a rotated order) and timed
twice: wall clock (the rows) and this process's CPU time. The notes give the per-round ratio to the
baseline, in both clocks, as its median [first quartile, third quartile]; the CPU-time ratio is the one
to read on a shared machine. Results go to `bench/results/copy.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_handler import BROWSER_UA, QUIET_ENV, Context
from bench_layout import describe, interleave, stats_of, summary
from harness import RESULTS_DIR, Results

ROOT = Path(__file__).resolve().parent.parent
PACKS = ROOT / "examples" / "packs"
TARGET = "/v1/acme/winter-sale.png?country={country}&at=2026-12-01T15:00:00Z"


def event(country: str) -> dict[str, Any]:
    from versa.web.server import to_event

    headers = [("User-Agent", BROWSER_UA), ("Accept", "image/png,image/*;q=0.8")]
    return to_event("GET", TARGET.format(country=country), headers, "130.176.212.71")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="minimum interleaved rounds (300)")
    parser.add_argument("--min-time", type=float, default=3.0, help="minimum seconds (3.0)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 rounds, no minimum time")
    args = parser.parse_args(argv)
    rounds, min_time = (20, 0.0) if args.quick else (args.rounds, args.min_time)

    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from versa.adapters.local_queue import InProcessQueue
    from versa.composition import build_service
    from versa.settings import Settings
    from versa.web import api

    with tempfile.TemporaryDirectory(prefix="versa-bench-") as tmp:
        state = Path(tmp) / "state"
        base = {"packs_dir": PACKS, "state_dir": state, "require_signature": False}
        context = Context()

        def call(service: Any, ev: dict[str, Any], copy: str | None) -> dict[str, Any]:
            api.configure(lambda: service)
            result = api.lambda_handler(ev, context)
            got = next(iter(result["multiValueHeaders"].get("X-Versa-Copy", [])), None)
            if result["statusCode"] != 200 or got != copy:
                raise AssertionError(f"handler answered {result['statusCode']}, X-Versa-Copy {got!r}, wanted {copy!r}")
            return result

        # The DE copy written by the offline writer, through a service of its own.
        writer = build_service(Settings(**base))
        call(writer, event("DE"), "default")
        assert isinstance(writer.queue, InProcessQueue) and writer.queue.drain()
        writer.queue.close()

        service = build_service(Settings(**base, copy_kill_switch=True))
        memoized, pending = event("DE"), event("US")
        call(service, memoized, None)
        call(service, pending, "default")  # takes the lease; the kill switch keeps the key pending
        with sqlite3.connect(state / "copy.sqlite3") as db:
            [(pending_key,)] = db.execute("SELECT key FROM copy_items WHERE status = 'pending'").fetchall()

        def unremembered() -> None:
            service.copy_written(pending_key)  # forget it: the next request reads the store and leases
            call(service, pending, "default")

        cases: list[tuple[str, Callable[[str], Any]]] = [
            ("copy/memoized", lambda _: call(service, memoized, None)),
            ("copy/pending", lambda _: call(service, pending, "default")),
            ("copy/pending unremembered", lambda _: unremembered()),
        ]
        got = interleave(cases, rounds=rounds, min_time=min_time, max_rounds=max(rounds, 1000))
        assert isinstance(service.queue, InProcessQueue)
        service.queue.close()

    results = Results("copy")
    base_series = got["copy/memoized"]
    results.add(base_series.name, stats_of(base_series.samples), baseline=base_series.name,
                notes="stored copy: one store read")
    notes = {"copy/pending": "remembered pending: no store read; target <= 1.00",
             "copy/pending unremembered": "store read + a lease attempt that loses"}
    for name, note in notes.items():
        s = got[name]
        results.add(name, stats_of(s.samples), baseline=base_series.name, notes=f"{note}; {describe(base_series, s)}")
    print(f"== {results.name} ==")
    print(results.table())
    data = results.to_dict()
    data["groups"] = summary([(base_series, got[n]) for n in notes], list(got.values()))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "copy.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
