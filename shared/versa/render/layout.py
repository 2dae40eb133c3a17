"""Flexbox layout of container layers: a pure function from a container, the box it fills and a way
to measure content, to the box of every layer inside it.

The engine is Taffy (through `stretchable`), so the rules are CSS flexbox's. Layout runs left to
right in creative pixels (dpr 1) with integer rounding; a right-to-left locale then mirrors every
container's children inside it (`mirror`), except layers whose `flex.mirror` is false, which keep
the place and the inner order a left-to-right layout gives them. Mirroring is a reflection of each
child inside its parent, so applying it twice gives the original layout back.

Text and buttons measure themselves through the `Measure` callback (the renderer passes the line
layout, so a container grows and shrinks with its copy); other leaves take their `flex` sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from stretchable import Node, Style
from stretchable.style import (
    AUTO,
    PT,
    AlignContent,
    AlignItems,
    AlignSelf,
    FlexDirection,
    FlexWrap,
    JustifyContent,
)
from stretchable.style.geometry.length import AvailableSpace
from stretchable.style.geometry.size import SizePoints

from versa.pack.model import ButtonLayer, ContainerLayer, FlexItem, TextLayer

Measure = Callable[[Any, float, float], tuple[float, float]]
"""`measure(layer, max_width, max_height) -> (width, height)`: the size a text or button layer needs
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
_MEASURED = (TextLayer, ButtonLayer)


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


def _pt(value: int | None) -> Any:
    return AUTO if value is None else float(value) * PT


def _space(length: Any, *, inline: bool) -> float:
    """The room an available-space length gives: its points when definite; for a min-content width
    nothing (a text can shrink to any width: it re-fits its size, wraps and ends with an ellipsis, so
    it never pushes its neighbours out); otherwise unbounded."""
    scale = getattr(length, "scale", None)
    if scale == AvailableSpace.DEFINITE:
        return float(length.value)
    if scale == AvailableSpace.MIN_CONTENT and inline:
        return 0.0
    return math.inf


def _style(layer: Any, flex: FlexItem) -> dict[str, Any]:
    return {
        "flex_grow": float(flex.grow),
        "flex_shrink": float(flex.shrink),
        "flex_basis": _pt(flex.basis),
        "size": (_pt(flex.width), _pt(flex.height)),
        "min_size": (_pt(flex.min_width), _pt(flex.min_height)),
        "max_size": (_pt(flex.max_width), _pt(flex.max_height)),
        "align_self": None if flex.align_self == "auto" else _ALIGN_SELF[flex.align_self],
    }


def _container_style(layer: ContainerLayer) -> dict[str, Any]:
    top, end, bottom, start = layer.padding
    return {
        "flex_direction": _DIRECTIONS[layer.direction],
        "flex_wrap": FlexWrap.WRAP if layer.wrap else FlexWrap.NO_WRAP,
        "gap": float(layer.gap),
        # Laid out left to right: the start side is the left one (a right-to-left locale mirrors after).
        "padding": (float(top), float(end), float(bottom), float(start)),
        "align_items": _ALIGN[layer.align_items],
        "align_content": AlignContent.START,  # wrapped lines stack from the start, a gap apart
        "justify_content": _JUSTIFY[layer.justify_content],
    }


def _node(layer: Any, measure: Measure) -> Node:
    flex = layer.flex or _NO_FLEX
    style = _style(layer, flex)
    if isinstance(layer, ContainerLayer):
        children = [_node(child, measure) for child in layer.children if child.visible]
        return Node(*children, style=Style(**style, **_container_style(layer)))
    if isinstance(layer, _MEASURED):

        def measured(node: Node, known: Any, available: Any) -> SizePoints:
            known_w, known_h = getattr(known.width, "value", math.nan), getattr(known.height, "value", math.nan)
            max_w = known_w if not math.isnan(known_w) else _space(available.width, inline=True)
            max_h = known_h if not math.isnan(known_h) else _space(available.height, inline=False)
            if flex.max_height is not None:
                max_h = min(max_h, flex.max_height)
            if max_w <= 0:
                return SizePoints(0.0, 0.0)
            w, h = measure(layer, max_w, max_h)
            return SizePoints(float(w), float(h))

        return Node(measure=measured, style=Style(**style))
    return Node(style=Style(**style))


def _read(layer: Any, node: Node) -> Placed:
    box = node.get_box(relative=True)
    children: tuple[Placed, ...] = ()
    if isinstance(layer, ContainerLayer):
        visible = [child for child in layer.children if child.visible]
        children = tuple(_read(child, sub) for child, sub in zip(visible, node, strict=True))
    return Placed(
        layer,
        round(box.x),
        round(box.y),
        max(0, round(box.width)),
        max(0, round(box.height)),
        (layer.flex or _NO_FLEX).mirror,
        children,
    )


def lay_out(container: ContainerLayer, box: Box, measure: Measure) -> Placed:
    """Lay `container` out left to right in `box` (x, y, w, h): the container at `box`, every
    visible layer inside it relative to its parent."""
    x, y, w, h = box
    style = {**_container_style(container), "size": (float(w) * PT, float(h) * PT)}
    root = Node(
        *(_node(child, measure) for child in container.children if child.visible), style=Style(**style)
    )
    root.compute_layout((float(w), float(h)), use_rounding=True)
    placed = _read(container, root)
    return replace(placed, x=x, y=y, width=w, height=h)


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


def leaves(placed: Placed, origin: tuple[int, int] = (0, 0)) -> Iterator[tuple[Any, Box]]:
    """Every non-container layer with its absolute box, in drawing order (document order)."""
    ox, oy = origin
    for child in placed.children:
        x, y = ox + placed.x + child.x, oy + placed.y + child.y
        if isinstance(child.layer, ContainerLayer):
            yield from leaves(replace(child, x=0, y=0), (x, y))
        else:
            yield child.layer, (x, y, child.width, child.height)


def place(container: ContainerLayer, measure: Measure, *, rtl: bool) -> list[tuple[Any, Box]]:
    """The layers `container` draws, each with the absolute box it gets (mirrored when `rtl`)."""
    placed = lay_out(container, container.box, measure)
    return list(leaves(mirror(placed) if rtl else placed))


__all__ = ["Measure", "Placed", "lay_out", "leaves", "mirror", "place"]
