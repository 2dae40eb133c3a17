"""`versa variants` is exact: its design keys are exactly those a brute-force sweep of real requests finds.

The sweep resolves every request through the real `versa.context.resolve` path, with the simulated values
signed as `versa decide` signs them. To keep it fast it decides each distinct *observation* once: the
values of the attributes the creative's rules and copy read, plus the outcome of each window, time-of-day
and bucket condition. That the design key depends on nothing else is checked separately on a random
sample (`test_sweep_memo_is_faithful`). The grid is built from the pack and from fixed lists, never from
the enumerator's cells.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from versa.context.resolve import SIGNED_OVERRIDES, RequestContext, resolve
from versa.decide.rules import context_options, decide
from versa.decide.variants import TooManyVariants, enumerate_variants, iter_contexts
from versa.pack.conditions import Bucket, Compare, Condition, TimeOfDay, Window
from versa.pack.loader import load_pack
from versa.pack.model import Creative, Pack, PackModel
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
PACKS = {brand: load_pack(EXAMPLES / brand, checks=PACK_CHECKS) for brand in ("acme", "northwind")}

ZONES = ("Europe/Berlin", "Australia/Sydney", "Asia/Tokyo")
OTHER_COUNTRIES = ("US", "GB", "JP")
DEVICES = ("mobile", "tablet", "desktop", "tv")
CLIENTS = ("browser", "gmail", "gmail_prefetch", "yahoo", "apple_mpp", "outlook", "unknown")
TIME_ATTRIBUTES = frozenset(
    {"daypart", "weekday", "weekend", "season", "hemisphere", "hour", "minute", "date", "local_time", "tz"}
)
UIDS = tuple(f"subscriber-{i}" for i in range(40))
"""Visitor ids swept for bucket conditions: about 20 land in each arm of a 50/50 split (northwind's CTA
test); a design reached only through an arm no id lands in would fail the sweep, not pass it."""


# --------------------------------------------------------------------------------- the brute force


def nodes(creative: Creative) -> list[Condition]:
    return [node for rule in creative.rules for node in rule.when.walk()]


def read_by(creative: Creative) -> tuple[set[str], list[Condition]]:
    """Attributes compared by value (rules and vary_by), and the window/time/bucket conditions."""
    compared = {n.attr for n in nodes(creative) if isinstance(n, Compare)}
    for slot in creative.copy_slots.values():
        if slot.generate:
            compared |= set(slot.generate.vary_by)
    special: list[Condition] = [n for n in nodes(creative) if isinstance(n, Window | TimeOfDay | Bucket)]
    return compared, special


def observe(ctx: RequestContext, compared: set[str], special: list[Condition]) -> tuple[Any, ...]:
    """Everything the decision can depend on: compared values, the locale, each special condition."""

    def look(name: str) -> Any:
        return ctx.now if name == "now" else ctx.attribute(name)

    return (
        tuple(ctx.attribute(a) for a in sorted(compared)),
        ctx.lang,
        tuple(node.evaluate(look)[0] for node in special),
    )


def instants(model: PackModel, creative: Creative, zones: tuple[str, ...]) -> Iterator[datetime]:
    """Every 30 minutes over 8 days (a DST change included), a day in each season, and every 15
    minutes over the two days around every window bound in every zone."""
    step = timedelta(minutes=30)
    start = datetime(2026, 3, 5, tzinfo=UTC)
    yield from (start + i * step for i in range(8 * 48))
    for month in (1, 4, 7, 10):
        day = datetime(2026, month, 15, tzinfo=UTC)
        yield from (day + i * step for i in range(48))
    for node in nodes(creative):
        if isinstance(node, Window):
            for zone in zones:
                for bound in node.bounds(ZoneInfo(zone)):
                    if bound is not None:
                        first = bound.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
                        yield from (first + i * timedelta(minutes=15) for i in range(2 * 96 + 1))


def countries(model: PackModel) -> list[str | None]:
    mentioned: set[str] = set()
    for creative in model.creatives.values():
        for node in nodes(creative):
            if isinstance(node, Compare) and node.attr == "country":
                mentioned |= {str(v) for v in (node.value if isinstance(node.value, tuple) else (node.value,))}
        for slot in creative.copy_slots.values():
            spec = slot.generate.vary_by.get("country") if slot.generate else None
            if isinstance(spec, dict):
                mentioned |= {str(c) for members in spec.values() if members != "*" for c in members}
    return [*sorted(mentioned), *OTHER_COUNTRIES, None]


def grid(model: PackModel, creative: Creative, compared: set[str], special: list[Condition]) -> dict[str, list[Any]]:
    """Non-time values to sweep: every value where the creative reads the attribute, one where it does
    not (a parameter nobody reads stays absent); every locale and none."""
    read = compared | {n.key for n in special if isinstance(n, Bucket)}
    dims: dict[str, list[Any]] = {
        "country": countries(model) if "country" in read else ["US"],
        "device": list(DEVICES) if "device" in read else ["desktop"],
        "client": list(CLIENTS) if "client" in read else ["browser"],
        "lang": [*model.locales, None],
    }
    for name, spec in creative.params.items():
        values: list[Any] = [None]
        if name in read:
            values += [*(spec.values or []), *(str(s) for s in spec.samples)]
            if spec.type == "bool":
                values += ["true", "false"]
            if any(isinstance(n, Bucket) and n.key == name for n in special):
                values += list(UIDS)
        dims[name] = list(dict.fromkeys(values))
    return dims


def brute_force(pack: Pack, creative_id: str) -> tuple[set[str], int]:
    """The design keys a sweep of real requests finds, and how many requests it resolved."""
    model = pack.model
    creative = model.creative(creative_id)
    compared, special = read_by(creative)
    zones = tuple(dict.fromkeys((model.default_tz, *ZONES)))

    # Time x zone, fully: one representative request per distinct observation of the clock.
    clock_options = context_options(model, creative_id, signed_names=SIGNED_OVERRIDES)
    time_specials = [n for n in special if not isinstance(n, Bucket)]
    time_compared = compared & TIME_ATTRIBUTES
    clocks: dict[tuple[Any, ...], tuple[str, datetime]] = {}
    for zone in zones:
        for at in sorted(set(instants(model, creative, zones))):
            ctx = resolve({}, {"tz": zone, "at": at.isoformat()}, at, clock_options)
            # Zones that look the same to every time condition are one clock (tz itself is compared
            # when a rule reads it, so the zone then stays apart).
            clocks.setdefault(observe(ctx, time_compared, time_specials), (zone, at))

    # Everything else, as a full product with each clock.
    dims = grid(model, creative, compared, special)
    names = list(dims)
    options = context_options(model, creative_id, signed_names=frozenset(names) | SIGNED_OVERRIDES)
    memo: dict[tuple[Any, ...], str] = {}
    resolved = 0
    for zone, at in clocks.values():
        for combo in itertools.product(*dims.values()):
            query = {"tz": zone, "at": at.isoformat()}
            query.update({n: v for n, v in zip(names, combo, strict=True) if v is not None})
            ctx = resolve({}, query, at, options)
            resolved += 1
            seen = observe(ctx, compared, special)
            if seen not in memo:
                memo[seen] = decide(model, creative_id, ctx, with_valid_until=False).design_key
    return set(memo.values()), resolved


def enumerated(pack: Pack, creative_id: str) -> set[str]:
    """The design keys enumerated at the creative's first size (what a request without a size gets)."""
    first = pack.model.creative(creative_id).size
    return {v.design_key for v in enumerate_variants(pack.model, creative_id, sizes=[first]).variants}


