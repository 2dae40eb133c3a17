"""Golden images: the cases, the exact comparison, and the environment that drew them.

Each case draws a layer (or a few) of one type or script on a small canvas; tests/golden/<case>.png
holds the image and tests/golden/MANIFEST.json the environment that drew them all: the SHA-256 of
every font file the cases' font stacks hold, the Pillow version and the versions of the libraries
that shape and rasterize text (raqm, FriBiDi, HarfBuzz, FreeType). A golden comparison is exact
(every pixel equal); where the environment differs from the manifest the golden tests skip, naming
what differs, because glyph rasterization legitimately moves between library builds.

`make goldens` (this file run as a script) redraws every golden and rewrites the manifest, for a person
to review with `git diff` before committing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import PIL
from PIL import Image, ImageChops, features

from versa.decide.rules import CopyRef, Decision
from versa.pack.loader import load_pack
from versa.pack.model import (
    BackgroundLayer,
    ButtonLayer,
    ContainerLayer,
    CountdownLayer,
    ImageLayer,
    ShapeLayer,
    TextLayer,
)
from versa.render.checks import PACK_CHECKS
from versa.render.countdown import CountdownPainter, draw_countdown
from versa.render.fonts import FontNotFound
from versa.render.layers import FontBook, Scene, draw_layer, rgba

if TYPE_CHECKING:
    from versa.pack.model import Pack

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
MANIFEST = GOLDEN / "MANIFEST.json"
OUTPUT = ROOT / "tests" / "output" / "golden"
ACME = load_pack(ROOT / "examples" / "packs" / "acme", checks=PACK_CHECKS)
SCRIPTS = load_pack(ROOT / "tests" / "packs" / "scripts", checks=PACK_CHECKS)
"""A test pack: a bold headline and a button in Japanese, Chinese, Korean and Thai (and English)."""
BOOK = FontBook()
FONTS = {
    "display": "sans-bold",
    "body": "sans",
    "arabic": "arabic-bold",
    "hebrew": "hebrew",
    "deva": "devanagari",
    "cjk": "cjk",
}
"""Font tokens of the golden scenes → the default families they use."""
LIBRARIES = ("raqm", "fribidi", "harfbuzz", "freetype2")
"""Pillow's text libraries whose versions key the goldens (`PIL.features.version`)."""


# ---------------------------------------------------------------------------------------- scenes


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
        size=pack.model.creative("winter-sale").size,
    )
    return Scene(pack, decision, texts, params or {}, scale, BOOK)


def canvas(size: tuple[int, int] = (320, 120), color: str = "#f8f5ee") -> Image.Image:
    return Image.new("RGBA", size, rgba(color))


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


# ----------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class LayerCase:
    """Layers drawn in order on a 320x120 canvas in a locale; `mutate` derives a one-change variant."""

    layers: tuple[Any, ...]
    locale: str = "en"

    def draw(self) -> Image.Image:
        return draw(list(self.layers), make_scene(locale=self.locale))

    def mutate(self, index: int, **update: Any) -> LayerCase:
        """The same case with `update` applied to layer `index` (validated like a pack's layer)."""
        layers = list(self.layers)
        layer = layers[index]
        layers[index] = type(layer).model_validate({**layer.model_dump(), **update})
        return LayerCase(tuple(layers), self.locale)


@dataclass(frozen=True)
class DrawnCase:
    """A case that needs more than layers on a canvas (a countdown at a fixed instant)."""

    drawer: Callable[[], Image.Image] = field(repr=False)

    def draw(self) -> Image.Image:
        return self.drawer()


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


