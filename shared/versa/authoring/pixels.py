"""Lint checks that look at what a variant draws rather than at its rules: images enlarged beyond
their pixels at the largest output a request can ask for (`image-upscaled`), boxes running off the
canvas (`off-canvas`), and the colour beneath text over images and gradients, sampled from the layers
drawn under it (`Sampler`, used by `versa.authoring.lint`'s `low-contrast`).

Every check takes the drawn layers of one variant at one size as `versa.authoring.lint._boxes` lists
them: (layer, box, pack.yaml path, container box), in drawing order, boxes in the size's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from PIL import Image

from versa.authoring.contrast import blend, hex_of, luminance_ratio, rgb_luminance, rgba_of
from versa.context.model import DPR_MAX, DPR_MIN
from versa.errors import Issue
from versa.pack.assets import AssetError, open_image, read_pack_file
from versa.pack.loader import PACK_FILE
from versa.pack.model import (
    BackgroundLayer,
    ButtonLayer,
    Creative,
    ImageLayer,
    Pack,
    ShapeLayer,
    TextLayer,
    size_name,
)
from versa.render.encode import MAX_PIXELS, MAX_SIDE
from versa.render.layer_text import layer_text
from versa.render.layers import draw_button, draw_layer, draw_text_layer
from versa.render.paint import LRU, image_weight, scale_box
from versa.render.scene import Scene

Drawn = tuple[Any, tuple[int, int, int, int], str, "tuple[int, int, int, int] | None"]
"""A drawn layer, its box, its path in pack.yaml and the box of the container it sits in (if any)."""


def layer_name(layer: Any) -> str:
    return f"layer {layer.id!r}" if layer.id else f"{layer.type} layer"


# ------------------------------------------------------------------------------------ image-upscaled


def largest_output(creative: Creative, size: tuple[int, int]) -> tuple[int, float, int, int]:
    """The largest output a request may ask of the creative at `size`: (w, dpr, output width, output
    height) over its allowed widths at that size (`Creative.widths_at`), each at the highest dpr the
    renderer accepts there (3, or less where the output caps of `versa.render.encode` bind, as
    `check_dimensions` computes). A deployment's `max_render_work` can refuse animated renders below
    that; still images get it."""
    best = (size[0], 1.0, size[0], size[1])
    for width in creative.widths_at(size):
        height = size[1] * width / size[0]
        fit = min(MAX_SIDE / width, MAX_SIDE / height, math.sqrt(MAX_PIXELS / (width * height)))
        dpr = min(DPR_MAX, math.floor(fit * 100) / 100)
        if dpr < DPR_MIN:
            continue  # this width is refused at any dpr
        out = (width, dpr, round(width * dpr), max(1, round(size[1] * width / size[0] * dpr)))
        if out[2] > best[2]:
            best = out
    return best


class AssetSizes:
    """Pixel sizes of a pack's images, read with the pack's own asset reader, once per lint run."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._sizes: dict[str, tuple[int, int] | None] = {}

    def __call__(self, ref: str) -> tuple[int, int] | None:
        if ref not in self._sizes:
            try:
                self._sizes[ref] = open_image(read_pack_file(self.pack.root, ref)).size
            except (AssetError, OSError):
                self._sizes[ref] = None  # the loader reports unreadable assets
        return self._sizes[ref]


def _fitted_size(box: tuple[int, int], source: tuple[int, int], fit: str) -> tuple[int, int, float]:
    """The size the renderer resizes `source` to for a `box` (`versa.render.layers.fitted`), and the
    factor."""
    ratio = (max if fit == "cover" else min)(box[0] / source[0], box[1] / source[1])
    return max(1, round(source[0] * ratio)), max(1, round(source[1] * ratio)), ratio


def upscaled(
    drawn: Sequence[Drawn], creative: Creative, size: tuple[int, int], assets: AssetSizes
) -> Iterator[tuple[tuple[Any, ...], Issue]]:
    """(dedup key, warning) for every image layer, and background image, that the largest output at
    `size` (`largest_output`) draws from fewer pixels than it needs: the renderer would enlarge it."""
    width, dpr, out_w, out_h = largest_output(creative, size)
    s = out_w / size[0]
    for layer, box, path, _ in drawn:
        if isinstance(layer, ImageLayer):
            ref = layer.asset if layer.asset is not None else creative.visuals[layer.slot or ""].default
            fit, name = layer.fit, layer_name(layer)
            _, _, w, h = scale_box(box, s)
            shown = f"its {box[2]}x{box[3]} box"
        elif isinstance(layer, BackgroundLayer) and layer.image is not None:
            ref, fit, name = layer.image.asset, layer.image.fit, "the background image"
            w, h = out_w, out_h
            shown = "the canvas"
        else:
            continue
        source = assets(ref)
        if source is None:
            continue
        rw, rh, ratio = _fitted_size((w, h), source, fit)
        if rw <= source[0] and rh <= source[1]:
            continue
        yield (
            (path, size, ref),  # once per layer, size and image: boxes differ with each variant's copy
            Issue(
                PACK_FILE,
                path,
                f"image-upscaled: at {size_name(size)} {name} ({ref}, {source[0]}x{source[1]} px) fills {shown} "
                f"({fit}); at w={width} dpr {dpr:g} that is {w}x{h} output px, enlarging the image "
                f"{ratio:.2f}x: it needs at least {rw}x{rh} px",
                "warning",
            ),
        )