EXAMPLE_CREATIVES = [(brand, cid) for brand, pack in PACKS.items() for cid in pack.model.creatives]


@pytest.mark.slow
@pytest.mark.parametrize(("brand", "creative"), EXAMPLE_CREATIVES)
def test_variants_are_exactly_what_a_brute_force_sweep_finds(brand: str, creative: str) -> None:
    # GIVEN an example creative
    pack = PACKS[brand]

    # WHEN its variants are enumerated, and real requests over a fine grid are decided
    listed = enumerated(pack, creative)
    found, resolved = brute_force(pack, creative)

    # THEN both find the same design keys: none missing, none invented
    assert resolved >= 10 * len(found)
    assert found - listed == set(), "reachable designs the enumeration misses"
    assert listed - found == set(), "enumerated designs no request produces"
    assert len(listed) == len(found) > 1


def test_sweep_memo_is_faithful() -> None:
    # GIVEN random real requests to the example creatives
    rng = random.Random(20261201)
    checked = 0
    for brand, creative_id in EXAMPLE_CREATIVES:
        pack = PACKS[brand]
        creative = pack.model.creative(creative_id)
        compared, special = read_by(creative)
        dims = grid(pack.model, creative, compared, special)
        options = context_options(pack.model, creative_id, signed_names=frozenset(dims) | SIGNED_OVERRIDES)
        first_key: dict[tuple[Any, ...], str] = {}
        for _ in range(400):
            at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(366 * 24 * 60))
            query = {"tz": rng.choice((pack.model.default_tz, *ZONES)), "at": at.isoformat()}
            query.update({n: v for n, values in dims.items() if (v := rng.choice(values)) is not None})
            ctx = resolve({}, query, at, options)

            # WHEN decided
            key = decide(pack.model, creative_id, ctx, with_valid_until=False).design_key

            # THEN requests with the same observation always share a design key
            assert first_key.setdefault(observe(ctx, compared, special), key) == key
            checked += 1
    assert checked == 400 * len(EXAMPLE_CREATIVES)


