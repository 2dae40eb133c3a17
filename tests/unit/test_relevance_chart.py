"""The report's chart draws what the numbers say: bars found by scanning the image's pixels sit where
each arm's click rate, interval and share put them; and the HTML page carries the same numbers."""

from __future__ import annotations

import base64
import io
import random
import re
from datetime import UTC, datetime

from PIL import Image

from versa.relevance import Counters, Policy, reallocate
from versa.relevance.chart import (
    CTR_BAR,
    CTR_W,
    CTR_X,
    SHARE_BAR,
    SHARE_W,
    SHARE_X,
    WHISKER,
    draw_chart,
    scale_top,
)
from versa.relevance.page import RuleReport, report_html
from versa.relevance.report import ArmRow, arm_rows, lift

ARMS = ("calm~00000000", "bold~11111111", "dark~22222222")


def rows() -> list[ArmRow]:
    counts = Counters({
        ("device=desktop", ARMS[0], "optimized"): (4000, 64), ("device=desktop", ARMS[1], "optimized"): (4000, 96),
        ("device=desktop", ARMS[2], "optimized"): (400, 12), ("device=mobile", ARMS[0], "optimized"): (3000, 90),
        ("device=mobile", ARMS[1], "optimized"): (3000, 45), ("device=mobile", ARMS[2], "holdout"): (900, 9),
    })
    snap = reallocate(Policy(rule="r", arms=ARMS, min_sample=100), counts, None, datetime(2026, 12, 1, tzinfo=UTC),
                      random.Random(4))
    return arm_rows(counts, ARMS, snap, random.Random(5))


def runs(image: Image.Image, y: int, colour: tuple[int, int, int]) -> list[tuple[int, int]]:
    """[start, end) of every horizontal run of `colour` on pixel row y."""
    out, start = [], None
    for x in range(image.width + 1):
        hit = x < image.width and image.getpixel((x, y)) == colour
        if hit and start is None:
            start = x
        elif not hit and start is not None:
            out.append((start, x))
            start = None
    return out


def bar_rows(image: Image.Image, colour: tuple[int, int, int], x: int) -> list[int]:
    """Centre y of each bar of `colour` whose left edge is at column x (scanning the column)."""
    ys = [y for y in range(image.height) if image.getpixel((x, y)) == colour]
    groups: list[list[int]] = []
    for y in ys:
        if groups and y == groups[-1][-1] + 1:
            groups[-1].append(y)
        else:
            groups.append([y])
    return [g[len(g) // 2] for g in groups]


def test_every_bar_and_whisker_is_where_its_numbers_put_it() -> None:
    # GIVEN six arm rows in two segments, with counts and shares from a real reallocation
    data = rows()
    top = scale_top(data)
    assert top >= max(r.ctr_high for r in data)
    # WHEN the chart is drawn
    image = draw_chart(data, "acme/winter-sale/r").convert("RGB")
    # THEN scanning the pixels finds one click-rate bar per row, top to bottom in row order ...
    centres = bar_rows(image, CTR_BAR, CTR_X)
    assert len(centres) == len(data)
    share_centres = bar_rows(image, SHARE_BAR, SHARE_X)
    assert share_centres == [c for c, r in zip(centres, data, strict=True) if r.share]
    for y, row in zip(centres, data, strict=True):
        # ... whose length is the click rate on the scale (within a pixel of rounding) ...
        [(x0, x1)] = [run for run in runs(image, y - 6, CTR_BAR) if run[0] == CTR_X]
        assert abs((x1 - x0) - row.ctr / top * CTR_W) <= 1, row
        # ... the interval's whisker spans low to high ...
        whisker = runs(image, y, WHISKER)
        assert abs(whisker[0][0] - (CTR_X + row.ctr_low / top * CTR_W)) <= 1.5, row
        assert abs(whisker[-1][1] - 1 - (CTR_X + row.ctr_high / top * CTR_W)) <= 1.5, row
        # ... and the share bar is the arm's share of the share column
        share = [run for run in runs(image, y - 6, SHARE_BAR) if run[0] == SHARE_X]
        assert row.share is not None
        assert abs(sum(b - a for a, b in share) - row.share * SHARE_W) <= 1, row
    # AND the numbers differ enough that a chart drawing one length for all would fail
    assert len({r.ctr for r in data}) >= 4 and len({r.share for r in data}) >= 2


def test_the_page_shows_the_table_and_the_chart() -> None:
    data = rows()
    lifts = [lift(Counters(), "device=mobile", ARMS, random.Random(1))]
    page = report_html("acme / winter-sale", [RuleReport("r", "acme/winter-sale/r", "epoch 0", data, lifts)])
    cells = re.findall(r"<tr><td>(device=[a-z]+)</td><td>([a-z]+)</td><td>([0-9,]+)</td><td>([0-9,]+)</td>", page)
    assert [(s, a, int(i.replace(",", "")), int(c.replace(",", ""))) for s, a, i, c in cells] == [
        (r.segment, r.arm.split("~")[0], r.impressions, r.clicks) for r in data
    ]
    [png] = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    embedded = Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB")
    assert embedded.tobytes() == draw_chart(data, "acme/winter-sale/r: click rate and share per arm").tobytes()
    assert "not yet measurable" in page and "<script" not in page
