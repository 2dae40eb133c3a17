"""Pack errors as an author reads them: list items named by their ids (with the line and column kept),
one error per mistake, and 'did you mean' for unknown fields, fonts, tokens and attributes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from packissues import unlocated
from versa.adapters.directory import DirectoryPackStore
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.paths import named_path
from versa.pack.safe_yaml import parse_yaml, position
from versa.render.checks import PACK_CHECKS


def load_errors(root: Path) -> list[Any]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return caught.value.issues


def rule_of(data: dict[str, Any], creative: str, rule_id: str) -> dict[str, Any]:
    return next(r for r in data["creatives"][creative]["rules"] if r["id"] == rule_id)


# ------------------------------------------------------------------------------------------- ids


def test_errors_name_rules_and_layers_by_id_at_their_line(example_copy: Callable[..., Path]) -> None:
    # GIVEN acme with a bad locale in the rule 'dach' and an unknown font in the layer 'cta' (in a container)
    def break_it(data: dict[str, Any]) -> None:
        rule_of(data, "winter-sale", "dach")["set"]["lang"] = "dk"
        layers = data["creatives"]["winter-sale"]["layers"]
        layers[1]["children"][0]["children"][3]["font"] = "dispaly"

    root = example_copy("acme", break_it)
    text = (root / "pack.yaml").read_text(encoding="utf-8").splitlines()

    # WHEN it is loaded
    issues = {i.path: i for i in load_errors(root)}

    # THEN each is named by ids, not positions
    rule = issues["creatives.winter-sale.rules['dach'].set.lang"]
    font = issues["creatives.winter-sale.layers['frame'].children['copy'].children['cta'].font"]
    assert str(rule).startswith("pack.yaml: creatives.winter-sale.rules['dach'].set.lang: 'dk' is not a declared locale")
    assert str(font).startswith(
        "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].children['cta'].font: unknown font 'dispaly'"
    )
    # AND the line and column still point at the offending field of that item
    assert rule.line is not None and font.line is not None and rule.column is not None and font.column is not None
    assert text[rule.line - 1][rule.column - 1 :].startswith("lang: dk")
    assert text[font.line - 1][font.column - 1 :].startswith("font: dispaly")


def test_an_item_without_an_id_or_with_a_repeated_one_keeps_its_index(example_copy: Callable[..., Path]) -> None:
    # GIVEN a layer without an id and two rules sharing the id 'gulf', one of them with a bad locale
    def break_it(data: dict[str, Any]) -> None:
        data["creatives"]["leaderboard"]["layers"][0]["fill"] = "inkk"
        rules = data["creatives"]["winter-sale"]["rules"]
        rules.append({"id": "gulf", "set": {"lang": "dk"}})

    root = example_copy("acme", break_it)
    count = len(example_rules(root))

    # WHEN it is loaded
    found = unlocated(load_errors(root))

    # THEN those items are named by their place in the list
    assert any(line.startswith("pack.yaml: creatives.leaderboard.layers[0].fill: unknown colour token 'inkk'") for line in found)
    assert f"pack.yaml: creatives.winter-sale.rules[{count - 1}].id: rule id 'gulf' repeats" in found
    assert any(line.startswith(f"pack.yaml: creatives.winter-sale.rules[{count - 1}].set.lang: 'dk'") for line in found)


def example_rules(root: Path) -> list[Any]:
    return list(yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))["creatives"]["winter-sale"]["rules"])


def test_named_paths_and_their_positions() -> None:
    # GIVEN a document with items with and without ids
    doc = parse_yaml(
        b"creatives:\n  x:\n    rules:\n      - id: a\n        when: {}\n      - note: none\n"
        b"    layers:\n      - {id: row, type: container, children: [{type: text}, {id: t, font: f}]}\n",
        "pack.yaml",
    )
    # WHEN index paths are named
    # THEN ids replace indexes where an item has one, and both forms find the same place
    assert named_path(doc, "creatives.x.rules[0].when") == "creatives.x.rules['a'].when"
    assert named_path(doc, "creatives.x.rules[1].note") == "creatives.x.rules[1].note"
    assert named_path(doc, "creatives.x.layers[0].children[1].font") == "creatives.x.layers['row'].children['t'].font"
    assert named_path(doc, "creatives.x.layers[0].children[0]") == "creatives.x.layers['row'].children[0]"
    assert named_path(doc, "creatives.x.layers[5].font") == "creatives.x.layers[5].font"
    node = doc.node
    assert position(node, "creatives.x.rules['a'].when") == position(node, "creatives.x.rules[0].when") == (5, 9)
    assert position(node, "creatives.x.layers['row'].children['t'].font") == position(
        node, "creatives.x.layers[0].children[1].font"
    )
    assert position(node, "creatives.x.rules['nope']") == (3, 5)  # the list that lacks it


def test_serve_refuses_a_broken_pack_naming_items_by_id(example_copy: Callable[..., Path]) -> None:
    # GIVEN a folder of packs holding acme with a bad locale in the rule 'france'
    root = example_copy("acme", lambda d: rule_of(d, "winter-sale", "france")["set"].update(lang="dk"))
    store = DirectoryPackStore(root.parent, checks=PACK_CHECKS)

    # WHEN the server's pack store loads it
    with pytest.raises(PackError) as caught:
        store.current("acme")

    # THEN the refusal (what `versa serve` prints) names the rule by its id, with its line
    assert "pack.yaml: creatives.winter-sale.rules['france'].set.lang: 'dk' is not a declared locale" in str(caught.value)
    assert "(line " in str(caught.value).split("rules['france']")[1]


# ------------------------------------------------------------------------------ one per mistake


def _headline_generate(data: dict[str, Any]) -> dict[str, Any]:
    generate: dict[str, Any] = data["creatives"]["winter-sale"]["copy"]["headline"]["generate"]
    return generate


def _frame(data: dict[str, Any]) -> dict[str, Any]:
    frame: dict[str, Any] = data["creatives"]["winter-sale"]["layers"][1]
    return frame


ONE_ERROR = [
    pytest.param(
        lambda d: _headline_generate(d)["vary_by"]["country"].update(us="US"),
        "pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.country.us: Input should be a valid list or '*' (got 'US')",
        id="a bucket's values not a list",
    ),
    pytest.param(
        lambda d: _headline_generate(d)["vary_by"]["country"].update(other="**"),
        "pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.country.other: Input should be a valid list or '*' (got '**')",
        id="a typo in the catch-all bucket",
    ),
    pytest.param(
        lambda d: _headline_generate(d)["vary_by"].update(daypart="al"),
        "pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.daypart: Input should be 'all' or a valid dictionary (got 'al')",
        id="a typo in vary_by all",
    ),
    pytest.param(
        lambda d: _frame(d)["children"][0]["children"][1].update(digits="arab"),
        "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].children['headline'].digits: "
        "Input should be 'latn' or 'native' or a valid dictionary (got 'arab')",
        id="a union-typed layer field",
    ),
    pytest.param(
        lambda d: _frame(d)["children"][0].update(flex={"grow": "x"}),
        "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].flex.grow: "
        "Input should be a valid number, unable to parse string as a number (got 'x')",
        id="a bad value deep in a container (no 'no layer with id' for the ids inside it)",
    ),
    pytest.param(
        lambda d: _frame(d)["children"][0]["children"][1].update(type="txt"),
        "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].children['headline'].type: "
        "unknown layer type 'txt'; did you mean 'text'? (types: image, text, button, shape, countdown, container)",
        id="a layer type typo",
    ),
    pytest.param(
        lambda d: d["creatives"]["winter-sale"]["layers"][0]["gradient"].update(stops=["#fff", 3]),
        "pack.yaml: creatives.winter-sale.layers['bg'].gradient.stops[1].color: Input should be a valid string (got 3)",
        id="one bad gradient stop",
    ),
    pytest.param(
        lambda d: next(r for r in d["creatives"]["winter-sale"]["rules"] if r["id"] == "dach")["when"].update(
            bucket={"key": "user", "salt": "s", "pcnt": [0, 50]}
        ),
        "pack.yaml: creatives.winter-sale.rules['dach'].when.bucket.pcnt: unknown field; did you mean 'pct'? "
        "(bucket takes {salt: TEXT, pct: [FROM, TO]} and, to split on a declared parameter, key: PARAM)",
        id="a typo in a bucket condition",
    ),
    pytest.param(
        lambda d: next(r for r in d["creatives"]["winter-sale"]["rules"] if r["id"] == "dach")["set"].update(
            {"layers.cta.flex": {"grow": "x"}}
        ),
        "pack.yaml: creatives.winter-sale.rules['dach'].set.layers.cta.flex: grow: "
        "Input should be a valid number, unable to parse string as a number (got 'x')",
        id="a bad value inside a field a rule sets",
    ),
    pytest.param(
        lambda d: d["creatives"]["winter-sale"]["sizes"].__setitem__(1, "300x25o"),
        "pack.yaml: creatives.winter-sale.sizes[1]: '300x25o' is not a size: write WIDTHxHEIGHT in px, e.g. '728x90' "
        "(got '300x25o')",
        id="a typo in one of the sizes (no 'matches no declared size' for every by_size)",
    ),
    pytest.param(
        lambda d: next(r for r in d["creatives"]["winter-sale"]["rules"] if r["id"] == "dach")["when"].update(
            hour={"gt": "x"}
        ),
        "pack.yaml: creatives.winter-sale.rules['dach'].when.hour.gt: 'x' is not a number",
        id="a bad condition value",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), ONE_ERROR)
def test_one_mistake_is_one_error(
    example_copy: Callable[..., Path], edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    # GIVEN acme with one mistake
    root = example_copy("acme", edit)

    # WHEN it is loaded
    found = unlocated(load_errors(root))

    # THEN exactly one error names it, at its place
    assert found == [expected]


# ----------------------------------------------------------------------------------- did you mean


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return rule_of(data, "winter-sale", rule_id)


def _layer(data: dict[str, Any], layer_id: str) -> dict[str, Any]:
    from packdata import find_layer

    return find_layer(data, "winter-sale", layer_id)[0]


HEADLINE = "creatives.winter-sale.layers['frame'].children['copy'].children['headline']"
SUGGESTIONS = [
    pytest.param(
        lambda d: _layer(d, "headline").update(max_line=2),
        f"pack.yaml: {HEADLINE}.max_line: unknown field (got 2); did you mean 'max_lines'?",
        id="unknown field of a layer",
    ),
    pytest.param(
        lambda d: d["creatives"]["winter-sale"].setdefault("params", {}).update(tier={"type": "enum", "valuse": ["a"]}),
        "pack.yaml: creatives.winter-sale.params.tier.valuse: unknown field; did you mean 'values'?",
        id="unknown field of a parameter",
    ),
    pytest.param(
        lambda d: d["tokens"]["fonts"].update(body="sans-bld"),
        "pack.yaml: tokens.fonts.body: unknown font 'sans-bld': name a pack file (assets/X.ttf) or one of: arabic, "
        "arabic-bold, cjk, cjk-bold, cjk-jp, cjk-jp-bold, cjk-kr, cjk-kr-bold, cjk-sc, cjk-sc-bold, cjk-tc, cjk-tc-bold, "
        "devanagari, devanagari-bold, hebrew, hebrew-bold, noto-sans, noto-sans-bold, sans, sans-bold, thai, thai-bold "
        "(did you mean 'sans-bold'?)",
        id="a font family in tokens",
    ),
    pytest.param(
        lambda d: _layer(d, "headline").update(font="dispaly"),
        f"pack.yaml: {HEADLINE}.font: unknown font 'dispaly'; did you mean 'display'? (known: body, display)",
        id="a font token of a layer",
    ),
    pytest.param(
        lambda d: _layer(d, "headline").update(color="inkk"),
        f"pack.yaml: {HEADLINE}.color: unknown colour token 'inkk'; did you mean 'ink'? "
        "(known: accent, accent_ink, ink, muted, paper, sky_bottom, sky_top)",
        id="a colour token of a layer",
    ),
    pytest.param(
        lambda d: _rule(d, "france")["set"].update({"tokens.colors.acent": "#000000"}),
        "pack.yaml: creatives.winter-sale.rules['france'].set.tokens.colors.acent: unknown color token 'acent'; "
        "did you mean 'accent'? (known: accent, accent_ink, ink, muted, paper, sky_bottom, sky_top)",
        id="a token a rule sets",
    ),
    pytest.param(
        lambda d: _rule(d, "france")["when"].update(devise="mobile"),
        None,
        id="an attribute a rule reads",
    ),
    pytest.param(
        lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"]["vary_by"].update(daypat="all"),
        "pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.daypat: unknown attribute 'daypat'; "
        "did you mean 'daypart'?",
        id="an attribute copy varies by",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), SUGGESTIONS)
def test_typos_get_did_you_mean(
    example_copy: Callable[..., Path], edit: Callable[[dict[str, Any]], None], expected: str | None
) -> None:
    # GIVEN acme with one misspelt name
    root = example_copy("acme", edit)

    # WHEN it is loaded
    found = unlocated(load_errors(root))

    # THEN the error suggests the name meant
    if expected is None:  # the attribute list is long: its start and the suggestion
        assert len(found) == 1 and found[0].startswith(
            "pack.yaml: creatives.winter-sale.rules['france'].when: unknown attribute 'devise'; did you mean 'device'? (known: "
        ), found
    else:
        assert found == [expected]


def test_the_studio_shows_a_broken_packs_errors_by_id(example_copy: Callable[..., Path]) -> None:
    import html
    from collections.abc import Mapping

    from versa.pack.model import Pack
    from versa.web.studio import Studio

    # GIVEN the studio over a folder holding acme with a bad locale in the rule 'france'
    root = example_copy("acme", lambda d: rule_of(d, "winter-sale", "france")["set"].update(lang="dk"))
    store = DirectoryPackStore(root.parent, checks=PACK_CHECKS)

    class Backend:
        def brands(self) -> list[str]:
            return store.brands()

        def current_pack(self, brand: str) -> Pack:
            return store.current(brand)

        def sign(self, path: str, query: Mapping[str, str], *, scope: str | None = None) -> str:
            return path

    # WHEN its page is asked for the brand
    status, _, body = Studio(Backend()).handle("/?brand=acme")

    # THEN the page's error box names the rule by its id, with its line
    page = html.unescape(body.decode())
    assert status == 200
    assert "pack.yaml: creatives.winter-sale.rules['france'].set.lang: 'dk' is not a declared locale" in page
    assert "(line " in page.split("rules['france'].set.lang")[1].split("\n")[0]


def test_mistakes_in_entries_named_like_types_stay_apart(example_copy: Callable[..., Path]) -> None:
    # GIVEN two parameters named 'time' and 'str' (as pydantic names union members), each with a bad type
    root = example_copy(
        "acme",
        lambda d: d["creatives"]["winter-sale"].setdefault("params", {}).update(
            time={"type": "clock"}, str={"type": "calendar"}
        ),
    )

    # WHEN it is loaded
    found = unlocated(load_errors(root))

    # THEN each is its own error
    allowed = "Input should be 'text', 'int', 'number', 'enum', 'bool' or 'datetime'"
    assert found == [
        f"pack.yaml: creatives.winter-sale.params.time.type: {allowed} (got 'clock')",
        f"pack.yaml: creatives.winter-sale.params.str.type: {allowed} (got 'calendar')",
    ]