# -------------------------------------------------------------------------------- synthetic packs


@pytest.fixture
def build(make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]) -> Callable[..., Pack]:
    def build_pack(rules: list[dict[str, Any]], **kwargs: Any) -> Pack:
        return load_pack(make_pack(small_pack(rules, **kwargs)), checks=PACK_CHECKS)

    return build_pack


def test_a_count_known_by_hand(build: Callable[..., Pack]) -> None:
    # GIVEN two locales and three independent switches, plus two rules that add no new design:
    #   Germany or France -> red accent (one switch, two rules), mobile -> no badge, morning -> other CTA,
    #   Austria -> German (the same as any German-speaking viewer), a rule restating the default link
    pack = build(
        [
            {"id": "de-red", "when": {"country": "DE"}, "set": {"tokens.colors.accent": "#ff0000"}},
            {"id": "fr-red", "when": {"country": "FR"}, "set": {"tokens.colors.accent": "#ff0000"}},
            {"id": "mobile", "when": {"device": "mobile"}, "set": {"layers.badge.visible": False}},
            {"id": "morning", "when": {"daypart": "morning"}, "set": {"copy.cta": "Good morning"}},
            {"id": "at-german", "when": {"country": "AT"}, "set": {"lang": "de"}},
            {"id": "same-link", "when": {"country": "GB"}, "set": {"link": "https://example.com/"}},
        ]
    )

    # WHEN its variants are enumerated
    report = enumerate_variants(pack.model, "promo")

    # THEN there are 2 locales x red or not x badge or not x morning or not = 16 designs
    assert len(report.variants) == 16
    assert report.attributes == ["country", "daypart", "device"]
    assert sum(v.count for v in report.variants) == report.combinations
    found, _ = brute_force(pack, "promo")
    assert found == {v.design_key for v in report.variants}


