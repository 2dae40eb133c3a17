"""The relevance store port (counts and allocation snapshots) and the optimizer run on top of it.

Adapters implement four primitives: add counts atomically, read a scope's counts, write a snapshot
only if its epoch is new, read the latest (or one pinned) snapshot. Everything else, and the
optimizer run the scheduled function calls (`run_optimizer`), lives here, so the SQLite and the
DynamoDB adapters behave alike and one contract test covers both.

A scope is one optimized rule of one creative of one brand (`scope_of`): counts and allocations of
different rules never mix.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from datetime import datetime

from versa.relevance.counters import Counters
from versa.relevance.optimizer import Policy, reallocate
from versa.relevance.snapshot import AllocationSnapshot


def scope_of(brand: str, creative: str, rule: str) -> str:
    """The store's key for one optimized rule: `brand/creative/rule` (all three are slugs, no '/')."""
    for name, value in (("brand", brand), ("creative", creative), ("rule", rule)):
        if not value or "/" in value or "#" in value:
            raise ValueError(f"{name} {value!r}: allowed a non-empty slug without '/' or '#'")
    return f"{brand}/{creative}/{rule}"


class RelevanceStore(ABC):
    """Per-scope counters and allocation snapshots. Adapters raise `versa.ports.StoreUnavailable` when
    the backing store fails."""

    @abstractmethod
    def add(self, scope: str, counts: Counters) -> None:
        """Add every count of `counts` to the scope's tallies, each one atomically (concurrent adds
        from several consumers never lose an increment)."""

    @abstractmethod
    def counters(self, scope: str) -> Counters:
        """Every tally of the scope (empty for a scope never counted)."""

    @abstractmethod
    def _put_new(self, scope: str, snapshot: AllocationSnapshot) -> bool:
        """Store `snapshot` under its epoch unless that epoch is already stored; False if it was."""

    @abstractmethod
    def snapshot(self, scope: str, epoch: int | None = None) -> AllocationSnapshot | None:
        """The scope's latest snapshot, or the one of `epoch` (an email send pins its epoch); None if absent."""

    def put_snapshot(self, scope: str, snapshot: AllocationSnapshot) -> bool:
        """Store a snapshot once: False when its epoch is already stored (another optimizer run got
        there first, and its snapshot stands). The snapshot's rule must be the scope's."""
        if scope.rsplit("/", 1)[-1] != snapshot.rule:
            raise ValueError(f"snapshot of rule {snapshot.rule!r} does not belong to scope {scope!r}")
        return self._put_new(scope, snapshot)

    def run_optimizer(self, scope: str, policy: Policy, now: datetime, rng: random.Random) -> AllocationSnapshot:
        """One scheduled run: the scope's counts and latest snapshot in, the next snapshot stored and
        returned. When a concurrent run stored that epoch first, its snapshot is returned instead."""
        previous = self.snapshot(scope)
        nxt = reallocate(policy, self.counters(scope), previous, now, rng)
        if self.put_snapshot(scope, nxt):
            return nxt
        stored = self.snapshot(scope, nxt.epoch)
        assert stored is not None, "an epoch refused as present must be readable"
        return stored


class MemoryRelevanceStore(RelevanceStore):
    """An in-process store (tests, the benchmark, one-process tools)."""

    def __init__(self) -> None:
        self._counts: dict[str, Counters] = {}
        self._snapshots: dict[str, dict[int, AllocationSnapshot]] = {}

    def add(self, scope: str, counts: Counters) -> None:
        self._counts.setdefault(scope, Counters()).merge(counts)

    def counters(self, scope: str) -> Counters:
        out = Counters()
        out.merge(self._counts.get(scope, Counters()))
        return out

    def _put_new(self, scope: str, snapshot: AllocationSnapshot) -> bool:
        epochs = self._snapshots.setdefault(scope, {})
        if snapshot.epoch in epochs:
            return False
        epochs[snapshot.epoch] = snapshot
        return True

    def snapshot(self, scope: str, epoch: int | None = None) -> AllocationSnapshot | None:
        epochs = self._snapshots.get(scope, {})
        if epoch is None:
            return epochs[max(epochs)] if epochs else None
        return epochs.get(epoch)
