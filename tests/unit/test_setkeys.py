"""A rule's `set:` keys are parsed once, when the rule validates, into typed keys that the loader's
cross-check and `decide` both use; keys of the wrong shape are reported by the loader in the terms of
the target they start with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from packissues import unlocated
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import Rule
from versa.pack.setkeys import (
    MalformedKey,
    SetCopy,
    SetLang,
    SetLayerField,
    SetLink,
    SetToken,
    parse_key,
    parse_set,
)
from versa.render.checks import PACK_CHECKS


@pytest.mark.parametrize(
    ("key", "value", "parsed"),
    [
        ("lang", "de", SetLang("lang", "de")),
        ("link", "https://x.example/", SetLink("link", "https://x.example/")),
        ("tokens.colors.ink", "#000", SetToken("tokens.colors.ink", "colors", "ink", "#000")),
        ("tokens.fonts.body", "serif", SetToken("tokens.fonts.body", "fonts", "body", "serif")),
        ("tokens.spacing.gap", 4, SetToken("tokens.spacing.gap", "spacing", "gap", 4)),
        ("layers.cta.fill", "ink", SetLayerField("layers.cta.fill", "cta", "fill", "ink")),
        ("copy.cta", "Go", SetCopy("copy.cta", "cta", None, "Go")),
        ("copy.cta.de", "Los", SetCopy("copy.cta.de", "cta", "de", "Los")),
        ("lang.x", "de", MalformedKey("lang.x", "lang", ("lang", "x"), "de")),
        ("tokens.shadow.soft", 1, MalformedKey("tokens.shadow.soft", "tokens", ("tokens", "shadow", "soft"), 1)),
        ("layers.cta", "#000", MalformedKey("layers.cta", "layers", ("layers", "cta"), "#000")),
        ("copy.cta.de.x", "?", MalformedKey("copy.cta.de.x", "copy", ("copy", "cta", "de", "x"), "?")),
        ("colors.ink", "#000", MalformedKey("colors.ink", "colors", ("colors", "ink"), "#000")),
    ],
)
def test_each_key_shape_parses_to_its_typed_target(key: str, value: Any, parsed: object) -> None:
    # GIVEN one `set:` entry / WHEN parsed / THEN it names its target in typed fields
    assert parse_key(key, value) == parsed


def test_a_rule_parses_its_set_once_when_it_validates() -> None:
    # GIVEN a rule as pack.yaml writes it
    rule = Rule.model_validate(
        {"id": "dach", "when": {"country": ["DE"]}, "set": {"lang": "de", "copy.cta.de": "Los", "tokens.colors.ink": "#000"}}
    )
    # WHEN its typed keys are read (twice)
    first, again = rule.set_keys, rule.set_keys
    # THEN they are the parse of `set` in the order written, the same objects each time, and the
    # authored mapping is kept as written
    assert first == parse_set(rule.set)
    assert [type(k) for k in first] == [SetLang, SetCopy, SetToken]
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert rule.model_dump()["set"] == {"lang": "de", "copy.cta.de": "Los", "tokens.colors.ink": "#000"}


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("lang.de", "de", "'de' is not a declared locale (known: en, de, fr, ar, ja, zh)"),
        ("link.de", "https://acme.example/de", "'https://acme.example/de' is not an http(s) URL"),
        ("tokens", "#000", "use tokens.colors.NAME, tokens.fonts.NAME or tokens.spacing.NAME"),
        ("layers", "#000", "use layers.LAYER_ID.FIELD (give the layer an id)"),
        ("copy", "Go", "no copy slot '' (slots: cta, headline, subline)"),
    ],
)
def test_a_malformed_key_is_named_in_its_targets_terms(
    example_copy: Callable[..., Path], key: str, value: Any, expected: str
) -> None:
    # GIVEN a rule whose `set:` holds one key of a shape no target has
    def edit(data: dict[str, Any]) -> None:
        rules = data["creatives"]["winter-sale"]["rules"]
        next(r for r in rules if r["id"] == "france")["set"][key] = value

    root = example_copy("acme", edit)
    # WHEN loaded
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    # THEN the loader blames that key with the message of the target it starts with
    assert unlocated(caught.value.issues) == [f"pack.yaml: creatives.winter-sale.rules['france'].set.{key}: {expected}"]
