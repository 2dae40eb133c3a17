"""Differential test of container layout: the same flexbox trees laid out by `render/layout.py`
(Taffy) and by headless Chromium, every box compared within a pixel, left to right and mirrored.

The trees have fixed-size leaves only (shapes and containers sized by their `flex` block; no text, so
no font measurement differs): a few dozen drawn from a seeded generator plus hand-picked edge cases.
Each tree is also written as HTML `div`s (`display:flex`, border-box, the CSS a pack field stands
for) and all of them are laid out in one Chromium page, once with `dir=ltr` and once with `dir=rtl`;
the right-to-left boxes are compared with `mirror()` of the left-to-right layout.

Where Taffy itself lays out differently from Chromium (mostly when a nested container takes its size
from its content) a minimal tree in KNOWN_DIFFERENCES says how and is expected to fail; the seeded
generator keeps out of those constructions, so every hand-picked and seeded tree must match.

How a pack field reads as CSS (this is the mapping under test):
- `direction` → `flex-direction`; `wrap` → `flex-wrap: wrap` and `align-content: start` (wrapped lines
  stack from the start); `gap` → `gap` (both axes);
- `padding: [top, end, bottom, start]` → `padding-top`, `padding-inline-end`, `padding-bottom`,
  `padding-inline-start`;
- `justify_content` and `align_items`/`align_self`: `start`/`end` → CSS `start`/`end` (the writing
  mode's sides, not `flex-start`, so a reversed row packs its items at the inline start too);
- `flex.grow`/`shrink`/`basis`/`width`/`height`/`min_*`/`max_*` → the CSS property of the same name
  (unset: `auto`, `none` for maxima).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from html import escape
from typing import Any

import pytest
from chromium import E2E

from versa.pack.model import ContainerLayer, FlexItem
from versa.render.layout import Placed, lay_out, mirror

pytestmark = E2E

SEED = 10_2026
RANDOM_TREES = 40
TOLERANCE_PX = 1

Box = tuple[float, float, float, float]
Tree = dict[str, Any]


# ------------------------------------------------------------------------------------------- trees


def shape(**flex: Any) -> Tree:
    return {"type": "shape", "fill": "#4a7", "flex": flex}


def row(children: list[Tree], **props: Any) -> Tree:
    return {"type": "container", "children": children, **props}


def column(children: list[Tree], **props: Any) -> Tree:
    return {"type": "container", "direction": "column", "children": children, **props}


def squares(n: int, w: int = 40, h: int = 30) -> list[Tree]:
    return [shape(width=w + 7 * i, height=h + 5 * i) for i in range(n)]


JUSTIFY = ["start", "end", "center", "space-between", "space-around", "space-evenly"]
ALIGN = ["start", "end", "center", "stretch"]
DIRECTIONS = ["row", "column", "row-reverse", "column-reverse"]


def hand_picked() -> dict[str, tuple[Tree, tuple[int, int]]]:
    """Edge cases chosen by hand: every justify and align value in every direction, wrap, grow and
    shrink with bases and bounds, gap, padding on each side, nesting and overflow."""
    cases: dict[str, tuple[Tree, tuple[int, int]]] = {}
    for direction in DIRECTIONS:
        for justify in JUSTIFY:
            cases[f"justify-{justify}-{direction}"] = (
                row(squares(3), direction=direction, justify_content=justify, gap=6, padding=[4, 10, 8, 20]),
                (320, 240),
            )
        for align in ALIGN:
            cases[f"align-{align}-{direction}"] = (
                row(
                    [
                        *squares(2),
                        shape(width=30),
                        shape(height=20),
                        shape(width=30, height=25, align_self="end"),
                    ],
                    direction=direction,
                    align_items=align,
                    padding=[6, 3, 9, 12],
                ),
                (300, 260),
            )
    cases["grow-shares-and-bounds"] = (
        row(
            [
                shape(grow=1, height=20),
                shape(grow=2, height=20, max_width=90),
                shape(grow=1, basis=50, min_width=70),
                shape(width=40, height=40),
            ],
            gap=5,
            padding=[0, 7, 0, 3],
        ),
        (400, 80),
    )
    cases["shrink-weighted-by-basis"] = (
        row(
            [
                shape(basis=200, shrink=1, height=30),
                shape(basis=100, shrink=3, height=30),
                shape(width=80, shrink=0, height=30),
                shape(basis=150, min_width=120, height=30),
            ],
            gap=4,
        ),
        (360, 60),
    )
    cases["overflow-nothing-shrinks"] = (
        row([shape(width=150, shrink=0, height=20) for _ in range(3)], justify_content="center", gap=10),
        (300, 60),
    )
    cases["overflow-space-between"] = (
        row([shape(width=150, shrink=0, height=20) for _ in range(3)], justify_content="space-between"),
        (300, 60),
    )
    cases["wrap-row-lines-from-the-start"] = (
        row(
            squares(7, 50, 20), wrap=True, gap=8, padding=10, align_items="stretch", justify_content="center"
        ),
        (260, 220),
    )
    cases["wrap-column"] = (
        column(squares(6, 40, 40), wrap=True, gap=6, padding=[5, 5, 5, 15], align_items="center"),
        (300, 180),
    )
    cases["wrap-row-reverse-grow"] = (
        row(
            [shape(basis=90, grow=1, height=30, min_width=60) for _ in range(5)],
            direction="row-reverse",
            wrap=True,
            gap=10,
            justify_content="end",
        ),
        (300, 150),
    )
    cases["min-max-clamp-stretch"] = (
        column(
            [
                shape(height=30, max_width=120),
                shape(height=30, min_width=500),
                shape(grow=1, max_height=40),
                shape(grow=1, min_height=60),
            ],
            gap=4,
        ),
        (300, 250),
    )
    cases["nested-card"] = (
        column(
            [
                row(
                    [shape(width=60, height=24), shape(grow=1, height=10), shape(width=24, height=24)], gap=8
                ),
                row(
                    [
                        column([shape(height=40), shape(height=20, width=80)], gap=6, flex={"grow": 1}),
                        column([shape(width=90, height=90)], justify_content="center", flex={"width": 110}),
                    ],
                    gap=12,
                    flex={"grow": 1},
                ),
                row([shape(width=100, height=32)], justify_content="end", padding=[0, 4, 0, 0]),
            ],
            padding=[16, 20, 16, 20],
            gap=10,
        ),
        (360, 300),
    )
    cases["nested-sized-by-content"] = (
        row(
            [
                column([shape(width=70, height=20), shape(width=40, height=50)], gap=5, padding=6),
                row(
                    [shape(width=30, height=30), shape(width=30, height=60)],
                    gap=3,
                    align_items="end",
                    padding=[2, 8, 2, 4],
                ),
                column([row(squares(2, 20, 10), gap=2), shape(width=10, height=10)], align_items="center"),
            ],
            gap=10,
            align_items="start",
            justify_content="space-evenly",
        ),
        (420, 140),
    )
    cases["nested-min-content-under-shrink"] = (
        row([row(squares(3, 50, 20), gap=4), shape(width=250, height=20)], gap=6),
        (300, 80),
    )
    cases["deep-reverse-mix"] = (
        row(
            [
                column(
                    [
                        row(
                            squares(2, 25, 15),
                            direction="row-reverse",
                            justify_content="space-around",
                            flex={"width": 120},
                        ),
                        shape(height=15),
                    ],
                    direction="column-reverse",
                    gap=5,
                    flex={"grow": 1},
                ),
                shape(width=50, height=50, align_self="center"),
            ],
            padding=[10, 30, 10, 5],
            gap=7,
        ),
        (330, 160),
    )
    # centring leaves half pixels at every level: rounded where they land, not each relative to its parent
    cases["half-pixels-nested-centred"] = (
        column(
            [column([shape(width=110, align_self="end")], direction="column-reverse", flex={"width": 52})],
            direction="column-reverse",
            padding=[15, 0, 8, 3],
            align_items="center",
        ),
        (120, 182),
    )
    return cases


def random_flex(rng: random.Random, *, leaf: bool, content_sized: bool) -> dict[str, Any]:
    """A child's `flex` block: mostly a fixed size, sometimes grown, shrunk, based or bounded.

    Inside a nested container (`content_sized`: one that may take its size from its content) no
    grow, no basis and no maximum, and no container has a minimum: Taffy sizes content-sized
    containers its own way there (KNOWN_DIFFERENCES)."""
    flex: dict[str, Any] = {}
    if leaf or rng.random() < 0.3:
        for side in ("width", "height"):
            if rng.random() < 0.8:
                flex[side] = rng.randrange(8, 120)
    if rng.random() < 0.35 and not content_sized:
        flex["grow"] = rng.choice([1, 1, 2, 3])
    if rng.random() < 0.25:
        flex["shrink"] = rng.choice([0, 2, 4])
    if rng.random() < 0.2 and not content_sized:
        flex["basis"] = rng.randrange(0, 140)
    for bound, low, high in (
        ("min_width", 10, 90),
        ("max_width", 30, 160),
        ("min_height", 10, 60),
        ("max_height", 20, 120),
    ):
        allowed = leaf if bound.startswith("min") else not content_sized
        if rng.random() < 0.1 and allowed:
            flex[bound] = rng.randrange(low, high)
    if rng.random() < 0.2:
        flex["align_self"] = rng.choice(ALIGN)
    return flex


def random_container(rng: random.Random, depth: int, *, nested: bool = False) -> Tree:
    """A container of one to five children, containers among them down to `depth` more levels.
    Only the outermost wraps, and a reversed one does not space its children between (Taffy's own
    ways again: KNOWN_DIFFERENCES)."""
    direction = rng.choice(DIRECTIONS)
    children: list[Tree] = []
    for _ in range(rng.randrange(1, 6)):
        if depth > 0 and rng.random() < 0.3:
            child = random_container(rng, depth - 1, nested=True)
            child["flex"] = random_flex(rng, leaf=False, content_sized=nested)
        else:
            child = shape(**random_flex(rng, leaf=True, content_sized=nested))
        children.append(child)
    return {
        "type": "container",
        "direction": direction,
        "wrap": rng.random() < 0.3 and not nested,
        "gap": rng.choice([0, 0, 4, 10]),
        "padding": [rng.choice([0, 3, 8, 15]) for _ in range(4)],
        "align_items": rng.choice(ALIGN),
        "justify_content": rng.choice(
            [j for j in JUSTIFY if j != "space-between" or not direction.endswith("reverse")]
        ),
        "children": children,
    }


def random_trees(seed: int, count: int) -> dict[str, tuple[Tree, tuple[int, int]]]:
    rng = random.Random(seed)
    return {
        f"seeded-{i:02d}": (
            random_container(rng, depth=rng.randrange(0, 3)),
            (rng.randrange(120, 480), rng.randrange(60, 320)),
        )
        for i in range(count)
    }


TAFFY = "Taffy 0.7.7 (inside stretchable 1.1.8)"

KNOWN_DIFFERENCES: dict[str, tuple[Tree, tuple[int, int], str]] = {
    "taffy-basis-in-content-sized-container": (
        row(
            [row([shape(width=87, basis=0, height=20)]), row([shape(basis=114, height=20)], wrap=True)],
            align_items="start",
            gap=10,
        ),
        (300, 60),
        f"{TAFFY} sizes a container that has no size of its own from its items' width or flex basis (87, "
        "114); Chromium follows css-flexbox 9.9.1, where an item contributes no more than its basis and its "
        "content allow (0 and 0 here). Taffy issue #351 (flexbox intrinsic sizes) is open.",
    ),
    "taffy-max-size-in-content-sized-container": (
        column([row([shape(width=48, max_width=37, height=20)])], align_items="center"),
        (200, 60),
        f"{TAFFY} counts an item's width before its max_width clamps it when it sizes a container from its "
        "content (48 px where Chromium has 37).",
    ),
    "taffy-grow-takes-the-padding": (
        row([row([shape(grow=1, height=20)], padding=[0, 15, 0, 15])], align_items="start"),
        (300, 60),
        f"{TAFFY} lets a growing item take the padding of a container sized by its content, so the "
        "container counts its padding twice (60 px, Chromium 30). Taffy issue #909, fixed upstream by "
        "Taffy PR #1018 in a release stretchable does not ship yet.",
    ),
    "taffy-growing-child-min-content": (
        row(
            [
                row(
                    [
                        shape(width=98, height=10),
                        shape(width=68, height=10, grow=1),
                        shape(width=76, height=10),
                    ]
                )
            ]
        ),
        (200, 50),
        "When space runs short Chromium keeps a nested row at its min-content width (its children's "
        f"widths, 242 px, overflowing); {TAFFY} shrinks it and its children to 200 px once one child can grow.",
    ),
    "taffy-column-wraps-at-the-available-height": (
        row(
            [
                column(
                    [shape(width=30, height=111), shape(width=30, height=119)],
                    wrap=True,
                    flex={"align_self": "end"},
                )
            ]
        ),
        (300, 138),
        "A column whose height comes from its content has no definite height in CSS, so it never wraps "
        f"(Chromium: one column 230 px tall); {TAFFY} wraps it at the available height into two columns.",
    ),
    "taffy-wrapping-row-in-content-sized-container": (
        column(
            [
                row(
                    [row([shape(width=107, height=10), shape(width=97, height=10)], wrap=True)],
                    flex={"align_self": "end"},
                )
            ],
            direction="column-reverse",
        ),
        (151, 78),
        "A container sized by its content holds a row that wraps: Chromium stops its fit-content width at "
        f"the available 151 px, so the row wraps; {TAFFY} takes the unwrapped 204 px and overflows.",
    ),
    "taffy-space-between-overflow-reversed": (
        column(
            [shape(width=30, height=80, shrink=0), shape(width=40, height=80, shrink=0)],
            direction="column-reverse",
            justify_content="space-between",
        ),
        (100, 100),
        "With negative free space, space-between falls back to flex-start (the bottom of a column-reverse: "
        f"Chromium overflows at the top); {TAFFY} packs the items from the top instead.",
    ),
    "taffy-shrinks-under-the-padding": (
        column(
            [
                column([shape(width=10, height=11)], padding=[0, 0, 15, 0], flex={"min_height": 10}),
                column([shape(width=10, height=80)]),
            ]
        ),
        (100, 60),
        "A border box is never smaller than its padding in CSS (Chromium: 15 px); when a container must "
        f"shrink, {TAFFY} takes it down to its min_height (10 px), under its 15 px padding.",
    ),
}
"""Minimal trees where Chromium and Taffy lay out differently by Taffy's doing, not by how a pack field
maps to a style (the seeded generator keeps out of these). Expected to fail, strictly: when a newer
Taffy fixes one, its case passes and the test says so."""


def container(tree: Tree, size: tuple[int, int]) -> ContainerLayer:
    return ContainerLayer.model_validate({**tree, "box": [0, 0, *size]})


CASES = {**hand_picked(), **random_trees(SEED, RANDOM_TREES)}


# -------------------------------------------------------------------------------- our layout


def flat(placed: Placed, path: str = "root", origin: tuple[int, int] = (0, 0)) -> Iterator[tuple[str, Box]]:
    """Every box of a layout, containers included, absolute (relative to the root), in document order."""
    x, y = origin[0] + placed.x, origin[1] + placed.y
    yield path, (x, y, placed.width, placed.height)
    for i, child in enumerate(placed.children):
        yield from flat(child, f"{path}.{i}", (x, y))


def ours(layer: ContainerLayer, *, rtl: bool) -> dict[str, Box]:
    def no_text(item: Any, max_w: float, max_h: float) -> tuple[float, float]:
        raise AssertionError("these trees have no text")

    placed = lay_out(layer, layer.box, no_text)
    return dict(flat(replace(mirror(placed) if rtl else placed, x=0, y=0)))


# --------------------------------------------------------------------------------- as HTML


def _px(value: int | None, unset: str) -> str:
    return unset if value is None else f"{value}px"


def item_css(flex: FlexItem | None) -> list[str]:
    flex = flex or FlexItem()
    return [
        f"flex-grow:{flex.grow:g}",
        f"flex-shrink:{flex.shrink:g}",
        f"flex-basis:{_px(flex.basis, 'auto')}",
        f"width:{_px(flex.width, 'auto')}",
        f"height:{_px(flex.height, 'auto')}",
        f"min-width:{_px(flex.min_width, 'auto')}",
        f"min-height:{_px(flex.min_height, 'auto')}",
        f"max-width:{_px(flex.max_width, 'none')}",
        f"max-height:{_px(flex.max_height, 'none')}",
        f"align-self:{flex.align_self}",
    ]


def container_css(layer: ContainerLayer) -> list[str]:
    top, end, bottom, start = layer.padding
    return [
        "display:flex",
        f"flex-direction:{layer.direction}",
        f"flex-wrap:{'wrap' if layer.wrap else 'nowrap'}",
        "align-content:start",
        f"gap:{layer.gap}px",
        f"padding:{top}px 0 {bottom}px 0",
        f"padding-inline-start:{start}px",
        f"padding-inline-end:{end}px",
        f"align-items:{layer.align_items}",
        f"justify-content:{layer.justify_content}",
    ]


def html_of(layer: Any, path: str = "root", root: bool = False) -> str:
    css = container_css(layer) if isinstance(layer, ContainerLayer) else []
    if root:
        css += [f"width:{layer.box[2]}px", f"height:{layer.box[3]}px"]
    else:
        css += item_css(layer.flex)
    inner = "".join(html_of(child, f"{path}.{i}") for i, child in enumerate(getattr(layer, "children", [])))
    return f'<div data-path="{path}" style="{escape(";".join(css))}">{inner}</div>'


def page_html(direction: str) -> str:
    trees = {**CASES, **{name: (tree, size) for name, (tree, size, _) in KNOWN_DIFFERENCES.items()}}
    roots = "".join(
        f'<section data-case="{escape(name)}" dir="{direction}">{html_of(container(tree, size), root=True)}</section>'
        for name, (tree, size) in trees.items()
    )
    style = (
        "*{box-sizing:border-box;margin:0;border:0}"
        "section{margin:0 0 40px 0;width:fit-content}"
        "div{background:rgba(40,120,90,.25);outline:1px solid rgba(0,0,0,.3)}"
    )
    return f'<!doctype html><meta charset="utf-8"><style>{style}</style><body>{roots}</body>'


MEASURE_JS = """() => Object.fromEntries([...document.querySelectorAll('section')].map(section => {
  const root = section.firstElementChild.getBoundingClientRect();
  const boxes = {};
  for (const div of section.querySelectorAll('div')) {
    const r = div.getBoundingClientRect();
    boxes[div.dataset.path] = [r.left - root.left, r.top - root.top, r.width, r.height];
  }
  return [section.dataset.case, boxes];
}))"""


@pytest.fixture(scope="module")
def chromium_boxes(browser: Any) -> dict[str, dict[str, dict[str, Box]]]:
    """Every case's boxes as Chromium lays them out, by direction (`ltr`, `rtl`), case and path."""
    page = browser.new_page()
    try:
        measured = {}
        for direction in ("ltr", "rtl"):
            page.set_content(page_html(direction))
            measured[direction] = page.evaluate(MEASURE_JS)
    finally:
        page.close()
    return measured


