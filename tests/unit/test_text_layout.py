"""Text layout: shaping, bidi order, font runs, line breaking, autofit, ellipsis and drawing in a box."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageStat

from versa.render.bidi import base_direction, embedding_levels, visual_order
from versa.render.fonts import FontStack, coverage, font_stack, get_font, resolve_family
from versa.render.text import ELLIPSIS, TextLayout, draw_text, layout_text

TRANSPARENT = (0, 0, 0, 0)
INK = (20, 20, 20, 255)


@pytest.fixture(scope="module")
def noto() -> FontStack:
    return font_stack("noto-sans")


@pytest.fixture(scope="module")
def arabic() -> FontStack:
    return font_stack("arabic")


def render(layout: TextLayout, box: tuple[int, int, int, int], **kw: object) -> tuple[Image.Image, tuple]:
    """Draw on a transparent canvas with a margin around the box; return the canvas and draw_text's bbox."""
    x, y, w, h = box
    canvas = Image.new("RGBA", (x + w + 40, y + h + 40), TRANSPARENT)
    bbox = draw_text(canvas, layout, box=box, color=INK, **kw)  # type: ignore[arg-type]
    return canvas, bbox


def ink_columns(image: Image.Image) -> tuple[int, int]:
    bbox = image.getchannel("A").getbbox()
    assert bbox is not None, "nothing was drawn"
    return bbox[0], bbox[2]


# ---------------------------------------------------------------- scripts


def test_arabic_is_shaped_with_joined_forms_and_draws_ink(arabic: FontStack) -> None:
    # GIVEN an Arabic phrase
    text = "مرحبا بالعالم"
    font = get_font(resolve_family("arabic"), 48)
    # WHEN shaped as a whole vs letter by letter
    joined = font.getlength(text, direction="rtl")
    isolated = sum(font.getlength(ch, direction="rtl") for ch in text)
    # THEN the contextual (joined) forms give a different width
    assert abs(joined - isolated) > 5
    layout = layout_text(text, arabic, size=(12, 48), box=(400, 100), max_lines=1)
    assert layout.fits and layout.direction == "rtl"
    assert [r.direction for line in layout.lines for r in line.runs] == ["rtl"]
    canvas, bbox = render(layout, (10, 10, 400, 100))
    assert canvas.getchannel("A").getbbox() is not None
    assert bbox[2] > bbox[0] and bbox[3] > bbox[1]


def test_hebrew_paragraph_is_rtl_and_the_first_word_is_drawn_rightmost(noto: FontStack) -> None:
    # GIVEN "שלום עולם" laid out right-aligned, and its first logical word alone at the same size
    text, first = "שלום עולם", "שלום"
    layout = layout_text(text, noto, size=(40, 40), box=(400, 80), max_lines=1)
    alone = layout_text(first, noto, size=(40, 40), box=(400, 80), max_lines=1)
    assert layout.direction == "rtl"
    box = (10, 10, 400, 80)
    whole, _ = render(layout, box, align="right")
    word, _ = render(alone, box, align="right")
    # WHEN comparing ink columns
    word_left, word_right = ink_columns(word)
    whole_left, whole_right = ink_columns(whole)
    # THEN the first word occupies the right end of the line and the second word lies left of it
    assert abs(whole_right - word_right) <= 1
    ink = word.crop((word_left, 0, word_right, word.height)).getchannel("A")
    # same glyphs in the same place, up to a pixel of sub-pixel positioning
    mismatch = min(
        ImageStat.Stat(
            ImageChops.difference(
                whole.crop((word_left + dx, 0, word_right + dx, whole.height)).getchannel("A"), ink
            )
        ).sum[0]
        for dx in (-1, 0, 1)
    )
    assert mismatch < 0.1 * ImageStat.Stat(ink).sum[0]
    assert whole_left < word_left - 40


def test_mixed_direction_runs_are_in_visual_order(noto: FontStack) -> None:
    layout = layout_text("שלום Hello עולם", noto, size=(30, 30), box=(600, 80), max_lines=1)
    runs = layout.lines[0].runs
    xs = {r.text.strip(): r.x for r in runs}
    assert layout.direction == "rtl"
    assert xs["שלום"] > xs["Hello"] > xs["עולם"]
    assert {r.text.strip(): r.direction for r in runs} == {"שלום": "rtl", "Hello": "ltr", "עולם": "rtl"}
    ltr = layout_text("Sale עד 50 אחוז now", noto, size=(30, 30), box=(900, 80), max_lines=1)
    order = [r.text.strip() for r in ltr.lines[0].runs if r.text.strip()]
    assert order == ["Sale", "אחוז", "50", "עד", "now"]


