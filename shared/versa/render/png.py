"""A fast PNG writer for opaque and transparent true-colour canvases (the production encoder).

Pillow's PNG encoder filters every row five ways and keeps the one with the smallest sum, then deflates
with zlib; on a rendered creative that costs more than the drawing. This writer filters a whole image
one way — none, Sub or Up, each computed by Pillow in C (`ImageChops.subtract_modulo` against the
image shifted by one pixel or one row) — choosing per image by deflating a few sample bands of each
candidate at the fastest level, then deflates the chosen one with zlib-ng (the `zlib-ng` package,
several times faster than zlib at the same ratio; the standard `zlib` when it is not installed).
Rendered creatives are mostly flat fills, gradients along one axis and anti-aliased text, where one
filter per image loses little to per-row choice. The output is a standard PNG (IHDR, one IDAT, IEND);
the pixels are exactly the canvas's.
"""

from __future__ import annotations

import struct
import types
import zlib

from PIL import Image, ImageChops

_deflate: types.ModuleType
try:
    from zlib_ng import zlib_ng

    _deflate, DEFLATE = zlib_ng, f"zlib-ng/{zlib_ng.ZLIBNG_VERSION}"
except ImportError:  # pragma: no cover - the package ships with Versa; stdlib zlib keeps it working
    _deflate, DEFLATE = zlib, f"zlib/{zlib.ZLIB_VERSION}"

LEVEL = 3 if DEFLATE.startswith("zlib-ng") else 2
"""Deflate level of the whole image (zlib-ng 3 is about zlib 6's ratio at a fifth of its time)."""
SAMPLE_LEVEL = 1
SAMPLE_BANDS = 4
SAMPLE_ROWS = 8
"""The filter is chosen on SAMPLE_BANDS bands of SAMPLE_ROWS rows spread over the image."""

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {"RGB": (2, 3), "RGBA": (6, 4)}
"""PNG colour type and bytes per pixel of the modes this writer takes."""
NONE, SUB, UP, AVERAGE = 0, 1, 2, 3
FILTERS = (NONE, SUB, UP)
"""The filters tried. Average (`filtered` computes it) was never the best on the golden images and the
card and costs as much as the other two together, so it is not tried; Paeth needs a per-pixel choice
Pillow has no operation for."""


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def _left(image: Image.Image) -> Image.Image:
    """Each pixel's left neighbour (zero in the first column)."""
    shifted = ImageChops.offset(image, 1, 0)
    shifted.paste(0, (0, 0, 1, image.height))
    return shifted


def _above(image: Image.Image) -> Image.Image:
    """Each pixel's upper neighbour (zero in the first row)."""
    shifted = ImageChops.offset(image, 0, 1)
    shifted.paste(0, (0, 0, image.width, 1))
    return shifted


def filtered(image: Image.Image, kind: int) -> Image.Image:
    """The image's bytes after PNG filter `kind` on every row, as an image of the same mode: Sub, Up
    and Average subtract (modulo 256, byte by byte) the left pixel, the pixel above, or the floor of
    their mean; outside the image counts as zero."""
    if kind == NONE:
        return image
    if kind == SUB:
        return ImageChops.subtract_modulo(image, _left(image))
    if kind == UP:
        return ImageChops.subtract_modulo(image, _above(image))
    return ImageChops.subtract_modulo(image, ImageChops.add(_left(image), _above(image), scale=2.0))


def _scanlines(pixels: bytes, row_bytes: int, kind: int) -> bytes:
    """Rows of `row_bytes` each preceded by the filter byte `kind`, as the IDAT stream wants them."""
    view, tag = memoryview(pixels), bytes((kind,))
    return tag + tag.join([view[i:i + row_bytes] for i in range(0, len(pixels), row_bytes)])


def _sample(image: Image.Image) -> tuple[Image.Image, list[tuple[int, int]]]:
    """SAMPLE_BANDS bands of SAMPLE_ROWS rows spread over the image, stacked, each after the row above
    it (so Up and Average see what they would in the whole image), and the (first row, rows) of each
    band in the stack; a short image is its own sample."""
    w, h = image.size
    if h <= SAMPLE_BANDS * SAMPLE_ROWS * 2:
        return image, [(0, h)]
    step = h // SAMPLE_BANDS
    starts = [i * step + (step - SAMPLE_ROWS) // 2 for i in range(SAMPLE_BANDS)]
    sample = Image.new(image.mode, (w, SAMPLE_BANDS * (SAMPLE_ROWS + 1)))
    for i, start in enumerate(starts):
        sample.paste(image.crop((0, start - 1, w, start + SAMPLE_ROWS)), (0, i * (SAMPLE_ROWS + 1)))
    return sample, [(i * (SAMPLE_ROWS + 1) + 1, SAMPLE_ROWS) for i in range(SAMPLE_BANDS)]


def choose_filter(image: Image.Image) -> tuple[int, int]:
    """The filter whose sample bands deflate smallest at SAMPLE_LEVEL (ties: the earlier one), and that
    sampled size; the context rows above each band are left out of the count."""
    sample, bands = _sample(image)
    row_bytes = image.width * COLOR_TYPES[image.mode][1]

    def sampled(kind: int) -> int:
        data = memoryview(filtered(sample, kind).tobytes())
        bands_only = b"".join([data[first * row_bytes:(first + rows) * row_bytes] for first, rows in bands])
        return len(_deflate.compress(bands_only, SAMPLE_LEVEL))

    sizes = {kind: sampled(kind) for kind in FILTERS}
    best = min(FILTERS, key=sizes.__getitem__)
    return best, sizes[best]


def write_png(image: Image.Image) -> bytes | None:
    """`image` (RGB or RGBA, 8 bits a channel, at least 2x2) as PNG bytes; None for anything else (the
    caller lets Pillow encode it)."""
    if image.mode not in COLOR_TYPES or image.width < 2 or image.height < 2:
        return None
    color_type, bpp = COLOR_TYPES[image.mode]
    w, h = image.size
    row_bytes = w * bpp
    kind, _ = choose_filter(image)
    data = _deflate.compress(_scanlines(filtered(image, kind).tobytes(), row_bytes, kind), LEVEL)
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
