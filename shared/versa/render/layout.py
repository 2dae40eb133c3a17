"""Flexbox layout of container layers: a pure function from a container, the box it fills and a way
to measure content, to the box of every layer inside it.

The engine is Taffy (through `stretchable`), so the rules are CSS flexbox's. Layout runs left to
right in creative pixels (dpr 1), every edge rounded to the nearest pixel where it lands on the canvas
(so boxes agree with a browser's within a pixel at any depth, and a mirrored layout is exactly the
reflection of the rounded one); a right-to-left locale then mirrors every
container's children inside it (`mirror`), except layers whose `flex.mirror` is false, which keep
the place and the inner order a left-to-right layout gives them. Mirroring is a reflection of each
child inside its parent, so applying it twice gives the original layout back.

Text, buttons and countdowns measure themselves through the `Measure` callback (the renderer passes
the line layout, so a container grows and shrinks with its copy, and a countdown's own sizing); other
leaves take their `flex` sizes.

Styles are described with stretchable's `Style` (built once per distinct item and container
properties, then kept as the plain dict Taffy takes), but the tree is driven through its compiled
`taffylib` module on a Taffy tree of this module's own: stretchable's `Node` wrapper costs several
milliseconds per layout in Python-side conversions and never frees its nodes (its `__del__` is
commented out), while here the nodes of a layout are kept for the next layout of the same
container shape (its measured nodes marked dirty; Taffy keeps unrounded layouts, so a re-layout
equals a fresh one) and dropped when a bounded number of shapes is exceeded. The calls used are the
ones `stretchable.node.Node` makes (pinned to stretchable 1.1.x in pyproject.toml).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from stretchable import Style, taffylib
from stretchable.style import (
    AlignContent,
    AlignItems,
    AlignSelf,
    FlexDirection,
    FlexWrap,
    JustifyContent,
)
from stretchable.style.geometry.length import AvailableSpace, Scale

from versa.pack.model import ButtonLayer, ContainerLayer, CountdownLayer, FlexItem, TextLayer

Measure = Callable[[Any, float, float], tuple[float, float]]
"""`measure(layer, max_width, max_height) -> (width, height)`: the size a text, button or countdown layer needs
when it may be at most that large (`math.inf` when unbounded), in creative pixels."""

Box = tuple[int, int, int, int]

_DIRECTIONS = {
    "row": FlexDirection.ROW,
    "column": FlexDirection.COLUMN,
    "row-reverse": FlexDirection.ROW_REVERSE,
    "column-reverse": FlexDirection.COLUMN_REVERSE,
}
_ALIGN = {"start": AlignItems.START, "end": AlignItems.END, "center": AlignItems.CENTER, "stretch": AlignItems.STRETCH}
_ALIGN_SELF = {
    "start": AlignSelf.START,
    "end": AlignSelf.END,
    "center": AlignSelf.CENTER,
    "stretch": AlignSelf.STRETCH,
}
_JUSTIFY = {
    "start": JustifyContent.START,
    "end": JustifyContent.END,
    "center": JustifyContent.CENTER,
    "space-between": JustifyContent.SPACE_BETWEEN,
    "space-around": JustifyContent.SPACE_AROUND,
    "space-evenly": JustifyContent.SPACE_EVENLY,
}
_NO_FLEX = FlexItem()
_MEASURED = (TextLayer, ButtonLayer, CountdownLayer)


@dataclass(frozen=True)
class Placed:
    """A laid-out layer: its box relative to its parent's box, whether it mirrors, and what it holds."""

    layer: Any
    x: int
    y: int
    width: int
    height: int
    mirror: bool
    children: tuple[Placed, ...] = ()


_AUTO = {"dim": int(Scale.AUTO), "value": math.nan}


def _pt(value: float | None) -> dict[str, float]:
    """A length as Taffy's style dict holds it: points, or auto for None."""
    return dict(_AUTO) if value is None else {"dim": int(Scale.POINTS), "value": float(value)}


def _sides(top: float, right: float, bottom: float, left: float) -> dict[str, dict[str, float]]:
    return {"top": _pt(top), "right": _pt(right), "bottom": _pt(bottom), "left": _pt(left)}