def _countdown_ar_image() -> Image.Image:
    """Arabic labels in CLDR plural forms (2 days: two, 3 hours: few, 4 minutes: few, 11 s: many) and
    Arabic-Indic digits."""
    layer = CountdownLayer(
        type="countdown", box=(10, 10, 300, 80), deadline="2026-12-04T23:59:00-06:00", font="arabic",
        size=(18, 30), color="#f0fdfa", fill="#134e4a", label_color="#99f6e4", digits="native",
        labels={"ar": {
            "days": {"one": "يوم", "two": "يومان", "few": "أيام", "many": "يومًا", "other": "يوم", "zero": "يوم"},
            "hours": {"one": "ساعة", "two": "ساعتان", "few": "ساعات", "many": "ساعة", "other": "ساعة"},
            "minutes": {"one": "دقيقة", "two": "دقيقتان", "few": "دقائق", "many": "دقيقة", "other": "دقيقة"},
            "seconds": {"one": "ثانية", "two": "ثانيتان", "few": "ثوانٍ", "many": "ثانية", "other": "ثانية"},
        }},
    )  # fmt: skip
    image = canvas((320, 100))
    now = datetime(2026, 12, 3, 2, 54, 49, tzinfo=UTC)  # 2 d 3 h 4 min 11 s before the deadline
    painter = CountdownPainter(layer, make_scene(locale="ar"), now=now, tz="UTC")
    draw_countdown(image, painter)
    return image


def _card(headline: str, cta: str, font: str) -> ContainerLayer:
    """A small flexbox card: a picture beside a column holding a headline that wraps and a button."""
    return ContainerLayer.model_validate(
        {
            "type": "container", "box": [0, 0, 320, 120], "padding": 10, "gap": 12, "align_items": "stretch",
            "children": [
                {"type": "image", "asset": "assets/peaks.png", "fit": "cover", "radius": 10, "flex": {"width": 96}},
                {
                    "type": "container", "direction": "column", "gap": 8, "align_items": "start",
                    "justify_content": "center", "flex": {"grow": 1, "shrink": 1, "basis": 0},
                    "children": [
                        {"type": "text", "text": headline, "font": font, "size": [14, 22], "max_lines": 2,
                         "color": "#14213d", "flex": {"align_self": "stretch"}},
                        {"type": "button", "text": cta, "font": font, "size": 14, "fill": "#fca311",
                         "color": "#14213d", "radius": 16, "padding": [14, 7]},
                    ],
                },
            ],
        }
    )  # fmt: skip


GOLDEN_PIXELS = 80_000
"""Largest golden (400x200 px worth): bigger sizes are drawn at 1x, then stored reduced to fit."""
COUNTRIES = {"en": "US", "de": "DE", "ar": "AE", "ja": "JP", "zh": "CN"}
"""The viewer's country per locale: acme's rules set the language from the country (dach, gulf, japan,
chinese)."""


def golden_scale(size: tuple[int, int]) -> float:
    """1, or the largest scale (in hundredths) that keeps a golden of `size` within GOLDEN_PIXELS."""
    return min(1.0, math.floor(math.sqrt(GOLDEN_PIXELS / (size[0] * size[1])) * 100) / 100)


def _sized_image(creative: str, size: tuple[int, int], lang: str = "en", device: str = "desktop") -> Image.Image:
    """An acme creative decided at one of its sizes (an afternoon, a weekday, in the country whose rule
    gives `lang`) and drawn at 1x with the copy defaults: the container layout, mirrored in Arabic, with
    what `by_size` sets at that size. Sizes over GOLDEN_PIXELS are then reduced (Lanczos, exact for a
    given Pillow) to stay small; drawing at a smaller scale instead would test `w=`, not the size."""
    from versa.decide.rules import decide
    from versa.decide.variants import SyntheticContext

    now = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # Tue 14:00 in New York: afternoon
    values = {"country": COUNTRIES[lang], "daypart": "afternoon", "weekend": False, "device": device, "lang": lang}
    decision = decide(ACME.model, creative, SyntheticContext(values, now, "America/New_York", lang), size=size)
    texts = {slot: ref.default for slot, ref in decision.copy.items()}
    scene = Scene(ACME, decision, texts, {}, 1.0, BOOK)
    image = canvas(size)
    for layer in decision.layers:
        draw_layer(image, layer, scene)
    scale = golden_scale(size)
    if scale < 1:
        out = max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
        image = image.convert("RGB").resize(out, Image.Resampling.LANCZOS)
    return image


NORTHWIND = load_pack(ROOT / "examples" / "packs" / "northwind", checks=PACK_CHECKS)