# ----------------------------------------------------------------------------------------- off-canvas


def off_canvas(drawn: Sequence[Drawn], size: tuple[int, int], where: str) -> Iterator[tuple[tuple[Any, ...], Issue]]:
    """(dedup key, warning) for every drawn layer whose box runs past an edge of the canvas, or lies
    wholly outside it. The background is the one layer that bleeds (it always fills the canvas);
    every other box must lie on the canvas, as the loader already demands of the boxes written for
    the first size: this finds the rest (other sizes, boxes set by rules, layers placed by containers)."""
    cw, ch = size
    for layer, box, path, _ in drawn:
        if isinstance(layer, BackgroundLayer):
            continue
        x, y, w, h = box
        past = [
            (f"{-x} px past the left edge", x < 0),
            (f"{-y} px past the top edge", y < 0),
            (f"{x + w - cw} px past the right edge", x + w > cw),
            (f"{y + h - ch} px past the bottom edge", y + h > ch),
        ]
        sides = [text for text, crosses in past if crosses]
        if not sides:
            continue
        outside = x >= cw or y >= ch or x + w <= 0 or y + h <= 0
        what = "lies wholly outside" if outside else "runs " + " and ".join(sides) + " of"
        yield (
            (path, size, outside, tuple(crosses for _, crosses in past)),
            Issue(
                PACK_FILE,
                path,
                f"off-canvas: at {where} {layer_name(layer)} (box {list(box)}) {what} the {size_name(size)} canvas",
                "warning",
            ),
        )


# ---------------------------------------------------------------------------------- sampled contrast

_PAINTS_UNDER = (BackgroundLayer, ImageLayer, ShapeLayer, ButtonLayer)
"""What is drawn into the backdrop a text is sampled against: glyphs of other texts and countdowns
(which need a clock) are left out."""

_OPAQUE = 250
"""A cell whose mean alpha is below this shows the page behind the creative: not judged."""


