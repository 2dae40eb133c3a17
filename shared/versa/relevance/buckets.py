"""Visitor buckets to arms: the fixed holdout, whole-bucket shares, and reallocations that move as
few buckets as possible.

The edge turns each visitor id into one of `BUCKETS` buckets (0-99), and the CDN keys on the bucket,
never on the visitor. An allocation is therefore a table bucket -> arm. A visitor keeps their arm
while its share holds, and when weights move, only the buckets that must change arm do: an arm
whose bucket count drops gives up exactly the surplus, an arm whose count rises takes exactly the
deficit, so the number of buckets moved is the sum of the positive count changes, which no table
with the new counts can beat (each rising arm must gain that many buckets from somewhere).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

BUCKETS = 100
"""Visitor buckets made at the edge: 0..99."""


def holdout_buckets(salt: str, share: float) -> frozenset[int]:
    """The buckets of the holdout: `round(share * BUCKETS)` buckets picked by a hash of `salt` (the rule's
    id), so different rules hold out different visitors, and the same ones forever for one rule."""
    if not 0 <= share < 1:
        raise ValueError(f"holdout {share}: allowed 0 <= holdout < 1")
    count = round(share * BUCKETS)
    order = sorted(range(BUCKETS), key=lambda b: hashlib.sha256(f"{salt}:{b}".encode()).digest())
    return frozenset(order[:count])


def holdout_arms(holdout: Sequence[int], arms: Sequence[str]) -> dict[int, str]:
    """The holdout's fixed bucket -> arm table: its buckets (ascending) dealt to the arms in turn, last
    arm first, so every arm gets floor or ceil of len(holdout) / len(arms) buckets whatever the weights
    do (last arm first because `counts_from_weights` gives its spare buckets to the first arms: an even
    split then stays even over all 100 buckets)."""
    if not arms:
        raise ValueError("holdout_arms needs at least one arm")
    order = list(reversed(arms))
    return {b: order[i % len(order)] for i, b in enumerate(sorted(holdout))}


def counts_from_weights(weights: Mapping[str, float], total: int, min_count: int = 0) -> dict[str, int]:
    """Whole bucket counts per arm summing to `total`, each at least `min_count`, the rest shared in
    proportion to `weights` by largest remainders (ties go to the arm listed first).

    Raises ValueError when the minimums alone exceed `total` or a weight is negative."""
    arms = list(weights)
    if not arms:
        raise ValueError("counts_from_weights needs at least one arm")
    if any(w < 0 or math.isnan(w) for w in weights.values()):
        raise ValueError(f"weights must be >= 0, got {dict(weights)}")
    spare = total - min_count * len(arms)
    if spare < 0:
        raise ValueError(f"{len(arms)} arms x min {min_count} buckets exceed the {total} buckets to share")
    mass = sum(weights.values())
    shares = [weights[a] / mass if mass > 0 else 1 / len(arms) for a in arms]
    exact = [s * spare for s in shares]
    base = [math.floor(x) for x in exact]
    left = spare - sum(base)
    order = sorted(range(len(arms)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return {arm: min_count + base[i] for i, arm in enumerate(arms)}


def remap(previous: Mapping[int, str], buckets: Sequence[int], counts: Mapping[str, int]) -> dict[int, str]:
    """A bucket -> arm table over `buckets` with exactly `counts[arm]` buckets per arm, keeping every
    bucket of `previous` whose arm still has room.

    An arm over its new count gives up its highest-numbered buckets; buckets of arms no longer listed
    (or new to the table) are free; free buckets go, in ascending order, to the arms under their count
    in the order `counts` lists them. The buckets moved (`moved`) equal the sum over arms of
    max(0, new count - buckets kept from before), the least any table with these counts can move."""
    if sum(counts.values()) != len(buckets):
        raise ValueError(f"counts {dict(counts)} sum to {sum(counts.values())}, not the {len(buckets)} buckets")
    if any(c < 0 for c in counts.values()):
        raise ValueError(f"counts must be >= 0, got {dict(counts)}")
    held: dict[str, list[int]] = {arm: [] for arm in counts}
    free: list[int] = []
    for b in sorted(buckets):
        arm = previous.get(b)
        if arm in held:
            held[arm].append(b)
        else:
            free.append(b)
    for arm, own in held.items():
        surplus = len(own) - counts[arm]
        if surplus > 0:
            free.extend(own[-surplus:])
            del own[-surplus:]
    free.sort()
    table = {b: arm for arm, own in held.items() for b in own}
    it = iter(free)
    for arm, own in held.items():
        for _ in range(counts[arm] - len(own)):
            table[next(it)] = arm
    return table


def moved(before: Mapping[int, str], after: Mapping[int, str]) -> int:
    """How many buckets of `after` show a different arm than in `before` (absent counts as different)."""
    return sum(1 for b, arm in after.items() if before.get(b) != arm)
