"""The fast PNG writer: any RGB or RGBA canvas comes back pixel for pixel, whichever filter it chose;
each filter is the one the PNG specification defines; the file is a valid PNG that Pillow reads; and
on the benchmark card its bytes stay within 5 % of Pillow's level 6."""

from __future__ import annotations

import io
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from versa.pack.model import RenderSettings
from versa.render.encode import encode
from versa.render.png import AVERAGE, FILTERS, NONE, SUB, UP, choose_filter, filtered, write_png

ROOT = Path(__file__).resolve().parents[2]


def scene(mode: str, kind: str) -> Image.Image:
    """Small images whose best filter differs: flat rows, flat columns, a diagonal, noise, text."""
    w, h = 97, 83
    image = Image.new(mode, (w, h), (20, 40, 60, 255)[: len(mode)])
    px = image.load()
    assert px is not None
    for y in range(h):
        for x in range(w):
            value = {"rows": y * 3, "columns": x * 2, "slopes": x * (1 + y % 5), "diagonal": x + 2 * y, "noise": (x * 7919 + y * 104729) % 251}.get(kind)
            if value is not None:
                px[x, y] = (value % 256, (value * 5) % 256, 255 - value % 256, (x * 3 + y) % 256)[: len(mode)]
    if kind == "text":
        ImageDraw.Draw(image).text((5, 30), "Versa 30% off", fill=(250, 240, 10, 200)[: len(mode)])
    return image


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("kind", ["rows", "columns", "slopes", "diagonal", "noise", "text", "flat"])
def test_every_image_comes_back_pixel_for_pixel(mode: str, kind: str) -> None:
    # GIVEN an image; WHEN written
    image = scene(mode, kind)
    data = write_png(image)
    # THEN Pillow reads the same pixels back, from a well-formed file
    assert data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")
    back = Image.open(io.BytesIO(data))
    back.load()  # checks the chunks' CRCs and the zlib stream
    assert back.mode == mode and back.size == image.size
    assert back.tobytes() == image.tobytes()


@pytest.mark.parametrize("kind", [*FILTERS, AVERAGE])
def test_each_filter_is_the_specifications(kind: int) -> None:
    # GIVEN a noisy RGBA image (4 bytes a pixel)
    image = scene("RGBA", "noise")
    raw, w, bpp = image.tobytes(), image.width, 4
    row = w * bpp
    got = filtered(image, kind).tobytes()
    # THEN every byte is Raw(x) minus the filter's predictor, modulo 256 (PNG spec, section 9.2)
    for y in (0, 1, 40, image.height - 1):
        for x in (0, 1, 3, 4, 5, row - 1):
            i = y * row + x
            left = raw[i - bpp] if x >= bpp else 0
            up = raw[i - row] if y > 0 else 0
            predictor = {NONE: 0, SUB: left, UP: up, AVERAGE: (left + up) // 2}[kind]
            assert got[i] == (raw[i] - predictor) % 256, (kind, x, y)


def test_the_filter_follows_the_image() -> None:
    # Flat rows (a vertical gradient) need no filter or Up, equal rows Up, and ramps whose slope
    # changes from row to row compress best as differences with the left pixel (Sub)
    assert choose_filter(scene("RGB", "rows"))[0] in (NONE, UP)
    assert choose_filter(scene("RGB", "columns"))[0] == UP
    assert choose_filter(scene("RGB", "slopes"))[0] == SUB


def test_other_modes_are_left_to_pillow() -> None:
    assert write_png(Image.new("L", (10, 10))) is None
    assert write_png(Image.new("P", (10, 10))) is None
    # and through `encode` they still become PNGs
    out = encode(Image.new("LA", (10, 10), (5, 128)), "png", RenderSettings())
    assert Image.open(io.BytesIO(out)).size == (10, 10)


def test_the_benchmark_card_is_no_larger_than_pillow_level_6_plus_5_percent() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from baseline import BaselineCard, values_for

    card = BaselineCard()
    for i in range(4):
        reference = card.render(values_for(i), "png")
        image = Image.open(io.BytesIO(reference)).convert("RGB")
        ours = encode(image, "png", RenderSettings())
        assert Image.open(io.BytesIO(ours)).tobytes() == image.tobytes()
        assert len(ours) <= 1.05 * len(reference), (i, len(ours), len(reference))
        assert zlib.crc32(ours) != zlib.crc32(reference)  # written by the new writer, not Pillow