def _space(length: dict[str, float], *, inline: bool) -> float:
    """The room an available-space length (Taffy's `{dim, value}`) gives: its points when definite;
    for a min-content width nothing (a text can shrink to any width: it re-fits its size, wraps and
    ends with an ellipsis, so it never pushes its neighbours out); otherwise unbounded."""
    dim = length.get("dim")
    if dim == AvailableSpace.DEFINITE:
        return float(length["value"])
    if dim == AvailableSpace.MIN_CONTENT and inline:
        return 0.0
    return math.inf


def _item_style(flex: FlexItem) -> dict[str, Any]:
    return {
        "flex_grow": float(flex.grow),
        "flex_shrink": float(flex.shrink),
        "flex_basis": _pt(flex.basis),
        "size": {"width": _pt(flex.width), "height": _pt(flex.height)},
        "min_size": {"width": _pt(flex.min_width), "height": _pt(flex.min_height)},
        "max_size": {"width": _pt(flex.max_width), "height": _pt(flex.max_height)},
        "align_self": None if flex.align_self == "auto" else _ALIGN_SELF[flex.align_self],
    }


_Flow = tuple[str, bool, int, tuple[int, int, int, int], str, str]
"""What a container's own style depends on: direction, wrap, gap, padding, align_items, justify."""


def _flow(layer: ContainerLayer) -> _Flow:
    return (layer.direction, layer.wrap, layer.gap, layer.padding, layer.align_items, layer.justify_content)


def _flow_style(flow: _Flow) -> dict[str, Any]:
    direction, wrap, gap, (top, end, bottom, start), align, justify = flow
    return {
        "flex_direction": _DIRECTIONS[direction],
        "flex_wrap": FlexWrap.WRAP if wrap else FlexWrap.NO_WRAP,
        "gap": {"width": _pt(gap), "height": _pt(gap)},
        # Laid out left to right: the start side is the left one (a right-to-left locale mirrors after).
        "padding": _sides(top, end, bottom, start),
        "align_items": _ALIGN[align],
        "align_content": AlignContent.START,  # wrapped lines stack from the start, a gap apart
        "justify_content": _JUSTIFY[justify],
    }


@functools.cache
def _default_style() -> dict[str, Any]:
    default: dict[str, Any] = Style().to_dict()
    return default


@functools.lru_cache(maxsize=1024)
def _style(flex: FlexItem, flow: _Flow | None, size: tuple[int, int] | None) -> dict[str, Any]:
    """A Taffy style as the dict `taffylib` takes: stretchable's default style with what the layer
    sets written in (converting through its `Style` costs more than a whole layout). Remembered."""
    style = {**_default_style(), **_item_style(flex)}
    if flow is not None:
        style.update(_flow_style(flow))
    if size is not None:
        style["size"] = {"width": _pt(size[0]), "height": _pt(size[1])}
    return style


def clear_styles() -> None:
    """Forget the built Taffy styles and trees (benchmarks that must build everything again)."""
    _style.cache_clear()
    _tree().forget()


_Shape = tuple[Any, ...]
"""What a layout's Taffy nodes depend on: every node's style inputs and which nodes measure, in tree
order (the texts themselves are not part of it: they only reach Taffy through the measure callback)."""

TREES_KEPT = 64
"""How many built Taffy trees (one per distinct container shape and box size) are kept for reuse."""


class _Tree:
    """This module's Taffy tree, created on first use; one layout at a time. It keeps the nodes built
    for the last `TREES_KEPT` container shapes: a container laid out again with other copy marks its
    measured nodes dirty and computes again instead of building every node anew (creating a node
    converts its whole style, which costs more than the layout itself)."""

    def __init__(self) -> None:
        self.ptr: int = taffylib.init()
        taffylib.disable_rounding(self.ptr)  # `_read` rounds, from absolute edges
        self.lock = threading.Lock()
        self.kept: OrderedDict[_Shape, list[int]] = OrderedDict()

    def drop(self, nodes: list[int]) -> None:
        for node in reversed(nodes):
            taffylib.node_drop(self.ptr, node)

    def forget(self) -> None:
        with self.lock:
            while self.kept:
                self.drop(self.kept.popitem()[1])


