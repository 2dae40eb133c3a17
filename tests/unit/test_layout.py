"""Container layers: the flexbox layout function, mirroring for right-to-left locales, text that
measures itself, and what the loader and rules say about containers."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from goldens import CASES, make_scene
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packissues import unlocated
from versa.decide.rules import decide
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import ContainerLayer, FlexItem, TextLayer
from versa.render.checks import PACK_CHECKS
from versa.render.layer_text import measure, text_layout
from versa.render.layout import Placed, lay_out, leaves, mirror, place
from versa.render.scene import Scene


def box(layer: dict[str, Any]) -> ContainerLayer:
    return ContainerLayer.model_validate({"type": "container", "box": [0, 0, 200, 100], **layer})


def square(w: int, h: int, **flex: Any) -> dict[str, Any]:
    return {"type": "shape", "fill": "#000", "flex": {"width": w, "height": h, **flex}}


def no_text(layer: Any, max_w: float, max_h: float) -> tuple[float, float]:
    raise AssertionError("no text here")


def boxes(container: ContainerLayer, *, rtl: bool = False, measure: Any = no_text) -> list[tuple[int, ...]]:
    return [b for _, b in place(container, measure, rtl=rtl)]


# ------------------------------------------------------------------------------------- flexbox


def test_row_with_gap_and_padding() -> None:
    # GIVEN a row of fixed squares with a gap and padding [top, end, bottom, start]
    c = box({"gap": 10, "padding": [5, 0, 0, 20], "align_items": "start",
             "children": [square(30, 20), square(40, 10)]})  # fmt: skip

    # THEN they sit left to right after the start padding, a gap apart
    assert boxes(c) == [(20, 5, 30, 20), (60, 5, 40, 10)]


def test_column_centred_on_both_axes() -> None:
    c = box({"direction": "column", "gap": 4, "align_items": "center", "justify_content": "center",
             "children": [square(30, 20), square(50, 20)]})  # fmt: skip
    # 44 px of content in 100: 28 above; widths centred in 200
    assert boxes(c) == [(85, 28, 30, 20), (75, 52, 50, 20)]


def test_grow_shares_free_space_and_max_caps_it() -> None:
    c = box({"align_items": "start", "children": [
        square(0, 10, grow=1), square(0, 10, grow=3), square(0, 10, grow=1, max_width=20)]})  # fmt: skip
    # 200 px: the capped one stops at 20, the other two share 180 as 1:3
    assert boxes(c) == [(0, 0, 45, 10), (45, 0, 135, 10), (180, 0, 20, 10)]


def test_shrink_respects_min_width() -> None:
    c = box({"align_items": "start", "children": [square(150, 10, min_width=120), square(150, 10)]})
    widths = [b[2] for b in boxes(c)]
    assert widths[0] == 120 and sum(widths) == 200


def test_wrap_starts_a_new_line() -> None:
    c = box({"wrap": True, "gap": 10, "align_items": "start",
             "children": [square(90, 20), square(90, 30), square(90, 20)]})  # fmt: skip
    # two fit in 200 (90 + 10 + 90), the third wraps below the tallest of the first line
    assert boxes(c) == [(0, 0, 90, 20), (100, 0, 90, 30), (0, 40, 90, 20)]


def test_nested_containers_place_their_children_absolutely() -> None:
    c = ContainerLayer.model_validate({"type": "container", "box": [10, 20, 200, 100], "padding": 10, "gap": 10,
        "align_items": "start", "children": [square(40, 40), {"type": "container", "direction": "column",
        "gap": 5, "children": [square(20, 10), square(30, 10)]}]})  # fmt: skip
    assert boxes(c) == [(20, 30, 40, 40), (70, 30, 20, 10), (70, 45, 30, 10)]


def test_text_measures_itself_so_the_container_follows_its_copy() -> None:
    # GIVEN a column holding a text (measured: 10 px per character, wrapped, 12 px per line) and a square
    def fake(layer: Any, max_w: float, max_h: float) -> tuple[float, float]:
        chars = len(layer.text)
        per_line = max(1, int(max_w // 10)) if math.isfinite(max_w) else chars
        return min(chars, per_line) * 10, math.ceil(chars / per_line) * 12

    def column(copy: str) -> ContainerLayer:
        return box({"direction": "column", "align_items": "start", "children": [
            {"type": "text", "text": copy, "font": "body", "size": 12}, square(10, 10)]})  # fmt: skip

    # WHEN the copy needs one line, then three
    short, long = boxes(column("x" * 15), measure=fake), boxes(column("x" * 45), measure=fake)

    # THEN the text's box follows its copy and the square moves down with it
    assert short == [(0, 0, 150, 12), (0, 12, 10, 10)]
    assert long == [(0, 0, 200, 36), (0, 36, 10, 10)]


def test_invisible_children_take_no_room() -> None:
    c = box({"align_items": "start", "children": [{**square(30, 20), "visible": False}, square(40, 10)]})
    assert boxes(c) == [(0, 0, 40, 10)]


# --------------------------------------------------------------------------------------- mirroring


def test_rtl_row_mirrors_with_start_on_the_right() -> None:
    c = box({"gap": 10, "padding": [0, 0, 0, 20], "align_items": "start", "children": [square(30, 20), square(40, 10)]})
    # the first child is at the start: on the right, after the start padding
    assert boxes(c, rtl=True) == [(150, 0, 30, 20), (100, 0, 40, 10)]


def test_a_layer_that_opts_out_keeps_its_left_to_right_place() -> None:
    c = box({"gap": 10, "align_items": "start",
             "children": [square(30, 20, mirror=False), square(40, 10)]})  # fmt: skip
    ltr, rtl = boxes(c), boxes(c, rtl=True)
    assert rtl[0] == ltr[0] == (0, 0, 30, 20)
    assert rtl[1] == (120, 0, 40, 10)  # the other child mirrors: 200 - 40 - 40


def _trees() -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.builds(
        lambda w, h, grow, m: square(w, h, grow=grow, mirror=m),
        st.integers(0, 60), st.integers(0, 40), st.sampled_from([0, 1, 2]), st.booleans(),
    )  # fmt: skip

    def container(children: st.SearchStrategy[list[dict[str, Any]]]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda kids, direction, gap, justify, align, wrap, m: {
                "type": "container", "direction": direction, "gap": gap, "justify_content": justify,
                "align_items": align, "wrap": wrap, "children": kids, "flex": {"mirror": m},
            },
            children, st.sampled_from(["row", "column", "row-reverse", "column-reverse"]), st.integers(0, 12),
            st.sampled_from(["start", "end", "center", "space-between"]),
            st.sampled_from(["start", "end", "center", "stretch"]), st.booleans(), st.booleans(),
        )  # fmt: skip

    return st.recursive(leaf, lambda kids: container(st.lists(kids, min_size=1, max_size=4)), max_leaves=8).filter(
        lambda t: t["type"] == "container"
    )


def _all_mirror(placed: Placed) -> bool:
    return all(c.mirror and _all_mirror(c) for c in placed.children)


@settings(max_examples=60, deadline=None)
@given(_trees())
def test_mirroring_twice_is_identity_and_once_is_a_reflection(tree: dict[str, Any]) -> None:
    # GIVEN any container tree laid out left to right
    c = ContainerLayer.model_validate({**tree, "box": [7, 3, 240, 160]})
    placed = lay_out(c, c.box, no_text)

    # THEN mirroring twice gives it back
    assert mirror(mirror(placed)) == placed
    # AND where nothing opts out, the right-to-left layout is the left-to-right one reflected in the box
    if _all_mirror(placed):
        ltr, rtl = list(leaves(placed)), list(leaves(mirror(placed)))
        reflected = [(2 * 7 + 240 - x - w, y, w, h) for _, (x, y, w, h) in ltr]
        assert [b for _, b in rtl] == reflected


# ----------------------------------------------------------------------- real text in a container


def _card_scene(headline: str, locale: str) -> tuple[ContainerLayer, Scene]:
    card = CASES[f"container-{'ar' if locale == 'ar' else 'en'}"].layers[0]  # type: ignore[union-attr]
    column = card.children[1]
    text = column.children[0].model_copy(update={"text": None, "slot": "headline"})
    column = column.model_copy(update={"children": [text, column.children[1]]})
    return card.model_copy(update={"children": [card.children[0], column]}), make_scene(
        locale=locale, texts={"headline": headline}
    )


MAX_CHARS = 60


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz WXYZ0123456789%,.!"), min_size=1, max_size=MAX_CHARS),
    st.sampled_from(["en", "ar"]),
)
def test_any_copy_within_max_chars_stays_inside_its_container(headline: str, locale: str) -> None:
    # GIVEN the golden card with a headline of any length up to its max_chars
    card, scene = _card_scene(headline, locale)

    def measured(layer: Any, w: float, h: float) -> tuple[int, int]:
        return measure(layer, scene, w, h)

    # WHEN laid out with the real line layout
    placed = place(card, measured, rtl=scene.rtl)

    # THEN every layer is inside the card, and the drawn text fits the box it got
    x, y, w, h = card.box
    for layer, (bx, by, bw, bh) in placed:
        assert x <= bx and y <= by and bx + bw <= x + w and by + bh <= y + h, (layer.type, (bx, by, bw, bh))
        if isinstance(layer, TextLayer) and bw and bh:
            lay = text_layout(layer.model_copy(update={"box": (bx, by, bw, bh)}), scene)
            assert lay is None or (lay.width <= bw and lay.height <= bh)


def test_a_longer_headline_pushes_the_button_down() -> None:
    card, scene = _card_scene("Sale", "en")
    long_card, long_scene = _card_scene("Winter gear, thirty percent off, this week only", "en")

    def button_y(c: ContainerLayer, s: Scene) -> int:
        found = place(c, lambda layer, w, h: measure(layer, s, w, h), rtl=False)
        return next(b[1] for layer, b in found if layer.type == "button")

    assert button_y(long_card, long_scene) > button_y(card, scene)


# ------------------------------------------------------------------------------- pack and rules


def _container_pack(small_pack: Callable[..., dict[str, Any]], children: list[dict[str, Any]]) -> dict[str, Any]:
    return small_pack(
        layers=[
            {"id": "bg", "type": "background", "fill": "paper"},
            {"id": "row", "type": "container", "box": [0, 0, 300, 100], "padding": 8, "gap": 8, "children": children},
        ]
    )


def test_loader_locates_problems_inside_containers(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN a container whose children name an unknown font, an unknown colour, a missing slot, and
    # one that gives a box its container owns
    data = _container_pack(small_pack, [
        {"type": "text", "slot": "title", "font": "bodyy", "size": 20},
        {"type": "container", "children": [{"type": "button", "slot": "nope", "font": "body", "fill": "inky"}]},
    ])  # fmt: skip
    found = problems(make_pack(data))
    assert "pack.yaml: creatives.promo.layers['row'].children[0].font: unknown font 'bodyy'; did you mean 'body'? (known: body)" in found
    assert any(p.startswith("pack.yaml: creatives.promo.layers['row'].children[1].children[0].fill: unknown colour") for p in found)
    assert any(p.startswith("pack.yaml: creatives.promo.layers['row'].children[1].children[0].slot:") for p in found)

    boxed = _container_pack(small_pack, [{"type": "shape", "box": [0, 0, 10, 10], "fill": "ink"}])
    assert problems(make_pack(boxed, "boxed")) == [
        "pack.yaml: creatives.promo.layers['row'].children[0].box: its container places it; size it with flex: instead"
    ]
    wrong = _container_pack(small_pack, [{"type": "background", "fill": "ink"}, {"type": "shape", "flex": {"grow": "x"}}])
    found = problems(make_pack(wrong, "wrong"))
    assert any(p.startswith("pack.yaml: creatives.promo.layers['row'].children[0]") for p in found), found
    assert any(p.startswith("pack.yaml: creatives.promo.layers['row'].children[1].flex.grow:") for p in found), found


def test_a_top_level_layer_without_a_box_is_an_error(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    data = small_pack(layers=[{"type": "shape", "fill": "ink"}])
    assert problems(make_pack(data)) == [
        "pack.yaml: creatives.promo.layers[0].box: a layer outside a container needs a box [x, y, w, h]"
    ]


def test_rules_set_fields_of_layers_inside_containers(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path], simulate: Callable[..., Any]
) -> None:
    # GIVEN a rule that changes a child's size and hides another child, by id
    data = _container_pack(small_pack, [
        {"id": "title", "type": "text", "slot": "title", "font": "body", "size": 20},
        {"type": "container", "children": [{"id": "cta", "type": "button", "slot": "cta", "font": "body"}]},
    ])  # fmt: skip
    data["creatives"]["promo"]["rules"] = [
        {"id": "de", "when": {"lang": "de"}, "set": {"layers.title.size": 14, "layers.cta.visible": False}}
    ]
    pack = load_pack(make_pack(data), checks=PACK_CHECKS)
    from datetime import UTC, datetime

    ctx = simulate(pack.model, "promo", datetime(2026, 1, 1, tzinfo=UTC), lang="de")
    row = decide(pack.model, "promo", ctx).layers[1]
    assert row.children[0].size == (14, 14)
    assert row.children[1].children[0].visible is False
    # AND a rule may not move a child by its box
    data["creatives"]["promo"]["rules"][0]["set"] = {"layers.cta.box": [0, 0, 10, 10]}
    assert problems(make_pack(data, "moved")) == [
        "pack.yaml: creatives.promo.rules['de'].set.layers.cta.box: its container places it: set its flex instead"
    ]


def problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def test_the_schema_accepts_containers_as_the_loader_does(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import json

    from versa.cli.main import pack_json_schema

    # GIVEN a pack with nested containers using each padding shorthand and a flex block
    data = _container_pack(small_pack, [
        {"type": "text", "slot": "title", "font": "body", "size": [12, 20], "flex": {"grow": 1, "mirror": False}},
        {"type": "container", "direction": "column", "padding": [4, 8], "children": [
            {"type": "button", "slot": "cta", "font": "body"},
            {"type": "container", "padding": [1, 2, 3, 4], "children": [{"type": "shape", "fill": "ink"}]},
        ]},
    ])  # fmt: skip
    load_pack(make_pack(data), checks=PACK_CHECKS)  # the loader accepts it

    # THEN so does the schema `versa schema` prints, and it still refuses an unknown flex field
    schema = json.loads(json.dumps(pack_json_schema()))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data)) == []
    data["creatives"]["promo"]["layers"][1]["children"][0]["flex"]["grows"] = 1
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data))


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        FlexItem,
        grow=st.sampled_from([0, 1, 2.5]), shrink=st.sampled_from([0, 1]),
        basis=st.none() | st.integers(0, 300), width=st.none() | st.integers(0, 300),
        height=st.none() | st.integers(0, 300), min_width=st.none() | st.integers(0, 50),
        max_height=st.none() | st.integers(0, 400),
        align_self=st.sampled_from(["auto", "start", "end", "center", "stretch"]),
    ),
    st.none() | st.tuples(
        st.sampled_from(["row", "column", "row-reverse", "column-reverse"]), st.booleans(), st.integers(0, 20),
        st.tuples(*[st.integers(0, 20)] * 4), st.sampled_from(["start", "end", "center", "stretch"]),
        st.sampled_from(["start", "end", "center", "space-between", "space-around", "space-evenly"]),
    ),
)  # fmt: skip
def test_style_dicts_are_what_stretchables_style_builds(flex: FlexItem, flow: Any) -> None:
    # GIVEN item and container properties, WHEN written as Taffy's style dict directly,
    # THEN the dict is the one stretchable's own Style builds (a stretchable upgrade that changes it fails here)
    import json

    from stretchable import Style

    from versa.render.layout import _flow_style, _item_style, _style

    fields = {**_item_style(flex), **(_flow_style(flow) if flow else {})}
    expected = Style(**{k: _from_dict(v) for k, v in fields.items()}).to_dict()
    assert json.dumps(_style(flex, flow, None), sort_keys=True) == json.dumps(expected, sort_keys=True)


def _from_dict(value: Any) -> Any:
    """A style value as stretchable's Style takes it (Lengths, Size/Rect tuples) from its dict form."""
    from stretchable.style import AUTO, PT

    if isinstance(value, dict) and "dim" in value:
        return AUTO if math.isnan(value["value"]) else value["value"] * PT
    if isinstance(value, dict) and set(value) == {"width", "height"}:
        return (_from_dict(value["width"]), _from_dict(value["height"]))
    if isinstance(value, dict) and set(value) == {"top", "right", "bottom", "left"}:
        return tuple(_from_dict(value[k]) for k in ("top", "right", "bottom", "left"))
    return value