def _northwind_countdown(country: str) -> Image.Image:
    """northwind/cyber-week as the renderer serves it (PNG, 1x) to a reader in `country` at a fixed
    instant, cropped to its countdown row (the timer in its container beside the button): English
    reads days first from the left, Arabic from the right, with the row mirrored; Polish labels take
    their plural forms (2 dni, 14 godzin, 58 minut, 53 sekundy)."""
    import io

    from versa.composition import build_renderer
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options, decide
    from versa.settings import Settings

    now = datetime(2026, 12, 2, 15, 0, 7, tzinfo=UTC)  # 2 days 14:58:53 before the deadline
    options = context_options(NORTHWIND.model, "cyber-week")
    ctx = resolve({"CloudFront-Viewer-Country": country}, {"first_name": "Ana"}, now, options)
    decision = decide(NORTHWIND.model, "cyber-week", ctx)
    rendered = build_renderer(Settings(memo_items=0)).render(
        NORTHWIND, decision, texts={}, params=ctx.params, fmt="png", width=None, dpr=1, now=now, tz=ctx.tz
    )
    with Image.open(io.BytesIO(rendered.body)) as image:
        return image.convert("RGB").crop((0, 96, 600, 192))


def _script_image(lang: str) -> Image.Image:
    """The scripts test pack's card decided for a locale and drawn at 1x with its copy defaults."""
    from versa.decide.rules import decide
    from versa.decide.variants import SyntheticContext

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    values = {"country": "US", "device": "desktop", "lang": lang}
    decision = decide(SCRIPTS.model, "headline", SyntheticContext(values, now, "UTC", lang))
    texts = {slot: ref.default for slot, ref in decision.copy.items()}
    scene = Scene(SCRIPTS, decision, texts, {}, 1.0, BOOK)
    image = canvas(decision.size)
    for layer in decision.layers:
        draw_layer(image, layer, scene)
    return image


SEGMENT_HERO = (
    ("vip", "en", (300, 250)), ("vip", "ar", (300, 250)),
    ("lapsed", "en", (728, 90)), ("lapsed", "ar", (728, 90)), ("outdoor", "pl", (728, 90)),
)
"""(segment, locale, size) of northwind/segment-hero's generated renders kept as goldens: English and
Arabic (mirrored, with Latin inside right-to-left text), and Polish on two lines in the strip."""


def _segment_hero(seg: str, locale: str, size: tuple[int, int]) -> Image.Image:
    """northwind/segment-hero as served with its generated copy: the candidates of the test server's
    fixture that pass the guardrails (tests/example_copy.py; tests/functional/test_example_copy.py shows
    the service serves exactly this after generating it through the server)."""
    import example_copy  # tests/example_copy.py: on the path under pytest; main() puts it there

    return example_copy.guarded_render(seg, locale, size)


def _sized_cases() -> dict[str, DrawnCase]:
    """acme's banner at every size it declares in English, Arabic, Japanese and Simplified Chinese, in
    German at three sizes whose long words test the fit, on a phone once; its leaderboard in each of
    those four languages."""
    langs = ("en", "ar", "ja", "zh")
    wanted = [(size, lang) for size in ACME.model.creative("winter-sale").all_sizes for lang in langs]
    wanted += [((300, 250), "de"), ((728, 90), "de"), ((160, 600), "de")]
    cases = {
        f"winter-sale-{size[0]}x{size[1]}-{lang}": DrawnCase(functools.partial(_sized_image, "winter-sale", size, lang))
        for size, lang in wanted
    }
    cases["winter-sale-600x300-en-mobile"] = DrawnCase(
        functools.partial(_sized_image, "winter-sale", (600, 300), "en", "mobile")
    )
    for lang in langs:
        cases[f"leaderboard-728x90-{lang}"] = DrawnCase(functools.partial(_sized_image, "leaderboard", (728, 90), lang))
    return cases


