"""The values a pack mentions for an attribute: one walker (`decide.variants.mentions`) feeds both the
variant partition and the studio's suggestions, so what the studio offers is where the variants cut."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from versa.decide.variants import attribute_cells, mentions
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.web.studio import mentioned_values

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"


@pytest.mark.parametrize("brand", sorted(p.name for p in EXAMPLES.iterdir() if (p / "pack.yaml").is_file()))
def test_studio_suggests_exactly_the_countries_the_variants_cut_at(brand: str) -> None:
    # GIVEN an example pack whose rules and vary_by buckets name countries
    model = load_pack(EXAMPLES / brand, checks=PACK_CHECKS).model

    # WHEN the studio lists its country suggestions and the variant partition cuts the country axis
    suggested = {value.casefold() for value in mentioned_values(model, "country")}
    cut = {
        str(value).casefold()
        for creative in model.creatives.values()
        for value in attribute_cells(model, creative, "country")[:-2]  # minus "anything else" and absent
    }

    # THEN they are the same values
    assert suggested, "the example names no country: the test would compare two empty sets"
    assert suggested == cut


def test_mentions_cover_rules_vary_by_and_window_zones(
    make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN rules comparing tz (eq, in, not_in, and a window stated in a zone) and a vary_by bucket on tz
    rules = [
        {"id": "berlin", "when": {"tz": "Europe/Berlin"}, "set": {"tokens.colors.ink": "#000000"}},
        {"id": "not-asia", "when": {"tz": {"not_in": ["Asia/Tokyo", "Europe/Berlin"]}}, "set": {"lang": "de"}},
        {
            "id": "launch",
            "when": {"window": {"from": "2026-12-01T09:00", "tz": "America/Chicago"}},
            "set": {"tokens.colors.ink": "#222222"},
        },
    ]
    copy = {
        "title": {
            "default": {"en": "Hi", "de": "Hallo"},
            "generate": {"brief": "Greet", "vary_by": {"tz": {"pacific": ["Pacific/Auckland"], "other": "*"}}},
        },
        "cta": {"default": {"en": "Go", "de": "Los"}},
    }
    model = load_pack(make_pack(small_pack(rules, copy=copy)), checks=PACK_CHECKS).model
    creative = model.creatives["promo"]

    # WHEN the mentions are listed with and without window zones, and as the studio shows them
    plain = [(m.value, m.by) for m in mentions(creative, "tz")]
    with_windows = [(m.value, m.by) for m in mentions(creative, "tz", window_zones=True)]
    studio = mentioned_values(model, "tz")

    # THEN every compared value and bucket member is named with who names it, in pack order
    assert plain == [
        ("Europe/Berlin", "berlin"),
        ("Asia/Tokyo", "not-asia"),
        ("Europe/Berlin", "not-asia"),
        ("Pacific/Auckland", "title:pacific"),
    ]
    # AND the window's zone comes in its rule's place only when asked for (the studio asks)
    assert with_windows == [*plain[:3], ("America/Chicago", "launch"), plain[3]]
    assert studio == {
        "Europe/Berlin": ["berlin", "not-asia"],
        "Asia/Tokyo": ["not-asia"],
        "America/Chicago": ["launch"],
        "Pacific/Auckland": ["title:pacific"],
    }
