"""Drawing layers onto an RGBA canvas at a scale factor.

`s` (`Scene.scale`) is the output width over the creative width, times the dpr. Every box, radius,
padding and font size is multiplied by `s` and text is laid out again at the scaled size, so a dpr-2
render is sharp rather than an upscaled bitmap. Anti-aliased shapes (rounded corners, ellipses,
borders) are drawn as masks at 4x and reduced.

Work that depends only on the pack and the output size is cached per process: decoded assets (by pack
root, asset and pack version), resized and masked image patches, whole background images, masks,
gradient colour tables, compiled text templates and font stacks. Images handed out by a cache are
shared: callers copy before they mutate.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from jinja2 import Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from PIL import Image, ImageChops, ImageDraw

from versa.errors import RenderError
from versa.pack.assets import FONT_SUFFIXES, AssetError, open_image
from versa.pack.loader import Pack
from versa.pack.model import (
    Align,
    BackgroundLayer,
    ButtonLayer,
    Fit,
    Gradient,
    ImageLayer,
    ShapeLayer,
    TextLayer,
    TextSource,
)
from versa.render.fonts import FontFace, FontStack, font_stack
from versa.render.text import TextLayout, clear_shaping_cache, draw_text, layout_text
from versa.rules import Decision

RGBA = tuple[int, int, int, int]
Box = tuple[int, int, int, int]
SUPERSAMPLE = 4
RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded, thread-safe mapping: least recently used entries leave first once either the entry
    count exceeds `maxsize` or the summed `weigh(value)` exceeds `max_weight`."""

    def __init__(
        self, maxsize: int, *, max_weight: int | None = None, weigh: Callable[[V], int] | None = None
    ) -> None:
        self.maxsize, self.max_weight, self._weigh = maxsize, max_weight, weigh
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.weight = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: K, value: V) -> V:
        weight = self._weigh(value) if self._weigh else 0
        if self.maxsize <= 0 or (self.max_weight is not None and weight > self.max_weight):
            return value
        with self._lock:
            old = self._data.pop(key, None)
            self.weight += weight - (old[1] if old else 0)
            self._data[key] = (value, weight)
            while len(self._data) > self.maxsize or (
                self.max_weight is not None and self.weight > self.max_weight
            ):
                _, (_, w) = self._data.popitem(last=False)
                self.weight -= w
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.weight = 0