CASES: dict[str, LayerCase | DrawnCase] = {
    "northwind-countdown-en": DrawnCase(lambda: _northwind_countdown("US")),
    "northwind-countdown-ar": DrawnCase(lambda: _northwind_countdown("AE")),
    "northwind-countdown-pl": DrawnCase(lambda: _northwind_countdown("PL")),
    "script-ja": DrawnCase(lambda: _script_image("ja")),
    "script-zh": DrawnCase(lambda: _script_image("zh")),
    "script-zh-hant": DrawnCase(lambda: _script_image("zh-Hant")),
    "script-ko": DrawnCase(lambda: _script_image("ko")),
    "script-th": DrawnCase(lambda: _script_image("th")),
    **_sized_cases(),
    **{
        f"segment-hero-{size[0]}x{size[1]}-{locale}-{seg}": DrawnCase(functools.partial(_segment_hero, seg, locale, size))
        for seg, locale, size in SEGMENT_HERO
    },
    "background-fill": LayerCase((BackgroundLayer(type="background", fill="#0f766e"),)),
    "background-gradient": LayerCase(
        (
            BackgroundLayer(
                type="background",
                gradient={"angle": 135, "stops": [["#1E3A8A", 0], ["#f59e0b", 0.6], ["#7C3AED", 1]]},
            ),
        )
    ),
    "background-image-cover": LayerCase(
        (
            BackgroundLayer(
                type="background", image={"asset": "assets/peaks.png", "fit": "cover", "focus": [0.5, 0.9]}
            ),
        )
    ),
    "image-contain-radius": LayerCase(
        (
            ImageLayer(type="image", asset="assets/peaks.png", box=(10, 10, 100, 100), fit="cover", radius=18),
            ImageLayer(
                type="image", asset="assets/logo.png", box=(130, 30, 160, 48), fit="contain", opacity=0.5
            ),
        )
    ),
    "shape": LayerCase(
        (
            ShapeLayer(
                type="shape",
                box=(10, 10, 120, 60),
                fill="#fca311",
                radius=14,
                border={"color": "#14213d", "width": 3},
            ),
            ShapeLayer(type="shape", shape="ellipse", box=(150, 10, 100, 100), fill="#0f766e80"),
            ShapeLayer(type="shape", box=(260, 20, 50, 80), border={"color": "#e76f51", "width": 2}),
        )
    ),
    "button": LayerCase(
        (
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
        )
    ),
    "text-latin": LayerCase((text("Winter gear, 30% off — this week only. Jetzt zugreifen!"),)),
    "text-arabic": LayerCase((text("خصم ٣٠٪ على معدات الشتاء هذا الأسبوع فقط", font="arabic"),), "ar"),
    "text-hebrew": LayerCase((text("מבצע חורף: 30% הנחה על כל הציוד", font="hebrew"),), "he"),
    "text-devanagari": LayerCase((text("सर्दियों की सेल: सभी सामान पर 30% की छूट", font="deva"),), "hi"),
    "text-cjk": LayerCase((text("冬季特卖：全场七折，仅限本周！", font="cjk"),), "zh"),
    "text-mixed": LayerCase((text("Acme: خصم 30% — שבוע אחד — सेल — 限时"),)),
    "text-ellipsis-center": LayerCase(
        (
            text(
                "A headline far too long for this small box, so it must end with an ellipsis",
                box=(12, 10, 296, 44),
                size=(16, 18),
                max_lines=2,
                align="center",
                valign="middle",
            ),
        )
    ),
    "countdown": DrawnCase(_countdown_image),
    "countdown-ar-native": DrawnCase(_countdown_ar_image),
    "container-en": LayerCase((_card("Winter gear, 30% off this week only", "Shop now", "display"),)),
    "container-ar": LayerCase((_card("خصم ٣٠٪ على معدات الشتاء هذا الأسبوع فقط", "تسوّق الآن", "arabic"),), "ar"),
}


# ----------------------------------------------------------------------------------- environment


def font_files() -> dict[str, str]:
    """File name → SHA-256 of every font file in the font stacks the golden scenes use."""
    paths: set[str] = set()
    for family in FONTS.values():
        try:
            paths |= {face.path for face in BOOK.stack(ACME, family).faces}
        except FontNotFound:  # named by `differences` as a manifest font not found here
            continue
    return {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in sorted(paths)}


def environment() -> dict[str, Any]:
    """What, besides Versa's own code, decides the golden pixels here."""
    return {
        "pillow": PIL.__version__,
        "libraries": {name: features.version(name) for name in LIBRARIES},
        "fonts": font_files(),
    }


