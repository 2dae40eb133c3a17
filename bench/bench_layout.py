"""Layout benchmark: what container layout costs on the benchmark card (``python bench/bench_layout.py``).

The same card is drawn three ways in one run, on equal work: by plain Pillow (`baseline.py`), by Versa
from `packs/card` (absolute boxes) and by Versa from `packs/card-flex` (one column container whose
padding and gaps put every layer where the absolute boxes do; the texts measure themselves). The two
packs draw the same pixels; the script checks that before timing.

Samples are interleaved: each round runs every case once, in an order rotated per round, so drift on
a shared machine hits all cases alike. Every round has its own name (the baseline's rotation plus two
letters, so the headline keeps its two lines) and every case in a round gets the same name with other
letters, so no personal text comes out of a cache (the subline, the CTA, fonts, assets and the
gradient stay warm, as in a warm Lambda). The render memo is off for the render rows.

Rows (milliseconds):

- `baseline/{fmt}`           plain Pillow, Pillow's default encoder settings.
- `absolute/{fmt}`           Versa, absolute boxes, default encoder settings. Ratio vs baseline.
- `containers/{fmt}`         Versa, containers. Ratio vs absolute (target <= 1.10); notes: vs baseline
                             and the per-round paired ratio's median and interquartile range.
- `handler/png memoized ...` `lambda_handler` on the same event every call (the render memo answers),
                             served from each pack in turn. Containers' ratio vs absolute (target: 1.00
                             within noise).
- `handler/png uncached ...` `lambda_handler` on an event with a name used nowhere else in the run.

Each sample is timed twice: wall clock (the rows) and this process's CPU time (all its threads), which leaves out what
other processes take on a shared machine. The notes give the per-round ratio, in both clocks, as its
median and interquartile range. Results go to `bench/results/layout.json`: the rows, and per group
the paired ratios and each case's spread (median, quartiles, interquartile range over the median)
in both clocks.
"""

from __future__ import annotations

import argparse
import copy
import gc
import io
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baseline import NAMES, PERSONALIZATION, BaselineCard
from bench_handler import QUIET_ENV, Context, Urls, state_dir
from harness import RESULTS_DIR, Results, Stats

BENCH = Path(__file__).resolve().parent
PACKS = {"absolute": BENCH / "packs" / "card", "containers": BENCH / "packs" / "card-flex"}
FORMATS = ("png", "jpeg", "webp")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
LETTERS = "abcdefghijklnopqrstuvxyz"  # no m or w: the widest name still leaves a two-line headline


class Names:
    """Per-round names: round r draws the baseline's rotation (`NAMES[r % 8]`) plus two letters, a
    different pair for each case of the round and never one used before in this run."""

    def __init__(self) -> None:
        self.rounds = 0
        self.used = [0] * len(NAMES)

    def round(self, cases: int) -> list[str]:
        base = self.rounds % len(NAMES)
        self.rounds += 1
        first = self.used[base]
        self.used[base] += cases
        if self.used[base] > len(LETTERS) ** 2:
            raise ValueError("too many rounds for unique two-letter names")
        pairs = (divmod(code, len(LETTERS)) for code in range(first, first + cases))
        return [NAMES[base] + LETTERS[i] + LETTERS[j] for i, j in pairs]


NAMES_USED = Names()


@dataclass
class Series:
    """The samples (ms) of one case, in round order."""

    name: str
    run: Callable[[str], Any]
    samples: list[float]
    cpu: list[float]  # the same calls in this process's CPU time (ms, all its threads): other processes left out


def interleave(
    cases: list[tuple[str, Callable[[str], Any]]], *, rounds: int, min_time: float, max_rounds: int
) -> dict[str, Series]:
    """Time every case once per round (order rotated each round, garbage collector paused), after
    three untimed rounds, until `rounds` rounds *and* `min_time` seconds, at most `max_rounds`."""
    series = [Series(name, run, [], []) for name, run in cases]
    n = len(series)
    for _ in range(3):
        for s, name in zip(series, NAMES_USED.round(n), strict=True):
            s.run(name)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        deadline = time.perf_counter() + min_time
        r = 3
        while r - 3 < max_rounds and (r - 3 < rounds or time.perf_counter() < deadline):
            names = NAMES_USED.round(n)
            for k in range(n):
                c = (r + k) % n
                name = names[c]
                cpu, start = time.process_time_ns(), time.perf_counter_ns()
                series[c].run(name)
                series[c].samples.append((time.perf_counter_ns() - start) / 1e6)
                series[c].cpu.append((time.process_time_ns() - cpu) / 1e6)
            r += 1
    finally:
        if enabled:
            gc.enable()
    return {s.name: s for s in series}