# ------------------------------------------------------------------------------------------- tests


def test_the_cases_cover_every_value() -> None:
    # The hand-picked and seeded trees together use every direction, justify and align value, wrap,
    # gap, padding, nesting and every flex field (so a regression in one of them has a case).
    seen: dict[str, set[Any]] = {}

    def visit(layer: Any) -> None:
        if isinstance(layer, ContainerLayer):
            for field in ("direction", "justify_content", "align_items", "wrap"):
                seen.setdefault(field, set()).add(getattr(layer, field))
            seen.setdefault("gap", set()).add(layer.gap > 0)
            seen.setdefault("padding", set()).add(any(layer.padding))
            for child in layer.children:
                seen.setdefault("nested", set()).add(isinstance(child, ContainerLayer))
                visit(child)
        if layer.flex is not None:
            for field, value in layer.flex.model_dump(exclude_defaults=True).items():
                seen.setdefault("flex", set()).add(field)
                if field == "align_self":
                    seen.setdefault("align_self", set()).add(value)

    for tree, size in CASES.values():
        visit(container(tree, size))
    assert seen["direction"] == set(DIRECTIONS)
    assert seen["justify_content"] == set(JUSTIFY)
    assert seen["align_items"] == seen["align_self"] == set(ALIGN)
    assert seen["wrap"] == seen["gap"] == seen["padding"] == seen["nested"] == {True, False}
    assert seen["flex"] >= set(FlexItem.model_fields) - {"mirror"}