def test_devanagari_forms_conjuncts(noto: FontStack) -> None:
    text = "क्षत्रिय"
    font = get_font(resolve_family("devanagari"), 48)
    assert font.getlength(text) < sum(font.getlength(ch) for ch in text)
    layout = layout_text(text, noto, size=(12, 48), box=(300, 100), max_lines=1)
    assert layout.fits
    assert {r.face for r in layout.lines[0].runs} == {resolve_family("devanagari")}
    canvas, _ = render(layout, (0, 0, 300, 100))
    assert canvas.getchannel("A").getbbox() is not None


def test_cjk_wraps_without_spaces_and_never_starts_a_line_with_closing_punctuation(noto: FontStack) -> None:
    text = "冬季大促销，全场八折起，快来选购吧"
    layout = layout_text(text, noto, size=(24, 40), box=(150, 400), max_lines=None)
    lines = [line.text for line in layout.lines]
    assert layout.fits and len(lines) > 2
    assert "".join(lines) == text
    assert not any(line.startswith(("，", "。", "、")) for line in lines)
    assert all(line.right - line.left <= 150 for line in layout.lines)


def test_cjk_does_not_end_a_line_with_opening_bracket(noto: FontStack) -> None:
    text = "大促销「全场八折」快来选购"
    for width in range(60, 200, 7):
        layout = layout_text(text, noto, size=(20, 20), box=(width, 400))
        assert not any(line.text.endswith("「") for line in layout.lines)
        assert not any(line.text.startswith("」") for line in layout.lines)


def test_mixed_script_name_uses_three_faces_and_covers_every_char(noto: FontStack) -> None:
    text = "Hello 李雷 and مريم"
    layout = layout_text(text, noto, size=(12, 40), box=(600, 80), max_lines=1)
    runs = [r for line in layout.lines for r in line.runs]
    assert len({r.face for r in runs}) >= 3
    for run in runs:
        cmap = coverage(run.face)
        assert all(ord(c) in cmap for c in run.text), run
    assert sorted("".join(r.text for r in runs)) == sorted(text)


# ---------------------------------------------------------------- breaking, autofit, ellipsis


def test_autofit_picks_the_largest_size_that_fits(noto: FontStack) -> None:
    cases = [
        ("Summer sale: 50% off everything", (300, 120), 2),
        ("Hello 李雷 and مريم", (260, 90), 2),
        ("冬季大促销，全场八折起", (200, 200), None),
        ("Bonjour !", (120, 40), 1),
    ]
    for text, box, max_lines in cases:
        layout = layout_text(text, noto, size=(8, 120), box=box, max_lines=max_lines)
        assert layout.fits, text
        assert layout.width <= box[0] and layout.height <= box[1]
        bigger = layout_text(
            text, noto, size=(layout.size + 1, layout.size + 1), box=box, max_lines=max_lines
        )
        assert not bigger.fits, text


def test_max_size_is_used_when_everything_fits(noto: FontStack) -> None:
    layout = layout_text("Hi", noto, size=(10, 30), box=(500, 200), max_lines=1)
    assert (layout.size, layout.fits, layout.truncated) == (30, True, False)


def test_text_that_never_fits_is_cut_with_an_ellipsis(noto: FontStack) -> None:
    text = "Summer sale: fifty percent off everything in store and online, this weekend only"
    layout = layout_text(text, noto, size=(20, 40), box=(220, 200), max_lines=2)
    assert (layout.size, layout.fits, layout.truncated) == (20, False, True)
    assert len(layout.lines) == 2
    assert layout.lines[-1].text.endswith(ELLIPSIS)
    assert all(line.right - line.left <= 220 for line in layout.lines)


def test_ellipsis_when_height_allows_fewer_lines_than_max_lines(noto: FontStack) -> None:
    text = "one two three four five six seven eight nine ten"
    layout = layout_text(text, noto, size=(20, 20), box=(120, 55), max_lines=5)
    assert layout.truncated and not layout.fits
    assert layout.height <= 55
    assert layout.lines[-1].text.endswith(ELLIPSIS)


