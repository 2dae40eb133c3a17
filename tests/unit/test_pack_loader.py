"""Loading packs: the examples load; every problem of a broken pack is reported at once, located."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from packdata import find_layer, layer_path
from PIL import Image

from packissues import unlocated
from versa.context.model import RESERVED_QUERY_NAMES
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"


def problems(root: Path) -> list[str]:
    """Every issue the loader reports for the pack in `root`, as printed lines."""
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def layer_index(data: dict[str, Any], creative: str, layer_id: str) -> int:
    layers = data["creatives"][creative]["layers"]
    return next(i for i, layer in enumerate(layers) if layer.get("id") == layer_id)


def rule(data: dict[str, Any], creative: str, rule_id: str) -> dict[str, Any]:
    return next(r for r in data["creatives"][creative]["rules"] if r["id"] == rule_id)


# ----------------------------------------------------------------------------------------- examples


@pytest.mark.parametrize(("brand", "creatives"), [("acme", 2), ("northwind", 3)])
def test_example_packs_load(brand: str, creatives: int) -> None:
    # GIVEN an example pack directory
    root = EXAMPLES / brand

    # WHEN it is loaded
    pack = load_pack(root, checks=PACK_CHECKS)

    # THEN it is a whole pack with a content version and its file list
    assert isinstance(pack, Pack)
    assert pack.brand == brand
    assert len(pack.model.creatives) == creatives
    assert len(pack.version) == 12 and int(pack.version, 16) >= 0
    assert "pack.yaml" in pack.files
    assert any(name.startswith("assets/") for name in pack.files)


def test_content_version_follows_the_files(example_copy: Callable[..., Path]) -> None:
    # GIVEN two copies of a pack, one with an extra comment in pack.yaml
    same = example_copy("acme", name="same")
    edited = example_copy("acme", name="edited", text=lambda s: s + "\n# a comment\n")

    # WHEN both are loaded
    original, twin, changed = load_pack(EXAMPLES / "acme", checks=PACK_CHECKS), load_pack(same, checks=PACK_CHECKS), load_pack(edited, checks=PACK_CHECKS)

    # THEN identical bytes give the same version and any byte change gives another
    assert twin.version == original.version
    assert changed.version != original.version


# ------------------------------------------------------------------------------ all errors at once


def test_each_error_names_the_line_and_column_where_its_field_is_written(tmp_path: Path) -> None:
    # GIVEN acme with one font typo and one unknown field in a rule's set: (a key holding dots)
    root = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", root)
    text = (root / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace("font: display", "font: dispaly", 1)
    (root / "pack.yaml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    row = next(n for n, line in enumerate(lines) if "font: dispaly" in line)

    # WHEN it is loaded
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)

    # THEN the error points at that `font:` key, and says so when printed
    issue = next(i for i in caught.value.issues if "dispaly" in i.message)
    assert (issue.line, issue.column) == (row + 1, lines[row].index("font: dispaly") + 1)
    assert str(issue).endswith(f"(line {row + 1}, column {lines[row].index('font: dispaly') + 1})")
    assert f"(line {row + 1}, column" in str(caught.value)


def test_a_missing_field_points_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    from versa.pack.safe_yaml import parse_yaml, position

    document = parse_yaml(b"brand: x\ncreatives:\n  promo:\n    layers: []\n", "pack.yaml")
    assert position(getattr(document, "node", None), "creatives.promo.size") == (3, 3)
    assert position(getattr(document, "node", None), "creatives.promo.layers[4]") == (4, 5)
    assert position(getattr(document, "node", None), "nothing.here") is None


def test_broken_pack_reports_every_error_at_once_with_file_field_and_value(
    example_copy: Callable[..., Path],
) -> None:
    # GIVEN the acme pack with five unrelated mistakes in one creative (four inside its container)
    def break_it(data: dict[str, Any]) -> None:
        find_layer(data, "winter-sale", "headline")[0]["font"] = "dispaly"
        find_layer(data, "winter-sale", "cta")[0]["fill"] = "acent"
        find_layer(data, "winter-sale", "subline")[0]["slot"] = "sublime"
        find_layer(data, "winter-sale", "logo")[0]["asset"] = "assets/logo-missing.png"
        rule(data, "winter-sale", "gulf")["set"]["layers.hedline.align"] = "start"

    root = example_copy("acme", break_it)
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    path = {name: layer_path(data, "winter-sale", name) for name in ("headline", "cta", "subline", "logo")}

    # WHEN it is loaded
    found = problems(root)

    # THEN each mistake is reported, naming the file, the field path (list items by their ids) and the
    # offending value
    assert path["headline"] == "creatives.winter-sale.layers['frame'].children['copy'].children['headline']"
    assert f"pack.yaml: {path['headline']}.font: unknown font 'dispaly'; did you mean 'display'? (known: body, display)" in found
    assert any(line.startswith(f"pack.yaml: {path['cta']}.fill: unknown colour token 'acent'") for line in found)
    assert f"pack.yaml: {path['subline']}.slot: unknown copy slot 'sublime'; did you mean 'subline'? (known: cta, headline, subline)" in found
    assert f"pack.yaml: {path['logo']}.asset: 'assets/logo-missing.png' does not exist in the pack" in found
    assert any(
        line.startswith("pack.yaml: creatives.winter-sale.rules['gulf'].set.layers.hedline.align: no layer with id")
        for line in found
    )
    assert len(found) == 5


def test_pack_error_message_lists_every_issue(example_copy: Callable[..., Path]) -> None:
    # GIVEN a pack with two mistakes in two creatives
    def break_it(data: dict[str, Any]) -> None:
        find_layer(data, "winter-sale", "headline")[0]["font"] = "dispaly"
        data["creatives"]["leaderboard"]["layers"][0]["fill"] = "inkk"

    root = example_copy("acme", break_it)
    headline = layer_path(yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8")), "winter-sale", "headline")

    # WHEN loading fails
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)

    # THEN the exception text names the pack and carries both, one per line
    text = str(caught.value)
    assert text.startswith("pack 'acme' is invalid (2 error(s)):")
    assert f"{headline}.font: unknown font 'dispaly'" in text
    assert "creatives.leaderboard.layers[0].fill: unknown colour token 'inkk'" in text


@pytest.mark.parametrize(
    ("where", "edit", "expected"),
    [
        (
            "top level",
            lambda d: d.update(version=3),
            "pack.yaml: version: unknown field (got 3)",
        ),
        (
            "creative",
            lambda d: d["creatives"]["winter-sale"].update(lnk="https://acme.example/"),
            "pack.yaml: creatives.winter-sale.lnk: unknown field (got 'https://acme.example/'); did you mean 'link'?",
        ),
        (
            "layer",
            lambda d: find_layer(d, "winter-sale", "bg")[0].update(fil="ink"),
            "pack.yaml: creatives.winter-sale.layers['bg'].fil: unknown field (got 'ink'); did you mean 'fill'?",
        ),
        (
            "copy brief",
            lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"].update(temprature=3),
            "pack.yaml: creatives.winter-sale.copy.headline.generate.temprature: unknown field (got 3); did you mean 'temperature'?",
        ),
        (
            "tokens",
            lambda d: d["tokens"].update(shadows={"soft": 2}),
            "pack.yaml: tokens.shadows: unknown field",
        ),
    ],
)
def test_unknown_fields_are_errors_and_do_not_hide_other_errors(
    example_copy: Callable[..., Path], where: str, edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    # GIVEN a pack with an unknown field somewhere, and an unrelated bad font reference in the same creative
    def break_it(data: dict[str, Any]) -> None:
        edit(data)
        find_layer(data, "winter-sale", "cta")[0]["font"] = "dispaly"

    root = example_copy("acme", break_it)
    cta = layer_path(yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8")), "winter-sale", "cta")

    # WHEN it is loaded
    found = problems(root)

    # THEN the unknown field is reported where it is, and the other mistake is reported too
    assert expected in found, where
    assert any(f"{cta}.font: unknown font 'dispaly'" in line for line in found), found


def test_invalid_field_values_do_not_hide_reference_errors(example_copy: Callable[..., Path]) -> None:
    # GIVEN a creative whose size is invalid, whose params are inconsistent and whose text layer names
    # an unknown font
    def break_it(data: dict[str, Any]) -> None:
        week = data["creatives"]["cyber-week"]
        week["size"] = [600, 3]
        week["params"]["tier"]["values"] = []
        find_layer(data, "cyber-week", "note")[0]["font"] = "bdy"

    root = example_copy("northwind", break_it)

    # WHEN it is loaded
    found = problems(root)

    # THEN all three are reported in one go
    assert any(line.startswith("pack.yaml: creatives.cyber-week.size: size [600, 3]") for line in found)
    assert any(line.startswith("pack.yaml: creatives.cyber-week.params.tier:") for line in found)
    _, note = find_layer(yaml.safe_load((root / "pack.yaml").read_text()), "cyber-week", "note")
    assert any(f"creatives.cyber-week.{note}.font: unknown font 'bdy'" in line for line in found), found


def test_invalid_colour_token_value_does_not_hide_references(example_copy: Callable[..., Path]) -> None:
    # GIVEN a colour token that is not a colour, and a layer naming a token that does not exist
    def break_it(data: dict[str, Any]) -> None:
        data["tokens"]["colors"]["ink"] = "blue"
        data["creatives"]["leaderboard"]["layers"][0]["fill"] = "inkk"

    root = example_copy("acme", break_it)

    # WHEN it is loaded
    found = problems(root)

    # THEN the bad value and the bad reference are reported; uses of the (declared) token are not
    assert any(line.startswith("pack.yaml: tokens.colors: colour token 'ink': 'blue'") for line in found), found
    assert any("creatives.leaderboard.layers[0].fill: unknown colour token 'inkk'" in line for line in found)
    assert not any("unknown colour token 'ink'" in line for line in found)


def test_a_pack_with_errors_never_partly_loads(example_copy: Callable[..., Path]) -> None:
    # GIVEN a pack whose second creative is broken while the first is fine
    root = example_copy("acme", lambda d: find_layer(d, "leaderboard", "headline")[0].update(font="nope"))

    # WHEN it is loaded
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)

    # THEN nothing is returned (not a pack of the good creative), and only the bad creative is blamed
    assert caught.value.pack == "acme"
    assert all("creatives.leaderboard" in issue.path for issue in caught.value.issues)


# ----------------------------------------------------------------------------------------- YAML


def test_yaml_syntax_error_names_the_line(example_copy: Callable[..., Path]) -> None:
    # GIVEN a pack.yaml with an unclosed flow sequence on line 5
    root = example_copy("acme", text=lambda s: s.replace("locales: [en, de, fr, ar, ja, zh]", "locales: [en, de, fr, ar, ja, zh"))
    line = next(
        n for n, text in enumerate((root / "pack.yaml").read_text().splitlines(), 1) if text.startswith("locales:")
    )

    # WHEN it is loaded
    found = problems(root)

    # THEN one error names the file, a line near the mistake and says it is a YAML syntax error
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: line ")
    reported = int(found[0].split("line ")[1].split(",")[0])
    assert line <= reported <= line + 2
    assert "YAML syntax error" in found[0]


def test_duplicate_yaml_keys_are_errors(example_copy: Callable[..., Path]) -> None:
    # GIVEN a pack.yaml that declares the creative `leaderboard` twice (YAML would keep the last one)
    def duplicate(text: str) -> str:
        start = text.index("  leaderboard:")
        return text + "\n" + text[start:]

    root = example_copy("acme", text=duplicate)

    # WHEN it is loaded
    found = problems(root)

    # THEN the duplicate key is an error with its line, not a silently dropped creative
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: line ")
    assert "'leaderboard'" in found[0] and "duplicate" in found[0]


def test_missing_pack_file_and_non_mapping(tmp_path: Path) -> None:
    # GIVEN a directory without pack.yaml, and one whose pack.yaml is a list
    (tmp_path / "empty").mkdir()
    (tmp_path / "listy").mkdir()
    (tmp_path / "listy" / "pack.yaml").write_text("- brand\n- acme\n")

    # WHEN each is loaded
    empty, listy = problems(tmp_path / "empty"), problems(tmp_path / "listy")

    # THEN each says what is wrong
    assert empty == [f"pack.yaml: no pack.yaml in {tmp_path / 'empty'}"]
    assert listy == [
        "pack.yaml: line 1, column 1: the top level is a list; it must be a mapping with brand, locales and creatives"
    ]


# --------------------------------------------------------------------------------------- assets


def test_missing_asset(example_copy: Callable[..., Path]) -> None:
    # GIVEN an image layer pointing at a file the pack does not have
    root = example_copy("acme", text=lambda s: s.replace("assets/peaks.png", "assets/peak.png"))

    # WHEN loaded
    found = problems(root)

    # THEN the layer's asset field is blamed with the reference
    assert found == ["pack.yaml: creatives.winter-sale.layers['frame'].children['art'].asset: 'assets/peak.png' does not exist in the pack"]


@pytest.mark.parametrize(
    "ref",
    [
        "../northwind/assets/logo.png",
        "assets/../../northwind/assets/logo.png",
        "%2e%2e/northwind/assets/logo.png",
        "%2E%2E%2Fnorthwind%2Fassets%2Flogo.png",
        "%252e%252e/northwind/assets/logo.png",
        "/etc/passwd",
        "~/logo.png",
        "assets\\..\\..\\logo.png",
    ],
)
def test_asset_paths_cannot_leave_the_pack(example_copy: Callable[..., Path], ref: str) -> None:
    # GIVEN an image layer whose asset path tries to leave the pack (plain, encoded or absolute)
    root = example_copy("acme", lambda d: find_layer(d, "winter-sale", "art")[0].update(asset=ref))

    # WHEN loaded
    found = problems(root)

    # THEN it is refused as leaving the pack, at the field that holds it
    assert len(found) == 1
    assert found[0].startswith(f"pack.yaml: creatives.winter-sale.layers['frame'].children['art'].asset: {ref!r}")
    assert "leaves the pack" in found[0] or "not a pack-relative path" in found[0]


def test_symlink_out_of_the_pack_is_refused(example_copy: Callable[..., Path], tmp_path: Path) -> None:
    # GIVEN a pack file that is a symlink to an image outside the pack
    outside = tmp_path / "outside.png"
    Image.new("RGB", (8, 8), "red").save(outside)
    root = example_copy("acme")
    (root / "assets" / "peaks.png").unlink()
    (root / "assets" / "peaks.png").symlink_to(outside)

    # WHEN loaded
    found = problems(root)

    # THEN the file is refused as a link although the path itself looks innocent
    assert found == [
        "assets/peaks.png: is a symbolic link: every pack file must be a regular file inside the pack "
        "(links are refused even when they point inside it); put a copy of the file there instead"
    ]


def test_template_and_fallback_paths_are_guarded_too(example_copy: Callable[..., Path]) -> None:
    # GIVEN a template and a fallback that leave the pack
    def break_it(data: dict[str, Any]) -> None:
        data["creatives"]["winter-sale"]["template"] = "../../pack.yaml"
        data["creatives"]["leaderboard"]["fallback"] = "%2e%2e/acme/assets/fallback.png"

    root = example_copy("acme", break_it)

    # WHEN loaded
    found = problems(root)

    # THEN both are refused
    assert any(line.startswith("pack.yaml: creatives.winter-sale.template:") and "leaves the pack" in line for line in found)
    assert any(line.startswith("pack.yaml: creatives.leaderboard.fallback:") and "leaves the pack" in line for line in found)


def test_a_file_that_is_not_an_image(example_copy: Callable[..., Path]) -> None:
    # GIVEN a .png asset that holds text
    root = example_copy("acme")
    (root / "assets" / "peaks.png").write_text("not an image at all")

    # WHEN loaded
    found = problems(root)

    # THEN it is named as not a readable image
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: creatives.winter-sale.layers['frame'].children['art'].asset: not a readable PNG/JPEG")


def test_a_decompression_bomb_is_refused(example_copy: Callable[..., Path]) -> None:
    # GIVEN a tiny PNG file that decodes to 5000 x 5000 pixels (one colour compresses to a few KB)
    root = example_copy("acme")
    bomb = root / "assets" / "peaks.png"
    Image.new("1", (5000, 5000)).save(bomb, optimize=True)
    assert bomb.stat().st_size < 20_000

    # WHEN loaded
    found = problems(root)

    # THEN it is refused before decoding
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: creatives.winter-sale.layers['frame'].children['art'].asset:")
    assert "5000" in found[0] or "25000000" in found[0]


def test_font_files_must_be_fonts(example_copy: Callable[..., Path]) -> None:
    # GIVEN a font token naming a pack file that is not a font, and one naming a missing file
    def break_it(data: dict[str, Any]) -> None:
        data["tokens"]["fonts"]["display"] = "assets/Display.ttf"
        data["tokens"]["fonts"]["body"] = "assets/Body.otf"

    root = example_copy("acme", break_it)
    (root / "assets" / "Display.ttf").write_bytes(b"\x00\x01\x00\x00 definitely not a font")

    # WHEN loaded
    found = problems(root)

    # THEN both tokens are blamed, with their values
    assert any(
        line.startswith("pack.yaml: tokens.fonts.display: 'assets/Display.ttf' is not a readable TrueType/OpenType font")
        for line in found
    )
    assert "pack.yaml: tokens.fonts.body: 'assets/Body.otf' does not exist in the pack" in found


def test_unknown_default_font_family(example_copy: Callable[..., Path]) -> None:
    # GIVEN a font token naming a family Versa does not provide
    root = example_copy("acme", lambda d: d["tokens"]["fonts"].update(display="comic-sans"))

    # WHEN loaded
    found = problems(root)

    # THEN the token is blamed and the provided families are listed
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: tokens.fonts.display: unknown font 'comic-sans': name a pack file")
    assert "sans-bold" in found[0]


# ------------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: find_layer(d, "winter-sale", "headline")[0].update(color="inky"),
            "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].children['headline'].color: unknown colour token 'inky'",
        ),
        (
            lambda d: d["creatives"]["winter-sale"]["layers"][0]["gradient"].update(
                stops=["{{ tokens.colors.sky_tpo }}", "#ffffff"]
            ),
            "pack.yaml: creatives.winter-sale.layers['bg'].gradient.stops[0].color: unknown colour token 'sky_tpo'",
        ),
        (
            lambda d: find_layer(d, "leaderboard", "cta")[0].update(fill="{{ tokens.colors.acent }}"),
            "pack.yaml: creatives.leaderboard.layers['row'].children['cta'].fill: unknown colour token 'acent'",
        ),
    ],
)
def test_unknown_colour_tokens(
    example_copy: Callable[..., Path], edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    # GIVEN a layer colour naming a token the pack does not declare
    root = example_copy("acme", edit)

    # WHEN loaded
    found = problems(root)

    # THEN the field is blamed and the declared tokens are listed
    assert len(found) == 1
    assert found[0].startswith(expected)
    assert "(known: accent, accent_ink, ink, muted, paper, sky_bottom, sky_top)" in found[0]


def test_unknown_copy_slots_and_params_in_layers_and_templates(example_copy: Callable[..., Path]) -> None:
    # GIVEN layers naming a slot and a parameter that do not exist, and templates reading unknown names
    where: dict[str, str] = {}

    def break_it(data: dict[str, Any]) -> None:
        (cta, where["cta"]), (note, where["note"]), (greeting, where["greeting"]), (hello, where["hello"]) = (
            find_layer(data, "cyber-week", "cta"),
            find_layer(data, "cyber-week", "note"),
            find_layer(data, "cyber-week", "greeting"),
            find_layer(data, "welcome", "hello"),
        )
        cta["slot"] = "ctaa"
        note.pop("slot")
        note["param"] = "first_nam"
        greeting["text"] = "{{ firstname }}, {{ headline }}"
        hello["text"] = "{{ greeting }"

    root = example_copy("northwind", break_it)

    # WHEN loaded
    found = problems(root)

    # THEN each is reported at its field with what is known
    week = "pack.yaml: creatives.cyber-week"
    assert f"{week}.{where['cta']}.slot: unknown copy slot 'ctaa'; did you mean 'cta'? (known: cta, headline, note)" in found
    assert (
        f"{week}.{where['note']}.param: unknown parameter 'first_nam'; did you mean 'first_name'? (known: first_name, tier, uid)" in found
    )
    assert (
        f"{week}.{where['greeting']}.text: template reads 'firstname', "
        "which is neither a parameter nor a copy slot; did you mean 'first_name'?" in found
    )
    assert any(
        line.startswith(f"pack.yaml: creatives.welcome.{where['hello']}.text: template syntax error")
        for line in found
    )
    assert len(found) == 4


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("layers.hedline.align", "start", "no layer with id 'hedline'; did you mean 'headline'? (ids: art, bg, copy, cta, frame, headline, logo, subline)"),
        ("layers.cta.colour", "#000", "button layers have no field 'colour'"),
        ("layers.cta.radius", -4, "greater than or equal to 0"),
        ("layers.cta.type", "text", "button layers have no field 'type'"),
        ("layers.cta", "#000", "use layers.LAYER_ID.FIELD"),
        ("tokens.colors.accent", "orange", "'orange' is not #RGB, #RRGGBB or #RRGGBBAA"),
        ("tokens.colors.acent", "#000000", "unknown color token 'acent'"),
        ("tokens.fonts.display", "comic-sans", "'comic-sans': a rule may switch to a default family"),
        ("tokens.spacing.margin", "wide", "'wide' is not a whole number of pixels"),
        ("tokens.shadow.soft", 1, "use tokens.colors.NAME, tokens.fonts.NAME or tokens.spacing.NAME"),
        ("copy.ctaa", "Go", "no copy slot 'ctaa'; did you mean 'cta'? (slots: cta, headline, subline)"),
        ("copy.cta.it", "Vai", "'it' is not a declared locale"),
        ("copy.cta", {"en": "Go", "it": "Vai"}, "'it' is not a declared locale"),
        ("copy.cta.en", 3, "needs a string"),
        ("lang", "it", "'it' is not a declared locale (known: en, de, fr, ar, ja, zh)"),
        ("link", "javascript:alert(1)", "'javascript:alert(1)' is not an allowed link: it must start with https://"),
        ("colors.ink", "#000000", "cannot set 'colors.ink': keys start with one of tokens, layers, copy, lang, link"),
    ],
)
def test_bad_set_keys(example_copy: Callable[..., Path], key: str, value: Any, expected: str) -> None:
    # GIVEN a rule whose `set:` holds one bad entry
    root = example_copy("acme", lambda d: rule(d, "winter-sale", "france")["set"].update({key: value}))

    # WHEN loaded
    found = problems(root)

    # THEN that entry is blamed at rules[i].set.KEY
    assert len(found) == 1, found
    assert found[0].startswith(f"pack.yaml: creatives.winter-sale.rules['france'].set.{key}: ")
    assert expected in found[0]


@pytest.mark.parametrize(
    "name",
    # the names the request path reserves (one constant), and each spelled out so the set cannot shrink
    sorted(RESERVED_QUERY_NAMES | {"country", "tz", "lang", "device", "client", "at", "sig", "kid", "exp",
                                   "scope", "m", "dpr", "theme", "w", "daypart"}),
)
def test_reserved_param_names(example_copy: Callable[..., Path], name: str) -> None:
    """A pack may not declare a query name the request or the signature already uses."""
    # GIVEN a creative declaring a parameter whose name the request or the signature already uses
    root = example_copy("northwind", lambda d: d["creatives"]["welcome"].setdefault("params", {}).update({name: {"type": "text"}}))

    # WHEN loaded
    found = problems(root)

    # THEN the parameter is refused by name
    assert found == [f"pack.yaml: creatives.welcome.params.{name}: {name!r} is reserved; choose another name"]


def test_copy_default_for_an_undeclared_locale(example_copy: Callable[..., Path]) -> None:
    # GIVEN a copy default in a locale the pack does not declare
    root = example_copy("acme", lambda d: d["creatives"]["winter-sale"]["copy"]["cta"]["default"].update(it="Vai"))

    # WHEN loaded
    found = problems(root)

    # THEN the locale key is blamed
    assert found == ["pack.yaml: creatives.winter-sale.copy.cta.default.it: locale 'it' is not declared in locales"]


def test_when_errors_name_the_path_inside_when(example_copy: Callable[..., Path]) -> None:
    # GIVEN rules with a malformed condition deep inside `when`, and an unknown attribute
    def break_it(data: dict[str, Any]) -> None:
        rule(data, "winter-sale", "evening-dark")["when"] = {
            "any": [{"country": "US"}, {"local_time": {"from": "25:00", "to": "06:00"}}]
        }
        rule(data, "winter-sale", "dach")["when"] = {"countyr": ["DE"]}

    root = example_copy("acme", break_it)

    # WHEN loaded
    found = problems(root)

    # THEN each names the rule's `when` and the place inside it
    assert any(
        line.startswith(
            "pack.yaml: creatives.winter-sale.rules['evening-dark'].when.any[1].local_time.from: '25:00' is not a time of day"
        )
        for line in found
    )
    assert any(line.startswith("pack.yaml: creatives.winter-sale.rules['dach'].when: unknown attribute 'countyr'") for line in found)


def test_bucket_key_must_be_a_declared_parameter(example_copy: Callable[..., Path]) -> None:
    # GIVEN a bucket over something that is not a declared parameter
    root = example_copy(
        "northwind",
        lambda d: rule(d, "cyber-week", "cta-test-b")["when"].update(bucket={"key": "email", "salt": "s", "pct": [0, 50]}),
    )

    # WHEN loaded
    found = problems(root)

    # THEN the rule is blamed for it, by its id: one error for one mistake (not also "unknown attribute")
    assert found == [
        "pack.yaml: creatives.cyber-week.rules['cta-test-b'].when: bucket key 'email' must be a declared parameter "
        "or vid (the visitor id)"
    ]


# --------------------------------------------------------------------------------------- schema


def _json_ready(value: Any) -> Any:
    """YAML data as JSON would carry it (dates and times as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def pack_schema() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "versa.cli", "schema"], capture_output=True, text=True, check=True
    ).stdout
    schema: dict[str, Any] = json.loads(out)
    return schema


