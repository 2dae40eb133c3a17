"""Encoding a rendered canvas, choosing a format for `auto`, and the output caps.

Default settings (`fast=False`) are Pillow's own — PNG zlib level 6, baseline JPEG and WebP method 4 —
with the pack's JPEG/WebP quality (85/80 by default); the benchmark compares them with the plain
Pillow baseline. The renderer serves the production settings (`fast=True`): PNG level 3, WebP method
2 and progressive JPEG, chosen by timing every setting on the benchmark card and the 24 example
renders (4 creatives x 6 contexts, 600-728 px wide; Pillow 13, one core; medians of 15 saves):

    format  setting                       encode time        bytes vs default
    PNG     compress_level 6 (default)    69.9 ms total      467 kB
            compress_level 3 (fast)       49.9 ms  -29 %     +8.6 % total, +4.7 .. +11.6 % each
            compress_level 1 / 2          48.4 / 48.7 ms     +33 % / +24 % (+87 % on diagonal gradients)
    WebP    method 4 (default)            152 ms total       217 kB
            method 2 (fast)               72 ms    -53 %     +4.2 % total, +2.4 .. +7.3 % each
            method 0 / 1 / 3              48 / 60 / 152 ms   +42 % / +23 % / +0 %
    JPEG    baseline (default)            5.0 ms total       442 kB
            progressive (production)      27.6 ms            -12 % (smaller; kept: it paints coarse-to-fine)
            baseline + optimize           10.4 ms            -7 %
    AVIF    speed 6 (default), q 80       102 ms (card)      10.2 kB
            speed 8 (fast)                22 ms    -78 %     +13 %  (speed 9: 5.5 ms but +125 %)

Fast PNG also tries a lossless palette: an image with at most 256 colours (`getcolors(256)`, ~0.1
ms) is written as a P image with exactly its colours. None of the example renders qualifies (anti-
aliased text and gradients give thousands of colours); flat badges and fallbacks do. Every other RGB
or RGBA canvas is written by `versa.render.png` (one filter per image chosen on samples, zlib-ng
level 3), which replaced Pillow at level 3 for fast PNG: on the benchmark card 0.3x Pillow level 6's
encode time at 1-2 % fewer bytes; over the 83 golden images and the card, +0.7 % bytes in total
against level 6 (worst real creative +10 %; a synthetic diagonal gradient 2.6x, small either way).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable
from typing import Any

from PIL import Image, features

from versa.errors import OutputTooLarge, ParamError
from versa.pack.assets import open_image
from versa.pack.model import RenderSettings
from versa.render.png import DEFLATE, write_png

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
ALIASES = {"jpeg": "jpg"}
MAX_SIDE = 4000
MAX_PIXELS = 8_000_000

FAST_PNG_LEVEL = 3
"""zlib level of fast PNG when Pillow writes it (palette images, modes `versa.render.png` does not take)."""
FAST_PNG = f"png-writer/1 {DEFLATE}"
"""What writes fast PNG, for the render key (other bytes, other ETag)."""
FAST_WEBP_METHOD = 2
"""libwebp effort of fast WebP (see the table above)."""


@functools.cache
def avif_supported() -> bool:
    return bool(features.check("avif"))


def normalize_format(fmt: str) -> str:
    """`jpeg` → `jpg`, lower case; raises ParamError for a format Versa cannot encode."""
    name = ALIASES.get(fmt.lower(), fmt.lower())
    if name not in CONTENT_TYPES or (name == "avif" and not avif_supported()):
        known = [f for f in CONTENT_TYPES if f != "avif" or avif_supported()]
        raise ParamError("format", fmt, "one of " + ", ".join(known))
    return name


def check_dimensions(out_w: int, out_h: int, *, width: int, dpr: float) -> None:
    """Refuse an output over MAX_SIDE on either side or over MAX_PIXELS in total, naming the parameter
    to lower (`dpr` when dpr 1 would fit, else `w`) and the largest value that fits."""
    if out_w <= MAX_SIDE and out_h <= MAX_SIDE and out_w * out_h <= MAX_PIXELS:
        return
    base_w, base_h = out_w / dpr, out_h / dpr
    fit = min(MAX_SIDE / base_w, MAX_SIDE / base_h, (MAX_PIXELS / (base_w * base_h)) ** 0.5)
    limit = f"output at most {MAX_SIDE}x{MAX_SIDE} px and {MAX_PIXELS / 1e6:g} MP; got {out_w}x{out_h}"
    if fit >= 1:
        raise ParamError("dpr", dpr, f"{limit}; at w={width} use dpr <= {int(fit * 100) / 100:g}")
    raise ParamError("w", width, f"{limit} at dpr {dpr:g}; use a smaller width")


def check_work(out_w: int, out_h: int, frames: int, *, width: int, dpr: float, limit: int) -> None:
    """Refuse, before any drawing, a render that would draw more than `limit` pixels x frames: the
    declared output size times the frames it declares (a countdown's loop when animated). Names the
    parameter to lower (`dpr` above 1, else `w`) and says what would fit."""
    work = out_w * out_h * frames
    if work <= limit:
        return
    what = (
        f"a render may draw at most {limit / 1e6:g} million pixels x frames; {out_w}x{out_h} px x "
        f"{frames} frame(s) is {work / 1e6:.1f} million"
    )
    advice = "; use a static format (png) or " if frames > 1 else "; use "
    if dpr > 1:
        raise ParamError("dpr", dpr, f"{what}{advice}a lower dpr")
    raise ParamError("w", width, f"{what}{advice}a smaller width")


def check_output(data: bytes, fmt: str, cap: int) -> bytes:
    """`data`, unless it is larger than `cap` bytes (the `max_output_bytes` setting): OutputTooLarge."""
    if len(data) > cap:
        raise OutputTooLarge(len(data), cap, fmt)
    return data


def _opaque(image: Image.Image) -> Image.Image:
    """RGB when an RGBA image has no transparency (smaller files); otherwise unchanged."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        return image.convert("RGB")
    return image


def flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited over white."""
    image = _opaque(image)
    if image.mode == "RGB":
        return image
    out = Image.new("RGB", image.size, (255, 255, 255))
    out.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    return out


def exact_palette(image: Image.Image) -> Image.Image | None:
    """An RGB image as a P image with exactly its own colours, or None when it has more than 256."""
    w, h = image.size
    if image.crop((0, h // 2 - min(4, h // 2), w, h // 2 + 4)).getcolors(256) is None:
        return None  # a band through the middle has more colours already: no need to count them all
    colors = image.getcolors(256)
    if colors is None:
        return None
    flat = [v for _, c in colors for v in c]  # type: ignore[union-attr]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


def save_args(fmt: str, settings: RenderSettings, *, fast: bool) -> dict[str, Any]:
    """Pillow save() arguments for a format."""
    if fmt == "png":
        return {"format": "PNG", "compress_level": FAST_PNG_LEVEL if fast else 6}
    if fmt == "jpg":
        if fast:
            return {"format": "JPEG", "quality": settings.jpeg_quality, "progressive": True}
        return {"format": "JPEG", "quality": settings.jpeg_quality}
    if fmt == "webp":
        return {"format": "WEBP", "quality": settings.webp_quality, "method": FAST_WEBP_METHOD if fast else 4}
    if fmt == "avif":
        return {"format": "AVIF", "quality": settings.webp_quality, "speed": 8 if fast else 6}
    if fmt == "gif":
        return {"format": "GIF", "optimize": False}
    raise ParamError("format", fmt, "one of " + ", ".join(CONTENT_TYPES))


def encode(image: Image.Image, fmt: str, settings: RenderSettings, *, fast: bool = True) -> bytes:
    """Encode an RGBA (or RGB) canvas as `fmt` (png, jpg/jpeg, webp, gif, avif)."""
    fmt = normalize_format(fmt)
    args = save_args(fmt, settings, fast=fast)
    if fmt == "png":
        image = _opaque(image)
        if fast:
            palette = exact_palette(image) if image.mode == "RGB" else None
            written = write_png(image) if palette is None else None
            if written is not None:
                return written
            image = palette or image
    elif fmt == "jpg":
        image = flatten(image)
    elif fmt in ("webp", "avif"):
        image = _opaque(image)
    elif fmt == "gif":
        rgb = flatten(image)
        image = exact_palette(rgb) or rgb.quantize(256, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    image.save(buf, **args)
    return buf.getvalue()


# ------------------------------------------------------------------------------------- negotiation

_MEDIA_RE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+*-]+$")
BROWSER_CLIENTS = frozenset({"browser", "unknown"})


def accept_q(accept: str) -> dict[str, float]:
    """Media type → q-value from an Accept header (malformed entries ignored, highest q kept)."""
    out: dict[str, float] = {}
    for part in accept.lower().split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not _MEDIA_RE.match(media):
            continue
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        out[media] = max(q, out.get(media, 0.0))
    return out


def negotiate(accept: str | None, client: str, allowed: Iterable[str], *, animated: bool = False) -> str:
    """The format for `auto`.

    Browsers (client `browser` or `unknown`) get avif (when Pillow has it), webp or png by the
    Accept header's q-values, preferring avif > webp > png on ties; a format must be named
    explicitly (image/* or */* stands for png only). No Accept header, or only */*, gives png. Email
    clients never get webp or avif: png, or gif when the creative is `animated` (has a countdown).
    """
    formats = [ALIASES.get(f, f) for f in allowed]
    raster = [f for f in ("png", "jpg", "gif", "webp", "avif") if f in formats]

    def fallback(*prefer: str) -> str:
        for f in (*prefer, *raster):
            if f in formats and f not in ("webp", "avif"):
                return f
        return raster[0] if raster else "png"

    if str(client) not in BROWSER_CLIENTS:
        return fallback("gif", "png") if animated else fallback("png")
    q = accept_q(accept or "")
    png_q = q.get("image/png", q.get("image/*", q.get("*/*", 1.0 if not q else 0.0)))
    best, best_q = fallback("png"), png_q
    for fmt in ("webp", "avif"):  # later wins ties: avif over webp over png
        fq = q.get(f"image/{fmt}", 0.0)
        if fmt in formats and fq > 0 and fq >= best_q and (fmt != "avif" or avif_supported()):
            best, best_q = fmt, fq
    return best


__all__ = [
    "CONTENT_TYPES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "OutputTooLarge",
    "accept_q",
    "avif_supported",
    "check_dimensions",
    "check_output",
    "check_work",
    "encode",
    "exact_palette",
    "fallback_at",
    "flatten",
    "negotiate",
    "normalize_format",
    "save_args",
]


def fallback_at(data: bytes, size: tuple[int, int]) -> bytes:
    """A fallback image made for another size: scaled to cover `size` and cropped around its centre,
    as PNG (what a creative's fallback is at each of its sizes besides the first)."""
    from PIL import ImageOps

    image = open_image(data)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    fitted = ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    out = io.BytesIO()
    fitted.save(out, format="PNG", optimize=False)
    return out.getvalue()