@functools.cache
def _tree() -> _Tree:
    return _Tree()


def _walk(layer: Any, order: list[Any]) -> _Shape:
    """`layer`'s shape (see `_Shape`), appending `layer` and every visible layer inside it to `order`
    in the order `_build` creates their nodes."""
    order.append(layer)
    if isinstance(layer, ContainerLayer):
        return (_flow(layer), layer.flex, tuple([_walk(c, order) for c in layer.children if c.visible]))
    return (layer.flex, isinstance(layer, _MEASURED))


class _Measurer:
    """Taffy's measure callback for one layout: the measured node's layer, asked through `measure`
    once per distinct (max width, max height) (Taffy asks the same more than once)."""

    __slots__ = ("layers", "measure", "seen")

    def __init__(self, measure: Measure) -> None:
        self.layers: dict[int, TextLayer | ButtonLayer | CountdownLayer] = {}
        self.measure = measure
        self.seen: dict[tuple[int, float, float], tuple[float, float]] = {}

    def __call__(self, known_w: float, known_h: float, avail_w: Any, avail_h: Any, node: int) -> tuple[float, float]:
        layer = self.layers.get(node)
        if layer is None:
            return 0.0, 0.0
        max_w = known_w if not math.isnan(known_w) else _space(avail_w, inline=True)
        max_h = known_h if not math.isnan(known_h) else _space(avail_h, inline=False)
        flex = layer.flex or _NO_FLEX
        if flex.max_height is not None:
            max_h = min(max_h, flex.max_height)
        if max_w <= 0:
            return 0.0, 0.0
        key = (node, max_w, max_h)
        hit = self.seen.get(key)
        if hit is None:
            w, h = self.measure(layer, max_w, max_h)
            hit = self.seen[key] = float(w), float(h)
        return hit


def _build(tree: _Tree, layer: Any, style: dict[str, Any], made: list[int]) -> int:
    node: int = taffylib.node_create(tree.ptr, style)
    made.append(node)
    if isinstance(layer, ContainerLayer):
        for child in layer.children:
            if child.visible:
                flow = _flow(child) if isinstance(child, ContainerLayer) else None
                sub = _build(tree, child, _style(child.flex or _NO_FLEX, flow, None), made)
                taffylib.node_add_child(tree.ptr, node, sub)
    elif isinstance(layer, _MEASURED):
        taffylib.node_set_measure(tree.ptr, node, True)
    return node


def _snap(value: float) -> int:
    """The nearest whole pixel, halves up (as Taffy rounds; Python's `round` goes to even)."""
    return math.floor(value + 0.5)


def _read(
    ptr: int,
    box: Any,
    layer: Any,
    made: list[int],
    at: list[int],
    origin: tuple[float, float],
    snapped: tuple[int, int],
) -> Placed:
    """The laid-out subtree of `layer`, whose node is `made[at[0]]`; `at` walks `made` (creation
    order); `box` is a `PyLayout` to read into. `origin` is the parent's unrounded absolute corner and
    `snapped` its rounded one: every edge is rounded where it lies on the canvas, so a box is never
    more than half a pixel off on any side, however deep, and `mirror` (a reflection of those rounded
    edges) is as exact as the layout. (Taffy's own rounding rounds each position relative to its
    parent, which drifts with depth.)"""
    taffylib.node_get_layout(ptr, made[at[0]], box)
    left, top = origin[0] + box.x, origin[1] + box.y
    right, bottom = left + box.width, top + box.height
    x0, y0, x1, y1 = _snap(left), _snap(top), _snap(right), _snap(bottom)
    children: list[Placed] = []
    if isinstance(layer, ContainerLayer):
        for child in layer.children:
            if child.visible:
                at[0] += 1
                children.append(_read(ptr, box, child, made, at, (left, top), (x0, y0)))
    mirrors = (layer.flex or _NO_FLEX).mirror
    return Placed(layer, x0 - snapped[0], y0 - snapped[1], max(0, x1 - x0), max(0, y1 - y0), mirrors, tuple(children))


