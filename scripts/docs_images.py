#!/usr/bin/env python3
"""The pictures of docs/PACKS.md, drawn from examples/packs/acme with Versa's own renderer.

    PYTHONPATH=shared python scripts/docs_images.py     # rewrite docs/img/*.png

Each picture is the real decision and render of acme's `winter-sale` (or its art, fitted by the same
function the renderer uses), so after a change to the pack or the layout engine this script redraws
what the guide shows. `IMAGES` names every file it writes; the guide links each of them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from versa.composition import build_renderer
from versa.decide.rules import Decision, decide
from versa.decide.variants import SyntheticContext
from versa.pack.loader import load_pack
from versa.pack.model import ContainerLayer, Pack
from versa.render.checks import PACK_CHECKS
from versa.render.layers import FontBook, fitted, placed
from versa.render.layout import Placed, lay_out
from versa.render.scene import Scene
from versa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "examples" / "packs" / "acme"
OUT = ROOT / "docs" / "img"
NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # a Tuesday afternoon in New York
COUNTRY = {"en": "US", "ar": "AE", "de": "DE"}
GREY, INK = (226, 229, 234), (20, 33, 61)


def _font(size: int = 12) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _decision(pack: Pack, size: tuple[int, int], lang: str, creative: str = "winter-sale") -> Decision:
    values = {"country": COUNTRY[lang], "daypart": "afternoon", "weekend": False, "device": "desktop", "lang": lang}
    return decide(pack.model, creative, SyntheticContext(values, NOW, "America/New_York", lang), size=size)


def _render(pack: Pack, size: tuple[int, int], lang: str) -> Image.Image:
    """winter-sale at `size` in `lang`, as the API would serve it (1x, copy defaults)."""
    decision = _decision(pack, size, lang)
    texts = {slot: ref.default for slot, ref in decision.copy.items()}
    renderer = build_renderer(Settings(memo_items=0))
    out = renderer.render(pack, decision, texts=texts, params={}, fmt="png", width=None, dpr=1.0, now=NOW, tz="UTC")
    return Image.open(io.BytesIO(out.body)).convert("RGB")


def _shrink(image: Image.Image, scale: float) -> Image.Image:
    size = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def _sheet(tiles: list[tuple[Image.Image, str]], width: int, pad: int = 12) -> Image.Image:
    """Tiles with a caption under each, flowed into rows at most `width` wide."""
    rows: list[list[tuple[Image.Image, str]]] = [[]]
    used = pad
    for tile in tiles:
        if rows[-1] and used + tile[0].width + pad > width:
            rows.append([])
            used = pad
        rows[-1].append(tile)
        used += tile[0].width + pad
    caption = 18
    height = pad + sum(max(t.height for t, _ in row) + caption + pad for row in rows)
    sheet = Image.new("RGB", (width, height), GREY)
    draw = ImageDraw.Draw(sheet)
    y = pad
    for row in rows:
        x = pad
        tallest = max(t.height for t, _ in row)
        for image, label in row:
            sheet.paste(image, (x, y))
            draw.text((x, y + image.height + 3), label, fill=INK, font=_font())
            x += image.width + pad
        y += tallest + caption + pad
    return sheet


# ----------------------------------------------------------------------------------------- pictures


def sizes(pack: Pack) -> Image.Image:
    """Every size of winter-sale from its one layout, display sizes at half size, the rest smaller."""
    tiles = []
    tall_first = sorted(pack.model.creative("winter-sale").all_sizes, key=lambda s: s[0] / s[1])
    for size in tall_first:
        scale = 0.4 if max(size) <= 970 else 0.16
        tiles.append((_shrink(_render(pack, size, "en"), scale), f"{size[0]}x{size[1]}"))
    return _sheet(tiles, 760)


def rtl(pack: Pack) -> Image.Image:
    """The same decisions in English and Arabic: the Arabic layout is the English one mirrored."""
    tiles = []
    for size in ((600, 300), (728, 90)):
        for lang in ("en", "ar"):
            tiles.append((_shrink(_render(pack, size, lang), 0.5), f"{size[0]}x{size[1]} {lang}"))
    return _sheet(tiles, 660)


def _outline(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], colour: tuple[int, int, int], width: int) -> None:
    x, y, w, h = box
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=colour, width=width)


def layout(pack: Pack) -> Image.Image:
    """winter-sale at 600x300 with its containers (blue: frame, green: the copy column and its
    padding) and every laid-out layer (orange) drawn over it, in English and in Arabic."""
    tiles = []
    for lang in ("en", "ar"):
        decision = _decision(pack, (600, 300), lang)
        texts = {slot: ref.default for slot, ref in decision.copy.items()}
        scene = Scene(pack, decision, texts, {}, 1.0, FontBook())
        image = _render(pack, (600, 300), lang)
        draw = ImageDraw.Draw(image)
        frame = next(layer for layer in decision.layers if isinstance(layer, ContainerLayer))
        for child, box in placed(frame, scene):
            _outline(draw, box, (234, 88, 12), 2)
            tag = child.id or child.type
            left = draw.textlength(tag, font=_font(11))
            draw.rectangle((box[0], box[1], box[0] + left + 5, box[1] + 13), fill=(234, 88, 12))
            draw.text((box[0] + 3, box[1]), tag, fill=(255, 255, 255), font=_font(11))
        for box, padding in _containers(frame, scene):
            _outline(draw, box, (22, 163, 74) if padding else (37, 99, 235), 2)
            if padding:
                top, end, bottom, start = padding
                left, right = (end, start) if scene.rtl else (start, end)
                inner = (box[0] + left, box[1] + top, box[2] - left - right, box[3] - top - bottom)
                _outline(draw, inner, (22, 163, 74), 1)
        tiles.append((image, f"600x300 {lang}: frame (blue), copy and its padding (green), layers (orange)"))
    return _sheet(tiles, 624)


def _containers(frame: ContainerLayer, scene: Scene) -> list[tuple[tuple[int, int, int, int], Any]]:
    """(absolute box, padding or None for the frame) of `frame` and each container in it, laid out and
    mirrored as the renderer does."""
    from versa.render.layer_text import measure
    from versa.render.layout import mirror

    def measured(child: Any, max_width: float, max_height: float) -> tuple[int, int]:
        return measure(child, scene, max_width, max_height)

    root = lay_out(frame, frame.box, measured)
    root = mirror(root) if scene.rtl else root
    out: list[tuple[tuple[int, int, int, int], Any]] = [((root.x, root.y, root.width, root.height), None)]

    def walk(node: Placed, ox: int, oy: int) -> None:
        for child in node.children:
            x, y = ox + child.x, oy + child.y
            if isinstance(child.layer, ContainerLayer):
                out.append(((x, y, child.width, child.height), child.layer.padding))
                walk(child, x, y)

    walk(root, root.x, root.y)
    return out


def focus(pack: Pack) -> Image.Image:
    """The art and its focal point, cropped (`fit: cover`) into a strip and a column: around the
    centre, and around the focus a size sets."""
    source = Image.open(ACME / "assets" / "peaks.png").convert("RGBA")
    thumb = Image.new("RGB", (96, 120), (248, 245, 238))
    small = source.resize((96, 120), Image.Resampling.LANCZOS)
    thumb.paste(small, (0, 0), small)
    draw = ImageDraw.Draw(thumb)
    point = (0.7, 0.35)  # the sun, and the summits below it
    fx, fy = point[0] * 96, point[1] * 120
    draw.line((fx - 6, fy, fx + 6, fy), fill=(220, 38, 38), width=2)
    draw.line((fx, fy - 6, fx, fy + 6), fill=(220, 38, 38), width=2)
    tiles = [(thumb, "art, focus [0.7, 0.35]")]
    for box, where, label in (
        ((240, 150), (0.5, 0.5), "240x150: centre"),
        ((240, 150), point, "240x150: focus"),
        ((80, 160), (0.5, 0.5), "centre"),
        ((80, 160), point, "focus"),
    ):
        patch, dx, dy = fitted(pack, "assets/peaks.png", box, "cover", where)
        tile = Image.new("RGB", box, (219, 234, 254))
        tile.paste(patch, (dx, dy), patch)
        tiles.append((tile, label))
    return _sheet(tiles, 820)


IMAGES: dict[str, Callable[[Pack], Image.Image]] = {
    "layout.png": layout,
    "rtl.png": rtl,
    "sizes.png": sizes,
    "focus.png": focus,
}
"""docs/img/NAME -> what draws it."""


def main() -> int:
    pack = load_pack(ACME, checks=PACK_CHECKS)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in IMAGES.items():
        image = draw(pack).quantize(256, dither=Image.Dither.NONE)  # small files; gradients stay smooth
        image.save(OUT / name, optimize=True)
        print(f"docs/img/{name}: {image.width}x{image.height}, {(OUT / name).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