def read_manifest() -> dict[str, Any] | None:
    if not MANIFEST.exists():
        return None
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Each way `current` differs from the `recorded` environment, one phrase each (empty: same)."""
    out: list[str] = []
    if recorded.get("pillow") != current["pillow"]:
        out.append(f"Pillow {current['pillow']} here, {recorded.get('pillow')} in the manifest")
    libs = recorded.get("libraries", {})
    for name, version in current["libraries"].items():
        if libs.get(name) != version:
            out.append(f"{name} {version} here, {libs.get(name)} in the manifest")
    fonts = recorded.get("fonts", {})
    for name, digest in current["fonts"].items():
        if name not in fonts:
            out.append(f"font {name} is used here but not in the manifest")
        elif fonts[name] != digest:
            out.append(f"font {name} has SHA-256 {digest[:12]}… here, {fonts[name][:12]}… in the manifest")
    out += [f"font {name} is in the manifest but not found here" for name in fonts if name not in current["fonts"]]
    return out


def environment_mismatch() -> str | None:
    """Why the stored goldens cannot be compared exactly here, or None when they can."""
    recorded = read_manifest()
    if recorded is None:
        return f"{MANIFEST.relative_to(ROOT)} is missing; run `make goldens` and review the images"
    found = differences(recorded, environment())
    if not found:
        return None
    return (
        "goldens were drawn in another environment ("
        + "; ".join(found)
        + "); run `make goldens` to redraw them here for review"
    )


# ------------------------------------------------------------------------------------ comparison


def mismatch(actual: Image.Image, expected: Image.Image) -> str | None:
    """None when the two images are pixel-identical (as RGB), else what differs."""
    a, b = actual.convert("RGB"), expected.convert("RGB")
    if a.size != b.size:
        return f"size {a.size} != {b.size}"
    diff = ImageChops.difference(a, b)
    box = diff.getbbox()
    if box is None:
        return None
    r, g, b = diff.split()
    largest = ImageChops.lighter(ImageChops.lighter(r, g), b)  # each pixel's largest channel difference
    changed = a.width * a.height - largest.histogram()[0]
    return f"{changed} pixels differ, within {box}"


def stored(name: str) -> Image.Image:
    with Image.open(GOLDEN / f"{name}.png") as image:
        return image.convert("RGB")


def save_failure(name: str, actual: Image.Image, expected: Image.Image) -> Path:
    """Write the actual image and an amplified difference beside each other for a person to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    actual.convert("RGB").save(OUTPUT / f"{name}.actual.png")
    if actual.size == expected.size:
        diff = ImageChops.difference(actual.convert("RGB"), expected.convert("RGB"))
        diff.point(lambda v: min(255, v * 8)).save(OUTPUT / f"{name}.diff.png")
    return OUTPUT


# ---------------------------------------------------------------------------------------- redraw


def redraw() -> list[str]:
    """Draw every case into tests/golden/, write the manifest, remove goldens of cases that are gone."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, case in sorted(CASES.items()):
        image = case.draw().convert("RGB")
        assert image.width * image.height <= GOLDEN_PIXELS, f"{name}: keep goldens small (at most 400x200 px worth)"
        path = GOLDEN / f"{name}.png"
        before = stored(name) if path.exists() else None
        if before is None or mismatch(image, before) is not None:
            image.save(path, optimize=True)
            lines.append(f"{'changed' if before is not None else 'new':>8}  {path.relative_to(ROOT)}")
    for path in sorted(GOLDEN.glob("*.png")):
        if path.stem not in CASES:
            path.unlink()
            lines.append(f"{'removed':>8}  {path.relative_to(ROOT)}")
    manifest = {
        "about": "The environment that drew tests/golden/*.png; `make goldens` rewrites it.",
        **environment(),
        "cases": sorted(CASES),
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return lines


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))  # the shared test helpers (example_copy), as pytest has them
    lines = redraw()
    print("\n".join(lines) if lines else "every golden already matched; manifest rewritten")
    print(f"review with: git diff --stat {GOLDEN.relative_to(ROOT)}  (and look at the images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
