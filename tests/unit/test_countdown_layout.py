"""Countdown geometry: a countdown inside a container (its measured size), its cell order in a
right-to-left locale (PNG and GIF frames), the opt-out, and mirroring twice being the identity."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import Decision, context_options, decide
from versa.pack.loader import load_pack
from versa.pack.model import ContainerLayer, CountdownLayer, Creative, FlexItem, countdown_layers
from versa.ports import Rendered
from versa.render.checks import PACK_CHECKS
from versa.render.countdown import CountdownPainter, countdown_size, draw_countdown, reflect_cells
from versa.render.layers import FontBook, Scene, drawn, placed
from versa.render.layout import lay_out, mirror
from versa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NORTHWIND = load_pack(ROOT / "examples" / "packs" / "northwind", checks=PACK_CHECKS)
NOW = datetime(2026, 12, 2, 15, 0, 7, tzinfo=UTC)  # 2 days 14:58:53 before the deadline
RENDERER = build_renderer(Settings(memo_items=0))
BOOK = FontBook()
GMAIL = {"User-Agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"}
COUNTRY = {"en": "US", "ar": "AE"}


def cyber_week(lang: str) -> tuple[Decision, Any]:
    """northwind/cyber-week decided for a reader in the US (English) or the UAE (Arabic)."""
    query = {"first_name": "Ana", "country": COUNTRY[lang]}
    ctx = resolve({"CloudFront-Viewer-Country": COUNTRY[lang]}, query, NOW, context_options(NORTHWIND.model, "cyber-week"))
    decision = decide(NORTHWIND.model, "cyber-week", ctx)
    assert decision.locale == lang
    return decision, ctx


def scene_of(decision: Decision, ctx: Any) -> Scene:
    return Scene(NORTHWIND, decision, {}, ctx.params, 1.0, BOOK)


def timer(decision: Decision, scene: Scene) -> CountdownLayer:
    """The countdown as the renderer draws it: at its laid-out box, colours resolved."""
    return next(x for top in decision.layers for x in drawn(top, scene) if isinstance(x, CountdownLayer))


def render(lang: str, fmt: str) -> Rendered:
    decision, ctx = cyber_week(lang)
    return RENDERER.render(NORTHWIND, decision, texts={}, params=ctx.params, fmt=fmt, width=None, dpr=1, now=NOW, tz=ctx.tz)


def static_cells(layer: CountdownLayer, scene: Scene) -> tuple[Image.Image, CountdownPainter]:
    """The countdown drawn alone on the creative's paper colour, and its painter."""
    painter = CountdownPainter(layer, scene, now=NOW, tz="UTC")
    image = Image.new("RGBA", (600, 240), scene.decision.colors["paper"])
    draw_countdown(image, painter)
    return image.convert("RGB"), painter