@pytest.mark.parametrize("direction", ["ltr", "rtl"])
@pytest.mark.parametrize(
    "case",
    [
        *CASES,
        *(
            pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=why))
            for name, (_, _, why) in KNOWN_DIFFERENCES.items()
        ),
    ],
)
def test_layout_matches_chromium(case: str, direction: str, chromium_boxes: Any) -> None:
    # GIVEN a flexbox tree of fixed-size leaves
    tree, size = CASES[case] if case in CASES else KNOWN_DIFFERENCES[case][:2]
    layer = container(tree, size)

    # WHEN it is laid out by layout.py (mirrored for rtl) and by Chromium (dir=rtl)
    expected = ours(layer, rtl=direction == "rtl")
    seen = chromium_boxes[direction][case]

    # THEN every box, containers included, is where Chromium puts it, within a pixel
    assert set(seen) == set(expected)
    off = {
        path: {"ours": expected[path], "chromium": [round(v, 2) for v in seen[path]]}
        for path in expected
        if any(abs(a - b) > TOLERANCE_PX for a, b in zip(expected[path], seen[path], strict=True))
    }
    assert not off, (
        f"{case} ({direction}): boxes differ (x, y, w, h)\n{json.dumps(off, indent=1)}\n{json.dumps(tree)}"
    )
