"""The optimizer: counts in, the next allocation snapshot out (what the scheduled function runs).

For each segment it weighs the arms by Thompson sampling (the probability each is best), turns the
weights into whole buckets with a minimum per arm, and remaps buckets moving as few as possible.
Guardrails: the holdout's buckets and their arms never change; every arm keeps at least `min_share`
of the traffic; until every arm of a segment has `min_sample` impressions the segment stays uniform,
so no arm takes over on a lucky start.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from versa.relevance.buckets import BUCKETS, counts_from_weights, holdout_arms, holdout_buckets, remap
from versa.relevance.counters import Counters
from versa.relevance.snapshot import DEFAULT_SEGMENT, MAX_ARMS, AllocationSnapshot
from versa.relevance.thompson import prob_best


class PolicyError(ValueError):
    """A policy that cannot be allocated: names the field, the value and what is allowed."""


@dataclass(frozen=True)
class Policy:
    """What one optimized rule asks of the optimizer (built from the pack's rule)."""

    rule: str
    arms: tuple[str, ...]
    holdout: float = 0.10
    min_share: float = 0.02
    min_sample: int = 1000
    period: timedelta = timedelta(hours=1)
    draws: int = 2000

    def __post_init__(self) -> None:
        if not 2 <= len(self.arms) <= MAX_ARMS or len(set(self.arms)) != len(self.arms):
            raise PolicyError(f"arms {list(self.arms)}: allowed 2..{MAX_ARMS} distinct arm ids")
        if not 0 <= self.holdout <= 0.5:
            raise PolicyError(f"holdout {self.holdout}: allowed 0..0.5")
        if self.min_sample < 0:
            raise PolicyError(f"min_sample {self.min_sample}: allowed >= 0")
        if self.draws < 100:
            raise PolicyError(f"draws {self.draws}: allowed >= 100")
        if self.period <= timedelta(0):
            raise PolicyError(f"period {self.period}: allowed a positive duration")
        free = BUCKETS - len(self.holdout_set)
        if self.min_buckets * len(self.arms) > free:
            raise PolicyError(
                f"min_share {self.min_share}: {len(self.arms)} arms x {self.min_buckets} buckets exceed the "
                f"{free} buckets outside the holdout; allowed min_share <= {free // len(self.arms) / BUCKETS}"
            )

    @property
    def holdout_set(self) -> frozenset[int]:
        return holdout_buckets(self.rule, self.holdout)

    @property
    def min_buckets(self) -> int:
        """Buckets every arm keeps outside the holdout: min_share of all buckets, rounded up."""
        return math.ceil(self.min_share * BUCKETS - 1e-9)


def _uniform(policy: Policy) -> dict[str, float]:
    return dict.fromkeys(policy.arms, 1.0)


def weights(policy: Policy, counters: Counters, segment: str, rng: random.Random) -> dict[str, float]:
    """The Thompson weights of a segment's arms, or equal weights while any arm lacks `min_sample`."""
    counts = counters.segment(segment, policy.arms)
    if any(c.impressions < policy.min_sample for c in counts.values()):
        return _uniform(policy)
    return prob_best(counts, draws=policy.draws, rng=rng)


def _table(policy: Policy, before: Sequence[str] | None, w: dict[str, float]) -> tuple[str, ...]:
    holdout = policy.holdout_set
    free = [b for b in range(BUCKETS) if b not in holdout]
    counts = counts_from_weights(w, len(free), policy.min_buckets)
    previous = {b: before[b] for b in free} if before is not None else {}
    table = remap(previous, free, counts)
    table.update(holdout_arms(sorted(holdout), policy.arms))
    return tuple(table[b] for b in range(BUCKETS))


def reallocate(
    policy: Policy,
    counters: Counters,
    previous: AllocationSnapshot | None,
    now: datetime,
    rng: random.Random,
    *,
    segments: Sequence[str] = (),
) -> AllocationSnapshot:
    """The next snapshot: epoch + 1, valid for one `period` from `now`, one table per segment seen in
    `counters`, in `previous` or listed in `segments`, plus the uniform default table.

    A previous snapshot of another rule is ignored (learning starts over); its buckets otherwise stay
    where they were unless the new weights need them elsewhere."""
    if previous is not None and previous.rule != policy.rule:
        previous = None
    names = set(counters.segments()) | set(segments)
    if previous is not None:
        names |= set(previous.tables)
    names.discard(DEFAULT_SEGMENT)
    default_before = previous.tables[DEFAULT_SEGMENT] if previous is not None else None
    tables = {DEFAULT_SEGMENT: _table(policy, default_before, _uniform(policy))}
    for segment in sorted(names):
        before = previous.table(segment) if previous is not None else default_before
        tables[segment] = _table(policy, before, weights(policy, counters, segment, rng))
    return AllocationSnapshot(
        rule=policy.rule,
        epoch=previous.epoch + 1 if previous is not None else 1,
        valid_until=now + policy.period,
        arms=policy.arms,
        holdout=policy.holdout_set,
        tables=tables,
    )
