"""Properties of adaptive layout, checked on generated designs (hypothesis, bounded example counts):

- any copy within a slot's limits (its `max_chars`, the text's size range and `max_lines`) stays
  inside its container when drawn, in a container built with room for those limits;
- mirroring a layout twice gives it back, and once keeps every box inside its parent;
- a `by_size` override changes only what it names, and only at the sizes it matches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from versa.context.resolve import RequestContext
from versa.decide.rules import CopyRef, Decision, decide
from versa.pack.loader import load_pack
from versa.pack.model import ContainerLayer, Pack, PackModel
from versa.render.checks import PACK_CHECKS
from versa.render.layer_text import text_layout
from versa.render.layers import FontBook, Scene, draw_container, placed
from versa.render.layout import Placed, mirror

BOOK = FontBook()
CANVAS = (800, 600)
ORIGIN = (100, 100)
"""Containers sit well inside a larger canvas, so ink drawn outside them would show."""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, small_pack: Callable[..., dict[str, Any]]) -> Pack:
    root = tmp_path_factory.mktemp("props") / "pack"
    (root / "assets").mkdir(parents=True)
    Image.new("RGB", (300, 100)).save(root / "assets" / "fallback.png")
    (root / "pack.yaml").write_text(yaml.safe_dump(small_pack(locales=("en", "de", "ar"))), encoding="utf-8")
    return load_pack(root, checks=PACK_CHECKS)


def scene_for(pack: Pack, locale: str, texts: dict[str, str]) -> Scene:
    decision = Decision(
        brand=pack.brand, creative="promo", locale=locale, colors={}, fonts={"body": "sans", "display": "sans-bold"},
        spacing={}, layers=(), copy={k: CopyRef(k, None, v) for k, v in texts.items()}, link=None, trace=(),
        design_key="props", valid_until=None, size=CANVAS,
    )  # fmt: skip
    return Scene(pack, decision, texts, {}, 1.0, BOOK)


# --------------------------------------------------------------------- copy within limits stays inside

LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.!?%-äöüßéÅ€"
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي ٠١٢٣"


@st.composite
def designs(draw: st.DrawFn) -> dict[str, Any]:
    """A container holding a headline (size range, max_lines, line height, slot max_chars) and a
    button, sized with room for the headline's limits: max_lines lines at the largest size (and the
    button) fit its height, and beside the button the headline gets at least two glyphs' width (text
    wraps, shrinks and is cut to fit any wider box; narrower than a glyph, nothing can)."""
    lo = draw(st.integers(8, 28))
    hi = draw(st.integers(lo, 40))
    lines = draw(st.integers(1, 4))
    line_height = draw(st.sampled_from([1.0, 1.2, 1.5]))
    direction = draw(st.sampled_from(["column", "row"]))
    pad, gap = draw(st.integers(0, 16)), draw(st.integers(0, 12))
    button_h, button_w = 40, 110  # a 14 px "Go" label with [8, 6] padding, generously
    text_h = math.ceil(lines * hi * line_height + hi)  # a line's ink may reach past its line box
    inner_h = text_h + gap + button_h if direction == "column" else max(text_h, button_h)
    width = draw(st.integers(2 * pad + 2 * hi + (gap + button_w if direction == "row" else 0), 560))
    height = min(CANVAS[1] - 2 * ORIGIN[1], 2 * pad + inner_h + draw(st.integers(0, 40)))
    return {
        "container": {
            "type": "container", "id": "card", "box": [*ORIGIN, width, height], "direction": direction,
            "padding": pad, "gap": gap, "align_items": draw(st.sampled_from(["start", "center", "stretch"])),
            "children": [
                {"type": "text", "id": "headline", "slot": "headline", "font": "display", "size": [lo, hi],
                 "max_lines": lines, "line_height": line_height, "color": "#000000",
                 "align": draw(st.sampled_from(["start", "center", "end"])),
                 "flex": {"grow": 1, "shrink": 1}},
                {"type": "button", "id": "cta", "slot": "cta", "font": "body", "size": 14, "padding": [8, 6],
                 "fill": "#000000", "color": "#ffffff", "flex": {"shrink": 0}},
            ],
        },
        "max_chars": draw(st.integers(1, 90)),
        "lo": lo,
        "hi": hi,
        "lines": lines,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(designs(), st.data())
def test_any_copy_within_its_limits_stays_inside_its_container(
    pack: Pack, design: dict[str, Any], data: st.DataObject
) -> None:
    # GIVEN a container with room for its headline's limits, and any headline within max_chars
    # (Latin, or Arabic: mirrored)
    locale = data.draw(st.sampled_from(["en", "de", "ar"]), label="locale")
    alphabet = ARABIC if locale == "ar" else LATIN
    headline = data.draw(st.text(st.sampled_from(alphabet), min_size=1, max_size=design["max_chars"]), label="headline")
    scene = scene_for(pack, locale, {"headline": headline, "cta": "Go"})
    card = ContainerLayer.model_validate(design["container"])
    cx, cy, cw, ch = card.box

    # WHEN laid out and drawn as the renderer does
    boxes = placed(card, scene)
    canvas = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    draw_container(canvas, card, scene)

    # THEN every box is inside the container, the headline keeps to its size range and max_lines
    # and its lines fit the box it got
    for layer, (x, y, w, h) in boxes:
        assert cx <= x and cy <= y and x + w <= cx + cw and y + h <= cy + ch, (layer.id, (x, y, w, h))
        if layer.id == "headline" and w and h:
            lay = text_layout(layer.model_copy(update={"box": (x, y, w, h)}), scene)
            if not headline.strip():  # blank copy draws nothing (hypothesis found ' ')
                assert lay is None
                continue
            assert lay is not None
            assert design["lo"] <= lay.size <= design["hi"]
            assert len(lay.lines) <= design["lines"]
            assert lay.width <= w and lay.height <= h, (lay.width, lay.height, w, h)
    # AND no pixel is drawn outside the container
    ink = canvas.getchannel("A").getbbox()
    assert ink is not None
    assert cx <= ink[0] and cy <= ink[1] and ink[2] <= cx + cw and ink[3] <= cy + ch, (ink, card.box)


# ---------------------------------------------------------------------------------------- mirroring


def placed_trees() -> st.SearchStrategy[Placed]:
    """Any tree of laid-out boxes, each child somewhere in (or across the edge of) its parent, some
    opting out of mirroring."""
    leaf = st.builds(
        lambda x, y, w, h, m: Placed("leaf", x, y, w, h, m),
        st.integers(-20, 300), st.integers(-20, 200), st.integers(0, 200), st.integers(0, 100), st.booleans(),
    )  # fmt: skip
    return st.recursive(
        leaf,
        lambda kids: st.builds(
            lambda x, y, w, h, m, children: Placed("container", x, y, w, h, m, tuple(children)),
            st.integers(0, 100), st.integers(0, 100), st.integers(0, 400), st.integers(0, 300), st.booleans(),
            st.lists(kids, max_size=5),
        ),
        max_leaves=20,
    )


@settings(max_examples=200, deadline=None)
@given(placed_trees())
def test_mirroring_twice_is_identity(tree: Placed) -> None:
    # GIVEN any laid-out tree / WHEN mirrored twice / THEN it is unchanged
    assert mirror(mirror(tree)) == tree


def _inside(parent: Placed) -> list[tuple[Placed, Placed]]:
    out = []
    for child in parent.children:
        out.append((parent, child))
        out += _inside(child)
    return out


@settings(max_examples=200, deadline=None)
@given(placed_trees())
def test_mirroring_keeps_sizes_and_containment(tree: Placed) -> None:
    # GIVEN any laid-out tree / WHEN mirrored once
    flipped = mirror(tree)

    # THEN the root stays, every box keeps its size and vertical place, and a child inside its
    # parent before is inside it after
    assert (flipped.x, flipped.y, flipped.width, flipped.height) == (tree.x, tree.y, tree.width, tree.height)
    for (parent, child), (fparent, fchild) in zip(_inside(tree), _inside(flipped), strict=True):
        assert (fchild.y, fchild.width, fchild.height) == (child.y, child.width, child.height)
        if child.x >= 0 and child.x + child.width <= parent.width:
            assert fchild.x >= 0 and fchild.x + fchild.width <= fparent.width


# ------------------------------------------------------------------------------ by_size overrides

SIZES = ["300x100", "600x200", "728x90"]
BASE_LAYERS: list[dict[str, Any]] = [
    {"id": "bg", "type": "background", "fill": "paper"},
    {"id": "badge", "type": "shape", "box": [10, 10, 40, 40], "fill": "accent"},
    {"id": "title", "type": "text", "slot": "title", "box": [60, 10, 230, 40], "font": "body", "size": [14, 20],
     "color": "ink"},
    {"id": "cta", "type": "button", "slot": "cta", "box": [60, 55, 120, 36], "font": "body"},
    {"id": "row", "type": "container", "box": [190, 55, 100, 36],
     "children": [{"id": "dot", "type": "shape", "fill": "ink", "flex": {"width": 10, "height": 10}}]},
]  # fmt: skip
COLOURS = st.sampled_from(["#ff0000", "#00aa00", "#123456", "ink", "accent"])


def override_values() -> dict[str, st.SearchStrategy[Any]]:
    """What a `by_size` entry may set (keys as packs write them) and values it may set them to."""
    box = st.builds(lambda x, y, w, h: [x, y, w, h], st.integers(0, 20), st.integers(0, 10),
                    st.integers(10, 60), st.integers(10, 40))  # fmt: skip
    return {
        "layers.badge.box": box,
        "layers.badge.visible": st.booleans(),
        "layers.badge.fill": COLOURS,
        "layers.title.size": st.integers(10, 24),
        "layers.title.max_lines": st.integers(1, 3),
        "layers.title.color": COLOURS,
        "layers.cta.fill": COLOURS,
        "layers.cta.padding": st.builds(lambda a, b: [a, b], st.integers(0, 20), st.integers(0, 10)),
        "layers.dot.flex": st.builds(lambda w: {"width": w, "height": 10}, st.integers(1, 30)),
        "layers.row.gap": st.integers(0, 10),
        "tokens.colors.accent": st.sampled_from(["#ff00ff", "#00ffff"]),
        "copy.title": st.sampled_from(["Short", "A different title"]),
    }


@st.composite
def by_size_entries(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a `by_size` entry for one size or an aspect range, the keys and values it sets)."""
    choices = override_values()
    keys = draw(st.lists(st.sampled_from(sorted(choices)), min_size=1, max_size=5, unique=True))
    values = {key: draw(choices[key]) for key in keys}
    when = draw(st.sampled_from([{"size": "600x200"}, {"size": "728x90"}, {"aspect": [5, 10]}]))
    return {"when": when, "set": values}, values