def test_schema_is_a_valid_json_schema(pack_schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")

    # GIVEN the output of `versa schema`
    # WHEN it is checked against its own metaschema
    validator_class = jsonschema.validators.validator_for(pack_schema)
    validator_class.check_schema(pack_schema)

    # THEN it is a 2020-12 schema of an object with the pack's top-level fields
    assert pack_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"brand", "locales", "creatives"} <= set(pack_schema["required"])


@pytest.mark.parametrize("brand", ["acme", "northwind"])
def test_schema_validates_the_example_packs(pack_schema: dict[str, Any], brand: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")

    # GIVEN an example pack.yaml as data
    data = _json_ready(yaml.safe_load((EXAMPLES / brand / "pack.yaml").read_text(encoding="utf-8")))

    # WHEN it is validated against the schema
    errors = list(jsonschema.Draft202012Validator(pack_schema).iter_errors(data))

    # THEN there are no errors
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_schema_accepts_the_shorthands_the_loader_accepts(
    pack_schema: dict[str, Any], small_pack: Callable[..., dict[str, Any]]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")

    # GIVEN a pack using a plain-string copy default, a single font size and [colour, position] stops
    data = small_pack(
        copy={"title": {"default": "Hello"}, "cta": {"default": {"en": "Go", "de": "Los"}}},
        layers=[
            {"type": "background", "gradient": {"stops": [["#ffffff", 0], ["#000000", 1]]}},
            {"type": "text", "slot": "title", "box": [0, 0, 100, 40], "font": "body", "size": 20},
            {"type": "button", "slot": "cta", "box": [0, 50, 100, 40], "font": "body", "size": 16},
        ],
    )

    # WHEN it is validated against the schema
    errors = list(jsonschema.Draft202012Validator(pack_schema).iter_errors(_json_ready(data)))

    # THEN the schema agrees with the loader
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_schema_rejects_an_unknown_field(pack_schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")

    # GIVEN an example pack with a misspelt layer field
    data = _json_ready(yaml.safe_load((EXAMPLES / "acme" / "pack.yaml").read_text(encoding="utf-8")))
    find_layer(data, "winter-sale", "headline")[0]["colr"] = "ink"

    # WHEN it is validated against the schema
    errors = list(jsonschema.Draft202012Validator(pack_schema).iter_errors(data))

    # THEN the schema catches it (it is not vacuous)
    assert errors


def test_a_creative_id_that_is_not_a_slug(example_copy: Callable[..., Path]) -> None:
    # GIVEN a creative whose id has capitals and a space (it becomes part of every URL)
    root = example_copy("acme", text=lambda s: s.replace("  leaderboard:", "  Leader Board:"))

    # WHEN loaded
    found = problems(root)

    # THEN the id itself is blamed, with its value
    assert len(found) == 1
    assert found[0].startswith("pack.yaml: creatives.Leader Board: String should match pattern")
    assert found[0].endswith("(got 'Leader Board')")


def test_union_members_do_not_leak_into_field_paths(example_copy: Callable[..., Path]) -> None:
    # GIVEN a vary_by bucket whose members are a number (the field is `'all'` or a mapping of lists)
    root = example_copy(
        "acme",
        lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"]["vary_by"]["country"].update(us=7),
    )

    # WHEN loaded
    found = problems(root)

    # THEN every line points at a field path a person can find in the file
    assert found
    assert all(line.startswith("pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.country") for line in found)
    assert any(line.startswith("pack.yaml: creatives.winter-sale.copy.headline.generate.vary_by.country.us: ") for line in found)
    assert not any("[" in line.split(": ")[1] for line in found), found


def test_a_template_reaching_for_underscore_attributes_is_refused_at_load(
    example_copy: Callable[..., Path],
) -> None:
    # GIVEN a pack whose HTML template tries to climb out of the sandbox
    root = example_copy("acme")
    (root / "templates" / "banner.html").write_text("{{ picture.__globals__ }}", encoding="utf-8")
    # WHEN it loads
    found = problems(root)
    # THEN the loader names the template and the attribute
    assert any("templates/banner.html" in p and "__globals__" in p for p in found), found


def test_a_template_syntax_error_names_the_line(example_copy: Callable[..., Path]) -> None:
    root = example_copy("acme")
    (root / "templates" / "banner.html").write_text("<p>\n{% if link %}", encoding="utf-8")
    found = problems(root)
    assert any(p.startswith("templates/banner.html: line 2: template syntax error") for p in found), found


def test_a_dynamic_escape_attempt_fails_at_render_inside_the_sandbox(example_copy: Callable[..., Path]) -> None:
    # GIVEN a template that builds the attribute name at run time (invisible to the static check)
    from datetime import UTC, datetime

    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.errors import RenderError
    from versa.render.html import HtmlPages
    from versa.signing.signer import Keyring

    root = example_copy("acme")
    (root / "templates" / "banner.html").write_text('{{ picture|attr("_" ~ "_globals__") }}', encoding="utf-8")
    pack = load_pack(root, checks=PACK_CHECKS)
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    ctx = resolve({}, {}, now, context_options(pack.model, "winter-sale"))
    decision = decide(pack.model, "winter-sale", ctx)

    class Req:
        query: ClassVar[dict[str, str]] = {}

    # WHEN it renders THEN the sandbox refuses (nothing leaks into the page)
    with pytest.raises(RenderError):
        HtmlPages(Keyring({"k1": b"k" * 32}, "k1")).render_html(pack, decision, ctx, {}, Req())
