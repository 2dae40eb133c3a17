"""The loader checks fonts and templates against what it is handed (`PackChecks`), not against an
import of the renderer: the renderer's own checks (`PACK_CHECKS`) are one choice among others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from packissues import unlocated
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import PackChecks
from versa.render.checks import PACK_CHECKS
from versa.render.fonts import FAMILIES
from versa.render.html import unsafe_accesses


def problems(root: Path, checks: PackChecks) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=checks)
    return unlocated(caught.value.issues)


def no_template_check(source: str) -> Iterator[str]:
    return iter(())


def test_the_renderers_checks_are_its_families_and_its_sandbox_rule() -> None:
    # GIVEN the checks the renderer hands the loader / THEN they are its default families and template check
    assert PACK_CHECKS.font_families == frozenset(FAMILIES)
    assert PACK_CHECKS.unsafe_template_names is unsafe_accesses


def test_a_font_family_is_known_when_the_handed_families_name_it(example_copy: Callable[..., Path]) -> None:
    # GIVEN a pack whose body font names a family the renderer does not ship
    def edit(data: dict[str, Any]) -> None:
        data["tokens"]["fonts"]["body"] = "house-serif"

    root = example_copy("acme", edit)
    # WHEN loaded with the renderer's families, THEN it is refused naming the families it could use
    found = problems(root, PACK_CHECKS)
    assert found == [
        "pack.yaml: tokens.fonts.body: unknown font 'house-serif': name a pack file (assets/X.ttf) or one of: "
        + ", ".join(sorted(FAMILIES))
    ]
    # WHEN loaded with checks that know the family, THEN it loads
    house = PackChecks(frozenset({*FAMILIES, "house-serif"}), unsafe_accesses)
    assert load_pack(root, checks=house).model.tokens.fonts["body"] == "house-serif"


def test_a_rule_may_switch_a_font_token_only_to_a_handed_family(example_copy: Callable[..., Path]) -> None:
    # GIVEN a rule switching the display font to a family only some checks know
    def edit(data: dict[str, Any]) -> None:
        rules = data["creatives"]["winter-sale"]["rules"]
        next(r for r in rules if r["id"] == "france")["set"]["tokens.fonts.display"] = "house-serif"

    root = example_copy("acme", edit)
    # WHEN loaded with the renderer's checks / THEN the set is refused
    assert problems(root, PACK_CHECKS) == [
        "pack.yaml: creatives.winter-sale.rules['france'].set.tokens.fonts.display: 'house-serif': a rule may "
        "switch to a default family or a font the pack's tokens already load"
    ]
    # WHEN loaded with checks that know the family / THEN it loads
    load_pack(root, checks=PackChecks(frozenset({*FAMILIES, "house-serif"}), unsafe_accesses))


def test_templates_are_judged_by_the_handed_check(example_copy: Callable[..., Path]) -> None:
    # GIVEN the acme pack, whose template reads no underscore names
    root = example_copy("acme")
    load_pack(root, checks=PACK_CHECKS)

    # WHEN loaded with a check that finds an underscore name in every template
    def strict(source: str) -> Iterator[str]:
        yield "_secret"

    # THEN the template is refused with that name, and with a check that finds nothing it loads
    assert problems(root, PackChecks(frozenset(FAMILIES), strict)) == [
        "templates/banner.html: creatives.winter-sale.template: template reads _secret: underscore "
        "attributes are refused by the sandbox"
    ]
    (root / "templates" / "banner.html").write_text("{{ picture.__class__ }}", encoding="utf-8")
    assert load_pack(root, checks=PackChecks(frozenset(FAMILIES), no_template_check)).brand == "acme"
    assert any("__class__" in p for p in problems(root, PACK_CHECKS))