def test_rtl_ellipsis_sits_at_the_visual_left(arabic: FontStack) -> None:
    text = "خصم خمسين بالمائة على كل شيء في المتجر وعبر الإنترنت هذا الأسبوع فقط"
    layout = layout_text(text, arabic, size=(30, 30), box=(300, 100), max_lines=2)
    assert layout.truncated
    last = layout.lines[-1]
    assert last.text.endswith(ELLIPSIS)
    assert last.runs[0].text == ELLIPSIS and last.runs[0].x == 0


def test_a_word_longer_than_the_box_breaks_between_graphemes(noto: FontStack) -> None:
    word = "Supercalifragilisticexpialidocious"
    layout = layout_text(word, noto, size=(20, 20), box=(120, 400))
    assert layout.fits and len(layout.lines) > 2
    assert "".join(line.text for line in layout.lines) == word
    decomposed = unicodedata.normalize("NFD", "éèêëēĕė" * 4)
    layout = layout_text(decomposed, noto, size=(24, 24), box=(60, 600))
    assert len(layout.lines) > 1
    assert "".join(line.text for line in layout.lines) == decomposed
    assert not any(unicodedata.combining(line.text[0]) for line in layout.lines)


def test_autofit_shrinks_a_long_word_before_breaking_it(noto: FontStack) -> None:
    word = "Supercalifragilisticexpialidocious"
    layout = layout_text(word, noto, size=(10, 60), box=(300, 200), max_lines=3)
    assert layout.fits and [line.text for line in layout.lines] == [word]
    assert 10 < layout.size < 60


def test_breaks_after_hyphens_and_keeps_french_punctuation_attached(noto: FontStack) -> None:
    layout = layout_text("state-of-the-art", noto, size=(20, 20), box=(90, 300))
    assert layout.lines[0].text.endswith("-")
    layout = layout_text("Bonjour !", noto, size=(20, 20), box=(60, 300))
    assert not any(line.text.startswith("!") for line in layout.lines)


def test_newline_forces_a_break_and_blank_lines_keep_their_height(noto: FontStack) -> None:
    one = layout_text("Hello\nworld", noto, size=(20, 20), box=(500, 500))
    two = layout_text("Hello\n\nworld", noto, size=(20, 20), box=(500, 500))
    assert [line.text for line in one.lines] == ["Hello", "world"]
    assert [line.text for line in two.lines] == ["Hello", "", "world"]
    assert two.height > one.height
    odd = layout_text("Tab\there\x00\r\nnext", noto, size=(20, 20), box=(500, 500))
    assert [line.text for line in odd.lines] == ["Tab here", "next"]


def test_empty_text_and_bad_arguments(noto: FontStack) -> None:
    empty = layout_text("", noto, size=(10, 20), box=(100, 100))
    assert empty.lines == () and empty.fits
    assert render(empty, (5, 5, 100, 100))[1] == (5, 5, 5, 5)
    for kwargs in (
        {"size": (0, 10), "box": (10, 10)},
        {"size": (20, 10), "box": (10, 10)},
        {"size": (10, 10), "box": (0, 10)},
        {"size": (10, 10), "box": (10, 10), "max_lines": 0},
        {"size": (10, 10), "box": (10, 10), "line_height": 0},
    ):
        with pytest.raises(ValueError):
            layout_text("x", noto, **kwargs)


def test_layout_scales_with_the_device_pixel_ratio(noto: FontStack) -> None:
    text = "Summer sale: 50% off everything"
    one = layout_text(text, noto, size=(10, 60), box=(300, 100), max_lines=2)
    two = layout_text(text, noto, size=(20, 120), box=(600, 200), max_lines=2)
    assert abs(two.size - 2 * one.size) <= 2
    assert len(two.lines) == len(one.lines)


def test_fonts_are_opened_once_per_face_and_size(noto: FontStack) -> None:
    args = {"size": (10, 60), "box": (300, 100), "max_lines": 2}
    layout_text("Cached fonts only, please", noto, **args)  # type: ignore[arg-type]
    before = get_font.cache_info().misses
    layout_text("Cached fonts only, please", noto, **args)  # type: ignore[arg-type]
    assert get_font.cache_info().misses == before


# ---------------------------------------------------------------- drawing


def test_start_and_end_alignment_mirror_for_rtl(noto: FontStack) -> None:
    box = (10, 10, 400, 80)
    for text, start_side in (("Hello", "left"), ("שלום", "right")):
        layout = layout_text(text, noto, size=(30, 30), box=box[2:], max_lines=1)
        start, _ = render(layout, box, align="start")
        side, _ = render(layout, box, align=start_side)
        end, _ = render(layout, box, align="end")
        assert ink_columns(start) == ink_columns(side)
        assert ink_columns(end) != ink_columns(start)


