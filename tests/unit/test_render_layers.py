"""Layer drawing: golden images per layer type and script, geometry and caching, ink inside the box.

Goldens live in tests/golden/*.png and are compared with a tolerance (font rasterization may move a
pixel between FreeType builds). On a mismatch the actual image and an amplified diff are written to
tests/output/golden/. `VERSA_UPDATE_GOLDEN=1 pytest tests/unit/test_render_layers.py` rewrites them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageStat, features

from versa.decide.rules import CopyRef, Decision
from versa.pack.loader import load_pack
from versa.pack.model import (
    BackgroundLayer,
    ButtonLayer,
    CountdownLayer,
    ImageLayer,
    Pack,
    ShapeLayer,
    TextLayer,
)
from versa.render.checks import PACK_CHECKS
from versa.render.countdown import CountdownPainter, draw_countdown
from versa.render.layers import (
    FontBook,
    Scene,
    draw_layer,
    gradient_image,
    layer_text,
    rgba,
    round_mask,
    scale_box,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
OUTPUT = ROOT / "tests" / "output" / "golden"
ACME = load_pack(ROOT / "examples" / "packs" / "acme", checks=PACK_CHECKS)
BOOK = FontBook()
FONTS = {
    "display": "sans-bold",
    "body": "sans",
    "arabic": "arabic-bold",
    "hebrew": "hebrew",
    "deva": "devanagari",
    "cjk": "cjk",
}
MEAN_TOLERANCE = 1.5
"""Largest mean absolute difference (0–255, all channels) a golden comparison accepts."""
PIXEL_TOLERANCE = 0.01
"""Largest fraction of pixels that may differ by more than 48 in some channel."""


def make_scene(
    *,
    locale: str = "en",
    texts: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    scale: float = 1.0,
    pack: Pack = ACME,
) -> Scene:
    texts = texts or {}
    decision = Decision(
        brand=pack.brand,
        creative="winter-sale",
        locale=locale,
        colors={"ink": "#14213d"},
        fonts=FONTS,
        spacing={},
        layers=(),
        copy={slot: CopyRef(slot, None, text) for slot, text in texts.items()},
        link=None,
        trace=(),
        design_key="test",
        valid_until=None,
    )
    return Scene(pack, decision, texts, params or {}, scale, BOOK)


def canvas(size: tuple[int, int] = (320, 120), color: str = "#f8f5ee") -> Image.Image:
    return Image.new("RGBA", size, rgba(color))


def assert_golden(name: str, image: Image.Image) -> None:
    """Compare `image` with tests/golden/<name>.png within the tolerances above."""
    assert image.width <= 400 and image.height <= 200, "keep goldens small"
    path = GOLDEN / f"{name}.png"
    actual = image.convert("RGB")
    if os.environ.get("VERSA_UPDATE_GOLDEN") == "1" or not path.exists():
        if not path.exists() and os.environ.get("VERSA_UPDATE_GOLDEN") != "1":
            pytest.fail(f"no golden {path.name}; run with VERSA_UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        actual.save(path, optimize=True)
        return
    with Image.open(path) as stored:
        expected = stored.convert("RGB")
    assert expected.size == actual.size, f"{name}: size {actual.size} != golden {expected.size}"
    diff = ImageChops.difference(actual, expected)
    mean = sum(ImageStat.Stat(diff).mean) / 3
    r, g, b = diff.split()
    peak = ImageChops.lighter(ImageChops.lighter(r, g), b).histogram()  # largest channel difference
    fraction = sum(peak[49:]) / (actual.width * actual.height)
    if mean > MEAN_TOLERANCE or fraction > PIXEL_TOLERANCE:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        actual.save(OUTPUT / f"{name}.actual.png")
        diff.point(lambda v: min(255, v * 8)).save(OUTPUT / f"{name}.diff.png")
        pytest.fail(
            f"{name}: mean abs diff {mean:.2f} (max {MEAN_TOLERANCE}), differing pixels {fraction:.2%} "
            f"(max {PIXEL_TOLERANCE:.0%}); see {OUTPUT}"
        )


def draw(
    layers: list[Any], scene: Scene, size: tuple[int, int] = (320, 120), bg: str = "#f8f5ee"
) -> Image.Image:
    image = canvas(size, bg)
    for layer in layers:
        draw_layer(image, layer, scene)
    return image


def text(value: str, box: tuple[int, int, int, int] = (12, 10, 296, 100), **kw: Any) -> TextLayer:
    spec = {"font": "display", "size": (14, 30), "color": "#14213d", "max_lines": 3, **kw}
    return TextLayer(type="text", text=value, box=box, **spec)


# ------------------------------------------------------------------------------------------ goldens

GOLDEN_CASES: dict[str, Callable[[], Image.Image]] = {
    "background-fill": lambda: draw([BackgroundLayer(type="background", fill="#0f766e")], make_scene()),
    "background-gradient": lambda: draw(
        [
            BackgroundLayer(
                type="background",
                gradient={"angle": 135, "stops": [["#1E3A8A", 0], ["#f59e0b", 0.6], ["#7C3AED", 1]]},
            )
        ],
        make_scene(),
    ),
    "background-image-cover": lambda: draw(
        [
            BackgroundLayer(
                type="background", image={"asset": "assets/peaks.png", "fit": "cover", "focus": [0.5, 0.9]}
            )
        ],
        make_scene(),
    ),
    "image-contain-radius": lambda: draw(
        [
            ImageLayer(
                type="image", asset="assets/peaks.png", box=(10, 10, 100, 100), fit="cover", radius=18
            ),
            ImageLayer(
                type="image", asset="assets/logo.png", box=(130, 30, 160, 48), fit="contain", opacity=0.5
            ),
        ],
        make_scene(),
    ),
    "shape": lambda: draw(
        [
            ShapeLayer(
                type="shape",
                box=(10, 10, 120, 60),
                fill="#fca311",
                radius=14,
                border={"color": "#14213d", "width": 3},
            ),
            ShapeLayer(type="shape", shape="ellipse", box=(150, 10, 100, 100), fill="#0f766e80"),
            ShapeLayer(type="shape", box=(260, 20, 50, 80), border={"color": "#e76f51", "width": 2}),
        ],
        make_scene(),
    ),
    "button": lambda: draw(
        [
            ButtonLayer(
                type="button",
                text="Shop the sale",
                box=(10, 10, 300, 44),
                font="display",
                fill="#fca311",
                color="#14213d",
                radius=22,
                align="start",
            ),
            ButtonLayer(
                type="button",
                text="Go",
                box=(10, 66, 300, 44),
                font="display",
                fill="#14213d",
                color="#ffffff",
                radius=8,
                align="end",
            ),
        ],
        make_scene(),
    ),
    "text-latin": lambda: draw(
        [text("Winter gear, 30% off — this week only. Jetzt zugreifen!")], make_scene()
    ),
    "text-arabic": lambda: draw(
        [text("خصم ٣٠٪ على معدات الشتاء هذا الأسبوع فقط", font="arabic")], make_scene(locale="ar")
    ),
    "text-hebrew": lambda: draw(
        [text("מבצע חורף: 30% הנחה על כל הציוד", font="hebrew")], make_scene(locale="he")
    ),
    "text-devanagari": lambda: draw(
        [text("सर्दियों की सेल: सभी सामान पर 30% की छूट", font="deva")], make_scene(locale="hi")
    ),
    "text-cjk": lambda: draw([text("冬季特卖：全场七折，仅限本周！", font="cjk")], make_scene(locale="zh")),
    "text-mixed": lambda: draw([text("Acme: خصم 30% — שבוע אחד — सेल — 限时")], make_scene()),
    "text-ellipsis-center": lambda: draw(
        [
            text(
                "A headline far too long for this small box, so it must end with an ellipsis",
                box=(12, 10, 296, 44),
                size=(16, 18),
                max_lines=2,
                align="center",
                valign="middle",
            )
        ],
        make_scene(),
    ),
    "countdown": lambda: _countdown_image(),
}


def _countdown_image() -> Image.Image:
    layer = CountdownLayer(
        type="countdown", box=(10, 10, 300, 80), deadline="2026-12-04T23:59:00-06:00", font="display",
        size=(18, 30), color="#f0fdfa", fill="#134e4a", label_color="#99f6e4",
        labels={"en": {"days": "days", "hours": "hrs", "minutes": "min", "seconds": "sec"}},
    )  # fmt: skip
    image = canvas((320, 100))
    painter = CountdownPainter(layer, make_scene(), now=datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC), tz="UTC")
    draw_countdown(image, painter)
    return image


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    # GIVEN a layer (or a few) of one type WHEN drawn THEN the image matches its golden
    assert_golden(name, GOLDEN_CASES[name]())


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