# --------------------------------------------------------------------------------- whole renders


def _render(root: Path, simulate: Callable[..., Any], lang: str, **query: str) -> Any:
    from datetime import UTC, datetime

    from versa.composition import build_renderer
    from versa.settings import Settings

    pack = load_pack(root, checks=PACK_CHECKS)
    ctx = simulate(pack.model, "promo", datetime(2026, 1, 1, tzinfo=UTC), lang=lang, **query)
    decision = decide(pack.model, "promo", ctx)
    renderer = build_renderer(Settings())
    return renderer.render(pack, decision, texts={}, params=ctx.params, fmt="png", width=None, dpr=1.0,
                           now=ctx.now, tz=ctx.tz)  # fmt: skip


def test_an_arabic_render_is_the_english_one_mirrored_without_a_hand_written_box(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path], simulate: Callable[..., Any]
) -> None:
    import io

    from PIL import Image, ImageChops, ImageOps

    # GIVEN a creative whose only boxes are its container's: coloured blocks (token colours) in a row
    data = small_pack(locales=("en", "ar"), layers=[
        {"type": "background", "fill": "paper"},
        {"type": "container", "box": [0, 0, 300, 100], "padding": [10, 30, 10, 10], "gap": 10,
         "align_items": "start", "children": [
            {"type": "shape", "fill": "ink", "flex": {"width": 40, "height": 60}},
            {"type": "container", "direction": "column", "gap": 5, "flex": {"grow": 1}, "children": [
                {"type": "shape", "fill": "accent", "flex": {"height": 20}},
                {"type": "shape", "fill": "ink", "flex": {"width": 50, "height": 20}},
            ]},
        ]},
    ])  # fmt: skip
    root = make_pack(data)

    # WHEN it is rendered in English and in Arabic
    en, ar = (Image.open(io.BytesIO(_render(root, simulate, lang).body)).convert("RGB") for lang in ("en", "ar"))

    # THEN the Arabic image is the English one mirrored, pixel for pixel, and not the same image
    assert ImageChops.difference(ImageOps.mirror(en), ar).getbbox() is None
    assert ImageChops.difference(en, ar).getbbox() is not None


