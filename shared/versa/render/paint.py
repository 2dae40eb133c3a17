"""Pixels: a bounded cache, colours, geometry at a scale factor, anti-aliased masks, compositing and
linear gradients — the primitives `versa.render.layers` and `versa.render.countdown` draw with.

Masks and colours are cached per process; a cached mask is shared, so callers copy before they mutate.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from PIL import Image, ImageChops, ImageDraw

from versa.errors import RenderError
from versa.pack.model import Gradient

RGBA = tuple[int, int, int, int]
Box = tuple[int, int, int, int]
SUPERSAMPLE = 4
"""Anti-aliased masks are drawn at this multiple of their size and reduced."""

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
        """The value for `key` (now the most recently used), or None."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: K, value: V) -> V:
        """Remember `value` under `key`, evicting as needed, and return it. A value heavier than
        `max_weight` (or any value when `maxsize` is 0) is returned without being kept."""
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


def image_weight(image: Image.Image) -> int:
    """Bytes an image holds (width x height x bands): the weight of image caches."""
    return image.width * image.height * len(image.getbands())


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
    """A font size range (min, max) at scale `s`: at least 1, and max never below min."""
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
    """Fill `box` with `color`: pasted when opaque, else composited."""
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


# -------------------------------------------------------------------------------------------- gradient


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


__all__ = [
    "LRU",
    "RGBA",
    "SUPERSAMPLE",
    "Box",
    "composite",
    "fill_rect",
    "gradient_image",
    "image_weight",
    "paint",
    "rgba",
    "ring_mask",
    "round_mask",
    "scale_box",
    "scale_size",
]
