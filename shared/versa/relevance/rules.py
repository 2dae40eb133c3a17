"""From a pack's optimized rule to what the loop needs: its policy and each request's segment.

This is the seam between the pack (what a designer declares) and the relevance core (counts,
allocation); the decision path's integration point is `assignment_for`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from versa.pack.arms import Arm
from versa.pack.model import Rule
from versa.relevance.optimizer import Policy
from versa.relevance.snapshot import AllocationSnapshot, Assignment, arm_for

ALL = "all"
"""The one segment of a rule that learns by nothing."""
UNKNOWN = "-"
"""How a learn_by attribute the request lacks is written in a segment key."""


VERSION_SEP = "~"


def arm_key(rule: Rule, arm: Arm) -> str:
    """The arm's identity in counts, snapshots and click URLs: its id and a short hash of what it shows
    (the rule's `set` and the arm's `set`). Editing an arm (or the rule's own `set`) makes a new key,
    so its learning starts over while untouched arms keep their counts."""
    shown = json.dumps({"rule": rule.set, "arm": arm.set}, sort_keys=True, default=str)
    return f"{arm.id}{VERSION_SEP}{hashlib.sha256(shown.encode()).hexdigest()[:8]}"


def arm_id(key: str) -> str:
    """The pack's arm id inside an `arm_key` (what `decide(..., arms=...)` takes)."""
    return key.split(VERSION_SEP, 1)[0]


def policy_for(rule: Rule) -> Policy:
    """The optimizer's policy for an optimized rule; ValueError for a rule without `optimize`."""
    if rule.optimize is None:
        raise ValueError(f"rule {rule.id!r} has no optimize: nothing to allocate")
    return Policy(
        rule=rule.id,
        arms=tuple(arm_key(rule, arm) for arm in rule.arms),
        holdout=rule.holdout,
        min_share=rule.min_share,
        min_sample=rule.min_sample,
        period=timedelta(seconds=rule.reallocate),
    )


def segment_key(rule: Rule, lookup: Callable[[str], Any]) -> str:
    """The segment a request falls in for `rule`: its learn_by values as `attr=value` joined by `|`
    in declared order (`all` for a rule that learns by nothing). `lookup` is the decide layer's
    attribute lookup (`versa.decide.rules.lookup_for(ctx)`)."""
    if not rule.learn_by:
        return ALL
    parts = []
    for attr in rule.learn_by:
        value = lookup(attr)
        parts.append(f"{attr}={UNKNOWN if value is None or value == '' else value}")
    return "|".join(parts)


def assignment_for(
    rule: Rule, snapshot: AllocationSnapshot | None, lookup: Callable[[str], Any], bucket: int | None
) -> Assignment | None:
    """The arm a request shows for an optimized rule, or None when it cannot take part (no snapshot
    yet, a snapshot of another rule, or no visitor bucket: then the rule's own `set` applies alone).

    The assignment's `arm` is an `arm_key` (what is counted and carried by the click URL); the service
    hands `{rule.id: arm_id(arm)}` to `decide(..., arms=...)`, the bucket joins the CDN key, and the
    response's lifetime is capped at `snapshot.valid_until`."""
    if snapshot is None or bucket is None or snapshot.rule != rule.id:
        return None
    return arm_for(snapshot, segment_key(rule, lookup), bucket)