def crop(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    x, y, w, h = box
    return image.crop((x, y, x + w, y + h))


# ------------------------------------------------------------------------------ in a container


def test_a_countdown_in_a_container_gets_its_measured_box() -> None:
    # GIVEN northwind's timer, which its pack sizes with nothing but its font size and labels
    decision, ctx = cyber_week("en")
    layer = timer(decision, scene_of(decision, ctx))
    nested = countdown_layers(NORTHWIND.model.creative("cyber-week").layers)[0]
    assert nested.flex is None
    # THEN the container gives it the size it measures: four cells wide enough for "88" at 34 px
    stack = BOOK.stack(NORTHWIND, decision.fonts[layer.font])
    natural = countdown_size(layer, stack, "en", float("inf"), float("inf"))
    assert layer.box[2:] == natural
    assert 4 * 34 < natural[0] < 600 and 34 < natural[1] <= 76
    # AND less room scales it down, keeping its shape
    half = countdown_size(layer, stack, "en", natural[0] / 2, float("inf"))
    assert half[0] == natural[0] // 2 and abs(half[1] - natural[1] / 2) <= 1


def test_flex_sizes_win_over_the_measured_size() -> None:
    # GIVEN a countdown with a flex width and height in a row
    decision, ctx = cyber_week("en")
    layer = countdown_layers(NORTHWIND.model.creative("cyber-week").layers)[0]
    row = ContainerLayer(
        type="container", box=(0, 0, 600, 100),
        children=[layer.model_copy(update={"flex": FlexItem(width=420, height=90)})],
    )  # fmt: skip
    # THEN it takes exactly that box
    [(_, box)] = placed(row, scene_of(decision, ctx))
    assert box == (0, 0, 420, 90)


def test_every_countdown_counts_for_the_render_key_wherever_it_sits() -> None:
    # GIVEN northwind's creative, whose only countdown sits in a container
    creative: Creative = NORTHWIND.model.creative("cyber-week")
    assert not [x for x in creative.layers if isinstance(x, CountdownLayer)]
    # THEN it is found, so the GIF animates and the response lasts as long as the loop
    gif = render("en", "gif")
    assert gif.frames == 30 and gif.loop_seconds == 30


# ----------------------------------------------------------------------------------- cell order


def test_cells_read_from_the_right_in_arabic() -> None:
    # GIVEN the Arabic decision, its timer drawn as it is (mirrored) and opted out (flex.mirror: false)
    decision, ctx = cyber_week("ar")
    scene = scene_of(decision, ctx)
    layer = timer(decision, scene)
    rtl_image, rtl = static_cells(layer, scene)
    kept = layer.model_copy(update={"flex": FlexItem(mirror=False)})
    ltr_image, ltr = static_cells(kept, scene)
    # THEN days (the first unit) is the rightmost cell in Arabic and the leftmost when opted out
    xs = [cell.box[0] for cell in rtl.cells]
    assert xs == sorted(xs, reverse=True) and rtl.mirrored
    assert [cell.box[0] for cell in ltr.cells] == sorted(c.box[0] for c in ltr.cells) and not ltr.mirrored
    assert rtl.cells == reflect_cells(ltr.cells, layer.box)
    # AND each cell shows the same pixels (number and label), at the reflected place
    assert ImageChops.difference(rtl_image, ltr_image).getbbox() is not None
    for a, b in zip(rtl.cells, ltr.cells, strict=True):
        assert ImageChops.difference(crop(rtl_image, a.box), crop(ltr_image, b.box)).getbbox() is None


def test_english_cells_read_from_the_left() -> None:
    decision, ctx = cyber_week("en")
    scene = scene_of(decision, ctx)
    _, painter = static_cells(timer(decision, scene), scene)
    xs = [cell.box[0] for cell in painter.cells]
    assert xs == sorted(xs) and not painter.mirrored


@pytest.mark.parametrize(("lang", "side"), [("en", "right"), ("ar", "left")])
def test_gif_frames_tick_the_seconds_cell_on_the_reading_end(lang: str, side: str) -> None:
    # GIVEN the animated timer in English and in Arabic
    decision, ctx = cyber_week(lang)
    scene = scene_of(decision, ctx)
    painter = CountdownPainter(timer(decision, scene), scene, now=NOW, tz=ctx.tz)
    seconds = painter.cells[painter.layer.units.index("seconds")].box
    with Image.open(io.BytesIO(render(lang, "gif").body)) as gif:
        first = gif.convert("RGB")
        gif.seek(1)
        second = gif.convert("RGB")
    # WHEN one second passes (…:53 to …:52: only the seconds change)
    changed = ImageChops.difference(first, second).getbbox()
    # THEN only the seconds cell changed, and it is the last cell in reading order
    assert changed is not None
    x, y, w, h = seconds
    assert changed[0] >= x and changed[2] <= x + w and changed[1] >= y and changed[3] <= y + h
    xs = [c.box[0] for c in painter.cells]
    assert x == (max(xs) if side == "right" else min(xs))


def test_png_is_mirrored_the_same_way() -> None:
    # The static PNG's seconds cell (…53) sits at the left in Arabic: its pixels match the painter's.
    decision, ctx = cyber_week("ar")
    scene = scene_of(decision, ctx)
    layer = timer(decision, scene)
    alone, painter = static_cells(layer, scene)
    png = Image.open(io.BytesIO(render("ar", "png").body)).convert("RGB")
    for cell in painter.cells:
        number = crop(png, cell.number)
        assert ImageChops.difference(number, crop(alone, cell.number)).getbbox() is None
    assert min(c.box[0] for c in painter.cells) == painter.cells[-1].box[0]


def test_a_container_that_keeps_its_order_keeps_the_cells_too() -> None:
    # GIVEN the Arabic decision with the timer's row opted out of mirroring (flex.mirror: false)
    decision, ctx = cyber_week("ar")
    scene = scene_of(decision, ctx)
    body = next(x for x in decision.layers if isinstance(x, ContainerLayer))
    deal = next(c for c in body.children if c.id == "deal")
    kept = deal.model_copy(update={"flex": (deal.flex or FlexItem()).model_copy(update={"mirror": False})})
    opted = body.model_copy(update={"children": [kept if c.id == "deal" else c for c in body.children]})
    # THEN the countdown inside it gets flex.mirror false and its cells read left to right
    layer = next(x for x in drawn(opted, scene) if isinstance(x, CountdownLayer))
    assert layer.flex is not None and not layer.flex.mirror
    _, painter = static_cells(layer, scene)
    xs = [c.box[0] for c in painter.cells]
    assert xs == sorted(xs) and not painter.mirrored


def test_an_absolute_countdown_mirrors_unless_it_opts_out() -> None:
    decision, ctx = cyber_week("ar")
    scene = scene_of(decision, ctx)
    layer = timer(decision, scene).model_copy(update={"box": (24, 108, 360, 76)})
    _, mirrored = static_cells(layer, scene)
    _, kept = static_cells(layer.model_copy(update={"flex": FlexItem(mirror=False)}), scene)
    # THEN opted out, days starts at the box's left edge as before; mirrored, the cells are reflected in
    # the box (days ends at its right edge) and read right to left
    assert kept.cells[0].box[0] == 24
    assert mirrored.cells == reflect_cells(kept.cells, layer.box)
    assert mirrored.cells[0].box[0] + mirrored.cells[0].box[2] == 24 + 360
    xs = [c.box[0] for c in mirrored.cells]
    assert xs == sorted(xs, reverse=True)


# ------------------------------------------------------------------------------ mirroring twice


@pytest.mark.parametrize("box", [(24, 108, 360, 76), (0, 0, 283, 76), (7, 3, 101, 40)])
@pytest.mark.parametrize("units", [["days", "hours", "minutes", "seconds"], ["hours", "minutes"], ["minutes"]])
def test_reflecting_cells_twice_is_the_identity(box: tuple[int, int, int, int], units: list[str]) -> None:
    decision, ctx = cyber_week("en")
    scene = scene_of(decision, ctx)
    layer = timer(decision, scene).model_copy(update={"box": box, "units": units})
    cells = CountdownPainter(layer, scene, now=NOW, tz="UTC").cells
    once = reflect_cells(cells, box)
    assert once != cells or len(cells) == 1  # one cell fills the box: its reflection is itself
    assert reflect_cells(once, box) == cells
    # every reflected cell stays inside the countdown's box
    assert all(box[0] <= c.box[0] and c.box[0] + c.box[2] <= box[0] + box[2] for c in once)


def test_mirroring_the_northwind_layout_twice_is_the_identity() -> None:
    decision, ctx = cyber_week("ar")
    scene = scene_of(decision, ctx)
    body = next(x for x in decision.layers if isinstance(x, ContainerLayer))
    laid = lay_out(body, body.box, lambda layer, w, h: (40, 20))
    assert mirror(laid) != laid
    assert mirror(mirror(laid)) == laid
    # AND the Arabic countdown drawn from a twice-mirrored painter's cells equals the English order
    layer = timer(decision, scene)
    rtl = CountdownPainter(layer, scene, now=NOW, tz="UTC")
    ltr = CountdownPainter(layer.model_copy(update={"flex": FlexItem(mirror=False)}), scene, now=NOW, tz="UTC")
    assert reflect_cells(rtl.cells, rtl.box) == ltr.cells