def stats_of(samples: list[float]) -> Stats:
    p90 = statistics.quantiles(samples, n=10, method="inclusive")[8]
    return Stats(median_ms=statistics.median(samples), p90_ms=p90, min_ms=min(samples), n=len(samples))


def spread(values: list[float]) -> dict[str, float]:
    """Median and quartiles of `values`, and the interquartile range relative to the median."""
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": round(med, 4), "q1": round(q1, 4), "q3": round(q3, 4), "iqr_rel": round((q3 - q1) / med, 4)}


def paired(a: Series, b: Series, *, cpu: bool = False) -> dict[str, float]:
    """Spread of b/a over the rounds (both measured in each round), in wall or CPU time."""
    xs, ys = (a.cpu, b.cpu) if cpu else (a.samples, b.samples)
    return spread([y / x for x, y in zip(xs, ys, strict=True)])


def describe(a: Series, b: Series) -> str:
    """`b` against `a` for a row's notes: the per-round ratio in wall and in CPU time, each as its
    median [first quartile, third quartile]."""
    w, c = paired(a, b), paired(a, b, cpu=True)
    return (
        f"per-round ratio {w['median']:.3f} [{w['q1']:.3f}, {w['q3']:.3f}], "
        f"CPU time {c['median']:.3f} [{c['q1']:.3f}, {c['q3']:.3f}]"
    )


def summary(pairs: list[tuple[Series, Series]], series: list[Series]) -> dict[str, Any]:
    return {
        "paired": {
            f"{b.name} / {a.name}": {"wall": paired(a, b), "cpu": paired(a, b, cpu=True)} for a, b in pairs
        },
        "spread_ms": {s.name: {"wall": spread(s.samples), "cpu": spread(s.cpu)} for s in series},
    }


# ----------------------------------------------------------------------------------------- render


def renderers() -> dict[str, Callable[[str, str], bytes]]:
    """`render(fmt, name) -> bytes` per pack: memo off, Pillow's default encoder settings."""
    from versa.composition import build_renderer
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS
    from versa.settings import Settings

    renderer = build_renderer(Settings(memo_items=0), fast=False)
    out: dict[str, Callable[[str, str], bytes]] = {}
    for kind, root in PACKS.items():
        pack = load_pack(root, checks=PACK_CHECKS)
        decision = decide(pack.model, "card", resolve({}, {}, NOW, context_options(pack.model, "card")))

        def render(fmt: str, name: str, pack: Any = pack, decision: Any = decision) -> bytes:
            params = {**PERSONALIZATION, "name": name}
            return renderer.render(
                pack, decision, texts={}, params=params, fmt=fmt, width=None, dpr=1, now=NOW, tz="UTC"
            ).body

        out[kind] = render
    return out


def same_pixels(render: dict[str, Callable[[str, str], bytes]], names: list[str]) -> None:
    """Raise unless both packs draw identical pixels for every name (equal work, same picture)."""
    from PIL import Image, ImageChops

    for name in names:
        a, b = (Image.open(io.BytesIO(render[kind]("png", name))).convert("RGBA") for kind in PACKS)
        box = ImageChops.difference(a, b).getbbox()
        if box is not None:
            raise AssertionError(f"absolute and container cards differ for name {name!r} in {box}")


def render_rows(
    results: Results, extra: dict[str, Any], *, rounds: int, min_time: float, max_rounds: int
) -> None:
    card = BaselineCard()
    render = renderers()
    longest = ["Maximiliana Hernández", "W" * 24]  # a third line: both cut it with an ellipsis
    same_pixels(render, [*NAMES, *longest, *(NAMES_USED.round(1)[0] for _ in range(16))])
    for fmt in FORMATS:
        cases: list[tuple[str, Callable[[str], Any]]] = [
            (f"baseline/{fmt}", lambda name, fmt=fmt: card.render({**PERSONALIZATION, "name": name}, fmt)),
            *((f"{kind}/{fmt}", lambda name, fmt=fmt, kind=kind: render[kind](fmt, name)) for kind in PACKS),
        ]
        got = interleave(cases, rounds=rounds, min_time=min_time, max_rounds=max_rounds)
        base, absolute, flex = (got[f"{k}/{fmt}"] for k in ("baseline", *PACKS))
        nbytes = {k: len(render[k](fmt, NAMES[0])) for k in PACKS}
        results.add(base.name, stats_of(base.samples), nbytes=len(card.render(PERSONALIZATION, fmt)),
                    baseline=base.name, notes="plain Pillow")  # fmt: skip
        results.add(absolute.name, stats_of(absolute.samples), nbytes=nbytes["absolute"], baseline=base.name,
                    notes="absolute boxes, memo off")  # fmt: skip
        vs_base = statistics.median(flex.samples) / statistics.median(base.samples)
        results.add(
            flex.name, stats_of(flex.samples), nbytes=nbytes["containers"], baseline=absolute.name,
            notes=f"vs absolute (target <= 1.10); {vs_base:.2f} x baseline; {describe(absolute, flex)}",
        )  # fmt: skip
        extra[fmt] = summary([(absolute, flex), (base, absolute), (base, flex)], [base, absolute, flex])


