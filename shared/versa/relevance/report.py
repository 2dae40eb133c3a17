"""The numbers a relevance report shows: per arm and segment, counts, click rate with a credible
interval, the current share; per segment, the lift of the optimized traffic over the holdout.

Lift compares what the optimizer earned with what a uniform split would have earned on the same
audience. The holdout estimates the uniform split: its per-arm click rates are weighed equally (the
holdout's buckets are dealt to the arms as evenly as whole buckets allow, not always exactly), and the
optimized traffic's rate is its clicks over its impressions. The interval comes from drawing both
rates from their Beta posteriors many times, so it is as wide as the data is thin.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

from versa.relevance.counters import ArmCounts, Counters
from versa.relevance.snapshot import AllocationSnapshot
from versa.relevance.thompson import Beta


@dataclass(frozen=True)
class ArmRow:
    """One arm in one segment."""

    segment: str
    arm: str
    impressions: int
    clicks: int
    ctr: float
    ctr_low: float
    ctr_high: float
    share: float | None
    """The arm's share of the segment's buckets in the current snapshot (None without one)."""


@dataclass(frozen=True)
class Lift:
    """Optimized click rate over the holdout's (uniform) rate, minus one, with a credible interval.
    None fields mean there is not yet data on one side."""

    segment: str
    optimized_ctr: float | None
    holdout_ctr: float | None
    lift: float | None
    low: float | None
    high: float | None


def _interval(counts: ArmCounts, mass: float, draws: int, rng: random.Random) -> tuple[float, float]:
    return Beta.posterior(counts).interval(mass, draws=draws, rng=rng)


def arm_rows(
    counters: Counters,
    arms: Sequence[str],
    snapshot: AllocationSnapshot | None,
    rng: random.Random,
    *,
    mass: float = 0.95,
    draws: int = 4000,
) -> list[ArmRow]:
    """A row per (segment, arm) for every segment counted, holdout and optimized traffic together."""
    rows = []
    for segment in counters.segments():
        for arm, c in counters.segment(segment, arms).items():
            low, high = _interval(c, mass, draws, rng)
            share = snapshot.shares(segment).get(arm) if snapshot is not None else None
            rows.append(ArmRow(segment, arm, c.impressions, c.clicks, c.ctr, low, high, share))
    return rows


def lift(
    counters: Counters, segment: str, arms: Sequence[str], rng: random.Random, *, mass: float = 0.95, draws: int = 4000
) -> Lift:
    """The segment's lift over the holdout (see the module doc)."""
    held = counters.segment(segment, arms, ["holdout"])
    optimized = ArmCounts(0, 0)
    for c in counters.segment(segment, arms, ["optimized"]).values():
        optimized = optimized + c
    if optimized.impressions == 0 or any(c.impressions == 0 for c in held.values()):
        return Lift(segment, optimized.ctr if optimized.impressions else None,
                    None, None, None, None)
    holdout_ctr = sum(c.ctr for c in held.values()) / len(held)
    post_opt = Beta.posterior(optimized)
    post_held = [Beta.posterior(c) for c in held.values()]
    samples = []
    for _ in range(draws):
        base = sum(rng.betavariate(p.alpha, p.beta) for p in post_held) / len(post_held)
        samples.append(rng.betavariate(post_opt.alpha, post_opt.beta) / base - 1)
    samples.sort()
    cut = int((1 - mass) / 2 * (draws - 1))
    return Lift(segment, optimized.ctr, holdout_ctr, optimized.ctr / holdout_ctr - 1 if holdout_ctr else None,
                samples[cut], samples[draws - 1 - cut])


def rows_csv(rows: Sequence[ArmRow]) -> str:
    """The arm rows as CSV with a header line (what `versa report --csv` writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["segment", "arm", "impressions", "clicks", "ctr", "ctr_low", "ctr_high", "share"])
    for r in rows:
        writer.writerow([r.segment, r.arm, r.impressions, r.clicks, f"{r.ctr:.6f}", f"{r.ctr_low:.6f}",
                         f"{r.ctr_high:.6f}", "" if r.share is None else f"{r.share:.2f}"])
    return out.getvalue()