def test_a_parameter_read_inside_a_container_keys_the_render(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path], simulate: Callable[..., Any]
) -> None:
    # GIVEN a text inside a container that shows a declared parameter
    data = small_pack(params={"name": {"type": "text", "default": "you"}}, layers=[
        {"type": "background", "fill": "paper"},
        {"type": "container", "box": [0, 0, 300, 100], "children": [
            {"type": "text", "text": "Hi {{ name }}", "font": "body", "size": [12, 24], "color": "ink"}]},
    ])  # fmt: skip
    root = make_pack(data)

    # WHEN rendered for two values of it, THEN the renders differ, and so do their keys
    one, two = _render(root, simulate, "en", name="Ana"), _render(root, simulate, "en", name="Bartholomew")
    assert one.body != two.body and one.render_key != two.render_key


def test_layers_outside_containers_dump_as_before_so_design_keys_keep() -> None:
    # GIVEN a layer with no flex block and one with; WHEN dumped (what design keys hash)
    from versa.pack.model import ShapeLayer

    plain = ShapeLayer(type="shape", box=(0, 0, 10, 10)).model_dump(mode="json")
    flexed = ShapeLayer(type="shape", flex={"grow": 1}).model_dump(mode="json")
    # THEN only the one that sits in a container carries flex
    assert "flex" not in plain and flexed["flex"]["grow"] == 1
