"""What the renderer reuses between layouts must give exactly what computing afresh gives: a text
layout answered from a taller box's (`versa.render.layer_text.layout`), and a Taffy tree kept for a
container shape and laid out again with other measurements (`versa.render.layout.lay_out`)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from versa.pack.model import ContainerLayer
from versa.render import layer_text
from versa.render.fonts import font_stack
from versa.render.layer_text import clear_layouts, layout
from versa.render.layout import clear_styles, lay_out
from versa.render.text import layout_text

WORDS = ["a", "spring", "favourites", "now", "25%", "off,", "Priya", "José", "shipping", "on", "orders",
         "Supercalifragilisticexpialidocious", "—", "ends", "Sunday", "x"]  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Any:
    return font_stack("sans-bold")


# ------------------------------------------------------------------------------------ text reuse


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=16),
    width=st.integers(20, 420),
    size=st.integers(8, 40),
    max_lines=st.sampled_from([None, 1, 2, 3]),
    line_height=st.sampled_from([1.0, 1.1667, 1.5]),
    heights=st.tuples(st.integers(1, 300), st.integers(1, 300), st.sampled_from([None, 4000])),
)
def test_a_layout_answered_from_a_taller_box_equals_a_fresh_one(
    stack: Any, words: list[str], width: int, size: int, max_lines: int | None, line_height: float,
    heights: tuple[int, int, int | None],
) -> None:  # fmt: skip
    # GIVEN a fixed-size text laid out (remembered) in a box, and then in boxes of the same width
    text = " ".join(words)
    first, *others = [h for h in heights if h is not None]
    clear_layouts()
    layout(text, stack, (size, size), (width, first), "en", max_lines=max_lines, line_height=line_height)
    for height in others:
        # WHEN the remembered layouts answer it THEN it is what laying it out afresh gives
        got = layout(text, stack, (size, size), (width, height), "en", max_lines=max_lines, line_height=line_height)
        fresh = layout_text(
            text, stack, size=(size, size), box=(width, height), lang="en", max_lines=max_lines, line_height=line_height
        )  # fmt: skip
        assert got == fresh


def test_a_container_measuring_a_text_lays_it_out_once(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a fixed-size headline measured in an unbounded box, as a container measures it
    calls: list[tuple[int, int]] = []

    def counted(text: str, stack: Any, **kw: Any) -> Any:
        calls.append(kw["box"])
        return layout_text(text, stack, **kw)

    monkeypatch.setattr(layer_text, "layout_text", counted)
    clear_layouts()
    text = "Priya, your new spring favorites are now 25% off"
    measured = layout(text, stack, (36, 36), (536, 4000), "en", line_height=1.1667)

    # WHEN it is then drawn in the box its lines need, and a box a little taller
    drawn = layout(text, stack, (36, 36), (536, measured.height), "en", line_height=1.1667)
    layout(text, stack, (36, 36), (536, measured.height + 8), "en", line_height=1.1667)

    # THEN it was laid out only once; a box too short for its lines is laid out afresh (and cut)
    assert drawn is measured and len(drawn.lines) == 2 and calls == [(536, 4000)]
    short = layout(text, stack, (36, 36), (536, measured.height - 1), "en", line_height=1.1667)
    assert calls[-1] == (536, measured.height - 1) and not short.fits
    # an auto-fitting text (a size range) is never answered from another box
    layout(text, stack, (20, 36), (536, 4000), "en", line_height=1.1667)
    layout(text, stack, (20, 36), (536, measured.height), "en", line_height=1.1667)
    assert calls[-2:] == [(536, 4000), (536, measured.height)]


# ------------------------------------------------------------------------------------ tree reuse

FLEX = st.fixed_dictionaries(
    {},
    optional={
        "grow": st.sampled_from([0, 1, 2]),
        "shrink": st.sampled_from([0, 1]),
        "width": st.integers(0, 120),
        "height": st.integers(0, 80),
        "min_width": st.integers(0, 60),
        "max_height": st.integers(10, 90),
        "align_self": st.sampled_from(["auto", "start", "end", "center", "stretch"]),
    },
)
LEAF = st.one_of(
    st.builds(lambda f: {"type": "shape", "fill": "#000", "flex": f}, FLEX),
    st.builds(
        lambda f, t: {"type": "text", "text": t, "font": "body", "size": 12, "flex": f},
        FLEX,
        st.sampled_from(["one", "two", "three", "four"]),
    ),
)


def _container(children: st.SearchStrategy[list[dict[str, Any]]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda kids, direction, gap, wrap, align, justify, flex: {
            "type": "container", "direction": direction, "gap": gap, "wrap": wrap, "align_items": align,
            "justify_content": justify, "padding": [3, 5, 7, 9], "children": kids, "flex": flex,
        },
        children, st.sampled_from(["row", "column", "row-reverse", "column-reverse"]), st.integers(0, 12),
        st.booleans(), st.sampled_from(["start", "end", "center", "stretch"]),
        st.sampled_from(["start", "end", "center", "space-between", "space-evenly"]), FLEX,
    )  # fmt: skip


TREE = _container(st.lists(st.one_of(LEAF, _container(st.lists(LEAF, min_size=1, max_size=3))), min_size=1, max_size=5))


def _measure(seed: int) -> Any:
    """A text that wraps: `seed` and its text give it a natural width; at a narrower width it takes
    more lines of 14 px."""

    def measure(layer: Any, max_w: float, max_h: float) -> tuple[float, float]:
        natural = 20 + (sum(map(ord, layer.text)) * (seed + 1) % 7) * 23
        w = min(natural, max_w)
        lines = math.ceil(natural / max(w, 1))
        return w, min(14.0 * lines, max_h)

    return measure


@settings(max_examples=120, deadline=None, derandomize=True)
@given(tree=TREE, seeds=st.lists(st.integers(0, 50), min_size=2, max_size=4))
def test_a_kept_tree_laid_out_again_equals_a_fresh_one(tree: dict[str, Any], seeds: list[int]) -> None:
    # GIVEN a container laid out again and again with other measurements (the kept tree reused)
    container = ContainerLayer.model_validate({**tree, "box": [0, 0, 300, 200], "flex": None})
    clear_styles()
    kept = [lay_out(container, container.box, _measure(seed)) for seed in seeds]

    # THEN each layout is the one a tree built afresh gives
    for seed, got in zip(seeds, kept, strict=True):
        clear_styles()
        assert got == lay_out(container, container.box, _measure(seed))
