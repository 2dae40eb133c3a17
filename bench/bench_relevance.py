"""Relevance benchmark: how much the optimizer saves against a fixed uniform split, in clicks.

The scenario is fixed by issue 17: two segments of equal traffic, four arms whose click rates are
1.6%, 2.0%, 2.4% and 3.0% in segment A and the reverse in segment B, a 10% holdout, a reallocation
every 5,000 impressions, 100,000 impressions, 20 seeds. Each impression draws a segment and a visitor
bucket (0..99), asks the real `arm_for` which arm that bucket shows under the current snapshot,
draws a click at that arm's rate and adds both to the real `Counters`; every `--period` impressions
the real optimizer (`reallocate`: Thompson sampling, minimum share, minimum sample, fixed holdout)
makes the next snapshot. The baseline is the same traffic (same seed, so the same segments and
buckets) through a fixed uniform table.

Regret is the expected clicks lost against always showing each segment's best arm: the sum over
impressions of (best rate - rate of the arm shown). It is counted from the rates, not the drawn
clicks, so the comparison carries no click noise. Run: `python bench/bench_relevance.py [--json]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from versa.relevance import BUCKETS, AllocationSnapshot, Counters, Policy, arm_for, reallocate

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ARMS = ("a16", "a20", "a24", "a30")
RATES = {
    "A": dict(zip(ARMS, (0.016, 0.020, 0.024, 0.030), strict=True)),
    "B": dict(zip(ARMS, (0.030, 0.024, 0.020, 0.016), strict=True)),
}
START = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    """One seed's outcome."""

    seed: int
    optimizer_regret: float
    uniform_regret: float
    best_found: dict[str, bool]
    final_shares: dict[str, dict[str, float]]
    reallocations: int
    buckets_moved: int


def policy(holdout: float, min_share: float, min_sample: int, draws: int) -> Policy:
    return Policy(
        rule="bench", arms=ARMS, holdout=holdout, min_share=min_share, min_sample=min_sample,
        period=timedelta(minutes=5), draws=draws,
    )


def simulate(
    seed: int, *, impressions: int, period: int, holdout: float = 0.10, min_share: float = 0.02,
    min_sample: int = 1000, draws: int = 1000,
) -> Run:
    """One seed: the optimizer and the uniform split on the same traffic."""
    traffic = random.Random(seed)
    clicks_rng = random.Random(seed + 1_000_003)
    opt_rng = random.Random(seed + 2_000_003)
    pol = policy(holdout, min_share, min_sample, draws)
    uniform = reallocate(Policy(rule="uniform", arms=ARMS, holdout=0, min_share=0), Counters(), None, START, opt_rng)
    best = {seg: max(r.values()) for seg, r in RATES.items()}
    counters = Counters()
    now = START
    snap: AllocationSnapshot = reallocate(pol, counters, None, now, opt_rng, segments=list(RATES))
    regret = uniform_regret = 0.0
    reallocations = moved = 0
    for i in range(1, impressions + 1):
        segment = "A" if traffic.random() < 0.5 else "B"
        bucket = traffic.randrange(BUCKETS)
        rates = RATES[segment]
        shown = arm_for(snap, segment, bucket)
        rate = rates[shown.arm]
        counters.add(segment, shown.arm, shown.group, impressions=1, clicks=int(clicks_rng.random() < rate))
        regret += best[segment] - rate
        uniform_regret += best[segment] - rates[arm_for(uniform, segment, bucket).arm]
        if i % period == 0 and i < impressions:
            now += pol.period
            nxt = reallocate(pol, counters, snap, now, opt_rng)
            moved += sum(a != b for seg in RATES for a, b in zip(snap.table(seg), nxt.table(seg), strict=True))
            snap, reallocations = nxt, reallocations + 1
    shares = {seg: snap.shares(seg) for seg in RATES}
    found = {seg: max(shares[seg], key=shares[seg].__getitem__) == max(RATES[seg], key=RATES[seg].__getitem__) for seg in RATES}
    return Run(seed, regret, uniform_regret, found, shares, reallocations, moved)


def spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def summarize(runs: list[Run], args: argparse.Namespace, seconds: float) -> dict[str, object]:
    opt = [r.optimizer_regret for r in runs]
    uni = [r.uniform_regret for r in runs]
    ratios = [o / u for o, u in zip(opt, uni, strict=True)]
    return {
        "scenario": {
            "impressions": args.impressions, "seeds": args.seeds, "period": args.period, "holdout": args.holdout,
            "min_share": args.min_share, "min_sample": args.min_sample, "draws": args.draws, "rates": RATES,
        },
        "optimizer_regret": spread(opt),
        "uniform_regret": spread(uni),
        "ratio": {**spread(ratios), "of_means": statistics.fmean(opt) / statistics.fmean(uni)},
        "best_found": {seg: sum(r.best_found[seg] for r in runs) / len(runs) for seg in RATES},
        "buckets_moved_per_reallocation": statistics.fmean(r.buckets_moved / max(1, r.reallocations) for r in runs),
        "seconds": round(seconds, 2),
        "python": platform.python_version(),
        "runs": [asdict(r) for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impressions", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--period", type=int, default=5_000, help="impressions between reallocations")
    parser.add_argument("--holdout", type=float, default=0.10)
    parser.add_argument("--min-share", type=float, default=0.02)
    parser.add_argument("--min-sample", type=int, default=1000, help="impressions per arm before any takes over")
    parser.add_argument("--draws", type=int, default=1000, help="Monte-Carlo draws per Thompson weighting")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    runs = [
        simulate(seed, impressions=args.impressions, period=args.period, holdout=args.holdout,
                 min_share=args.min_share, min_sample=args.min_sample, draws=args.draws)
        for seed in range(args.seeds)
    ]
    summary = summarize(runs, args, time.perf_counter() - began)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "relevance.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if args.json:
        json.dump({k: v for k, v in summary.items() if k != "runs"}, sys.stdout, indent=2)
        print()
    else:
        o, u, r = summary["optimizer_regret"], summary["uniform_regret"], summary["ratio"]
        assert isinstance(o, dict) and isinstance(u, dict) and isinstance(r, dict)
        print(f"{'':18}{'mean':>9}{'sd':>9}{'min':>9}{'max':>9}")
        for name, s in (("uniform_regret", u), ("optimizer_regret", o), ("ratio", r)):
            print(f"{name:18}{s['mean']:9.3f}{s['sd']:9.3f}{s['min']:9.3f}{s['max']:9.3f}")
        print(f"ratio of means {r['of_means']:.3f} (target <= 0.6); best arm found {summary['best_found']}")
        print(f"buckets moved per reallocation {summary['buckets_moved_per_reallocation']:.1f}; {summary['seconds']} s")
    of_means = statistics.fmean(r.optimizer_regret for r in runs) / statistics.fmean(r.uniform_regret for r in runs)
    found = all(all(r.best_found.values()) for r in runs)
    return 0 if of_means <= 0.6 and found else 1


if __name__ == "__main__":
    raise SystemExit(main())