# ---------------------------------------------------------------------------------------- handler


def handler_rows(
    results: Results, extra: dict[str, Any], tmp: Path, *, rounds: int, min_time: float, max_rounds: int
) -> None:
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from versa.composition import build_service
    from versa.settings import Settings
    from versa.web import api

    state, keyring = state_dir(tmp)
    services = {}
    for kind, root in PACKS.items():
        packs = tmp / kind
        shutil.copytree(root, packs / "bench")  # served as brand `bench` either way
        services[kind] = build_service(Settings(packs_dir=packs, state_dir=state))
    urls = Urls(keyring)
    context = Context()

    def call(kind: str, event: dict[str, Any]) -> None:
        api.configure(lambda: services[kind])
        api.service()  # built already: configure only points the module at it
        result = api.lambda_handler(event, context)
        if result["statusCode"] != 200:
            raise AssertionError(f"{kind}: handler answered {result['statusCode']}: {str(result['body'])[:200]}")

    # Both packs answer the same bytes for the same request.
    bodies = set()
    for kind in PACKS:
        api.configure(lambda kind=kind: services[kind])
        bodies.add(api.lambda_handler(urls.event(NAMES[0]), context)["body"])
    if len(bodies) != 1:
        raise AssertionError("the handler answers different images from the absolute and container packs")

    same = urls.event(NAMES[0])
    memo = interleave([(f"handler/png memoized {kind}", lambda name, kind=kind: call(kind, same)) for kind in PACKS],
                      rounds=rounds, min_time=min_time, max_rounds=max_rounds)  # fmt: skip
    events: dict[str, dict[str, Any]] = {}

    def fresh(kind: str, name: str) -> None:
        event = events.pop(name, None) or urls.event(name)  # built before timing when it can be
        call(kind, event)

    # Events are built before timing (from a copy of the name source): the timed call is the handler alone.
    ahead = copy.deepcopy(NAMES_USED)
    for _ in range(3 + max_rounds):
        for name in ahead.round(len(PACKS)):
            events[name] = urls.event(name)
    uncached = interleave(
        [(f"handler/png uncached {kind}", lambda name, kind=kind: fresh(kind, name)) for kind in PACKS],
        rounds=rounds, min_time=min_time, max_rounds=max_rounds,
    )  # fmt: skip
    for label, got in (("memoized", memo), ("uncached", uncached)):
        a, b = got[f"handler/png {label} absolute"], got[f"handler/png {label} containers"]
        results.add(a.name, stats_of(a.samples), baseline=a.name, notes="absolute boxes")
        results.add(b.name, stats_of(b.samples), baseline=a.name, notes=f"containers; {describe(a, b)}")
        extra[f"handler {label}"] = summary([(a, b)], [a, b])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="minimum interleaved rounds per group (100)")
    parser.add_argument("--min-time", type=float, default=3.0, help="minimum seconds per group (3.0)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 rounds, no minimum time")
    args = parser.parse_args(argv)
    rounds, min_time = (8, 0.0) if args.quick else (args.rounds, args.min_time)
    max_rounds = max(rounds, 300)  # 4 groups of 3 cases and one of 2 fit the unique names

    results = Results("layout")
    extra: dict[str, Any] = {}
    render_rows(results, extra, rounds=rounds, min_time=min_time, max_rounds=max_rounds)
    with tempfile.TemporaryDirectory(prefix="versa-bench-") as tmp:
        handler_rows(results, extra, Path(tmp), rounds=rounds, min_time=min_time, max_rounds=max_rounds)

    print(f"== {results.name} ==")
    print(results.table())
    data = results.to_dict()
    data["groups"] = extra
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "layout.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