def test_a_window_in_one_zone_meets_dayparts_in_every_zone(build: Callable[..., Pack]) -> None:
    # GIVEN a two-hour flash sale at noon in Chicago, and a night rule on the viewer's own clock: the
    # sale is in the afternoon for Chicago, the evening for Berlin and the night for Tokyo
    pack = build(
        [
            {
                "id": "flash",
                "when": {"window": {"from": "2026-12-01T12:00", "to": "2026-12-01T14:00", "tz": "America/Chicago"}},
                "set": {"tokens.colors.paper": "#ffeeee"},
            },
            {"id": "night", "when": {"daypart": "night"}, "set": {"tokens.colors.ink": "#00ff00"}},
        ],
        default_tz="America/Chicago",
    )

    # WHEN its variants are enumerated
    report = enumerate_variants(pack.model, "promo")

    # THEN "flash at night" is among them (2 locales x flash or not x night or not)
    assert any(v.matched == ("flash", "night") for v in report.variants)
    assert len(report.variants) == 8
    found, _ = brute_force(pack, "promo")
    assert found == {v.design_key for v in report.variants}


def test_date_rules_are_enumerated(build: Callable[..., Pack]) -> None:
    # GIVEN a Christmas Eve rule on the viewer's local date
    pack = build([{"id": "eve", "when": {"date": "2026-12-24"}, "set": {"copy.title": "Merry Christmas"}}])

    # WHEN enumerated
    report = enumerate_variants(pack.model, "promo")

    # THEN the Christmas design is found (2 locales x eve or not)
    assert any(v.matched == ("eve",) for v in report.variants)
    assert len(report.variants) == 4


def test_every_variant_example_reproduces_its_design_key() -> None:
    # GIVEN the variants of the example creatives, each with one representative context
    for brand, creative_id in EXAMPLE_CREATIVES:
        pack = PACKS[brand]
        report = enumerate_variants(pack.model, creative_id)
        params = pack.model.creative(creative_id).params
        for variant in report.variants:
            # WHEN the example is replayed as a real (signed) request
            example = variant.example
            query = {
                k: str(v)
                for k, v in example.items()
                if v is not None and (k in ("country", "tz", "device", "client", "lang", "at") or k in params)
            }
            options = context_options(pack.model, creative_id, signed_names=frozenset(query) | SIGNED_OVERRIDES)
            at = datetime.fromisoformat(example["at"])
            ctx = resolve({}, query, at, options)

            # THEN it decides to that variant's design key
            decision = decide(pack.model, creative_id, ctx, size=variant.decision.size)
            assert decision.design_key == variant.design_key, (creative_id, variant.decision.size, example)


def test_too_many_combinations_is_an_error_not_a_guess() -> None:
    with pytest.raises(TooManyVariants, match="combinations to decide"):
        enumerate_variants(PACKS["northwind"].model, "cyber-week", limit=100)


def test_iter_contexts_counts_its_product() -> None:
    total, read, contexts = iter_contexts(PACKS["acme"].model, "leaderboard")
    assert read == ["country"]
    assert total == len(list(contexts)) > 0


def test_a_pack_that_names_many_countries_and_zones(build: Callable[..., Pack]) -> None:
    # GIVEN rules naming many countries and zones (enumeration still needs one it does not name)
    countries = ["US", "GB", "JP", "BR", "IN", "ZA", "CA", "AU", "DE", "FR"]
    zones = ["UTC", "America/New_York", "Asia/Tokyo", "Europe/London", "Europe/Berlin"]
    pack = build(
        [
            {"id": "many", "when": {"country": countries}, "set": {"tokens.colors.accent": "#ff0000"}},
            {"id": "zones", "when": {"tz": zones}, "set": {"tokens.colors.ink": "#222222"}},
        ]
    )

    # WHEN enumerated
    report = enumerate_variants(pack.model, "promo")

    # THEN "anywhere else" is still represented: 2 locales x listed country or not x listed zone or not
    assert len(report.variants) == 8
    assert any(v.matched == () for v in report.variants)
