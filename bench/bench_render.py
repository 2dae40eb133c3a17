"""Render benchmark: time the benchmark card per output format (``python bench/bench_render.py``).

Every row renders the full card (background, logo, personalized text, CTA) and encodes it; the
name rotates per call. Rows come from ``ROW_BUILDERS``; each builder returns ``Case``s, and a case
names the baseline row its ratio is computed against (measured earlier in this same run).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from baseline import NAMES, BaselineCard, values_for
from harness import Results, measure

FORMATS = ("png", "jpeg", "webp")


@dataclass(frozen=True)
class Case:
    """One benchmark row: ``render(i)`` draws and encodes the card for request ``i``."""

    name: str
    render: Callable[[int], bytes]
    baseline: str | None = None
    notes: str = ""


def baseline_cases() -> list[Case]:
    card = BaselineCard()
    return [
        Case(
            f"baseline/{fmt}",
            lambda i, fmt=fmt: card.render(values_for(i), fmt),
            f"baseline/{fmt}",
            "plain Pillow",
        )
        for fmt in FORMATS
    ]


CARD_PACK = Path(__file__).resolve().parent / "packs" / "card"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "packs"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


_FRESH = itertools.count(1)


def fresh_values(i: int) -> dict:
    """The baseline's values for request 0 (whose bytes the table reports); after that a name used
    nowhere else in this run, so no personal text can come out of any cache."""
    if i == 0:
        return values_for(0)
    k = next(_FRESH)
    n, suffix = k // len(NAMES), ""
    while n:
        n, r = divmod(n - 1, 26)
        suffix = chr(97 + r) + suffix
    return {**values_for(k), "name": NAMES[k % len(NAMES)] + suffix}


def versa_cases() -> list[Case]:
    """Versa rows: the card pack rendered with the render memo off and a fresh name per call, so the
    personal headline is laid out and drawn every time while fonts, decoded assets, the gradient and
    the layouts of texts that do not change (subline, CTA) stay warm, as in a warm Lambda. The
    decision is made once up front (no rule depends on the request), except in `versa/png+decide`.
    `versa/png cold-text` also forgets every text layout before each call."""
    from versa.composition import build_renderer
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS
    from versa.render.engine import Renderer
    from versa.render.layers import clear_layouts
    from versa.settings import Settings

    pack = load_pack(CARD_PACK, checks=PACK_CHECKS)
    options = context_options(pack.model, "card")
    decision = decide(pack.model, "card", resolve({}, {}, NOW, options))
    default = build_renderer(Settings(memo_items=0), fast=False)
    fast = build_renderer(Settings(memo_items=0), fast=True)
    memo = build_renderer(Settings(), fast=True)

    def render(renderer: Renderer, fmt: str, values: dict) -> bytes:
        return renderer.render(
            pack, decision, texts={}, params=values, fmt=fmt, width=None, dpr=1, now=NOW, tz="UTC"
        ).body

    def cold(i: int) -> bytes:
        clear_layouts()
        return render(default, "png", fresh_values(i))

    def with_decide(i: int) -> bytes:
        values = fresh_values(i)
        ctx = resolve({}, {k: str(v) for k, v in values.items()}, NOW, options)
        d = decide(pack.model, "card", ctx)
        return default.render(
            pack, d, texts={}, params=ctx.params, fmt="png", width=None, dpr=1, now=NOW, tz="UTC"
        ).body

    cases = [
        Case(
            f"versa/{fmt}",
            lambda i, fmt=fmt: render(default, fmt, fresh_values(i)),
            f"baseline/{fmt}",
            "default encoder settings, memo off, fresh name per call",
        )
        for fmt in FORMATS
    ]
    for fmt in FORMATS:
        std, quick = (len(render(r, fmt, values_for(0))) for r in (default, fast))
        cases.append(
            Case(
                f"versa-fast/{fmt}",
                lambda i, fmt=fmt: render(fast, fmt, fresh_values(i)),
                f"baseline/{fmt}",
                f"fast encoder (engine default); size {100 * (quick - std) / std:+.1f}% vs default",
            )
        )
    cases += [
        Case("versa/png cold-text", cold, "baseline/png", "as versa/png, every text laid out again"),
        Case("versa/png+decide", with_decide, "baseline/png", "as versa/png, plus context + decide per call"),
        Case(
            "versa/png memo",
            lambda i: render(memo, "png", values_for(0)),
            "versa-fast/png",
            "same request repeated (ratio vs uncached versa-fast/png)",
        ),
        countdown_case(load_pack(EXAMPLES / "northwind", checks=PACK_CHECKS)),
    ]
    return cases


def countdown_case(pack: Any) -> Case:
    """The northwind cyber-week email header as a 30-frame countdown GIF, memo off."""
    from versa.composition import build_renderer
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.settings import Settings

    options = context_options(pack.model, "cyber-week")
    ctx = resolve({"User-Agent": "Microsoft Outlook 16.0"}, {"first_name": "Ana"}, NOW, options)
    decision = decide(pack.model, "cyber-week", ctx)
    renderer = build_renderer(Settings(memo_items=0))

    def render(i: int) -> bytes:
        rendered = renderer.render(
            pack, decision, texts={}, params=ctx.params, fmt="gif", width=None, dpr=1,
            now=NOW + timedelta(seconds=i), tz=ctx.tz,
        )  # fmt: skip
        return rendered.body

    return Case("versa/gif countdown", render, None, "northwind cyber-week, 30 one-second frames, memo off")


# Baseline builders first: a row's baseline must already be measured.
ROW_BUILDERS: list[Callable[[], list[Case]]] = [baseline_cases, versa_cases]


def run(results: Results, cases: list[Case], *, repeat: int, min_time: float) -> None:
    for case in cases:
        nbytes = len(case.render(0))  # size of the first request's output (name "Alex")
        counter = itertools.count()
        stats = measure(
            lambda case=case, counter=counter: case.render(next(counter)), repeat=repeat, min_time=min_time
        )
        results.add(case.name, stats, nbytes=nbytes, baseline=case.baseline, notes=case.notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="minimum timed samples per row (default 30)")
    parser.add_argument("--min-time", type=float, default=1.0, help="minimum seconds per row (default 1.0)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 samples, no minimum time")
    args = parser.parse_args(argv)
    repeat, min_time = (5, 0.0) if args.quick else (args.repeat, args.min_time)

    results = Results("render")
    for build in ROW_BUILDERS:
        run(results, build(), repeat=repeat, min_time=min_time)
    results.report()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
