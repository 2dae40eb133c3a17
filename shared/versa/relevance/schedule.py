"""What the scheduled optimizer does for one pack: every optimized rule of every creative gets its
next allocation snapshot, from its counts, in the relevance store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from versa.pack.model import Pack, Rule
from versa.relevance.rules import policy_for
from versa.relevance.snapshot import AllocationSnapshot
from versa.relevance.store import RelevanceStore, scope_of


def optimized_rules(pack: Pack) -> Iterator[tuple[str, Rule]]:
    """(creative id, rule) for every rule of the pack with `optimize`, in pack order."""
    for creative_id, creative in pack.model.creatives.items():
        for rule in creative.rules:
            if rule.optimize is not None:
                yield creative_id, rule


@dataclass(frozen=True)
class Reallocated:
    """One rule's outcome of a scheduled run."""

    scope: str
    epoch: int
    valid_until: datetime


def optimize_pack(pack: Pack, store: RelevanceStore, now: datetime, rng: random.Random) -> list[Reallocated]:
    """Run the optimizer once for every optimized rule of `pack`; the snapshots are in `store` after.

    A rule whose latest snapshot is still valid at `now` is reallocated anyway: the schedule, not the
    snapshot, sets the pace (a late run must not leave a rule stuck on an expired table)."""
    out = []
    for creative_id, rule in optimized_rules(pack):
        scope = scope_of(pack.brand, creative_id, rule.id)
        snap: AllocationSnapshot = store.run_optimizer(scope, policy_for(rule), now, rng)
        out.append(Reallocated(scope, snap.epoch, snap.valid_until))
    return out