def _image_weight(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


_DECODED: LRU[tuple[str, str, str], Image.Image] = LRU(256, max_weight=96 * 2**20, weigh=_image_weight)
_PATCHES: LRU[tuple[Any, ...], tuple[Image.Image, int, int]] = LRU(
    512, max_weight=96 * 2**20, weigh=lambda p: _image_weight(p[0])
)
_BACKGROUNDS: LRU[tuple[Any, ...], tuple[Image.Image, bool]] = LRU(
    32, max_weight=128 * 2**20, weigh=lambda b: _image_weight(b[0])
)


# ------------------------------------------------------------------------------------ geometry & colour


@functools.lru_cache(maxsize=1024)
def rgba(value: str) -> RGBA:
    """#RGB, #RRGGBB or #RRGGBBAA as an (r, g, b, a) tuple."""
    digits = value.removeprefix("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "ff"
    try:
        r, g, b, a = (int(digits[i : i + 2], 16) for i in (0, 2, 4, 6))
    except ValueError:
        raise RenderError(f"{value!r} is not a resolved hex colour") from None
    if len(digits) != 8:
        raise RenderError(f"{value!r} is not a resolved hex colour")
    return r, g, b, a


def scale_box(box: Sequence[int], s: float) -> Box:
    """A creative-pixel box (x, y, w, h) in output pixels; edges are rounded, so adjacent boxes meet."""
    x, y, w, h = box
    x0, y0, x1, y1 = round(x * s), round(y * s), round((x + w) * s), round((y + h) * s)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def scale_size(size: tuple[int, int], s: float) -> tuple[int, int]:
    lo = max(1, round(size[0] * s))
    return lo, max(lo, round(size[1] * s))


def composite(canvas: Image.Image, patch: Image.Image, xy: tuple[int, int]) -> None:
    """Alpha-composite an RGBA patch at `xy`, clipped to the canvas (RGB or RGBA)."""
    x, y = xy
    if canvas.mode == "RGB":
        canvas.paste(patch, xy, patch)  # blends by the patch's alpha; clipped by paste
        return
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(patch.width, canvas.width - x), min(patch.height, canvas.height - y)
    if right <= left or bottom <= top:
        return
    if (left, top, right, bottom) != (0, 0, patch.width, patch.height):
        patch = patch.crop((left, top, right, bottom))
    canvas.alpha_composite(patch, (x + left, y + top))


def paint(canvas: Image.Image, xy: tuple[int, int], mask: Image.Image, color: RGBA) -> None:
    """Composite `color` through an L `mask` (255 = fully painted) at `xy`."""
    r, g, b, a = color
    if a < 255:
        mask = mask.point([v * a // 255 for v in range(256)])
    if canvas.mode == "RGB":
        canvas.paste((r, g, b), (xy[0], xy[1], xy[0] + mask.width, xy[1] + mask.height), mask)
        return
    patch = Image.new("RGBA", mask.size, (r, g, b, 0))
    patch.putalpha(mask)
    composite(canvas, patch, xy)


def fill_rect(canvas: Image.Image, box: Box, color: RGBA) -> None:
    x, y, w, h = box
    if color[3] == 255:
        canvas.paste(color if canvas.mode == "RGBA" else color[:3], (x, y, x + w, y + h))
    else:
        composite(canvas, Image.new("RGBA", (w, h), color), (x, y))


@functools.lru_cache(maxsize=256)
def round_mask(w: int, h: int, radius: int, ellipse: bool = False) -> Image.Image:
    """An anti-aliased L mask of a rounded rectangle (or an ellipse) filling w x h; shared, read-only."""
    k = SUPERSAMPLE
    radius = min(radius, w // 2, h // 2)
    if not ellipse and radius <= 0:
        return Image.new("L", (w, h), 255)
    big = Image.new("L", (w * k, h * k), 0)
    pen = ImageDraw.Draw(big)
    if ellipse:
        pen.ellipse((0, 0, w * k - 1, h * k - 1), fill=255)
    else:
        pen.rounded_rectangle((0, 0, w * k - 1, h * k - 1), radius=radius * k, fill=255)
    return big.reduce(k)


@functools.lru_cache(maxsize=128)
def ring_mask(w: int, h: int, radius: int, width: int, ellipse: bool = False) -> Image.Image:
    """The anti-aliased outline of `round_mask(w, h, radius)` drawn `width` px inwards."""
    outer = round_mask(w, h, radius, ellipse)
    if 2 * width >= min(w, h):
        return outer
    inner = Image.new("L", (w, h), 0)
    inner.paste(round_mask(w - 2 * width, h - 2 * width, max(0, radius - width), ellipse), (width, width))
    return ImageChops.subtract(outer, inner)


# ----------------------------------------------------------------------------------------- scene


class FontBook:
    """Font stacks by font reference (a default family or a pack font file), built once per process."""

    def __init__(self, font_dirs: Sequence[str | Path] = ()) -> None:
        self.font_dirs = tuple(str(d) for d in font_dirs)
        self._stacks: LRU[tuple[str, ...], FontStack] = LRU(256)

    def stack(self, pack: Pack, ref: str) -> FontStack:
        is_file = ref.lower().endswith(FONT_SUFFIXES)
        key = (str(pack.root), pack.version, ref) if is_file else (ref,)
        stack = self._stacks.get(key)
        if stack is None:
            primary: str | FontFace = FontFace(str(pack.asset_path(ref))) if is_file else ref
            stack = self._stacks.put(key, font_stack(primary, font_dirs=self.font_dirs))
        return stack


@dataclass(frozen=True)
class Scene:
    """What drawing one creative needs besides its layers: the pack (assets), the decision (locale,
    fonts, tokens), the copy texts actually used, the declared parameter values and the scale."""

    pack: Pack
    decision: Decision
    texts: Mapping[str, str]
    params: Mapping[str, Any]
    scale: float
    fonts: FontBook

    @property
    def lang(self) -> str:
        return self.decision.locale

    @property
    def rtl(self) -> bool:
        """True when the locale is written right to left (start/end alignment mirrors)."""
        return self.decision.locale.split("-")[0].lower() in RTL_LANGUAGES

    def stack(self, token: str) -> FontStack:
        try:
            ref = self.decision.fonts[token]
        except KeyError:
            raise RenderError(f"font token {token!r} is not declared") from None
        return self.fonts.stack(self.pack, ref)

    def side(self, align: Align) -> Align:
        """`start`/`end` as a physical side for an RTL locale; otherwise unchanged (the text engine
        then follows the text's own direction)."""
        if self.rtl and align in ("start", "end"):
            return "right" if align == "start" else "left"
        return align


# ------------------------------------------------------------------------------------------ assets


def decoded(pack: Pack, ref: str) -> Image.Image:
    """A pack image decoded to RGBA, once per (pack root, asset, pack version) per process."""
    key = (str(pack.root), ref, pack.version)
    image = _DECODED.get(key)
    if image is None:
        try:
            source = open_image(pack.asset_path(ref).read_bytes())
        except (AssetError, OSError) as exc:
            raise RenderError(f"asset {ref!r} of pack {pack.brand!r}: {exc}") from exc
        image = _DECODED.put(key, source.convert("RGBA"))
    return image


def fitted(
    pack: Pack, ref: str, size: tuple[int, int], fit: Fit, focus: tuple[float, float] = (0.5, 0.5)
) -> tuple[Image.Image, int, int]:
    """The asset resized to fill (`cover`, cropped around `focus`) or fit (`contain`, placed by
    `focus`) a w x h box: (patch, dx, dy) with the patch's offset inside the box. Cached."""
    key = ("fit", str(pack.root), pack.version, ref, size, fit, focus)
    hit = _PATCHES.get(key)
    if hit is not None:
        return hit
    source = decoded(pack, ref)
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


# -------------------------------------------------------------------------------------- background


def _gradient_table(gradient: Gradient) -> list[int]:
    """256 RGB entries sampled along the gradient's stops, as a flat palette."""
    stops = sorted(((s.at, rgba(s.color)) for s in gradient.stops), key=lambda st: st[0])
    table: list[int] = []
    for i in range(256):
        t = i / 255
        nxt = next((k for k, (at, _) in enumerate(stops) if at >= t), len(stops) - 1)
        (a0, c0), (a1, c1) = stops[max(0, nxt - 1)], stops[nxt]
        f = 0.0 if a1 <= a0 else min(1.0, max(0.0, (t - a0) / (a1 - a0)))
        table += [round(c0[j] + (c1[j] - c0[j]) * f) for j in range(3)]
    return table


def gradient_image(size: tuple[int, int], gradient: Gradient) -> Image.Image:
    """A linear gradient with CSS semantics (0deg runs up, 90deg right, 180deg down; the gradient line
    is long enough for the corners to reach the first and last stops): a 256-level ramp mapped onto
    the canvas by one affine transform, then coloured through a palette of the stops."""
    w, h = size
    a = math.radians(gradient.angle % 360)
    dx, dy = math.sin(a), -math.cos(a)
    k = 255 / (abs(w * dx) + abs(h * dy))
    # Output pixel centre (x, y) samples the ramp at 1.5 + 255 * t(x, y); the ramp's ends repeat.
    c = 1.5 + 127.5 - k * (w / 2 * dx + h / 2 * dy)
    ramp = Image.frombytes("L", (258, 1), bytes([0, *range(256), 255]))
    levels = ramp.transform((w, h), Image.Transform.AFFINE, (k * dx, k * dy, c, 0, 0, 0.5))
    levels.putpalette(_gradient_table(gradient))
    return levels.convert("RGBA")


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
    """A pack image fitted into its box, with rounded corners and opacity."""
    x, y, w, h = scale_box(layer.box, scene.scale)
    radius = round(layer.radius * scene.scale)
    key = (
        "image",
        str(scene.pack.root),
        scene.pack.version,
        layer.asset,
        (w, h),
        layer.fit,
        radius,
        layer.opacity,
    )
    hit = _PATCHES.get(key)
    if hit is None:
        patch, dx, dy = fitted(scene.pack, layer.asset, (w, h), layer.fit)
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


def _finalize(value: Any) -> Any:
    return "" if value is None else value


_ENV = SandboxedEnvironment(autoescape=False, finalize=_finalize, keep_trailing_newline=False)


@functools.lru_cache(maxsize=512)
def compiled(source: str) -> Template:
    """A text template compiled once per process (sandboxed, no autoescape: the output is pixels)."""
    return _ENV.from_string(source)


@functools.lru_cache(maxsize=512)
def _template_names(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))


def params_read(layers: Sequence[Any]) -> frozenset[str]:
    """Names that the layers' texts and countdowns may read from the parameters (a superset: template
    variables include copy slots and globals). Only these belong in a render key, so a parameter no
    layer draws (a bucket id, say) does not split the memo or the CDN cache."""
    names: set[str] = set()
    for layer in layers:
        if isinstance(layer, TextSource):
            if layer.param is not None:
                names.add(layer.param)
            if layer.text is not None:
                names |= _template_names(layer.text)
        names.add(getattr(layer, "deadline_param", None) or "")
    return frozenset(names - {""})


def template_vars(scene: Scene) -> dict[str, Any]:
    d = scene.decision
    tokens = {"colors": dict(d.colors), "fonts": dict(d.fonts), "spacing": dict(d.spacing)}
    base = {"lang": d.locale, "locale": d.locale, "brand": d.brand, "creative": d.creative, "tokens": tokens}
    return {**base, **scene.texts, **scene.params}


def layer_text(layer: TextSource, scene: Scene) -> str:
    """The text a text or button layer shows: its copy slot, its parameter, or its template."""
    if layer.slot is not None:
        return scene.texts.get(layer.slot, "")
    if layer.param is not None:
        value = scene.params.get(layer.param)
        return "" if value is None else str(value)
    try:
        return compiled(layer.text or "").render(template_vars(scene)).strip()
    except TemplateError as exc:
        raise RenderError(f"text template of layer {layer.id or '?'}: {exc}") from exc


_LAYOUTS: LRU[tuple[Any, ...], TextLayout] = LRU(1024)


def layout(
    text: str,
    stack: FontStack,
    size: tuple[int, int],
    box: tuple[int, int],
    lang: str | None,
    *,
    max_lines: int | None = None,
    line_height: float = 1.2,
) -> TextLayout:
    """`layout_text`, remembered: a layout is a pure function of its inputs, and most texts of a
    variant (CTA, sublines, labels) repeat across requests while personal ones do not."""
    key = (text, stack.faces_key, size, box, lang, max_lines, line_height)
    hit = _LAYOUTS.get(key)
    if hit is None:
        hit = layout_text(
            text, stack, size=size, box=box, lang=lang, max_lines=max_lines, line_height=line_height
        )
        _LAYOUTS.put(key, hit)
    return hit


def text_layout(layer: TextLayer | ButtonLayer, scene: Scene) -> TextLayout | None:
    """The layout a text layer (in its box) or a button (its label, inside the padding) draws, at the
    scene's scale; None when the text is empty. `fits=False` means the text was cut with an ellipsis.

    The size is chosen at the creative's own scale and then multiplied, so a dpr-2 or wider render
    breaks lines where the 1x render does (fitting at the finer scaled range could pick another size).
    """
    text = layer_text(layer, scene)
    if not text.strip():
        return None
    size = layer.size
    if scene.scale != 1 and size[0] != size[1]:
        base = _layout_at(layer, text, scene, 1.0, size)
        top = max(1, round(base.size * scene.scale))
        # Let rounding shave a little off if the exact multiple overflows, never below the scaled minimum.
        low = (
            max(scale_size(size, scene.scale)[0], math.floor(base.size * scene.scale * 0.9))
            if base.fits
            else top
        )
        return _layout_at(layer, text, scene, scene.scale, (min(low, top), top))
    return _layout_at(layer, text, scene, scene.scale, scale_size(size, scene.scale))


def _layout_at(
    layer: TextLayer | ButtonLayer, text: str, scene: Scene, s: float, size: tuple[int, int]
) -> TextLayout:
    _, _, w, h = scale_box(layer.box, s)
    stack = scene.stack(layer.font)
    if isinstance(layer, ButtonLayer):
        px, py = round(layer.padding[0] * s), round(layer.padding[1] * s)
        return layout(text, stack, size, (max(1, w - 2 * px), max(1, h - 2 * py)), scene.lang, max_lines=1)
    return layout(
        text, stack, size, (w, h), scene.lang, max_lines=layer.max_lines, line_height=layer.line_height
    )


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


def draw_layer(canvas: Image.Image, layer: Any, scene: Scene) -> None:
    """Draw one (non-countdown) layer; countdowns are drawn by `versa.render.countdown`."""
    drawer = DRAWERS.get(type(layer))
    if drawer is None:
        raise RenderError(f"no drawer for layer type {type(layer).__name__}")
    drawer(canvas, layer, scene)


def clear_layouts() -> None:
    """Forget remembered text layouts (benchmarks that must lay every text out again)."""
    _LAYOUTS.clear()


def clear_caches() -> None:
    """Forget every cached asset, patch, background, mask and shaped text (tests and benchmarks)."""
    for cache in (_DECODED, _PATCHES, _BACKGROUNDS, _LAYOUTS):
        cache.clear()
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
    "draw_image",
    "draw_layer",
    "draw_shape",
    "draw_text_layer",
    "fill_rect",
    "fitted",
    "gradient_image",
    "layer_text",
    "layout",
    "opaque_background",
    "paint",
    "params_read",
    "rgba",
    "round_mask",
    "scale_box",
    "scale_size",
    "text_layout",
]