def _touches(a: Sequence[int], b: Sequence[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _describe(layer: Any) -> str:
    if isinstance(layer, BackgroundLayer):
        if layer.gradient is not None:
            return "the background gradient"
        if layer.image is not None:
            return f"the background image {layer.image.asset}"
        return "the background"
    if isinstance(layer, ImageLayer):
        return f"image {layer.id!r}" if layer.id else f"image {layer.asset or layer.slot}"
    if isinstance(layer, ButtonLayer):
        return f"button {layer.id!r}" if layer.id else "its button"
    return f"shape {layer.id!r}" if layer.id else "a shape"


def _beneath_cell(under: Sequence[Drawn], cell: tuple[int, int, int, int]) -> str:
    """What shows in `cell`: the layers touching it from the top down to the first that hides the
    rest (an opaque background, a full-opacity `cover` image or an opaque rectangle covering it)."""
    x, y, w, h = cell
    names: list[str] = []
    for layer, (bx, by, bw, bh), _, _ in reversed(under):
        if not _touches((bx, by, bw, bh), cell):
            continue
        names.append(_describe(layer))
        covers = bx <= x and by <= y and bx + bw >= x + w and by + bh >= y + h
        fill = getattr(layer, "fill", None)
        hides = (
            isinstance(layer, BackgroundLayer)
            or (isinstance(layer, ImageLayer) and layer.fit == "cover" and layer.opacity == 1)
            or (isinstance(layer, ShapeLayer) and layer.shape == "rect" and isinstance(fill, str) and len(fill) <= 7)
        )
        if covers and hides:
            break
    return " over ".join(dict.fromkeys(names))


class Sampler:
    """The painted colour beneath text over images, gradients and translucent or partial fills.

    Method: the layers drawn before the text (backgrounds, images, shapes, buttons; not other texts'
    glyphs nor countdowns) are rendered at scale 1 with the renderer's own drawing code, and the
    text itself is rendered alone to find its ink. The ink's bounding box is cut into square cells
    about half the font size across; in every cell holding ink, the backdrop's pixels are averaged
    (Pillow's box filter, in sRGB) and the text colour (its alpha blended over that average) is
    compared with it by the WCAG 2 formula. The worst cell decides. Cells where the creative is
    transparent (the page shows through) are not judged. Backdrops, ink and results are remembered
    for the lint run, so variants that draw the same pixels are sampled once."""

    def __init__(self) -> None:
        self._backdrops: LRU[tuple[Any, ...], Image.Image] = LRU(
            64, max_weight=64 * 2**20, weigh=image_weight
        )
        self._results: dict[tuple[Any, ...], tuple[float, str, tuple[int, int, int, int], str] | None] = {}

    def worst(
        self, drawn: Sequence[Drawn], n: int, scene: Scene, font_px: int
    ) -> tuple[float, str, tuple[int, int, int, int], str] | None:
        """(ratio, average colour, cell box, what lies beneath) of the worst cell under text layer
        `n` of `drawn`, or None when nothing opaque lies beneath its ink."""
        layer, box = drawn[n][0], drawn[n][1]
        under = [d for d in drawn[:n] if isinstance(d[0], _PAINTS_UNDER) and not isinstance(d[0], TextLayer)]
        if isinstance(layer, ButtonLayer):
            under.append(drawn[n])  # a label sits on its own (translucent) button
        under = [d for d in under if isinstance(d[0], BackgroundLayer) or _touches(d[1], box)]
        if not under:
            return None
        size = scene.decision.size
        backdrop_key = (size, tuple(d[0].model_dump_json() for d in under))
        text = layer_text(layer, scene)
        ink_key = (layer.model_dump_json(), text, scene.decision.fonts.get(layer.font), scene.lang)
        key = (backdrop_key, ink_key)
        if key not in self._results:
            self._results[key] = self._sample(under, layer, scene, backdrop_key, font_px)
        return self._results[key]

    def _backdrop(self, under: Sequence[Drawn], scene: Scene, key: tuple[Any, ...]) -> Image.Image:
        canvas = self._backdrops.get(key)
        if canvas is None:
            canvas = Image.new("RGBA", scene.decision.size, (0, 0, 0, 0))
            for layer, _, _, _ in under:
                if isinstance(layer, ButtonLayer):
                    draw_button(canvas, layer.model_copy(update={"color": "#00000000"}), scene)
                else:
                    draw_layer(canvas, layer, scene)
            canvas = self._backdrops.put(key, canvas)
        return canvas

    def _sample(
        self, under: Sequence[Drawn], layer: Any, scene: Scene, key: tuple[Any, ...], font_px: int
    ) -> tuple[float, str, tuple[int, int, int, int], str] | None:
        ink_canvas = Image.new("RGBA", scene.decision.size, (0, 0, 0, 0))
        if isinstance(layer, ButtonLayer):
            draw_button(ink_canvas, layer.model_copy(update={"fill": "#00000000", "color": "#ffffff"}), scene)
        else:
            draw_text_layer(ink_canvas, layer.model_copy(update={"color": "#ffffff"}), scene)
        ink = ink_canvas.getchannel("A")
        bbox = ink.getbbox()
        if bbox is None:
            return None
        x0, y0, x1, y1 = bbox
        w, h = x1 - x0, y1 - y0
        side = max(4, round(font_px / 2))
        gw, gh = max(1, round(w / side)), max(1, round(h / side))
        backdrop = self._backdrop(under, scene, key).crop(bbox)
        rgb_bytes = backdrop.convert("RGB").resize((gw, gh), Image.Resampling.BOX).tobytes()
        colours = [tuple(rgb_bytes[k : k + 3]) for k in range(0, len(rgb_bytes), 3)]
        alphas = backdrop.getchannel("A").resize((gw, gh), Image.Resampling.BOX).tobytes()
        inked = ink.crop(bbox).resize((gw, gh), Image.Resampling.BOX).tobytes()
        fg = rgba_of(layer.color)
        fg_luminance = rgb_luminance(*fg[:3])
        worst: tuple[float, int] | None = None
        for i, (rgb, alpha, covered) in enumerate(zip(colours, alphas, inked, strict=True)):
            if covered == 0 or alpha < _OPAQUE:
                continue
            text = fg_luminance if fg[3] == 255 else rgb_luminance(*blend(fg, rgb))
            ratio = luminance_ratio(text, rgb_luminance(*rgb))
            if worst is None or ratio < worst[0]:
                worst = (ratio, i)
        if worst is None:
            return None
        ratio, i = worst
        cx, cy = i % gw, i // gw
        left, top = x0 + cx * w // gw, y0 + cy * h // gh
        cell = (left, top, x0 + (cx + 1) * w // gw - left, y0 + (cy + 1) * h // gh - top)
        return ratio, hex_of(colours[i]), cell, _beneath_cell(under, cell)


__all__ = ["AssetSizes", "Drawn", "Sampler", "largest_output", "off_canvas", "upscaled"]
