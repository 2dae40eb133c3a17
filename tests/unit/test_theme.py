"""`theme` is an explicit query parameter rules may read (the query string is in the CDN key)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from versa.authoring.lint import lint
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.decide.variants import enumerate_variants
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_theme_rule_decides_lints_clean_and_counts_as_a_variant(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a pack whose dark theme swaps the paper colour
    data = small_pack([{"id": "dark", "when": {"theme": "dark"}, "set": {"tokens.colors.paper": "#000000"}}])
    pack = load_pack(make_pack(data), checks=PACK_CHECKS)
    options = context_options(pack.model, "promo")
    # WHEN requests ask for each theme
    dark = decide(pack.model, "promo", resolve({}, {"theme": "dark"}, NOW, options))
    light = decide(pack.model, "promo", resolve({}, {"theme": "light"}, NOW, options))
    # THEN the rule applies to dark only, lint accepts it, and enumeration finds both designs per locale
    assert dark.matched == ("dark",) and light.matched == ()
    assert dark.design_key != light.design_key
    assert [i for i in lint(pack) if i.severity == "error"] == []
    assert len(enumerate_variants(pack.model, "promo").variants) == 2 * len(pack.model.locales)
