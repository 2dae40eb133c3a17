"""`versa lint`'s glyph checks (every locale's copy has glyphs, in a face of the intended weight) and
its layout of each slot's default copy beside the `max_chars` probe. Small packs built in tmp dirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from versa.authoring.lint import lint
from versa.errors import Issue
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.render.fonts import FontNotFound, resolve_family

HEADLINE_JA = "日本語のセール"


def _cjk_regular() -> Path:
    try:
        face = resolve_family("cjk-jp")
        resolve_family("cjk-jp-bold")
    except FontNotFound as exc:  # pragma: no cover - the fonts are a system dependency
        pytest.skip(str(exc))
    return Path(face.path)


def _pack(
    small_pack: Callable[..., dict[str, Any]],
    make_pack: Callable[..., Path],
    *,
    layers: list[dict[str, Any]] | None = None,
    copy: dict[str, Any] | None = None,
    rules: list[dict[str, Any]] | None = None,
    fonts: dict[str, str] | None = None,
    extra_font: bool = False,
) -> Any:
    data = small_pack(rules or [], locales=("en", "ja"), copy=copy, layers=layers)
    data["tokens"]["fonts"] = {"body": "sans", "display": "sans-bold", **(fonts or {})}
    root = make_pack(data)
    if extra_font:
        # A pack font holding only a regular Japanese face (a subset of Noto Sans CJK JP Regular).
        font = TTFont(str(_cjk_regular()), fontNumber=0)
        subsetter = subset.Subsetter()
        subsetter.populate(text=HEADLINE_JA + "GoLosabcdefghijklmnopqrstuvwxyz ")
        subsetter.subset(font)
        font.save(str(root / "assets" / "JP-Regular.otf"))
    return load_pack(root, checks=PACK_CHECKS)


def _bold_headline(**extra: Any) -> list[dict[str, Any]]:
    return [
        {"id": "bg", "type": "background", "fill": "paper"},
        {
            "id": "headline",
            "type": "text",
            "slot": "title",
            "box": [10, 10, 280, 40],
            "font": "display",
            "size": 20,
            "color": "ink",
            **extra,
        },
        {"id": "cta", "type": "button", "slot": "cta", "box": [10, 55, 120, 36], "font": "body"},
    ]


COPY_JA = {
    "title": {"default": {"en": "Sale", "ja": HEADLINE_JA}},
    "cta": {"default": {"en": "Go", "ja": "Go"}},
}


def _weight(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.message.startswith("weight-fallback:")]


def test_a_bold_japanese_headline_with_a_bold_cjk_face_has_no_weight_warning(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN three headlines in a container: `headline` under sans-bold (its CJK fallback is Noto Sans
    # CJK JP Bold), `other` under a bold token that a rule gives Japanese viewers a regular-only font,
    # and `own`, which a rule gives the regular Japanese font's own token for ja
    layers = [
        {"id": "bg", "type": "background", "fill": "paper"},
        {
            "id": "col",
            "type": "container",
            "direction": "column",
            "box": [0, 0, 300, 100],
            "children": [
                {"id": "headline", "type": "text", "slot": "title", "font": "display", "size": 16},
                {"id": "other", "type": "text", "slot": "title", "font": "display2", "size": 16},
                {"id": "own", "type": "text", "slot": "title", "font": "display", "size": 16},
            ],
        },
    ]
    rules = [
        {"id": "ja-font", "when": {"lang": "ja"}, "set": {"tokens.fonts.display2": "assets/JP-Regular.otf"}},
        {"id": "ja-own", "when": {"lang": "ja"}, "set": {"layers.own.font": "display_ja"}},
    ]
    fonts = {"display2": "sans-bold", "display_ja": "assets/JP-Regular.otf"}
    pack = _pack(small_pack, make_pack, layers=layers, copy=COPY_JA, rules=rules, fonts=fonts, extra_font=True)
    # WHEN linted
    found = _weight(lint(pack))
    # THEN only `other` is warned about: every character of `headline` is drawn in a bold face, and
    # `own` gets the weight its token declares
    assert [i.path for i in found] == ["creatives.promo.layers['col'].children['other'].font"], found
    assert all("layer 'headline'" not in i.message for i in lint(pack))


def test_a_character_only_the_regular_sibling_has_is_a_weight_fallback(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a sans-bold headline with mathematical sans-serif letters, which DejaVu Sans Bold lacks and
    # only its regular sibling (the first fallback of sans-bold) has
    copy = {"title": {"default": {"en": "Sale \U0001d5a0\U0001d5a1", "ja": HEADLINE_JA}}, "cta": {"default": "Go"}}
    pack = _pack(small_pack, make_pack, layers=_bold_headline(), copy=copy)
    # WHEN linted
    found = _weight(lint(pack))
    # THEN the letters, the regular face drawing them and the weight wanted are named
    assert len(found) == 1, found
    assert "locale 'en'" in found[0].message and "\U0001d5a0\U0001d5a1" in found[0].message
    assert "DejaVuSans.ttf, a regular face" in found[0].message and "wants bold" in found[0].message


def test_a_regular_only_japanese_font_under_a_bold_token_is_a_weight_fallback(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a bold display token whose file, for Japanese viewers, is a pack font with only a regular face
    rules = [{"id": "ja-font", "when": {"lang": "ja"}, "set": {"tokens.fonts.display": "assets/JP-Regular.otf"}}]
    fonts = {"jp": "assets/JP-Regular.otf"}  # a rule may switch only to a font the tokens load
    pack = _pack(
        small_pack, make_pack, layers=_bold_headline(), copy=COPY_JA, rules=rules, fonts=fonts, extra_font=True
    )
    # WHEN linted
    found = _weight(lint(pack))
    # THEN one warning names the creative, the layer, the locale, the characters, the face and the weight
    assert len(found) == 1, found
    issue = found[0]
    assert issue.severity == "warning" and issue.path == "creatives.promo.layers['headline'].font"
    for part in ("'promo'", "layer 'headline'", "locale 'ja'", HEADLINE_JA, "JP-Regular.otf", "wants bold"):
        assert part in issue.message, issue.message


def test_a_character_no_face_covers_is_a_missing_glyph_error(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a rule's Japanese headline holding cuneiform, which no provided font has
    rules = [{"id": "night", "when": {"daypart": "night"}, "set": {"copy.title.ja": "セール \U00012000"}}]
    pack = _pack(small_pack, make_pack, layers=_bold_headline(), copy=COPY_JA, rules=rules)
    # WHEN linted
    found = [i for i in lint(pack) if i.severity == "error"]
    # THEN the headline's font is blamed for that locale, naming the character
    assert len(found) == 1, found
    assert found[0].path == "creatives.promo.layers['headline'].font"
    assert found[0].message.startswith(
        "font 'display' and its fallbacks lack glyphs for locale 'ja': \U00012000 (layer 'headline'"
    )


def test_glyphs_inside_containers_are_checked(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN the missing character in a text nested two containers deep, and in a countdown's label
    layers = [
        {"id": "bg", "type": "background", "fill": "paper"},
        {
            "id": "outer",
            "type": "container",
            "direction": "column",
            "box": [0, 0, 300, 100],
            "children": [
                {
                    "id": "inner",
                    "type": "container",
                    "children": [{"id": "deep", "type": "text", "slot": "title", "font": "body", "size": 14}],
                },
                {
                    "id": "timer",
                    "type": "countdown",
                    "font": "display",
                    "deadline": "2030-01-01T00:00:00+00:00",
                    "units": ["days"],
                    "labels": {"ja": {"days": "日\U00012001"}},
                    "flex": {"height": 40},
                },
            ],
        },
    ]
    copy = {"title": {"default": {"en": "Sale", "ja": "セール \U00012000"}}, "cta": {"default": "Go"}}
    pack = _pack(small_pack, make_pack, layers=layers, copy=copy)
    # WHEN linted
    found = {i.path: i.message for i in lint(pack) if i.severity == "error"}
    # THEN both nested layers are named by their paths inside the containers
    assert set(found) == {
        "creatives.promo.layers['outer'].children['inner'].children['deep'].font",
        "creatives.promo.layers['outer'].children['timer'].font",
    }, found
    assert "\U00012000" in found["creatives.promo.layers['outer'].children['inner'].children['deep'].font"]
    assert "\U00012001" in found["creatives.promo.layers['outer'].children['timer'].font"]


def test_a_long_default_overflowing_is_reported_even_when_max_chars_is_small(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a one-line title that generates 5 characters at most, whose German default is much longer
    german = "Winterschlussverkauf mit zwanzig Prozent Rabatt!!"
    copy = {
        "title": {
            "default": {"en": "Sale", "de": german},
            "generate": {"brief": "a title", "max_chars": 5},
        },
        "cta": {"default": {"en": "go", "de": "los"}},
    }
    layers = _bold_headline(max_lines=1)
    data = small_pack([], copy=copy, layers=layers)
    data["tokens"]["fonts"]["display"] = "sans-bold"
    pack = load_pack(make_pack(data), checks=PACK_CHECKS)
    # WHEN linted
    found = [i for i in lint(pack) if "does not fit" in i.message]
    # THEN the German default is reported as cut, saying it was the default that overflowed
    assert len(found) == 1, found
    assert found[0].message.startswith("de text does not fit")
    assert "copy: the default" in found[0].message and "Winterschluss" in found[0].message


def test_glyphs_are_checked_when_there_are_too_many_variants_to_enumerate(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a Japanese headline holding cuneiform, in a container, and no variant report (the creative
    # had too many variants to enumerate)
    from versa.authoring.lint import _glyphs

    layers = [
        {"id": "bg", "type": "background", "fill": "paper"},
        {
            "id": "col",
            "type": "container",
            "box": [0, 0, 300, 100],
            "children": [{"id": "headline", "type": "text", "slot": "title", "font": "display", "size": 16}],
        },
    ]
    copy = {"title": {"default": {"en": "Sale", "ja": "セール \U00012000"}}, "cta": {"default": "Go"}}
    pack = _pack(small_pack, make_pack, layers=layers, copy=copy)
    # WHEN its glyphs are checked
    found = list(_glyphs(pack, pack.model.creatives["promo"], "creatives.promo", (), None))
    # THEN each locale's design is still checked
    assert [(i.severity, i.path) for i in found] == [("error", "creatives.promo.layers['col'].children['headline'].font")]