def lay_out(container: ContainerLayer, box: Box, measure: Measure) -> Placed:
    """Lay `container` out left to right in `box` (x, y, w, h): the container at `box`, every
    visible layer inside it relative to its parent."""
    x, y, w, h = box
    tree = _tree()
    layers: list[Any] = []
    key = (_walk(container, layers), (w, h))
    callback = _Measurer(measure)

    with tree.lock:
        made = tree.kept.pop(key, None)
        if made is None:
            made = []
            try:
                _build(tree, container, _style(_NO_FLEX, _flow(container), (w, h)), made)
            except BaseException:
                tree.drop(made)
                raise
        tree.kept[key] = made  # the most recently used now
        while len(tree.kept) > TREES_KEPT:
            tree.drop(tree.kept.popitem(last=False)[1])
        for node, layer in zip(made, layers, strict=True):
            if isinstance(layer, _MEASURED):
                callback.layers[node] = layer
                taffylib.node_mark_dirty(tree.ptr, node)  # and its ancestors: its copy may be new
        space = {"width": {"dim": int(AvailableSpace.DEFINITE), "value": float(w)},
                 "height": {"dim": int(AvailableSpace.DEFINITE), "value": float(h)}}  # fmt: skip
        if not taffylib.node_compute_layout_with_measure(tree.ptr, made[0], space, callback):
            raise RuntimeError("the layout engine could not lay the container out")
        placed = _read(tree.ptr, taffylib.PyLayout(), container, made, [0], (0.0, 0.0), (0, 0))
    return Placed(container, x, y, w, h, placed.mirror, placed.children)


def mirror(placed: Placed) -> Placed:
    """The layout as a right-to-left locale shows it: each child reflected inside its parent, except
    the children (and everything inside them) whose `mirror` is false. `mirror(mirror(p)) == p`."""

    def flip(parent_width: int, child: Placed) -> Placed:
        if not child.mirror:
            return child
        return replace(
            child,
            x=parent_width - child.x - child.width,
            children=tuple(flip(child.width, c) for c in child.children),
        )

    return replace(placed, children=tuple(flip(placed.width, c) for c in placed.children))


def leaves(placed: Placed, origin: tuple[int, int] = (0, 0), *, kept: bool = False) -> Iterator[tuple[Any, Box]]:
    """Every non-container layer with its absolute box, in drawing order (document order). With
    `kept`, or inside a container whose `mirror` is false, a layer comes with `flex.mirror` false, so
    what it draws inside its box (a countdown's cells) keeps its left-to-right order too."""
    out: list[tuple[Any, Box]] = []
    _leaves(placed, origin[0] + placed.x, origin[1] + placed.y, kept, out)
    return iter(out)


def _leaves(placed: Placed, ox: int, oy: int, kept: bool, out: list[tuple[Any, Box]]) -> None:
    """Append the leaves under `placed`, whose own top-left corner is at (ox, oy), to `out`."""
    for child in placed.children:
        x, y = ox + child.x, oy + child.y
        if child.children or isinstance(child.layer, ContainerLayer):
            _leaves(child, x, y, kept or not child.mirror, out)
            continue
        layer = child.layer
        if kept and child.mirror:
            flex = (layer.flex or _NO_FLEX).model_copy(update={"mirror": False})
            layer = layer.model_copy(update={"flex": flex})
        out.append((layer, (x, y, child.width, child.height)))


def place(container: ContainerLayer, measure: Measure, *, rtl: bool) -> list[tuple[Any, Box]]:
    """The layers `container` draws, each with the absolute box it gets (mirrored when `rtl`)."""
    placed = lay_out(container, container.box, measure)
    out: list[tuple[Any, Box]] = []
    _leaves(mirror(placed) if rtl else placed, placed.x, placed.y, False, out)
    return out


__all__ = ["Measure", "Placed", "clear_styles", "lay_out", "leaves", "mirror", "place"]
