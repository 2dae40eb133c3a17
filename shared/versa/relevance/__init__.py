"""The relevance loop's pure core: counts per arm and segment, Beta posteriors, Thompson sampling,
guardrails, and the visitor-bucket -> arm tables the render path reads.

Nothing here does I/O or reads the environment; randomness comes from a `random.Random` the caller
passes, so every allocation is reproducible from a seed.
"""

from __future__ import annotations

from versa.relevance.buckets import BUCKETS, counts_from_weights, holdout_arms, holdout_buckets, moved, remap
from versa.relevance.counters import ArmCounts, Counters, Group
from versa.relevance.optimizer import Policy, PolicyError, reallocate, weights
from versa.relevance.rules import arm_id, arm_key, assignment_for, policy_for, segment_key
from versa.relevance.snapshot import DEFAULT_SEGMENT, AllocationSnapshot, Assignment, SnapshotError, arm_for
from versa.relevance.store import MemoryRelevanceStore, RelevanceStore, scope_of
from versa.relevance.thompson import Beta, prob_best

__all__ = [
    "BUCKETS",
    "DEFAULT_SEGMENT",
    "AllocationSnapshot",
    "ArmCounts",
    "Assignment",
    "Beta",
    "Counters",
    "Group",
    "MemoryRelevanceStore",
    "Policy",
    "PolicyError",
    "RelevanceStore",
    "SnapshotError",
    "arm_for",
    "arm_id",
    "arm_key",
    "assignment_for",
    "counts_from_weights",
    "holdout_arms",
    "holdout_buckets",
    "moved",
    "policy_for",
    "prob_best",
    "reallocate",
    "remap",
    "scope_of",
    "segment_key",
    "weights",
]
