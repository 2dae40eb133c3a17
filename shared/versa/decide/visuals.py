"""Visual slots as a decision needs them: the aspect class a slot is painted in at a size, the visual key
a scene is stored under, and each slot's reference (key, default image, vary values). Pure.

A visual slot is painted once per aspect class (`versa.ports.ASPECTS`: square, landscape, portrait),
never once per size: the size an image layer has at a creative size picks the nearest class, and the
renderer crops the class's scene to the layer's box around the slot's focal point.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from versa.pack.model import (
    PLACED_BY_CONTAINER,
    ButtonLayer,
    Creative,
    ImageLayer,
    ShapeLayer,
    TextLayer,
    VisualSpec,
    VisualStyle,
    walk_children,
)

ASPECT_RATIOS: Mapping[str, float] = {"square": 1.0, "landscape": 3 / 2, "portrait": 2 / 3}
"""Width over height of each aspect class (the image models' 1:1, 3:2 and 2:3 outputs), in the order of
`versa.ports.ASPECTS` (not imported: the ports import the decision; a test checks they agree)."""
ASPECTS = tuple(ASPECT_RATIOS)
VISUAL_PREFIX = "visual:"
"""How a visual slot's value travels among a render's texts (`visual:hero`): copy slot names cannot
hold a colon, so the two never collide, and the render key covers both."""


def aspect_class(size: tuple[int, int]) -> str:
    """The aspect class nearest `size` (width, height), by the ratio's logarithm (so 2:1 is as far
    from 1:1 as 1:2 is)."""
    w, h = size
    ratio = math.log(max(w, 1) / max(h, 1))
    return min(ASPECTS, key=lambda a: (abs(ratio - math.log(ASPECT_RATIOS[a])), ASPECTS.index(a)))


def visual_key(
    brand: str, slot: str, spec: VisualSpec, style: VisualStyle | None, vary: Mapping[str, str], aspect: str
) -> str:
    """Hash of what determines a painted scene: the brief and its settings (not `review` or `ttl`), the
    brand's style, the vary_by values and the aspect class (plus brand and slot). Not the pack version:
    a publish that keeps the brief keeps its scenes. The model is added by `generation_key`."""
    payload: dict[str, Any] = {
        "visual": [brand, slot],
        "spec": spec.model_dump(mode="json", exclude={"vary_by", "review", "ttl"}),
        "style": style.model_dump(mode="json") if style else None,
        "vary": dict(vary),
        "aspect": aspect,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]  # as every key: 8 bytes of a SHA-256


def slot_layers(layers: Iterable[Any]) -> Iterable[ImageLayer]:
    """Every image layer among `layers` (containers walked) that names a visual slot, in drawing order."""
    for layer in layers:
        for item in (layer, *(child for _, child in walk_children(layer, ""))):
            if isinstance(item, ImageLayer) and item.slot is not None:
                yield item




PRODUCT_Y = 0.62
"""Where a derived focal point puts the product's centre, as a fraction of the scene's height: a little
below the middle, standing on the ground a scene is painted with."""
_CANDIDATE_X = (0.5, 0.3, 0.7, 0.22, 0.78)


def slot_focus(creative: Creative, slot: str) -> tuple[float, float]:
    """The focal point of a visual slot's scenes ([x, y] fractions): where the product is composited
    and what every size crops around. The slot's declared `focus`, else derived from the creative at its
    first size: across the first image layer drawing the slot, the column (centre, then thirds, then
    fifths) that text, buttons and panels (shapes smaller than half the image) with boxes of their own
    overlap least, at `PRODUCT_Y`."""
    visual = creative.visuals.get(slot)
    spec = visual.generate if visual else None
    if spec is not None and spec.focus is not None:
        return (float(spec.focus[0]), float(spec.focus[1]))
    image = next((layer for layer in slot_layers(creative.layers) if layer.slot == slot), None)
    if image is None or image.box == PLACED_BY_CONTAINER:
        return (0.5, PRODUCT_Y)
    ix, iy, iw, ih = image.box
    half = (spec.product_height if spec else 0.35) * ih * 0.35  # about half a product's width
    covered: list[tuple[int, int, int, int]] = [
        layer.box for layer in creative.layers
        if (isinstance(layer, TextLayer | ButtonLayer)
            or (isinstance(layer, ShapeLayer) and layer.box[2] * layer.box[3] < iw * ih / 2))  # a panel
        and layer.box != PLACED_BY_CONTAINER
    ]

    def overlap(x: float) -> float:
        left, right = ix + x * iw - half, ix + x * iw + half
        return sum(max(0.0, min(right, bx + bw) - max(left, bx)) * max(0, min(iy + ih, by + bh) - max(iy, by))
                   for bx, by, bw, bh in covered)

    best = min(_CANDIDATE_X, key=lambda x: (overlap(x), _CANDIDATE_X.index(x)))
    return (best, PRODUCT_Y)


__all__ = ["ASPECT_RATIOS", "VISUAL_PREFIX", "aspect_class", "slot_focus", "slot_layers", "visual_key"]