def model_with(by_size: list[dict[str, Any]], small_pack: Callable[..., dict[str, Any]]) -> PackModel:
    data = small_pack(layers=[dict(layer) for layer in BASE_LAYERS])
    data["creatives"]["promo"].update(sizes=SIZES, by_size=by_size)
    return PackModel.model_validate(data)


def _flat(layers: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        out[layer.id] = layer
        if isinstance(layer, ContainerLayer):
            out.update(_flat(layer.children))
    return out


def _resolved(value: Any, colours: dict[str, str]) -> Any:
    return colours.get(value, value) if isinstance(value, str) else value


@settings(max_examples=60, deadline=None)
@given(by_size_entries())
def test_a_size_override_changes_only_what_it_names(
    small_pack: Callable[..., dict[str, Any]],
    simulate: Callable[..., RequestContext],
    entry: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    # GIVEN a creative in three sizes, without and with a by_size entry setting some keys
    spec, values = entry
    plain, overridden = model_with([], small_pack), model_with([spec], small_pack)
    ctx = simulate(plain, "promo", datetime(2026, 12, 1, 12, tzinfo=UTC))
    creative = overridden.creatives["promo"]
    matching = {s for s in creative.all_sizes if creative.by_size[0].when.matches(s)}

    for size in plain.creatives["promo"].all_sizes:
        # WHEN each size is decided both ways
        before = decide(plain, "promo", ctx, size=size, with_valid_until=False)
        after = decide(overridden, "promo", ctx, size=size, with_valid_until=False)

        # THEN a size it does not match is exactly as it was (the same design key)
        if size not in matching:
            assert after.design_key == before.design_key
            continue
        # AND at a size it matches, the fields it names take its values and nothing else changes
        named: dict[tuple[str, str], Any] = {}
        for key, value in values.items():
            root, *rest = key.split(".")
            if root == "layers":
                named[(rest[0], rest[1])] = value
        colours = dict(after.colors)
        old, new = _flat(plain.creatives["promo"].layers), _flat(after.layers)
        was = _flat(before.layers)
        for layer_id in old:
            hidden = named.get((layer_id, "visible")) is False
            assert (layer_id in new) == (not hidden and layer_id in was), layer_id
            if layer_id not in new:
                continue
            for field in type(new[layer_id]).model_fields:
                got, had = getattr(new[layer_id], field), getattr(was[layer_id], field)
                if (layer_id, field) in named:
                    want = type(new[layer_id]).model_validate(
                        {**new[layer_id].model_dump(), field: _resolved(named[(layer_id, field)], colours)}
                    )
                    assert got == getattr(want, field), (layer_id, field)
                elif field == "children":
                    continue  # compared child by child
                elif field in ("fill", "color") and "tokens.colors.accent" in values:
                    assert got == _resolved(getattr(old[layer_id], field), colours), (layer_id, field)
                else:
                    assert got == had, (layer_id, field)
        expected_colours = dict(before.colors)
        if "tokens.colors.accent" in values:
            expected_colours["accent"] = values["tokens.colors.accent"]
        assert colours == expected_colours
        for slot, ref in after.copy.items():
            want_text = values["copy.title"] if slot == "title" and "copy.title" in values else before.copy[slot].default
            assert ref.default == want_text, slot
        assert (after.locale, after.link, after.fonts) == (before.locale, before.link, before.fonts)
