"""Optimized rules in pack.yaml: arms, learn_by, holdout, min_share, reallocate; the errors name the
place, the value and what is allowed; the relevance core reads them as a policy and segments."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from packissues import unlocated
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.relevance import Counters, arm_id, assignment_for, policy_for, reallocate, segment_key
from versa.render.checks import PACK_CHECKS

TEST_RULE: dict[str, Any] = {
    "id": "headline-test",
    "optimize": "clicks",
    "learn_by": ["country", "device"],
    "holdout": 0.1,
    "min_share": 0.05,
    "reallocate": "15m",
    "arms": [
        {"id": "as-designed"},
        {"id": "ink", "set": {"tokens.colors.paper": "#0b0b0b"}},
    ],
}


def _with_rule(rule: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["creatives"]["winter-sale"].setdefault("rules", []).append(rule)

    return edit


def _problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def test_an_optimized_rule_loads_and_becomes_a_policy(example_copy: Callable[..., Path]) -> None:
    # GIVEN the acme pack with an optimized rule
    pack = load_pack(example_copy("acme", _with_rule(TEST_RULE)), checks=PACK_CHECKS)
    rule = pack.model.creative("winter-sale").rules[-1]
    # WHEN the relevance core reads it
    policy = policy_for(rule)
    # THEN the declared values are the policy's
    assert (policy.rule, policy.holdout, policy.min_share) == ("headline-test", 0.1, 0.05)
    assert [arm_id(key) for key in policy.arms] == ["as-designed", "ink"]
    assert policy.period == timedelta(minutes=15)
    # AND a request's segment is its learn_by values, and it gets an arm from the snapshot
    lookup = {"country": "DE", "device": "mobile"}.get
    assert segment_key(rule, lookup) == "country=DE|device=mobile"
    assert segment_key(rule, {"country": "DE"}.get) == "country=DE|device=-"
    now = datetime(2026, 12, 1, tzinfo=UTC)
    snap = reallocate(policy, Counters(), None, now, random.Random(1))
    got = assignment_for(rule, snap, lookup, 42)
    assert got is not None and got.arm in policy.arms and got.epoch == 1
    assert assignment_for(rule, snap, lookup, None) is None  # no visitor bucket: the rule's own set only
    assert assignment_for(rule, None, lookup, 42) is None  # no allocation yet


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"learn_by": ["city"]}, "learn_by 'city': allowed segment, country, device, daypart"),
        ({"reallocate": "1m"}, "reallocate '1m': allowed a period from 5m to 7d"),
        ({"arms": [{"id": "solo"}]}, "arms: optimize: clicks needs two or more arms, got 1"),
        ({"arms": [{"id": "x"}, {"id": "x"}]}, "arms: id 'x' repeats"),
        ({"min_share": 0.5}, "min_share 0.5: 2 arms x 50% exceed the 90% outside the holdout; allowed min_share <= 0.45"),
        ({"optimize": None}, "arms needs optimize: clicks"),
        ({"holdout": 0.9}, "holdout: Input should be less than or equal to 0.5"),
    ],
)
def test_bad_optimized_rules_name_field_value_and_allowed(
    example_copy: Callable[..., Path], change: dict[str, Any], expected: str
) -> None:
    rule = {**TEST_RULE, **change}
    if rule["optimize"] is None:
        del rule["optimize"]
    found = _problems(example_copy("acme", _with_rule(rule)))
    assert any(expected in line and "creatives.winter-sale.rules[" in line for line in found), found


def test_arm_overrides_are_checked_like_a_rules(example_copy: Callable[..., Path]) -> None:
    # GIVEN an arm whose set names a colour token that does not exist, and learn_by segment without the param
    rule = {**TEST_RULE, "learn_by": ["segment"], "arms": [{"id": "a"}, {"id": "b", "set": {"tokens.colors.papr": "#000"}}]}
    found = _problems(example_copy("acme", _with_rule(rule)))
    # THEN both are reported at their place
    assert any(".arms['b'].set" in line and "arm 'b'" in line and "papr" in line for line in found), found
    assert any(".learn_by" in line and "declares no 'segment' parameter" in line for line in found), found


def test_decide_shows_the_arm_it_is_given(example_copy: Callable[..., Path]) -> None:
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide

    # GIVEN the acme pack with the optimized rule, and a desktop request in Germany
    pack = load_pack(example_copy("acme", _with_rule(TEST_RULE)), checks=PACK_CHECKS).model
    headers = {"CloudFront-Viewer-Country": "DE", "CloudFront-Viewer-Time-Zone": "Europe/Berlin",
               "CloudFront-Is-Desktop-Viewer": "true", "User-Agent": "Mozilla/5.0 Chrome/131.0"}
    ctx = resolve(headers, {}, datetime(2026, 12, 1, 10, 0, tzinfo=UTC), context_options(pack, "winter-sale"))
    # WHEN it is decided without an arm, with each arm, and with an arm the rule does not have
    plain = decide(pack, "winter-sale", ctx)
    designed = decide(pack, "winter-sale", ctx, arms={"headline-test": "as-designed"})
    ink = decide(pack, "winter-sale", ctx, arms={"headline-test": "ink"})
    unknown = decide(pack, "winter-sale", ctx, arms={"headline-test": "gone"})
    # THEN the empty arm is the rule as designed, the ink arm changes the design (and its key),
    # and an unknown arm shows none, saying so in the trace
    assert designed.design_key == plain.design_key == unknown.design_key
    assert ink.design_key != plain.design_key
    assert ink.colors["paper"] == "#0b0b0b"
    [trace] = [t for t in ink.trace if t.rule == "headline-test"]
    assert trace.reason.endswith("; arm ink") and "tokens.colors.paper" in trace.sets
    [trace] = [t for t in unknown.trace if t.rule == "headline-test"]
    assert "arm 'gone' is not one of this rule's arms" in trace.reason


def test_editing_an_arm_restarts_its_learning_only(example_copy: Callable[..., Path]) -> None:
    # GIVEN the rule's policy, and the same rule with the ink arm's colour changed
    before = policy_for(load_pack(example_copy("acme", _with_rule(TEST_RULE)), checks=PACK_CHECKS)
                        .model.creative("winter-sale").rules[-1])
    edited = {**TEST_RULE, "arms": [TEST_RULE["arms"][0], {"id": "ink", "set": {"tokens.colors.paper": "#111111"}}]}
    after = policy_for(load_pack(example_copy("acme", _with_rule(edited), name="edited"), checks=PACK_CHECKS)
                       .model.creative("winter-sale").rules[-1])
    # THEN the untouched arm keeps its key (and so its counts); the edited one gets a new key
    assert after.arms[0] == before.arms[0]
    assert after.arms[1] != before.arms[1] and arm_id(after.arms[1]) == "ink"
    # AND with counts only under the old keys, the next allocation is uniform again (min_sample)
    c = Counters({("all", key, "optimized"): (5000, 10 * (i + 1) ** 3) for i, key in enumerate(before.arms)})
    now = datetime(2026, 12, 1, tzinfo=UTC)
    favoured = reallocate(before, c, None, now, random.Random(1))
    restarted = reallocate(after, c, favoured, now, random.Random(1))
    assert max(favoured.shares("all").values()) > 0.8
    assert sorted(restarted.shares("all").values()) == [0.5, 0.5]


@pytest.mark.slow
def test_variants_list_every_arm_and_no_arm(example_copy: Callable[..., Path]) -> None:
    from versa.decide.variants import enumerate_variants

    # GIVEN acme with and without the optimized rule (its "as-designed" arm sets nothing)
    plain = enumerate_variants(load_pack(example_copy("acme"), checks=PACK_CHECKS).model, "winter-sale")
    pack = load_pack(example_copy("acme", _with_rule(TEST_RULE), name="optimized"), checks=PACK_CHECKS).model
    # WHEN the variants are enumerated
    report = enumerate_variants(pack, "winter-sale")
    # THEN each plain design comes back (no arm, or the empty arm) plus its ink version, named by its arm
    assert len(report.variants) == 2 * len(plain.variants)
    inked = [v for v in report.variants if v.example.get("arms") == "headline-test=ink"]
    assert len(inked) == len(plain.variants)
    assert all(v.decision.colors["paper"] == "#0b0b0b" for v in inked)