def test_center_and_middle_put_the_ink_in_the_middle(noto: FontStack) -> None:
    layout = layout_text("Centered", noto, size=(20, 20), box=(400, 200), max_lines=1)
    _, (x0, y0, x1, y1) = render(layout, (0, 0, 400, 200), align="center", valign="middle")
    assert abs((x0 + x1) / 2 - 200) <= 3
    assert abs((y0 + y1) / 2 - 100) <= 12


def test_translucent_colour_blends_over_an_opaque_background(noto: FontStack) -> None:
    layout = layout_text("Blend", noto, size=(40, 40), box=(300, 80), max_lines=1)
    for mode, background in (("RGBA", (0, 0, 255, 255)), ("RGB", (0, 0, 255))):
        canvas = Image.new(mode, (300, 80), background)
        draw_text(canvas, layout, box=(0, 0, 300, 80), color=(255, 0, 0, 128))
        if mode == "RGBA":
            assert canvas.getchannel("A").getextrema() == (255, 255)
        _, red = canvas.getchannel("R").getextrema()
        assert isinstance(red, int) and 100 <= red <= 140  # about half of 255, never full red


def test_draw_text_rejects_palette_images(noto: FontStack) -> None:
    layout = layout_text("x", noto, size=(10, 10), box=(50, 50))
    with pytest.raises(ValueError, match="RGB or RGBA"):
        draw_text(Image.new("P", (50, 50)), layout, box=(0, 0, 50, 50))


def test_text_in_a_box_that_hangs_off_the_image_is_clipped_to_the_image(noto: FontStack) -> None:
    layout = layout_text("Edge", noto, size=(40, 40), box=(200, 80), max_lines=1)
    canvas = Image.new("RGBA", (100, 50), TRANSPARENT)
    x0, y0, x1, y1 = draw_text(canvas, layout, box=(-20, -20, 200, 80), color=INK)
    assert 0 <= x0 < x1 <= 100 and 0 <= y0 < y1 <= 50


# ---------------------------------------------------------------- property


WORDS = st.sampled_from(
    [
        "Sale",
        "summer",
        "Grüße",
        "Ünïcödé",
        "state-of-the-art",
        "Supercalifragilistic",
        "مرحبا",
        "بالعالم",
        "مريم",
        "שלום",
        "עולם",
        "冬季大促销",
        "，全场八折",
        "「限定」",
        "こんにちは",
        "2024",
        "50%",
        "$9.99",
        "!",
        "…",
        "(",
        ")",
        "—",
    ]
)
TEXTS = st.lists(st.tuples(WORDS, st.sampled_from([" ", "", " ", "\n"])), min_size=1, max_size=10).map(
    lambda parts: "".join(w + sep for w, sep in parts).strip()
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=TEXTS,
    min_size=st.integers(6, 30),
    extra=st.integers(0, 40),
    width=st.integers(16, 360),
    height=st.integers(12, 180),
    max_lines=st.none() | st.integers(1, 4),
    align=st.sampled_from(["start", "end", "left", "right", "center"]),
    valign=st.sampled_from(["top", "middle", "bottom"]),
)
def test_ink_never_leaves_the_box(
    noto: FontStack,
    text: str,
    min_size: int,
    extra: int,
    width: int,
    height: int,
    max_lines: int | None,
    align: str,
    valign: str,
) -> None:
    # GIVEN any mix of scripts, sizes and boxes
    layout = layout_text(
        text, noto, size=(min_size, min_size + extra), box=(width, height), max_lines=max_lines
    )
    box = (13, 17, width, height)
    # WHEN drawn
    canvas, (x0, y0, x1, y1) = render(layout, box, align=align, valign=valign)
    # THEN the reported and the real ink stay in the box (1px antialias tolerance)
    inside = (box[0] - 1, box[1] - 1, box[0] + width + 1, box[1] + height + 1)
    assert inside[0] <= x0 <= x1 <= inside[2] and inside[1] <= y0 <= y1 <= inside[3]
    real = canvas.getchannel("A").getbbox()
    if real is not None:
        assert inside[0] <= real[0] and inside[1] <= real[1] and real[2] <= inside[2] and real[3] <= inside[3]
        assert (x0, y0, x1, y1) == real
    if layout.fits:
        assert max_lines is None or len(layout.lines) <= max_lines
        assert layout.width <= width and layout.height <= height
        # AND a fitting layout is placed inside the box, not rescued by clipping: the same layout
        # drawn top-left in a much larger box leaves exactly the same ink
        _, roomy = render(layout, (box[0], box[1], width + 200, height + 200), align="left", valign="top")
        _, tight = render(layout, box, align="left", valign="top")
        assert roomy == tight
    else:
        assert layout.size == min_size


