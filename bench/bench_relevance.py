"""Relevance benchmark: how much the optimizer saves against a fixed uniform split, in clicks.

The scenario is fixed by issue 17: two segments of equal traffic, four arms whose click rates are
1.6%, 2.0%, 2.4% and 3.0% in segment A and the reverse in segment B, a 10% holdout, a reallocation
every 5,000 impressions, 100,000 impressions, 20 seeds.

The decision path is the real one: the acme example pack gets an optimized rule (`learn_by: [device]`,
four arms, each a different paper colour, the guardrails from the command line); segment A is a
desktop request and B a mobile one, resolved from CloudFront headers. Each impression draws a segment
and a visitor bucket (0..99); the real `segment_key` and `arm_for` pick the arm under the current
snapshot, the real `decide(..., arms=...)` turns it into a design (memoized per segment and arm, as
the CDN caches it per bucket), the click rate belongs to that design, and the arm named in the
decision's trace (what a click URL carries) is credited in the real `Counters`. Every `--period`
impressions the real optimizer (`reallocate`, with the rule's `policy_for`) makes the next snapshot.
The baseline is the same traffic (same seed, so the same segments and buckets) through a fixed
uniform table.

Regret is the expected clicks lost against always showing each segment's best arm: the sum over
impressions of (best rate - rate of the arm shown). It is counted from the rates, not the drawn
clicks, so the comparison carries no click noise. Run: `python bench/bench_relevance.py [--json]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide, lookup_for
from versa.pack.loader import load_pack
from versa.relevance import (
    BUCKETS,
    AllocationSnapshot,
    Counters,
    Policy,
    arm_for,
    arm_id,
    policy_for,
    reallocate,
    segment_key,
)
from versa.render.checks import PACK_CHECKS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ARMS = ("a16", "a20", "a24", "a30")
RATES = {
    "A": dict(zip(ARMS, (0.016, 0.020, 0.024, 0.030), strict=True)),
    "B": dict(zip(ARMS, (0.030, 0.024, 0.020, 0.016), strict=True)),
}
START = datetime(2026, 12, 1, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "packs"
PAPER = dict(zip(ARMS, ("#fff8e7", "#f1f7ff", "#f3fff1", "#fff0f3"), strict=True))
HEADERS = {
    "A": {"CloudFront-Is-Desktop-Viewer": "true", "User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0"},
    "B": {"CloudFront-Is-Mobile-Viewer": "true", "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Mobile/15E148"},
}


class DecisionPath:
    """The acme pack with the benchmark's optimized rule, and the real decision for (segment, arm)."""

    def __init__(self, holdout: float, min_share: float, min_sample: int) -> None:
        rule = {
            "id": "bench", "optimize": "clicks", "learn_by": ["device"], "holdout": holdout,
            "min_share": min_share, "min_sample": min_sample, "reallocate": "5m",
            "arms": [{"id": arm, "set": {"tokens.colors.paper": PAPER[arm]}} for arm in ARMS],
        }
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "acme"
            shutil.copytree(EXAMPLES / "acme", root)
            data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
            data["creatives"]["winter-sale"]["rules"].append(rule)
            (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            self.pack = load_pack(root, checks=PACK_CHECKS).model
        self.rule = self.pack.creative("winter-sale").rules[-1]
        options = context_options(self.pack, "winter-sale")
        base = {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Time-Zone": "America/New_York"}
        noon = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
        self.contexts = {seg: resolve({**base, **h}, {}, noon, options) for seg, h in HEADERS.items()}
        self.segments = {seg: segment_key(self.rule, lookup_for(ctx)) for seg, ctx in self.contexts.items()}
        self._designs: dict[tuple[str, str], tuple[str, str]] = {}
        self.rates: dict[str, float] = {}
        """Click rate by design key: the synthetic truth belongs to what was shown."""
        for seg in RATES:
            for arm in ARMS:
                key, _ = self.design(seg, arm)
                self.rates[key] = RATES[seg][arm]
        if len(self.rates) != len(RATES) * len(ARMS):
            raise SystemExit("the arms did not make distinct designs per segment: the benchmark would be void")

    def design(self, segment: str, arm: str) -> tuple[str, str]:
        """(design key, arm named in the trace) of the decision for `segment` showing `arm`."""
        found = self._designs.get((segment, arm))
        if found is None:
            decision = decide(self.pack, "winter-sale", self.contexts[segment], arms={self.rule.id: arm})
            [trace] = [t for t in decision.trace if t.rule == self.rule.id]
            credited = trace.reason.rsplit("; arm ", 1)[-1]
            # the design key alone does not tell segments apart (same paper): key it with the segment
            found = (f"{segment}:{decision.design_key}", credited)
            self._designs[(segment, arm)] = found
        return found


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


_PATHS: dict[tuple[float, float, int], DecisionPath] = {}


def decision_path(holdout: float, min_share: float, min_sample: int) -> DecisionPath:
    key = (holdout, min_share, min_sample)
    if key not in _PATHS:
        _PATHS[key] = DecisionPath(holdout, min_share, min_sample)
    return _PATHS[key]


def simulate(
    seed: int, *, impressions: int, period: int, holdout: float = 0.10, min_share: float = 0.02,
    min_sample: int = 1000, draws: int = 1000,
) -> Run:
    """One seed: the optimizer and the uniform split on the same traffic."""
    traffic = random.Random(seed)
    clicks_rng = random.Random(seed + 1_000_003)
    opt_rng = random.Random(seed + 2_000_003)
    path = decision_path(holdout, min_share, min_sample)
    pol = replace(policy_for(path.rule), draws=draws)
    uniform = reallocate(Policy(rule="uniform", arms=ARMS, holdout=0, min_share=0), Counters(), None, START, opt_rng)
    best = {seg: max(r.values()) for seg, r in RATES.items()}
    counters = Counters()
    now = START
    seg_key = path.segments
    keys = {arm_id(k): k for k in pol.arms}  # the click URL carries the arm's versioned key
    snap: AllocationSnapshot = reallocate(pol, counters, None, now, opt_rng, segments=list(seg_key.values()))
    regret = uniform_regret = 0.0
    reallocations = moved = 0
    for i in range(1, impressions + 1):
        segment = "A" if traffic.random() < 0.5 else "B"
        bucket = traffic.randrange(BUCKETS)
        shown = arm_for(snap, seg_key[segment], bucket)
        key, credited = path.design(segment, arm_id(shown.arm))
        rate = path.rates[key]
        counters.add(seg_key[segment], keys[credited], shown.group, impressions=1, clicks=int(clicks_rng.random() < rate))
        regret += best[segment] - rate
        uniform_regret += best[segment] - RATES[segment][arm_for(uniform, segment, bucket).arm]
        if i % period == 0 and i < impressions:
            now += pol.period
            nxt = reallocate(pol, counters, snap, now, opt_rng)
            moved += sum(a != b for seg in seg_key.values() for a, b in zip(snap.table(seg), nxt.table(seg), strict=True))
            snap, reallocations = nxt, reallocations + 1
    shares = {seg: {arm_id(k): v for k, v in snap.shares(seg_key[seg]).items()} for seg in RATES}
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
