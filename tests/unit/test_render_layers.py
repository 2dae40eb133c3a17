"""Layer drawing: golden images per layer type and script, geometry and caching, ink inside the box.

Goldens (tests/golden/*.png, drawn by the cases in `goldens.py`) are compared exactly, pixel for pixel,
and only in the environment tests/golden/MANIFEST.json records (font file hashes, Pillow and its text
libraries); elsewhere they skip, naming what differs. On a mismatch the actual image and an amplified
diff are written to tests/output/golden/. `make goldens` redraws them and the manifest for review.
Mutation tests prove the comparison fails when one character of the copy changes or a border narrows.
"""

from __future__ import annotations

from typing import Any

import pytest
from goldens import (
    CASES,
    GOLDEN,
    LayerCase,
    differences,
    draw,
    environment,
    environment_mismatch,
    make_scene,
    mismatch,
    save_failure,
    stored,
    text,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from versa.pack.model import ButtonLayer, ImageLayer
from versa.render.layers import (
    draw_layer,
    gradient_image,
    layer_text,
    rgba,
    round_mask,
    scale_box,
)

# ------------------------------------------------------------------------------------------ goldens

MISMATCH = environment_mismatch()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    # GIVEN the environment the goldens were drawn in
    if MISMATCH is not None:
        pytest.skip(MISMATCH)
    path = GOLDEN / f"{name}.png"
    assert path.exists(), f"no golden {path.name}; run `make goldens` and review it"
    # WHEN the case is drawn here
    actual = CASES[name].draw()
    # THEN it is pixel-identical to its golden
    expected = stored(name)
    found = mismatch(actual, expected)
    if found is not None:
        pytest.fail(f"{name}: {found} (see {save_failure(name, actual, expected)})")


def test_every_golden_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.png")) == sorted(CASES)


def one_character_changed(before: str, after: str) -> bool:
    return len(before) == len(after) and sum(a != b for a, b in zip(before, after, strict=True)) == 1


TEXT_MUTATIONS = [
    ("text-latin", 0, "30%", "80%"),
    ("text-latin", 0, "Jetzt", "Jetst"),
    ("text-arabic", 0, "٣٠٪", "٨٠٪"),
    ("text-arabic", 0, "فقط", "فقد"),
    ("text-cjk", 0, "七折", "八折"),
    ("button", 0, "sale", "salt"),
    ("button", 1, "Go", "Do"),
]


@pytest.mark.parametrize(("name", "index", "old", "new"), TEXT_MUTATIONS)
def test_golden_comparison_fails_when_one_character_changes(name: str, index: int, old: str, new: str) -> None:
    # GIVEN a golden case and the same case with ONE character of its copy changed
    case = CASES[name]
    assert isinstance(case, LayerCase)
    copy = case.layers[index].text
    assert copy.count(old) == 1
    changed = copy.replace(old, new)
    assert one_character_changed(copy, changed)
    # WHEN both are drawn here and compared the way the golden test compares
    mutated = case.mutate(index, text=changed).draw()
    # THEN the comparison fails, against a fresh draw and (where the environment matches) the golden
    assert mismatch(mutated, case.draw()) is not None, f"{name}: {old!r} -> {new!r} went unnoticed"
    if MISMATCH is None:
        assert mismatch(mutated, stored(name)) is not None


GEOMETRY_MUTATIONS = [
    ("shape", 0, "border", {"color": "#14213d", "width": 2}),  # 3 px -> 2 px
    ("shape", 2, "border", {"color": "#e76f51", "width": 1}),  # 2 px -> 1 px
    ("button", 1, "box", (10, 66, 299, 44)),  # one pixel narrower, right-aligned
]


@pytest.mark.parametrize(("name", "index", "field", "value"), GEOMETRY_MUTATIONS)
def test_golden_comparison_fails_when_a_border_narrows_by_one_pixel(
    name: str, index: int, field: str, value: Any
) -> None:
    # GIVEN a golden case and the same case with one border (or box) 1 px narrower
    case = CASES[name]
    assert isinstance(case, LayerCase)
    before = getattr(case.layers[index], field)
    narrower = case.mutate(index, **{field: value})
    after = getattr(narrower.layers[index], field)
    width = (lambda v: v.width) if field == "border" else (lambda v: v[2])
    assert width(before) - width(after) == 1
    # WHEN both are drawn and compared
    mutated = narrower.draw()
    # THEN the comparison fails, against a fresh draw and (where the environment matches) the golden
    assert mismatch(mutated, case.draw()) is not None, f"{name}: layer {index} {field} 1 px narrower went unnoticed"
    if MISMATCH is None:
        assert mismatch(mutated, stored(name)) is not None


def test_comparison_accepts_an_identical_redraw() -> None:
    # The comparison is not "always different": two draws of a case compare equal.
    for name in ("text-latin", "text-arabic", "text-cjk", "button", "shape"):
        assert mismatch(CASES[name].draw(), CASES[name].draw()) is None


def test_environment_differences_are_named() -> None:
    # GIVEN the environment here and a manifest that differs in Pillow, one library and one font
    here = environment()
    font = next(iter(here["fonts"]))
    recorded = {
        **here,
        "pillow": "0.0.1",
        "libraries": {**here["libraries"], "harfbuzz": "0.0"},
        "fonts": {**here["fonts"], font: "0" * 64, "Gone.ttf": "1" * 64},
    }
    # WHEN they are compared
    found = differences(recorded, here)
    # THEN each difference is named, and an equal manifest has none
    assert any("Pillow" in f and "0.0.1" in f for f in found)
    assert any(f.startswith("harfbuzz") for f in found)
    assert any(font in f and "SHA-256" in f for f in found)
    assert any("Gone.ttf" in f for f in found)
    assert len(found) == 4
    assert differences(here, here) == []


def test_raqm_is_active() -> None:
    # Complex scripts (Arabic joining, Devanagari conjuncts, bidi) need Pillow's raqm layout engine.
    assert features.check("raqm"), "Pillow was built without raqm: complex scripts would render wrongly"


# ------------------------------------------------------------------------------------- primitives


def test_colours_and_boxes() -> None:
    assert rgba("#fff") == (255, 255, 255, 255)
    assert rgba("#14213d") == (0x14, 0x21, 0x3D, 255)
    assert rgba("#0f766e80") == (0x0F, 0x76, 0x6E, 0x80)
    # Scaled boxes round their edges, so adjacent boxes still meet at any scale.
    assert scale_box((10, 10, 100, 20), 2) == (20, 20, 200, 40)
    a, b = scale_box((0, 0, 101, 10), 0.5), scale_box((101, 0, 99, 10), 0.5)
    assert a[0] + a[2] == b[0]


def test_round_mask_is_antialiased_and_cached() -> None:
    mask = round_mask(60, 30, 12)
    values = {v for _, v in mask.getcolors()}
    assert {0, 255} <= values and len(values) > 4  # soft edge, not a hard step
    assert round_mask(60, 30, 12) is mask


@pytest.mark.parametrize(
    ("angle", "first", "last"), [(180, (0, 0), (0, 59)), (90, (0, 0), (119, 0)), (0, (0, 59), (0, 0))]
)
def test_gradient_follows_css_angles(angle: float, first: tuple[int, int], last: tuple[int, int]) -> None:
    from versa.pack.model import Gradient

    image = gradient_image((120, 60), Gradient(angle=angle, stops=["#000000", "#ffffff"]))
    assert image.getpixel(first)[0] < 8 and image.getpixel(last)[0] > 247


def test_button_auto_width_anchors() -> None:
    def ink(layer: ButtonLayer, locale: str = "en") -> tuple[int, int, int, int]:
        image = Image.new("RGBA", (320, 60), (0, 0, 0, 0))
        draw_layer(image, layer, make_scene(locale=locale))
        box = image.getbbox()
        assert box is not None
        return box

    base = {"type": "button", "text": "Go", "box": (10, 8, 300, 44), "font": "display", "fill": "#000000"}
    start, end, center = (ink(ButtonLayer(**base, align=a)) for a in ("start", "end", "center"))
    assert start[0] == 10 and start[2] < 150
    assert end[2] == 310 and end[0] > 150
    assert abs((center[0] + center[2]) / 2 - 160) <= 1
    # In a right-to-left locale `start` is the right edge.
    assert ink(ButtonLayer(**base, align="start"), locale="ar")[2] == 310


def test_text_sources() -> None:
    scene = make_scene(texts={"headline": "Hello"}, params={"name": "Ana", "pct": 25})
    assert layer_text(text("x").model_copy(update={"text": None, "slot": "headline"}), scene) == "Hello"
    assert layer_text(text("x").model_copy(update={"text": None, "param": "pct"}), scene) == "25"
    assert (
        layer_text(text("{{ name }} & {{ headline }} ({{ lang }}), {{ missing }}!"), scene)
        == "Ana & Hello (en), !"
    )
    # Image text is not HTML: nothing is escaped.
    assert layer_text(text("{{ name }}"), make_scene(params={"name": "<Tom & Jerry>"})) == "<Tom & Jerry>"


def test_image_assets_decode_once() -> None:
    from versa.render import layers

    layers.clear_caches()
    calls = 0
    original = layers.open_image

    def counting(data: bytes) -> Image.Image:
        nonlocal calls
        calls += 1
        return original(data)

    layers.open_image = counting  # type: ignore[assignment]
    try:
        for size in ((100, 30), (100, 30), (200, 60)):
            draw(
                [ImageLayer(type="image", asset="assets/logo.png", box=(0, 0, *size), fit="contain")],
                make_scene(),
            )
    finally:
        layers.open_image = original
    assert calls == 1


# ------------------------------------------------------------------------------------ ink inside box

WORDS = st.sampled_from(
    ["Winter", "sale", "30%", "off", "—", "Jetzt", "zugreifen!", "خصم", "الشتاء", "٣٠٪", "מבצע", "הנחה",
     "सेल", "छूट", "冬季特卖", "全场七折", "A-very-long-unbreakable-word-indeed", "x", "1234567890"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(WORDS, min_size=1, max_size=14),
    box=st.tuples(st.integers(20, 280), st.integers(12, 120)),
    lo=st.integers(6, 28),
    extra=st.integers(0, 24),
    max_lines=st.one_of(st.none(), st.integers(1, 4)),
    align=st.sampled_from(["start", "end", "left", "right", "center"]),
    valign=st.sampled_from(["top", "middle", "bottom"]),
    line_height=st.floats(0.8, 2.0),
    locale=st.sampled_from(["en", "ar"]),
)
def test_text_ink_stays_inside_its_box(
    words: list[str], box: tuple[int, int], lo: int, extra: int, max_lines: int | None,
    align: str, valign: str, line_height: float, locale: str,
) -> None:  # fmt: skip
    # GIVEN a text layer alone on a transparent canvas with room around its box
    x, y = 30, 20
    layer = text(
        " ".join(words), box=(x, y, *box), size=(lo, lo + extra), max_lines=max_lines,
        align=align, valign=valign, line_height=line_height,
    )  # fmt: skip
    image = Image.new("RGBA", (box[0] + 60, box[1] + 40), (0, 0, 0, 0))
    # WHEN it is drawn
    draw_layer(image, layer, make_scene(locale=locale))
    # THEN every inked pixel lies inside the box
    ink = image.getbbox()
    if ink is not None:
        assert x <= ink[0] and y <= ink[1] and ink[2] <= x + box[0] and ink[3] <= y + box[1], (ink, layer.box)


# ------------------------------------------------------------------------------------- image focus


def _dot_pack(make_pack: Any, small_pack: Any, at: tuple[float, float]) -> Any:
    """A pack whose `assets/dot.png` is a 200x200 blue square with a red 6x6 dot centred at `at`."""
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    data = small_pack()
    data["creatives"] = {"winter-sale": data["creatives"]["promo"]}  # the creative `make_scene` draws
    root = make_pack(data)
    image = Image.new("RGB", (200, 200), "#0000ff")
    cx, cy = round(at[0] * 200), round(at[1] * 200)
    image.paste((255, 0, 0), (cx - 3, cy - 3, cx + 3, cy + 3))
    image.save(root / "assets" / "dot.png")
    return load_pack(root, checks=PACK_CHECKS)


def _red_centre(image: Image.Image) -> tuple[float, float] | None:
    """The centre of the red pixels' bounding box, or None when none is in view."""
    red = image.convert("RGB").point(lambda v: 255 if v > 200 else 0).split()[0]
    blue = image.convert("RGB").split()[2].point(lambda v: 255 if v < 60 else 0)
    box = Image.composite(red, Image.new("L", red.size, 0), blue).getbbox()
    return None if box is None else ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


@pytest.mark.parametrize("box", [(300, 60), (60, 300), (150, 100)])
def test_cover_crop_keeps_the_focus_in_view(make_pack: Any, small_pack: Any, box: tuple[int, int]) -> None:
    # GIVEN an image whose subject (a red dot) sits far from its centre, and a focus on it
    focus = (0.2, 0.8)
    pack = _dot_pack(make_pack, small_pack, focus)
    layer = ImageLayer(type="image", asset="assets/dot.png", box=(0, 0, *box), fit="cover", focus=focus)
    # WHEN it covers boxes of other shapes than its own
    image = draw([layer], make_scene(pack=pack), size=box)
    # THEN the dot is in view, as near the box's centre as the image's edges allow
    found = _red_centre(image)
    assert found is not None, f"the crop at {box} lost the focal point"
    resized = 200 * max(box[0] / 200, box[1] / 200)  # the image's side once it covers the box
    for axis in (0, 1):
        dot = focus[axis] * resized  # where the dot is in the resized image
        crop = min(max(0.0, dot - box[axis] / 2), resized - box[axis])  # centred, kept inside the image
        assert abs(found[axis] - (dot - crop)) <= 1.5, f"axis {axis}: dot at {found[axis]} in {box}"


def test_focus_is_set_per_size_and_validated(make_pack: Any, small_pack: Any) -> None:
    from pydantic import ValidationError

    # a focus outside the image is refused with the value and what is allowed
    with pytest.raises(ValidationError, match=r"focus \[1\.5, 0\.5\].*0\.\.1"):
        ImageLayer(type="image", asset="assets/dot.png", box=(0, 0, 10, 10), focus=(1.5, 0.5))
    # the centre is the default and stays out of dumps (design keys of images without a focus keep)
    plain = ImageLayer(type="image", asset="assets/dot.png", box=(0, 0, 10, 10))
    assert plain.focus == (0.5, 0.5) and "focus" not in plain.model_dump()
    assert ImageLayer(type="image", asset="a.png", box=(0, 0, 9, 9), focus=(0, 1)).model_dump()["focus"] == (0, 1)


def test_a_size_override_moves_the_focus(make_pack: Any, small_pack: Any) -> None:
    from datetime import UTC, datetime

    from versa.decide.rules import decide
    from versa.decide.variants import SyntheticContext
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    # GIVEN a creative in two sizes whose art's focus is set for the tall one only
    data = small_pack(
        layers=[{"id": "art", "type": "image", "asset": "assets/fallback.png", "box": [0, 0, 300, 100],
                 "fit": "cover", "focus": [0.2, 0.5]}]
    )  # fmt: skip
    creative = data["creatives"]["promo"]
    creative["sizes"] = ["300x100", "100x300"]
    creative["by_size"] = [{"when": {"aspect": [0.1, 1]}, "set": {"layers.art.focus": [0.9, 0.1]}}]
    pack = load_pack(make_pack(data), checks=PACK_CHECKS)
    ctx = SyntheticContext({"country": "US", "lang": "en"}, datetime(2026, 12, 1, tzinfo=UTC), "UTC", "en")
    # WHEN it is decided at each size, THEN the art has the focus of that size
    focus = {size: decide(pack.model, "promo", ctx, size=size).layers[0].focus for size in ((300, 100), (100, 300))}
    assert focus == {(300, 100): (0.2, 0.5), (100, 300): (0.9, 0.1)}


def test_a_size_override_with_a_bad_focus_is_named(make_pack: Any, small_pack: Any) -> None:
    from versa.errors import PackError
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    data = small_pack(
        layers=[{"id": "art", "type": "image", "asset": "assets/fallback.png", "box": [0, 0, 300, 100]}]
    )
    data["creatives"]["promo"]["sizes"] = ["300x100", "100x300"]
    data["creatives"]["promo"]["by_size"] = [{"when": {"size": "100x300"}, "set": {"layers.art.focus": [2, 0]}}]
    with pytest.raises(PackError, match=r"by_size\[0\]\.set\.layers\.art\.focus: focus \[2\.0, 0\.0\]"):
        load_pack(make_pack(data), checks=PACK_CHECKS)
