"""Drawing layers onto an RGBA canvas at a scale factor.

`s` (`Scene.scale`) is the output width over the creative width, times the dpr. Every box, radius,
padding and font size is multiplied by `s` and text is laid out again at the scaled size, so a dpr-2
render is sharp rather than an upscaled bitmap. Anti-aliased shapes (rounded corners, ellipses,
borders) are drawn as masks at 4x and reduced.

Work that depends only on the pack and the output size is cached per process: decoded assets (by pack
root, asset and pack version), resized and masked image patches, whole background images and
container layouts here;
font stacks in `versa.render.scene`'s `FontBook`; masks and colours in `versa.render.paint`, text layouts and compiled text templates in
`versa.render.layer_text` (this module re-exports the names of both that it used to define). Images
handed out by a cache are shared: callers copy before they mutate.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from PIL import Image, ImageChops

from versa.decide.visuals import VISUAL_PREFIX, slot_focus
from versa.errors import RenderError
from versa.pack.assets import AssetError, open_image, read_pack_file
from versa.pack.model import (
    BackgroundLayer,
    ButtonLayer,
    ContainerLayer,
    CountdownLayer,
    Fit,
    ImageLayer,
    Pack,
    ShapeLayer,
    TextLayer,
)
from versa.ports import AssetMissing, AssetStore, StoreUnavailable
from versa.render.countdown import countdown_size
from versa.render.layer_text import (
    clear_layouts,
    compiled,
    layer_text,
    layout,
    measure,
    params_read,
    template_vars,
    text_layout,
)
from versa.render.paint import (
    LRU,
    composite,
    fill_rect,
    gradient_image,
    image_weight,
    paint,
    rgba,
    ring_mask,
    round_mask,
    scale_box,
    scale_size,
)
from versa.render.scene import FontBook, Scene
from versa.render.text import clear_shaping_cache, draw_text

GENERATED_PREFIX = "generated/"
"""How a generated asset key starts (`versa.ports.AssetStore.key_for`); a pack asset never does."""
_DECODED: LRU[tuple[str, str, str], Image.Image] = LRU(256, max_weight=96 * 2**20, weigh=image_weight)
_PATCHES: LRU[tuple[Any, ...], tuple[Image.Image, int, int]] = LRU(
    512, max_weight=96 * 2**20, weigh=lambda p: image_weight(p[0])
)
_PLACED: LRU[tuple[Any, ...], list[tuple[Any, tuple[int, int, int, int]]]] = LRU(256)
_BACKGROUNDS: LRU[tuple[Any, ...], tuple[Image.Image, bool]] = LRU(
    32, max_weight=128 * 2**20, weigh=lambda b: image_weight(b[0])
)


# ------------------------------------------------------------------------------------------ assets


def decoded(pack: Pack, ref: str, assets: AssetStore | None = None) -> Image.Image:
    """A pack image decoded to RGBA, once per (pack root, asset, pack version) per process; with `assets`,
    `ref` is a generated asset key (immutable) read from that store once per key, through the same
    decoder and caps (formats, pixels, decompression bombs)."""
    generated = assets is not None
    key = ("generated", ref, "") if generated else (str(pack.root), ref, pack.version)
    image = _DECODED.get(key)
    if image is None:
        try:
            # A pack file is read with no link followed, even one planted after the pack loaded.
            data = assets.get(ref) if assets is not None else read_pack_file(pack.root, ref)
            source = open_image(data)
        except (AssetError, OSError, AssetMissing, StoreUnavailable) as exc:
            raise RenderError(f"asset {ref!r} of pack {pack.brand!r}: {exc}") from exc
        image = _DECODED.put(key, source.convert("RGBA"))
    return image


def fitted(
    pack: Pack, ref: str, size: tuple[int, int], fit: Fit, focus: tuple[float, float] = (0.5, 0.5),
    assets: AssetStore | None = None,
) -> tuple[Image.Image, int, int]:
    """The asset resized to fill (`cover`, cropped around `focus`) or fit (`contain`, placed by
    `focus`) a w x h box: (patch, dx, dy) with the patch's offset inside the box. Cached. With `assets`,
    `ref` is a generated asset key read from that store (see `decoded`)."""
    key = ("fit", str(pack.root), pack.version, ref, size, fit, focus, assets is not None)
    hit = _PATCHES.get(key)
    if hit is not None:
        return hit
    source = decoded(pack, ref, assets)
    w, h = size
    ratio = (max if fit == "cover" else min)(w / source.width, h / source.height)
    rw, rh = max(1, round(source.width * ratio)), max(1, round(source.height * ratio))
    resized = source.convert("RGBa").resize((rw, rh), Image.Resampling.LANCZOS).convert("RGBA")
    if fit == "cover":
        left = min(max(0, round(focus[0] * rw - w / 2)), rw - w)
        top = min(max(0, round(focus[1] * rh - h / 2)), rh - h)
        result = (resized.crop((left, top, left + w, top + h)), 0, 0)
    else:
        result = (resized, round((w - rw) * focus[0]), round((h - rh) * focus[1]))
    return _PATCHES.put(key, result)


def image_source(layer: ImageLayer, scene: Scene) -> tuple[str, tuple[float, float], bool]:
    """What an image layer draws, the focus it crops around and whether it is a generated asset: its
    pack asset; for a visual slot, the value the render was handed when it is a generated asset key
    (cropped around the slot's focal point, where the product stands), else the slot's default image
    (around the layer's own focus). Raises RenderError for a generated scene without an asset store."""
    if layer.asset is not None:
        return layer.asset, layer.focus, False
    slot = layer.slot or ""
    creative = scene.pack.model.creative(scene.decision.creative)
    ref = scene.texts.get(VISUAL_PREFIX + slot)
    if ref and ref.startswith(GENERATED_PREFIX):
        if scene.assets is None:
            raise RenderError(f"visual slot {slot!r}: no asset store to read {ref!r} from")
        return ref, slot_focus(creative, slot), True
    return creative.visuals[slot].default, layer.focus, False


# -------------------------------------------------------------------------------------- background


def _background(layer: BackgroundLayer, scene: Scene, size: tuple[int, int]) -> Image.Image:
    if layer.gradient is not None:
        return gradient_image(size, layer.gradient)
    if layer.image is not None:
        out = Image.new("RGBA", size, (0, 0, 0, 0))
        patch, dx, dy = fitted(scene.pack, layer.image.asset, size, layer.image.fit, layer.image.focus)
        composite(out, patch, (dx, dy))
        return out
    return Image.new("RGBA", size, rgba(layer.fill or "#00000000"))


def opaque_background(layer: Any) -> bool:
    """True when `layer` is a background that covers the canvas with opaque colour (the renderer then
    draws on an RGB canvas, which is faster and encodes without an alpha channel)."""
    if not isinstance(layer, BackgroundLayer):
        return False
    if layer.fill is not None:
        return rgba(layer.fill)[3] == 255
    if layer.gradient is not None:
        return all(rgba(stop.color)[3] == 255 for stop in layer.gradient.stops)
    return False


def draw_background(canvas: Image.Image, layer: BackgroundLayer, scene: Scene) -> None:
    """Fill, gradient or image over the whole canvas (built once per design and size, then reused)."""
    if layer.fill is not None and rgba(layer.fill)[3] == 255:
        fill_rect(canvas, (0, 0, *canvas.size), rgba(layer.fill))
        return
    key = (str(scene.pack.root), scene.pack.version, layer.model_dump_json(), canvas.size)
    hit = _BACKGROUNDS.get(key)
    if hit is None:
        image = _background(layer, scene, canvas.size)
        opaque = image.getchannel("A").getextrema() == (255, 255)
        hit = _BACKGROUNDS.put(key, (image.convert("RGB") if opaque else image, opaque))
    image, opaque = hit
    if opaque:
        canvas.paste(image)  # covers everything below it
    else:
        composite(canvas, image, (0, 0))


# ------------------------------------------------------------------------------------------- image


def draw_image(canvas: Image.Image, layer: ImageLayer, scene: Scene) -> None:
    """A pack image (or a visual slot's scene, see `image_source`) fitted into its box (`cover` crops
    around its focus), with rounded corners and opacity."""
    x, y, w, h = scale_box(layer.box, scene.scale)
    radius = round(layer.radius * scene.scale)
    ref, focus, generated = image_source(layer, scene)
    key = (
        "image",
        str(scene.pack.root),
        scene.pack.version,
        ref,
        generated,
        (w, h),
        layer.fit,
        focus,
        radius,
        layer.opacity,
    )
    hit = _PATCHES.get(key)
    if hit is None:
        patch, dx, dy = fitted(scene.pack, ref, (w, h), layer.fit, focus, scene.assets if generated else None)
        if radius > 0 or layer.opacity < 1:
            alpha = patch.getchannel("A")
            if radius > 0:
                alpha = ImageChops.multiply(alpha, round_mask(patch.width, patch.height, radius))
            if layer.opacity < 1:
                alpha = alpha.point([round(v * layer.opacity) for v in range(256)])
            patch = patch.copy()
            patch.putalpha(alpha)
        hit = _PATCHES.put(key, (patch, dx, dy))
    patch, dx, dy = hit
    composite(canvas, patch, (x + dx, y + dy))


# -------------------------------------------------------------------------------------------- text


def draw_text_layer(canvas: Image.Image, layer: TextLayer, scene: Scene) -> None:
    """Text auto-fitted to its box (size range, max lines, ellipsis), aligned and coloured."""
    lay = text_layout(layer, scene)
    if lay is not None:
        box = scale_box(layer.box, scene.scale)
        align, color = scene.side(layer.align), rgba(layer.color)
        draw_text(canvas, lay, box=box, align=align, valign=layer.valign, color=color)


def draw_button(canvas: Image.Image, layer: ButtonLayer, scene: Scene) -> None:
    """A rounded, anti-aliased box with a centred one-line label; `auto_width` shrinks the box to the
    label plus padding, keeping the side `align` names (start/end mirror in RTL locales)."""
    lay = text_layout(layer, scene)
    if lay is None:
        return
    s = scene.scale
    x, y, w, h = scale_box(layer.box, s)
    px, py = round(layer.padding[0] * s), round(layer.padding[1] * s)
    bw = w
    if layer.auto_width:
        bw = min(w, lay.width + 2 * px)
        side = scene.side(layer.align)
        if side in ("start", "end"):
            side = "left" if (side == "start") == (lay.direction == "ltr") else "right"
        x += {"left": 0, "right": w - bw, "center": (w - bw) // 2}[side]
    paint(canvas, (x, y), round_mask(bw, h, round(layer.radius * s)), rgba(layer.fill))
    box = (x + px, y + py, max(1, bw - 2 * px), max(1, h - 2 * py))
    draw_text(canvas, lay, box=box, align="center", valign="middle", color=rgba(layer.color))


# ------------------------------------------------------------------------------------------- shape


def draw_shape(canvas: Image.Image, layer: ShapeLayer, scene: Scene) -> None:
    """A rectangle (optionally rounded) or an ellipse: fill, then border, both anti-aliased."""
    x, y, w, h = scale_box(layer.box, scene.scale)
    radius, ellipse = round(layer.radius * scene.scale), layer.shape == "ellipse"
    if layer.fill is not None:
        if not ellipse and radius == 0:
            fill_rect(canvas, (x, y, w, h), rgba(layer.fill))
        else:
            paint(canvas, (x, y), round_mask(w, h, radius, ellipse), rgba(layer.fill))
    if layer.border is not None:
        width = max(1, round(layer.border.width * scene.scale))
        paint(canvas, (x, y), ring_mask(w, h, radius, width, ellipse), rgba(layer.border.color))


DRAWERS: Mapping[type[Any], Callable[[Image.Image, Any, Scene], None]] = {
    BackgroundLayer: draw_background,
    ImageLayer: draw_image,
    TextLayer: draw_text_layer,
    ButtonLayer: draw_button,
    ShapeLayer: draw_shape,
}


def _measured_leaves(
    layer: ContainerLayer, out: list[TextLayer | ButtonLayer | CountdownLayer] | None = None
) -> list[TextLayer | ButtonLayer | CountdownLayer]:
    out = [] if out is None else out
    for child in layer.children:
        if isinstance(child, ContainerLayer):
            _measured_leaves(child, out)
        elif isinstance(child, TextLayer | ButtonLayer | CountdownLayer):
            out.append(child)
    return out


_DUMPS: LRU[int, tuple[ContainerLayer, str]] = LRU(256)


def _dump(layer: ContainerLayer) -> str:
    """The container as JSON, remembered per object (layers are frozen; the entry holds the object, so
    its id cannot be reused while remembered): a decision drawn again does not dump it again."""
    hit = _DUMPS.get(id(layer))
    if hit is None or hit[0] is not layer:
        hit = _DUMPS.put(id(layer), (layer, layer.model_dump_json()))
    return hit[1]


def placed(layer: ContainerLayer, scene: Scene) -> list[tuple[Any, tuple[int, int, int, int]]]:
    """The layers a container draws with their boxes at scale 1: laid out (texts measure themselves
    with the line layout, countdowns with `countdown_size`; mirrored in a right-to-left locale),
    remembered per process by everything the layout reads (the container, its texts and their fonts,
    the locale)."""
    leaves = _measured_leaves(layer)
    shown = {  # each template rendered once
        id(leaf): "" if isinstance(leaf, CountdownLayer) else layer_text(leaf, scene) for leaf in leaves
    }
    texts = tuple((shown[id(leaf)], scene.decision.fonts.get(leaf.font)) for leaf in leaves)
    key = (str(scene.pack.root), scene.pack.version, _dump(layer), texts, scene.lang, scene.rtl)
    hit = _PLACED.get(key)
    if hit is None:

        def measured(child: Any, max_width: float, max_height: float) -> tuple[int, int]:
            if isinstance(child, CountdownLayer):
                return countdown_size(child, scene.stack(child.font), scene.lang, max_width, max_height)
            return measure(child, scene, max_width, max_height, shown.get(id(child)))

        from versa.render.layout import place  # Taffy (stretchable) loads with the first container

        hit = _PLACED.put(key, place(layer, measured, rtl=scene.rtl))
    return hit


def drawn(layer: Any, scene: Scene) -> Iterator[Any]:
    """What drawing `layer` draws, in order: the layer itself, or for a container every layer inside
    it with the box its layout gives it (see `placed`; layers laid out to nothing are left out)."""
    if not isinstance(layer, ContainerLayer):
        yield layer
        return
    for child, box in placed(layer, scene):
        if box[2] > 0 and box[3] > 0:
            yield child.model_copy(update={"box": box})


def draw_container(canvas: Image.Image, layer: ContainerLayer, scene: Scene) -> None:
    """Draw every layer inside the container at the box its layout gives it (see `placed`); a
    countdown inside it is the caller's to draw (`versa.render.engine` draws them through `drawn`)."""
    for child in drawn(layer, scene):
        draw_layer(canvas, child, scene)


def draw_layer(canvas: Image.Image, layer: Any, scene: Scene) -> None:
    """Draw one (non-countdown) layer; countdowns are drawn by `versa.render.countdown`."""
    if isinstance(layer, ContainerLayer):
        draw_container(canvas, layer, scene)
        return
    drawer = DRAWERS.get(type(layer))
    if drawer is None:
        raise RenderError(f"no drawer for layer type {type(layer).__name__}")
    drawer(canvas, layer, scene)


def clear_caches() -> None:
    """Forget every cached asset, patch, background, mask, shaped text and layout style (tests and
    benchmarks)."""
    for cache in (_DECODED, _PATCHES, _BACKGROUNDS, _PLACED, _DUMPS):
        cache.clear()
    clear_layouts()
    if "versa.render.layout" in sys.modules:  # no container laid out yet: no styles to clear
        sys.modules["versa.render.layout"].clear_styles()
    clear_shaping_cache()
    round_mask.cache_clear()
    ring_mask.cache_clear()
    compiled.cache_clear()


__all__ = [
    "LRU",
    "FontBook",
    "Scene",
    "clear_caches",
    "clear_layouts",
    "composite",
    "decoded",
    "draw_background",
    "draw_button",
    "draw_container",
    "draw_image",
    "draw_layer",
    "draw_shape",
    "draw_text_layer",
    "drawn",
    "fill_rect",
    "fitted",
    "gradient_image",
    "layer_text",
    "layout",
    "opaque_background",
    "paint",
    "params_read",
    "placed",
    "rgba",
    "round_mask",
    "scale_box",
    "scale_size",
    "template_vars",
    "text_layout",
]