# ---------------------------------------------------------------- bidi


BIDI_WORDS = st.sampled_from(
    [
        "Sale",
        "abc",
        "שלום",
        "עולם",
        "مرحبا",
        "بالعالم",
        "50",
        "9.99",
        "50%",
        "$5",
        "+",
        "-",
        "!",
        ",",
        ":",
        "/",
        "#1",
        "١٢٣",
        "a1",
        "ש2",
        "(",
        ")",
        "(abc)",
        "(שלום)",
        "[x]",
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(BIDI_WORDS, st.sampled_from([" ", ""])), min_size=1, max_size=7))
def test_run_order_matches_fribidi_on_the_whole_line(parts: list[tuple[str, str]]) -> None:
    # GIVEN a mixed-direction line and a stack with one face (DejaVu has Latin, Hebrew and Arabic)
    text = "".join(word + sep for word, sep in parts).strip()
    face = resolve_family("sans")
    layout = layout_text(text, font_stack(face, fallbacks=[]), size=(24, 24), box=(2000, 60), max_lines=1)
    line = layout.lines[0]
    # WHEN drawn run by run by Versa, and as one string by raqm (whose bidi is fribidi)
    ours = Image.new("RGBA", (700, 60), TRANSPARENT)
    draw_text(ours, layout, box=(0, 0, 700, 60), align="left")
    theirs = Image.new("L", (700, 60), 0)
    ImageDraw.Draw(theirs).text(
        (-line.left, line.baseline),
        text,
        fill=255,
        font=get_font(face, 24),
        anchor="ls",
        direction=layout.direction,
    )

    # THEN the ink is distributed the same way along x, up to a pixel of sub-pixel positioning
    def cdf(image: Image.Image) -> list[float]:
        columns = image.resize((image.width, 1), Image.Resampling.BOX).tobytes()
        total = float(sum(columns)) or 1.0
        out, acc = [], 0.0
        for w in columns:
            acc += w
            out.append(acc / total)
        return out

    mine, ref = cdf(ours.getchannel("A")), cdf(theirs)
    n = len(ref)
    worst = max(max(ref[max(0, x - 1)] - mine[x], mine[x] - ref[min(n - 1, x + 1)], 0.0) for x in range(n))
    assert worst < 0.02, [(r.text, r.direction) for r in line.runs]


def test_base_direction_is_that_of_the_first_strong_character() -> None:
    assert base_direction("123 שלום abc") == "rtl"
    assert base_direction("(abc) שלום") == "ltr"
    assert base_direction("123 !") == "ltr"
    assert base_direction("123", default="rtl") == "rtl"


def test_embedding_levels_for_mixed_text() -> None:
    assert embedding_levels("ab אב") == [0, 0, 0, 1, 1]
    assert embedding_levels("אב ab") == [1, 1, 1, 2, 2]
    # European numbers after Arabic letters become Arabic numbers (level 2 in both paragraph kinds)
    assert embedding_levels("م 12") == [1, 1, 2, 2]
    # a neutral between two RTL words is RTL; between scripts it takes the paragraph direction
    assert embedding_levels("a אב גד b") == [0, 0, 1, 1, 1, 1, 1, 0, 0]
    # combining marks follow their base
    assert embedding_levels("שָׁ") == [1, 1, 1]


def test_paired_brackets_take_the_direction_of_what_they_enclose() -> None:
    # RTL paragraph, Latin in brackets after Hebrew: both brackets resolve to the paragraph direction
    assert embedding_levels("א (b) ג") == [1, 1, 1, 2, 1, 1, 1]
    # LTR paragraph, Hebrew in brackets after Hebrew: the brackets join the Hebrew
    assert embedding_levels("a א (ב) c") == [0, 0, 1, 1, 1, 1, 1, 0, 0]


def test_visual_order_reverses_from_the_highest_level_down() -> None:
    assert visual_order([("a", 0), ("b", 1), ("c", 1), ("d", 0)]) == ["a", "c", "b", "d"]
    assert visual_order([("x", 1), ("1", 2), ("2", 2), ("y", 1)]) == ["y", "1", "2", "x"]
    assert visual_order([]) == []
