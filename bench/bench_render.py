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

from baseline import BaselineCard, values_for
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


# Baseline builders first: a row's baseline must already be measured. Versa rows go after,
# e.g. Case(f"versa/{fmt}", ..., baseline=f"baseline/{fmt}").
ROW_BUILDERS: list[Callable[[], list[Case]]] = [baseline_cases]


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
