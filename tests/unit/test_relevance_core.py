"""The relevance loop's pure core: counters, posteriors, Thompson weights, guardrails, bucket tables."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from versa.relevance import (
    BUCKETS,
    DEFAULT_SEGMENT,
    AllocationSnapshot,
    ArmCounts,
    Beta,
    Counters,
    Policy,
    PolicyError,
    SnapshotError,
    arm_for,
    counts_from_weights,
    holdout_arms,
    holdout_buckets,
    moved,
    prob_best,
    reallocate,
    remap,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ARMS = ("a", "b", "c", "d")


# ------------------------------------------------------------------------------------------ counters


def test_counters_sum_groups_and_round_trip() -> None:
    # GIVEN counts in both groups of one arm, and a click without its impression for another
    c = Counters()
    c.add("A", "a", "holdout", impressions=10, clicks=1)
    c.add("A", "a", "optimized", impressions=90, clicks=4)
    c.add("A", "b", clicks=1)
    # WHEN read back
    # THEN groups add up, a click never makes a rate above one, and JSON rows round-trip
    assert c.arm("A", "a") == ArmCounts(100, 5)
    assert c.arm("A", "a", ["holdout"]) == ArmCounts(10, 1)
    assert c.arm("A", "b") == ArmCounts(0, 0)
    assert c.arm("B", "a") == ArmCounts(0, 0)
    again = Counters.from_data(c.to_data())
    assert list(again.items()) == list(c.items())


def test_counters_refuse_negative_counts_and_unknown_groups() -> None:
    with pytest.raises(ValueError, match="negative"):
        Counters().add("A", "a", impressions=-1)
    with pytest.raises(ValueError, match="group 'control': allowed holdout, optimized"):
        Counters().add("A", "a", "control", impressions=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exceed"):
        ArmCounts(1, 2)


# ------------------------------------------------------------------------------------------ posteriors


def test_beta_posterior_mean_and_interval() -> None:
    post = Beta.posterior(ArmCounts(1000, 30))
    assert (post.alpha, post.beta) == (31, 971)
    assert post.mean == pytest.approx(31 / 1002)
    lo, hi = post.interval(0.95, rng=random.Random(1))
    # the normal approximation's 95% interval is mean +- 1.96 sd; the sampled one lies close to it
    assert lo == pytest.approx(post.mean - 1.96 * post.sd, abs=0.002)
    assert hi == pytest.approx(post.mean + 1.96 * post.sd, abs=0.002)


def test_prob_best_favours_the_clear_winner_and_sums_to_one() -> None:
    counts = {"a": ArmCounts(5000, 50), "b": ArmCounts(5000, 150), "c": ArmCounts(5000, 100)}
    p = prob_best(counts, draws=2000, rng=random.Random(7))
    assert sum(p.values()) == pytest.approx(1.0)
    assert p["b"] > 0.99  # 3% against 2% over 5,000 impressions: 4 standard errors apart
    assert p["a"] == 0
    # the same seed gives the same weights
    assert prob_best(counts, draws=2000, rng=random.Random(7)) == p
    # an arm barely seen keeps a real chance: Beta(1, 11) often draws above 3%, hence min_sample
    p = prob_best({**counts, "new": ArmCounts(10, 0)}, draws=2000, rng=random.Random(7))
    assert 0.3 < p["new"] < 0.9


def test_prob_best_is_even_without_data() -> None:
    p = prob_best(dict.fromkeys(ARMS, ArmCounts()), draws=8000, rng=random.Random(3))
    for share in p.values():
        assert share == pytest.approx(0.25, abs=0.03)  # 4 sd of a binomial proportion at n=8000


# ------------------------------------------------------------------------------------------ buckets


def test_holdout_is_fixed_per_rule_and_differs_between_rules() -> None:
    h = holdout_buckets("headline-test", 0.10)
    assert len(h) == 10
    assert holdout_buckets("headline-test", 0.10) == h
    assert holdout_buckets("cta-test", 0.10) != h
    assert holdout_buckets("headline-test", 0.0) == frozenset()


def test_holdout_arms_deal_buckets_evenly() -> None:
    table = holdout_arms(sorted(holdout_buckets("r", 0.10)), ARMS)
    per_arm = sorted([list(table.values()).count(a) for a in ARMS])
    assert per_arm == [2, 2, 3, 3]


def test_counts_from_weights_respects_minimum_and_total() -> None:
    counts = counts_from_weights({"a": 0.0, "b": 0.0, "c": 0.01, "d": 0.99}, 90, min_count=2)
    assert counts == {"a": 2, "b": 2, "c": 3, "d": 83}
    assert counts_from_weights({"a": 0, "b": 0}, 9) == {"a": 5, "b": 4}  # no mass: even, first arm first
    with pytest.raises(ValueError, match="exceed the 9 buckets"):
        counts_from_weights({"a": 1, "b": 1}, 9, min_count=5)


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(st.sampled_from(["a", "b", "c", "d", "gone"]), min_size=90, max_size=90),
    raw=st.lists(st.integers(0, 30), min_size=4, max_size=4),
)
def test_remap_moves_exactly_the_sum_of_positive_count_changes(before: list[str], raw: list[int]) -> None:
    # GIVEN a previous table over 90 buckets (some of an arm since removed) and new counts summing to 90
    buckets = list(range(10, 100))
    previous = dict(zip(buckets, before, strict=True))
    counts = dict(zip(ARMS, counts_from_weights(dict(zip(ARMS, map(float, raw), strict=True)), 90).values(), strict=True))
    # WHEN remapped
    after = remap(previous, buckets, counts)
    # THEN the counts hold exactly
    assert sorted(after) == buckets
    assert {a: list(after.values()).count(a) for a in ARMS} == counts
    # AND the buckets moved equal the sum of positive changes from what each arm had,
    # which is a lower bound for any table with these counts (each arm must gain its deficit)
    had = {a: before.count(a) for a in ARMS}
    lower_bound = sum(max(0, counts[a] - had[a]) for a in ARMS)
    assert moved(previous, after) == lower_bound


def test_remap_moves_nothing_when_counts_hold() -> None:
    previous = {b: ARMS[b % 4] for b in range(100)}
    counts = {a: 25 for a in ARMS}
    assert remap(previous, range(100), counts) == previous  # type: ignore[arg-type]


def test_minimality_against_brute_force_on_a_small_table() -> None:
    # GIVEN every table of 6 buckets over 3 arms with the target counts (2, 3, 1)
    import itertools

    previous = dict(enumerate("aaabbc"))
    counts = {"a": 2, "b": 3, "c": 1}
    best = min(
        moved(previous, dict(enumerate(perm)))
        for perm in set(itertools.permutations("aabbbc"))
    )
    # WHEN remap picks one THEN it is as good as the best of them all
    assert moved(previous, remap(previous, range(6), counts)) == best == 1  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ optimizer


def _policy(**kw: object) -> Policy:
    base: dict[str, object] = {"rule": "headline-test", "arms": ARMS, "holdout": 0.10, "min_share": 0.02, "min_sample": 500}
    base.update(kw)
    return Policy(**base)  # type: ignore[arg-type]


def test_first_snapshot_is_uniform_with_the_holdout_in_place() -> None:
    policy = _policy()
    snap = reallocate(policy, Counters(), None, NOW, random.Random(1), segments=["A"])
    assert snap.epoch == 1
    assert snap.valid_until == NOW + timedelta(hours=1)
    shares = snap.shares("A")
    assert sorted(round(s * 100) for s in shares.values()) == [25, 25, 25, 25]
    assert snap.holdout == holdout_buckets("headline-test", 0.10)


def test_no_arm_takes_over_before_the_minimum_sample() -> None:
    # GIVEN one arm far ahead but another arm still short of min_sample impressions
    c = Counters()
    for arm, imps, clicks in [("a", 2000, 10), ("b", 2000, 10), ("c", 2000, 10), ("d", 400, 40)]:
        c.add("A", arm, impressions=imps, clicks=clicks)
    snap = reallocate(_policy(), c, None, NOW, random.Random(1))
    # THEN the segment stays uniform
    assert max(snap.shares("A").values()) <= 0.26
    # WHEN d reaches the minimum sample THEN it takes the optimized buckets, the others keep their minimum
    c.add("A", "d", impressions=100)
    snap2 = reallocate(_policy(), c, snap, NOW, random.Random(1))
    table = snap2.table("A")
    free = [b for b in range(BUCKETS) if b not in snap2.holdout]
    assert [table[b] for b in free].count("d") == 90 - 3 * 2
    for arm in "abc":
        assert [table[b] for b in free].count(arm) == 2  # min_share 0.02 of 100 buckets


def test_holdout_never_changes_across_reallocations() -> None:
    c = Counters()
    rng = random.Random(5)
    snap = reallocate(_policy(), c, None, NOW, rng, segments=["A", "B"])
    fixed = {b: snap.table("A")[b] for b in snap.holdout}
    for epoch in range(5):
        for arm, rate in zip(ARMS, (0.01, 0.02, 0.03, 0.04), strict=True):
            c.add("A", arm, impressions=1000, clicks=int(1000 * rate * (epoch + 1) / 3))
        snap = reallocate(_policy(), c, snap, NOW, rng)
        for seg in ("A", "B", DEFAULT_SEGMENT):
            assert {b: snap.table(seg)[b] for b in snap.holdout} == fixed


def test_policy_errors_name_field_value_and_allowed() -> None:
    with pytest.raises(PolicyError, match=r"min_share 0.3: 4 arms x 30 buckets exceed the 90 buckets .* allowed min_share <= 0.22"):
        _policy(min_share=0.3)
    with pytest.raises(PolicyError, match=r"holdout 0.8: allowed 0..0.5"):
        _policy(holdout=0.8)
    with pytest.raises(PolicyError, match=r"allowed 2\.\.36 distinct arm ids"):
        _policy(arms=("a",))


# ------------------------------------------------------------------------------------------ snapshot


def test_snapshot_json_round_trip_and_arm_for() -> None:
    snap = reallocate(_policy(), Counters(), None, NOW, random.Random(1), segments=["A"])
    again = AllocationSnapshot.from_json(snap.to_json())
    assert again == snap
    h = min(snap.holdout)
    assert arm_for(snap, "A", h).group == "holdout"
    free = min(set(range(BUCKETS)) - snap.holdout)
    got = arm_for(snap, "never-seen", free)
    assert (got.arm, got.group, got.epoch) == (snap.table(DEFAULT_SEGMENT)[free], "optimized", 1)
    with pytest.raises(ValueError, match=r"bucket 100: allowed 0\.\.99"):
        arm_for(snap, "A", 100)


def test_snapshot_errors_name_the_field() -> None:
    data = reallocate(_policy(), Counters(), None, NOW, random.Random(1)).to_data()
    assert len(data["segments"]["*"]) == 100 and set(data["segments"]["*"]) == set("0123")  # one digit a bucket
    bad = {**data, "segments": {**data["segments"], "*": "4" * 100}}
    with pytest.raises(SnapshotError, match=r"segments\.\*: '4444.*' names an arm beyond the 4 listed"):
        AllocationSnapshot.from_data(bad)
    data["segments"]["*"] = data["segments"]["*"][:99]
    with pytest.raises(SnapshotError, match=r"segments\.\*: 99 buckets, allowed exactly 100"):
        AllocationSnapshot.from_data(data)
    del data["epoch"]
    with pytest.raises(SnapshotError, match="field 'epoch' is missing"):
        AllocationSnapshot.from_data(data)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 200)), min_size=4, max_size=4),
    holdout=st.sampled_from([0.0, 0.05, 0.1, 0.2]),
    min_share=st.sampled_from([0.0, 0.02, 0.05]),
    seed=st.integers(0, 1000),
)
def test_every_allocation_keeps_the_guardrails(
    counts: list[tuple[int, int]], holdout: float, min_share: float, seed: int
) -> None:
    # GIVEN any counts (clicks capped at impressions) and a previous allocation
    policy = _policy(holdout=holdout, min_share=min_share, min_sample=100)
    c = Counters({("A", arm, "optimized"): (n, min(k, n)) for arm, (n, k) in zip(ARMS, counts, strict=True)})
    first = reallocate(policy, Counters(), None, NOW, random.Random(seed), segments=["A"])
    # WHEN the optimizer reallocates
    snap = reallocate(policy, c, first, NOW, random.Random(seed))
    table = snap.table("A")
    free = [b for b in range(BUCKETS) if b not in snap.holdout]
    # THEN the holdout is the rule's, dealt as before; every arm keeps its minimum outside it
    assert snap.holdout == holdout_buckets(policy.rule, holdout)
    assert {b: table[b] for b in snap.holdout} == {b: first.table("A")[b] for b in first.holdout}
    for arm in ARMS:
        assert [table[b] for b in free].count(arm) >= policy.min_buckets
    # AND while an arm lacks min_sample impressions, the segment is as even as whole buckets allow
    if any(n < policy.min_sample for n, _ in counts):
        shares = [[table[b] for b in free].count(arm) for arm in ARMS]
        assert max(shares) - min(shares) <= 1
