"""The report's chart: per segment, each arm's click rate as a bar with its credible interval as a
whisker, and beside it the arm's share of the current allocation.

The geometry is computed first (`layout`), then drawn (`draw_chart`), so a test can check that every
bar on the image is where the numbers put it. Both columns share one scale per column across
segments, so bars compare across segments too. Pure: Pillow only, no IO.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from versa.relevance.report import ArmRow
from versa.relevance.rules import arm_id

WIDTH = 900
LABEL_W = 170
"""Left column: the arm's id."""
CTR_X, CTR_W = 180, 420
"""The click-rate column: x where 0 % sits, and its width at the scale's top."""
SHARE_X, SHARE_W = 660, 200
"""The share column: x where 0 % sits, and its width at 100 %."""
ROW_H, BAR_H, HEADER_H, TOP = 26, 14, 30, 40

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
CTR_BAR = (66, 133, 244)
WHISKER = (219, 68, 55)
SHARE_BAR = (15, 157, 88)
GRID = (222, 226, 230)


@dataclass(frozen=True)
class BarBox:
    """Where one arm's marks go: the CTR bar [x0, x1), the interval [low_x, high_x], the share bar
    [share_x0, share_x1) (None without a snapshot), all on the row centred at `y`."""

    segment: str
    arm: str
    y: int
    x0: int
    x1: int
    low_x: int
    high_x: int
    share_x0: int | None
    share_x1: int | None


def scale_top(rows: Sequence[ArmRow]) -> float:
    """The click rate at the CTR column's right end: the largest interval top, rounded up to a
    whole half percent (at least 0.5 %)."""
    top = max((r.ctr_high for r in rows), default=0.0)
    steps = max(1, -(-round(top * 10_000) // 50))  # half percents, rounded up
    return steps * 0.005


def _x(value: float, x0: int, width: int, top: float) -> int:
    return x0 + round(min(max(value, 0.0), top) / top * width)


def layout(rows: Sequence[ArmRow]) -> tuple[list[BarBox], int, float]:
    """Every arm's boxes, the image height and the CTR scale's top; rows keep their order, a new
    segment starts a new block with a header line."""
    top = scale_top(rows)
    boxes: list[BarBox] = []
    y = TOP
    segment: str | None = None
    for r in rows:
        if r.segment != segment:
            segment = r.segment
            y += HEADER_H
        centre = y + ROW_H // 2
        share = (SHARE_X, _x(r.share, SHARE_X, SHARE_W, 1.0)) if r.share is not None else (None, None)
        boxes.append(BarBox(r.segment, r.arm, centre, CTR_X, _x(r.ctr, CTR_X, CTR_W, top),
                            _x(r.ctr_low, CTR_X, CTR_W, top), _x(r.ctr_high, CTR_X, CTR_W, top), *share))
        y += ROW_H
    return boxes, y + 20, top


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_chart(rows: Sequence[ArmRow], title: str) -> Image.Image:
    """The chart of `rows` (see the module doc) as an RGB image."""
    boxes, height, top = layout(rows)
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, label = _font(12), _font(14)
    draw.text((10, 10), title, fill=INK, font=_font(16))
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = CTR_X + round(fraction * CTR_W)
        draw.line([(x, TOP + 12), (x, height - 20)], fill=GRID)
        draw.text((x, TOP), f"{fraction * top:.1%}", fill=INK, font=small, anchor="mt")
        sx = SHARE_X + round(fraction * SHARE_W)
        draw.line([(sx, TOP + 12), (sx, height - 20)], fill=GRID)
        draw.text((sx, TOP), f"{fraction:.0%}", fill=INK, font=small, anchor="mt")
    draw.text((CTR_X + CTR_W // 2, height - 4), "click rate, 95 % credible interval", fill=INK, font=small, anchor="mb")
    draw.text((SHARE_X + SHARE_W // 2, height - 4), "share of traffic", fill=INK, font=small, anchor="mb")
    segment: str | None = None
    for box in boxes:
        if box.segment != segment:
            segment = box.segment
            draw.text((10, box.y - ROW_H // 2 - HEADER_H // 2), f"segment {segment}", fill=INK, font=label, anchor="lm")
        draw.text((LABEL_W, box.y), arm_id(box.arm), fill=INK, font=label, anchor="rm")
        half = BAR_H // 2
        if box.x1 > box.x0:
            draw.rectangle([box.x0, box.y - half, box.x1 - 1, box.y + half - 1], fill=CTR_BAR)
        draw.line([(box.low_x, box.y), (box.high_x, box.y)], fill=WHISKER, width=2)
        for x in (box.low_x, box.high_x):
            draw.line([(x, box.y - half + 2), (x, box.y + half - 3)], fill=WHISKER, width=1)
        if box.share_x0 is not None and box.share_x1 is not None and box.share_x1 > box.share_x0:
            draw.rectangle([box.share_x0, box.y - half, box.share_x1 - 1, box.y + half - 1], fill=SHARE_BAR)
    return image


def chart_png(rows: Sequence[ArmRow], title: str) -> bytes:
    """`draw_chart` as PNG bytes."""
    out = io.BytesIO()
    draw_chart(rows, title).save(out, format="PNG", optimize=True)
    return out.getvalue()
