"""Where each drawn layer lands and whether its text fits: the one measure `versa lint` and the copy
guardrails (`versa.generate.guard`) share, so a candidate passes exactly when lint would not warn.

`drawn_boxes` lists the visible layers in drawing order with their boxes, a container's children at the
boxes its flex layout gives them (`versa.render.layers.placed`); `text_fit` lays a text or button
layer's text out as it is drawn (`versa.render.layer_text.text_layout`) and says whether it fits (no
line cut with an ellipsis at the smallest allowed size) and how many lines it takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from versa.pack.model import BackgroundLayer, ButtonLayer, ContainerLayer, TextLayer
from versa.render.layer_text import layer_text, layout, text_layout
from versa.render.layers import placed
from versa.render.scene import Scene

Box = tuple[int, int, int, int]


def drawn_boxes(layers: Iterable[Any], scene: Scene) -> Iterator[tuple[Any, Box, Box | None]]:
    """(layer, box, box of the container it sits in or None) for every visible layer, in drawing order;
    a container's children carry the box its layout gives them."""
    for layer in layers:
        if not getattr(layer, "visible", True):
            continue
        if isinstance(layer, ContainerLayer):
            for child, box in placed(layer, scene):
                if getattr(child, "visible", True) and box[2] > 0 and box[3] > 0:
                    yield child.model_copy(update={"box": box}), box, layer.box
        elif isinstance(layer, BackgroundLayer):
            yield layer, (0, 0, *scene.decision.size), None
        elif hasattr(layer, "box"):
            yield layer, tuple(layer.box), None


@dataclass(frozen=True)
class Fit:
    """How a text layer's text lies in its box: whether it fits uncut, its lines, the font size chosen,
    and whether the box stays inside its container (always True outside one)."""

    fits: bool
    lines: tuple[str, ...]
    size: int
    inside: bool = True
    lines_at_smallest: int = 0
    """Lines the text takes at the layer's smallest allowed font size in the box's width."""


def text_fit(layer: TextLayer | ButtonLayer, box: Box, container: Box | None, scene: Scene) -> Fit | None:
    """The fit of a text or button layer drawn at `box` (None when its text is empty)."""
    lay = text_layout(layer, scene)
    if lay is None:
        return None
    inside = True
    if container is not None:
        cx, cy, cw, ch = container
        x, y, w, h = box
        inside = not (x < cx or y < cy or x + w > cx + cw or y + h > cy + ch)
    return Fit(lay.fits, tuple(line.text for line in lay.lines), lay.size, inside, _lines_at_smallest(layer, box, scene))


def _lines_at_smallest(layer: TextLayer | ButtonLayer, box: Box, scene: Scene) -> int:
    text = layer_text(layer, scene)
    smallest = (layer.size[0], layer.size[0])
    stack = scene.stack(layer.font)
    width = box[2] - (2 * layer.padding[0] if isinstance(layer, ButtonLayer) else 0)
    line_height = layer.line_height if isinstance(layer, TextLayer) else 1.2
    lay = layout(text, stack, smallest, (max(1, width), 4000), scene.lang, line_height=line_height)
    return len(lay.lines)


__all__ = ["Fit", "drawn_boxes", "text_fit"]
