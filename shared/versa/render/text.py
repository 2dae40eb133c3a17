"""Text layout: font runs, bidi, line breaking, autofit and ellipsis, then drawing inside a box.

`layout_text` is a pure function of its arguments (fonts come from the process-wide cache): it splits
the text into grapheme clusters, gives each cluster a face from the stack and a bidi level, breaks
lines by shaped width and picks the largest font size that fits the box. `draw_text` paints a layout
with raqm, one run (same face, same direction) at a time on a shared baseline, and never outside the box.
The baselines of a block sit on one even grid, as far apart as `line_height` asks or as the ink of
adjacent lines needs to keep clear of each other, whichever is more.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from versa.render.bidi import Direction, base_direction, direction_of, embedding_levels, visual_order
from versa.render.fonts import FontFace, FontStack, coverage, get_font
from versa.render.linebreak import (
    NOT_AT_LINE_END,
    NOT_AT_LINE_START,
    keeps_words,
    phrase_boundaries,
    phrase_model,
)

Align = Literal["start", "end", "left", "right", "center"]
VAlign = Literal["top", "middle", "bottom"]

ELLIPSIS = "…"

_ZWJ, _ZWNJ = "\u200d", "\u200c"
_SPACES = frozenset(" \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000")
_DASHES = frozenset("-\u2010\u2012\u2013\u2014\u2e3a\u2e3b")
_NO_BREAK_BEFORE = NOT_AT_LINE_START
_NO_BREAK_AFTER = NOT_AT_LINE_END
_CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FFF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
_CJK_STARTS = tuple(lo for lo, _ in _CJK_RANGES)


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of one line drawn with one face in one direction; `x` is its left edge in the line."""

    text: str
    face: FontFace
    direction: Direction
    x: int
    width: float


@dataclass(frozen=True, slots=True)
class Line:
    """One laid-out line: runs in visual (left-to-right) order on a common baseline.

    `width` is the advance width; `ink_left`/`ink_right` are the horizontal ink extents relative to
    the line's left edge (glyphs may overhang their advance); `baseline` is measured from the top of
    the text block, and `ascent`/`descent` are how far the line reaches above and below it.
    """

    text: str
    runs: tuple[Run, ...]
    width: float
    baseline: int
    ascent: int
    descent: int
    ink_left: int
    ink_right: int

    @property
    def left(self) -> int:
        """Left edge of everything the line occupies (advance or ink), relative to its origin."""
        return min(0, self.ink_left)

    @property
    def right(self) -> int:
        return max(math.ceil(self.width), self.ink_right)


@dataclass(frozen=True, slots=True)
class TextLayout:
    """Lines at the chosen font size. `fits` says every constraint held; `truncated` that text was
    cut and ended with an ellipsis. `width`/`height` are the extent of the block."""

    lines: tuple[Line, ...]
    size: int
    fits: bool
    truncated: bool
    width: int
    height: int
    direction: Direction
    lang: str | None = None


# ---------------------------------------------------------------- size-independent analysis


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    i = bisect.bisect_right(_CJK_STARTS, cp) - 1  # the last range starting at or below cp
    return i >= 0 and cp <= _CJK_RANGES[i][1]


# Per-character properties, as bits of `_flags(char)`.
_EXTENDS = 1  # always joins the cluster before it (marks, joiners, variation selectors, skin tones)
_VIRAMA = 2  # a following letter joins its cluster (UAX #29 GB9c, simplified)
_LETTER = 4  # general category L*
_LETTER_LIKE = 8  # general category L* or M*
_NO_BREAK_BEFORE_BIT = 16  # no line may start with it
_OPENING = 32  # no line may end with it
_DASH = 64
_CJK = 128
_DIGIT = 256
_THAI = 512


@functools.lru_cache(maxsize=8192)
def _flags(char: str) -> int:
    """The properties of one character that clustering, font runs and line breaking ask about."""
    category = unicodedata.category(char)
    cp = ord(char)
    flags = 0
    if (
        category in ("Mn", "Mc", "Me")
        or char in (_ZWJ, _ZWNJ)
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF
    ):
        flags |= _EXTENDS
    if unicodedata.combining(char) == 9:
        flags |= _VIRAMA
    if category.startswith("L"):
        flags |= _LETTER
    if category[0] in ("L", "M"):
        flags |= _LETTER_LIKE
    if char in _NO_BREAK_BEFORE or category in ("Pe", "Pf"):
        flags |= _NO_BREAK_BEFORE_BIT
    if char in _NO_BREAK_AFTER or category in ("Ps", "Pi"):
        flags |= _OPENING
    if char in _DASHES:
        flags |= _DASH
    if _is_cjk(char):
        flags |= _CJK
    if char.isdigit():
        flags |= _DIGIT
    if 0x0E00 <= cp <= 0x0E7F:
        flags |= _THAI
    return flags


def _cluster_bounds(text: str) -> list[int]:
    """Start offsets of the grapheme clusters of `text`, then its length. A character joins the cluster
    before it when it is a mark, a joiner, a variation selector or a skin tone, when it follows a
    zero-width joiner, or when it is a letter after a virama (UAX #29 GB9c, simplified)."""
    if text.isascii():  # no ASCII character extends a cluster
        return list(range(len(text) + 1))
    flags = [_flags(c) for c in text]
    bounds = [0]
    for i in range(1, len(text)):
        f = flags[i]
        if not (f & _EXTENDS or text[i - 1] == _ZWJ or (flags[i - 1] & _VIRAMA and f & _LETTER)):
            bounds.append(i)
    bounds.append(len(text))
    return bounds


@dataclass(slots=True)
class _Para:
    """One paragraph analysed: clusters (`bounds`), and per cluster its face, bidi level, whether it is
    a space, whether a line may break after it (`breaks`) and whether it may when a phrase wider than
    a line must be cut (`soft`: between characters, kinsoku kept); `units` are the unbreakable pieces
    between breaks, as (start, content_end, end) cluster indices: content, then the spaces that may
    hang after it."""

    text: str
    bounds: list[int]
    faces: list[FontFace]
    levels: list[int]
    spaces: list[bool]
    breaks: list[bool]
    soft: list[bool]
    units: list[tuple[int, int, int]]
    run_ends: list[int]  # run_ends[k]: where the run of equal face and level through cluster k ends
    lang: str | None = None

    def __len__(self) -> int:
        return len(self.bounds) - 1


def _covers_all(face: FontFace, cluster: str, cmap: frozenset[int] | None = None) -> bool:
    """True when `face` (whose coverage `cmap` is, if given) has every character of `cluster` but
    format characters."""
    if cmap is None:
        cmap = coverage(face)
    if len(cluster) == 1:
        return ord(cluster) in cmap or unicodedata.category(cluster) == "Cf"
    return all(ord(c) in cmap for c in cluster if unicodedata.category(c) != "Cf")


def _assign_faces(clusters: list[str], levels: list[int], stack: FontStack) -> list[FontFace]:
    """A face per cluster: letters by the stack; spaces, digits and punctuation stay with a neighbour's
    face (same level first) so they neither split runs nor change style mid-phrase."""
    n = len(clusters)
    cmaps: dict[int, frozenset[int]] = {}  # coverage by id() of the stack's faces, for this call

    def covers(face: FontFace, cl: str) -> bool:
        cmap = cmaps.get(id(face))
        if cmap is None:
            cmap = cmaps[id(face)] = coverage(face)
        return _covers_all(face, cl, cmap)

    faces: list[FontFace | None] = [None] * n
    for k, cl in enumerate(clusters):
        if _flags(cl[0]) & _LETTER_LIKE:
            face = stack.face_for(cl[0])
            # A face the stack picks for a character covers it: only longer clusters need a check.
            if face is not None and len(cl) > 1 and not covers(face, cl):
                face = next((f for f in stack.faces if covers(f, cl)), face)
            faces[k] = face or stack.primary
    strong_after: list[int | None] = [None] * n
    nxt: int | None = None
    for k in range(n - 1, -1, -1):
        strong_after[k] = nxt
        if faces[k] is not None:
            nxt = k
    for k, cl in enumerate(clusters):
        if faces[k] is not None:
            continue
        candidates: list[FontFace] = []
        after = strong_after[k]
        prev_face = faces[k - 1] if k else None
        next_face = faces[after] if after is not None else None
        if prev_face is not None and levels[k - 1] == levels[k]:
            candidates.append(prev_face)
        if next_face is not None and after is not None and levels[after] == levels[k]:
            candidates.append(next_face)
        candidates.extend(f for f in (prev_face, next_face) if f is not None)
        chosen = next((f for f in candidates if covers(f, cl)), None)
        faces[k] = chosen or stack.face_for(cl[0]) or prev_face or next_face or stack.primary
    return [f if f is not None else stack.primary for f in faces]


def _break_after(
    clusters: list[str],
    spaces: list[bool],
    simple: bool = False,
    *,
    bounds: list[int] | None = None,
    phrases: frozenset[int] | None = None,
    keep_words: bool = False,
) -> tuple[list[bool], list[bool]]:
    """(breaks, soft): breaks[k] says a line may end after cluster k (spaces, after dashes, around CJK
    and Thai; kinsoku-aware); soft[k] says it may when a phrase too wide for a line must be cut.
    `simple` says every cluster is a single character. With `phrases` (character offsets where a
    phrase ends, `bounds` mapping clusters to offsets) a line breaks between CJK or Thai characters only
    at a phrase end; `keep_words` (Korean) never breaks between two CJK characters."""
    n = len(clusters)
    breaks = [False] * n
    soft = [False] * n
    firsts = [_flags(cl[0]) for cl in clusters]
    lasts = firsts if simple else [_flags(cl[-1]) for cl in clusters]
    content_seen = False
    for k in range(n - 1):
        first_next, last_cur = firsts[k + 1], lasts[k]
        content_seen = content_seen or not spaces[k]
        if first_next & _NO_BREAK_BEFORE_BIT:
            continue
        if spaces[k]:
            breaks[k] = content_seen and not spaces[k + 1]
        elif spaces[k + 1] or last_cur & _OPENING:
            continue
        elif last_cur & _DASH:
            breaks[k] = k > 0 and not spaces[k - 1] and not first_next & _DIGIT
        elif (firsts[k] | first_next) & (_CJK | _THAI):
            soft[k] = True
            if phrases is not None and bounds is not None:
                breaks[k] = bounds[k + 1] in phrases
            elif keep_words and firsts[k] & first_next & _CJK:
                breaks[k] = False
            else:
                breaks[k] = bool((firsts[k] | first_next) & _CJK)
        else:
            continue
        soft[k] = soft[k] or breaks[k]
    return breaks, soft


def _clusters(
    text: str, stack: FontStack, direction: Direction
) -> tuple[list[int], bool, list[str], list[int], list[FontFace], bool]:
    """(bounds, simple, clusters, levels, faces, one_face) of one paragraph: its grapheme clusters,
    their bidi levels and the face drawing each."""
    bounds = _cluster_bounds(text)
    simple = len(bounds) == len(text) + 1  # every character is a cluster of its own
    clusters = list(text) if simple else [text[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]
    char_levels = embedding_levels(text, direction)
    levels = char_levels if simple else [char_levels[bounds[k]] for k in range(len(clusters))]
    # When the primary face draws every character, `_assign_faces` gives it to every cluster.
    one_face = stack.primary_draws_all(text)
    faces = [stack.primary] * len(clusters) if one_face else _assign_faces(clusters, levels, stack)
    return bounds, simple, clusters, levels, faces, one_face


def cluster_faces(text: str, stack: FontStack) -> list[tuple[str, FontFace]]:
    """Every grapheme cluster of `text` with the face `layout_text` draws it in (the same paragraphs,
    bidi levels and face assignment), in logical order; line breaks and dropped controls left out."""
    direction = base_direction(text)
    out: list[tuple[str, FontFace]] = []
    for para in _paragraphs(text):
        if para:
            _, _, clusters, _, faces, _ = _clusters(para, stack, direction)
            out += zip(clusters, faces, strict=True)
    return out


def _analyse(text: str, stack: FontStack, direction: Direction, lang: str | None = None) -> _Para:
    bounds, simple, clusters, levels, faces, one_face = _clusters(text, stack, direction)
    spaces = [cl[0] in _SPACES for cl in clusters]
    model = phrase_model(lang, text)
    phrases = phrase_boundaries(text, model) if model is not None else None
    breaks, soft = _break_after(
        clusters, spaces, simple, bounds=bounds, phrases=phrases, keep_words=keeps_words(lang)
    )
    units: list[tuple[int, int, int]] = []
    start = 0
    for k in range(len(clusters)):
        if breaks[k] or k == len(clusters) - 1:
            end = k + 1
            content_end = end
            while content_end > start and spaces[content_end - 1]:
                content_end -= 1
            units.append((start, content_end, end))
            start = end
    n = len(clusters)
    run_ends = [n] * n
    if not (one_face and (n == 0 or levels.count(levels[0]) == n)):  # else one run throughout
        for k in range(n - 2, -1, -1):
            face, nxt = faces[k], faces[k + 1]
            same = (nxt is face or nxt == face) and levels[k + 1] == levels[k]
            run_ends[k] = run_ends[k + 1] if same else k + 1
    return _Para(text, bounds, faces, levels, spaces, breaks, soft, units, run_ends, lang)


_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""Every character of general category Cc except "\n" (the category is closed: C0, DEL and C1)."""
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n", "\t": " "})


def _paragraphs(text: str) -> list[str]:
    """Hard-broken paragraphs; tabs become spaces and other control characters (which fonts draw as
    boxes) are dropped."""
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
    return _CONTROLS.sub("", text).split("\n")


# ---------------------------------------------------------------- measuring


_SHAPED_TEXT_MAX = 200
"""Pieces of text up to this many characters (words, most lines) have their shaped advance and ink box
remembered for the process (`_shaped_length`, `_shaped_bbox`); longer ones only for one layout."""


def _measure_length(face: FontFace, size: int, text: str, direction: Direction, lang: str | None) -> float:
    return get_font(face, size).getlength(text, direction=direction, language=lang)


def _measure_bbox(
    face: FontFace, size: int, text: str, direction: Direction, lang: str | None
) -> tuple[int, int, int, int]:
    left, top, right, bottom = get_font(face, size).getbbox(
        text, direction=direction, language=lang, anchor="ls"
    )
    return (math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))


# Shaping is a pure function of face, size, text, direction and language: words and lines that recur
# across requests (everything but the personal parts of a text) are shaped once per process. The face
# is keyed by its path and index (cheaper to hash than the dataclass).
@functools.lru_cache(maxsize=8192)
def _shaped_length(
    path: str, index: int, size: int, text: str, direction: Direction, lang: str | None
) -> float:
    return _measure_length(FontFace(path, index), size, text, direction, lang)


@functools.lru_cache(maxsize=4096)
def _shaped_bbox(
    path: str, index: int, size: int, text: str, direction: Direction, lang: str | None
) -> tuple[int, int, int, int]:
    return _measure_bbox(FontFace(path, index), size, text, direction, lang)


def clear_shaping_cache() -> None:
    """Forget the process-wide shaping results (tests and benchmarks)."""
    _shaped_length.cache_clear()
    _shaped_bbox.cache_clear()


class _Measure:
    """Shaping results for one `layout_text` call: short texts from the process-wide memo, longer ones
    memoised for this call only, keyed by (face, size, text, direction)."""

    def __init__(self, lang: str | None) -> None:
        self.lang = lang
        self._lengths: dict[tuple[FontFace, int, str, Direction], float] = {}
        self._boxes: dict[tuple[FontFace, int, str, Direction], tuple[int, int, int, int]] = {}

    def length(self, face: FontFace, size: int, text: str, direction: Direction) -> float:
        if len(text) <= _SHAPED_TEXT_MAX:
            return _shaped_length(face.path, face.index, size, text, direction, self.lang)
        key = (face, size, text, direction)
        width = self._lengths.get(key)
        if width is None:
            width = self._lengths[key] = _measure_length(face, size, text, direction, self.lang)
        return width

    def bbox(self, face: FontFace, size: int, text: str, direction: Direction) -> tuple[int, int, int, int]:
        if len(text) <= _SHAPED_TEXT_MAX:
            return _shaped_bbox(face.path, face.index, size, text, direction, self.lang)
        key = (face, size, text, direction)
        box = self._boxes.get(key)
        if box is None:
            box = self._boxes[key] = _measure_bbox(face, size, text, direction, self.lang)
        return box


def _logical_runs(para: _Para, start: int, end: int) -> list[tuple[str, FontFace, int]]:
    """Maximal (text, face, level) pieces of clusters [start, end) in logical order."""
    runs: list[tuple[str, FontFace, int]] = []
    k = start
    while k < end:
        j = min(para.run_ends[k], end)
        runs.append((para.text[para.bounds[k] : para.bounds[j]], para.faces[k], para.levels[k]))
        k = j
    return runs


def _span_width(para: _Para, start: int, end: int, size: int, m: _Measure) -> float:
    if start >= end:
        return 0
    if para.run_ends[start] >= end:  # a single run
        text = para.text[para.bounds[start] : para.bounds[end]]
        return m.length(para.faces[start], size, text, direction_of(para.levels[start]))
    return sum(
        m.length(face, size, text, direction_of(level))
        for text, face, level in _logical_runs(para, start, end)
    )


def _trim_spaces(para: _Para, start: int, end: int) -> int:
    while end > start and para.spaces[end - 1]:
        end -= 1
    return end


@dataclass(slots=True)
class _Draft:
    text: str
    runs: tuple[Run, ...]
    width: float
    ascent: int
    descent: int
    ink_left: int
    ink_right: int
    ink_above: int = 0  # how far the line's ink reaches above its baseline (0 when it has none)
    ink_below: int = 0  # and below it

    @property
    def footprint(self) -> int:
        return max(math.ceil(self.width), self.ink_right) - min(0, self.ink_left)


def _draft(para: _Para, start: int, end: int, size: int, m: _Measure, strut: tuple[int, int]) -> _Draft:
    """Shape clusters [start, end) of a paragraph into one line (visual order, shared baseline)."""
    logical = _logical_runs(para, start, end)
    runs: list[Run] = []
    cursor = 0.0
    ink_above = ink_below = 0
    ink_left, ink_right = 0, 0
    for text, face, level in visual_order([(run, run[2]) for run in logical]):
        direction = direction_of(level)
        width = m.length(face, size, text, direction)
        x = round(cursor)
        runs.append(Run(text, face, direction, x, width))
        if text.strip():
            left, top, right, bottom = m.bbox(face, size, text, direction)
            if right > left:
                if ink_right <= ink_left:
                    ink_left, ink_right = x + left, x + right
                else:
                    ink_left, ink_right = min(ink_left, x + left), max(ink_right, x + right)
            ink_above, ink_below = max(ink_above, -top), max(ink_below, bottom)
        cursor += width
    return _Draft(
        para.text[para.bounds[start] : para.bounds[end]],
        tuple(runs),
        cursor,
        max(strut[0], ink_above),
        max(strut[1], ink_below),
        ink_left,
        ink_right,
        ink_above,
        ink_below,
    )


@functools.lru_cache(maxsize=1024)
def _metrics(path: str, index: int, size: int) -> tuple[int, int]:
    """A face's ascent and descent at a size, as FreeType reads them (hhea, else OS/2 typo metrics)."""
    ascent, descent = get_font(FontFace(path, index), size).getmetrics()
    return ascent, descent


# ---------------------------------------------------------------- line breaking


def _fit_prefix(para: _Para, start: int, end: int, limit: float, width_of: _WidthFn) -> int:
    """Where to cut clusters [start, end), too wide for `limit`, so the first part ends a line: the
    largest cut that fits where `para.soft` allows a break (between CJK or Thai characters), else the
    largest that fits and keeps the kinsoku rules (a long Latin word), else the first cut that keeps
    them even though it overflows: kinsoku is never broken ("文。" stays whole in a box one character
    wide; the layout then does not fit)."""
    lo, hi = start + 1, end
    if width_of(start, hi) <= limit:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if width_of(start, mid) <= limit:
            lo = mid
        else:
            hi = mid - 1
    soft = [c for c in range(start + 1, lo + 1) if para.soft[c - 1]]
    if soft:
        return soft[-1]
    kept = [c for c in range(start + 1, end) if _kinsoku_allows(para, c)]
    fitting = [c for c in kept if c <= lo]
    if fitting:
        return fitting[-1]
    return kept[0] if kept else end


def _kinsoku_allows(para: _Para, cut: int) -> bool:
    """True when a line may end before cluster `cut`: it does not start with a closing mark and the
    line before does not end with an opening one."""
    after = _flags(para.text[para.bounds[cut]])
    before = _flags(para.text[para.bounds[cut] - 1])
    return not (after & _NO_BREAK_BEFORE_BIT or before & _OPENING)


class _WidthFn:
    def __init__(self, para: _Para, size: int, m: _Measure, strut: tuple[int, int]) -> None:
        self.para, self.size, self.m, self.strut = para, size, m, strut

    def __call__(self, start: int, end: int) -> int:
        end = _trim_spaces(self.para, start, end)
        return _draft(self.para, start, end, self.size, self.m, self.strut).footprint


def _break_paragraph(
    para: _Para, size: int, width: int, m: _Measure, strut: tuple[int, int], limit: int
) -> tuple[list[tuple[int, int]], bool, bool]:
    """Greedy line breaking by shaped width: up to `limit` lines as (start, end) cluster ranges,
    whether text remains after them, and whether a word had to be broken between characters."""
    if len(para) == 0:
        return [(0, 0)], False, False
    width_of = _WidthFn(para, size, m, strut)
    units = list(para.units)
    lines: list[tuple[int, int]] = []
    split = False
    i = 0
    while i < len(units):
        if len(lines) == limit:
            return lines, True, split
        start = units[i][0]
        # Greedy by the sum of unit widths (cheap, memoised), then confirm with the whole line shaped
        # (advance only: ink overhang is judged by the fit test).
        used, j = 0.0, i
        while j < len(units):
            u_start, u_content, u_end = units[j]
            content = _span_width(para, u_start, u_content, size, m)
            if j > i and used + content > width:
                break
            used += content + _span_width(para, u_content, u_end, size, m)
            j += 1
        while j > i + 1 and _span_width(para, start, units[j - 1][1], size, m) > width:
            j -= 1
        end = units[j - 1][1]
        if j == i + 1 and width_of(start, end) > width:
            # One unit wider than the box: break inside it at a cluster boundary (grapheme-safe).
            cut = _fit_prefix(para, start, end, width, width_of)
            split = True
            lines.append((start, _trim_spaces(para, start, cut)))
            if cut >= units[i][1]:
                i += 1
            else:
                units[i] = (cut, units[i][1], units[i][2])
            continue
        lines.append((start, end))
        i = j
    return lines, False, split


# ---------------------------------------------------------------- layout


@dataclass(slots=True)
class _Attempt:
    drafts: list[_Draft]
    ranges: list[tuple[_Para, int, int]]
    more: bool
    baselines: list[int]
    height: int
    split: bool = False  # some word was broken between characters

    def lines(self) -> tuple[Line, ...]:
        return tuple(
            Line(d.text, d.runs, d.width, b, d.ascent, d.descent, d.ink_left, d.ink_right)
            for d, b in zip(self.drafts, self.baselines, strict=True)
        )


CLEARANCE_EM = 0.06
"""The least gap, in em, between the ink of one line and the ink of the next (at least one pixel)."""


def _step(drafts: list[_Draft], pitch: int, size: int) -> int:
    """The distance between the baselines of a block: `pitch`, or, when the ink of two adjacent lines
    (the marks below one, the marks above the next) would come closer than the clearance, the least
    whole-pixel step that keeps every pair that far apart. A single line has no neighbour."""
    if len(drafts) < 2:
        return pitch
    reach = max(a.ink_below + b.ink_above for a, b in itertools.pairwise(drafts))
    return max(pitch, reach + max(1, math.ceil(CLEARANCE_EM * size)))


def _stack_lines(drafts: list[_Draft], pitch: int, size: int) -> tuple[list[int], int]:
    """Baselines (from the block top) on one even grid, and the block height.

    Every baseline is one `_step` below the one before, whichever faces draw the lines, so a block
    mixing fallback faces keeps an even grid. The first line's top and the last line's bottom are its
    strut or its ink, whichever reaches further."""
    if not drafts:
        return [], 0
    step = _step(drafts, pitch, size)
    baselines = [drafts[0].ascent + i * step for i in range(len(drafts))]
    top = min(b - d.ascent for b, d in zip(baselines, drafts, strict=True))
    baselines = [b - top for b in baselines]
    bottom = max(b + d.descent for b, d in zip(baselines, drafts, strict=True))
    return baselines, bottom


def _pitch(size: int, line_height: float) -> int:
    return max(1, round(size * line_height))


def _strut(stack: FontStack, size: int, pitch: int) -> tuple[int, int]:
    """A line's minimum ascent and descent: one pitch tall, the baseline placed as CSS does, by
    sharing the leading (pitch minus the primary face's ascent + descent) equally above and below."""
    ascent, descent = _metrics(stack.primary.path, stack.primary.index, size)
    above = round(ascent + (pitch - ascent - descent) / 2)
    return above, pitch - above


def _attempt(
    paras: list[_Para], stack: FontStack, size: int, width: int, pitch: int, m: _Measure, limit: int
) -> _Attempt:
    strut = _strut(stack, size, pitch)
    drafts: list[_Draft] = []
    ranges: list[tuple[_Para, int, int]] = []
    more = split = False
    for para in paras:
        if len(drafts) >= limit:
            more = True
            break
        got, rest, para_split = _break_paragraph(para, size, width, m, strut, limit - len(drafts))
        split = split or para_split
        drafts.extend(_draft(para, s, e, size, m, strut) for s, e in got)
        ranges.extend((para, s, e) for s, e in got)
        if rest:
            more = True
            break
    baselines, height = _stack_lines(drafts, pitch, size)
    return _Attempt(drafts, ranges, more, baselines, height, split)


def _fits(a: _Attempt, box: tuple[int, int], max_lines: int | None) -> bool:
    return (
        not a.more
        and (max_lines is None or len(a.drafts) <= max_lines)
        and a.height <= box[1]
        and all(d.footprint <= box[0] for d in a.drafts)
    )


def _ellipsis_line(
    para: _Para,
    start: int,
    end: int,
    stack: FontStack,
    direction: Direction,
    size: int,
    width: int,
    m: _Measure,
    strut: tuple[int, int],
) -> _Draft:
    """Clusters [start, end) cut back until they plus an ellipsis fit `width`."""

    built: dict[int, _Draft] = {}

    def build(cut: int) -> _Draft:
        cut = _trim_spaces(para, start, cut)
        if cut not in built:
            trimmed = _analyse(para.text[: para.bounds[cut]] + ELLIPSIS, stack, direction, para.lang)
            built[cut] = _draft(trimmed, start, len(trimmed), size, m, strut)
        return built[cut]

    lo, hi = start, end
    if build(hi).footprint <= width:
        return build(hi)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if build(mid).footprint <= width:
            lo = mid
        else:
            hi = mid - 1
    return build(lo)


def _truncate(
    paras: list[_Para],
    stack: FontStack,
    size: int,
    box: tuple[int, int],
    max_lines: int | None,
    pitch: int,
    direction: Direction,
    m: _Measure,
) -> _Attempt:
    cap = max_lines if max_lines is not None else max(1, box[1] // pitch + 1)
    a = _attempt(paras, stack, size, box[0], pitch, m, cap)
    keep = len(a.drafts)
    while keep > 1 and _stack_lines(a.drafts[:keep], pitch, size)[1] > box[1]:
        keep -= 1
    if keep == len(a.drafts) and not a.more:
        return a
    strut = _strut(stack, size, pitch)
    while True:
        para, start, end = a.ranges[keep - 1]
        last = _ellipsis_line(para, start, end, stack, direction, size, box[0], m, strut)
        drafts = [*a.drafts[: keep - 1], last]
        baselines, height = _stack_lines(drafts, pitch, size)
        # The cut line's ink (its ellipsis, a prefix shaped anew) can widen the step: drop a line then.
        if height <= box[1] or keep == 1:
            return _Attempt(drafts, a.ranges[:keep], True, baselines, height)
        keep -= 1


def layout_text(
    text: str,
    stack: FontStack,
    *,
    size: tuple[int, int],
    box: tuple[int, int],
    max_lines: int | None = None,
    line_height: float = 1.2,
    lang: str | None = None,
) -> TextLayout:
    """Lay `text` out in a `box` (w, h px) at the largest integer font size in `size` (min, max) that fits.

    Fitting means: at most `max_lines` lines, every line (advance and ink) no wider than the box, and
    the block no taller (the fit test measures the block with the step it is drawn with). Each line is
    `line_height` × size tall (baseline placed by half-leading from the primary face's ascent and
    descent, as CSS does), grown by any ink that reaches beyond; the baselines of a block are one even
    step apart, whichever fallback faces draw its lines: `line_height` × size or, when larger, the
    least whole-pixel step that leaves `CLEARANCE_EM` (at least one pixel) between the ink below any
    line and the ink above the next (shaped ink boxes, not the faces' declared ascent and descent,
    which overstate Arabic and understate Devanagari). A single line is never made taller.
    Lines break at spaces, after dashes, and between CJK or Thai characters: at phrase ends only
    (BudouX) for Japanese, Chinese and Thai, never inside a Korean word; kinsoku rules always hold
    (`versa.render.linebreak`); "\\n" forces a break. A word or phrase is broken between grapheme
    clusters only when no size fits whole ones. If even the minimum size does not fit, the minimum size
    is used and the text is cut to `max_lines` lines (or as many as fit the height), the last ending
    with "…" (`fits=False, truncated=True`). `lang` is a BCP 47 tag: it picks the phrase model and is
    passed to the shaper.
    """
    min_size, max_size = size
    if min_size < 1 or max_size < min_size:
        raise ValueError(f"size range must satisfy 1 <= min <= max, got {size!r}")
    if box[0] < 1 or box[1] < 1:
        raise ValueError(f"box must be at least 1x1 px, got {box!r}")
    if max_lines is not None and max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines!r}")
    if line_height <= 0:
        raise ValueError(f"line_height must be positive, got {line_height!r}")

    direction = base_direction(text)
    m = _Measure(lang)
    if not text:
        return TextLayout((), max_size, True, False, 0, 0, direction, lang)
    paras = [_analyse(p, stack, direction, lang) for p in _paragraphs(text)]
    hard_cap = max_lines if max_lines is not None else 10_000

    attempts: dict[int, _Attempt] = {}

    def attempt(s: int) -> _Attempt:
        if s not in attempts:
            pitch = _pitch(s, line_height)
            cap = min(hard_cap, box[1] // pitch + 1)
            attempts[s] = _attempt(paras, stack, s, box[0], pitch, m, cap)
        return attempts[s]

    def whole_words(a: _Attempt) -> bool:
        return _fits(a, box, max_lines) and not a.split

    def split_words(a: _Attempt) -> bool:
        return _fits(a, box, max_lines)

    if whole_words(attempt(max_size)):
        return _finish(attempts[max_size], max_size, True, False, direction, lang)
    # Splitting a word between characters is a last resort: only when no size fits whole words.
    guess = _guess_size(paras, stack, size, box, max_lines, line_height, m)
    for accept in (whole_words, split_words):
        found = _largest(min_size, max_size, guess, attempt, accept)
        if found is not None:
            return _finish(attempts[found], found, True, False, direction, lang)
    a = _truncate(paras, stack, min_size, box, max_lines, _pitch(min_size, line_height), direction, m)
    return _finish(a, min_size, False, a.more, direction, lang)


def _largest(
    lo: int, hi: int, guess: int, attempt: Callable[[int], _Attempt], accept: Callable[[_Attempt], bool]
) -> int | None:
    """The largest size in [lo, hi] whose attempt is accepted (assuming acceptance is monotone), by
    bisection whose first probes are `guess` and its neighbours: a good guess settles it in two."""
    probes = (guess, guess + 1, guess - 1)
    found: int | None = None
    lo -= 1
    if accept(attempt(hi)):
        return hi
    while hi - lo > 1:  # invariant: hi is rejected; lo is accepted (or below the range)
        mid = next((p for p in probes if lo < p < hi), (lo + hi) // 2)
        if accept(attempt(mid)):
            lo = found = mid
        else:
            hi = mid
    return found


def _guess_size(
    paras: list[_Para],
    stack: FontStack,
    size: tuple[int, int],
    box: tuple[int, int],
    max_lines: int | None,
    line_height: float,
    m: _Measure,
) -> int:
    """The largest size predicted to fit if every width scaled linearly from the largest size."""
    ref = size[1]
    widths = [
        [(_span_width(p, s, c, ref, m), _span_width(p, c, e, ref, m)) for s, c, e in p.units] for p in paras
    ]

    def predicted_fit(s: int) -> bool:
        k = s / ref
        lines = 0
        for units in widths:
            used = -1.0  # no line open yet
            for content, space in units:
                c = content * k
                if used >= 0 and used + c <= box[0]:
                    used += c + space * k
                    continue
                lines += 0 if used < 0 else 1
                if c > box[0]:
                    lines += math.ceil(c / box[0]) - 1
                    c %= box[0]
                used = c + space * k
            lines += 1
        if max_lines is not None and lines > max_lines:
            return False
        return lines * _pitch(s, line_height) <= box[1]

    lo, hi = size[0], size[1]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if predicted_fit(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _finish(
    a: _Attempt, size: int, fits: bool, truncated: bool, direction: Direction, lang: str | None
) -> TextLayout:
    width = max((d.footprint for d in a.drafts), default=0)
    return TextLayout(a.lines(), size, fits, truncated, width, a.height, direction, lang)


# ---------------------------------------------------------------- drawing


def _line_x(line: Line, width: int, align: Align, direction: Direction) -> int:
    if align == "start":
        align = "left" if direction == "ltr" else "right"
    elif align == "end":
        align = "right" if direction == "ltr" else "left"
    if align == "left":
        return -line.left
    if align == "right":
        return width - line.right
    return (width - (line.right - line.left)) // 2 - line.left


def draw_text(
    image: Image.Image,
    layout: TextLayout,
    *,
    box: tuple[int, int, int, int],
    align: Align = "start",
    valign: VAlign = "top",
    color: tuple[int, int, int, int] = (0, 0, 0, 255),
) -> tuple[int, int, int, int]:
    """Paint `layout` into `box` (x, y, w, h) of `image` and return the bbox (x0, y0, x1, y1) of the ink.

    Runs are drawn by raqm on each line's baseline; `start`/`end` alignment follows the paragraph
    direction. A layout that fits is placed wholly inside the box; anything that would still fall
    outside (a layout that does not fit) is clipped to it. The colour is composited over the image
    (a translucent colour blends, it does not punch holes). `image` must be RGB or RGBA.
    Returns an empty bbox at the box origin when nothing was drawn.
    """
    if image.mode not in ("RGB", "RGBA"):
        raise ValueError(f"draw_text needs an RGB or RGBA image, got mode {image.mode!r}")
    x, y, w, h = box
    if w < 1 or h < 1 or not layout.lines:
        return (x, y, x, y)
    mask = Image.new("L", (w, h), 0)
    pen = ImageDraw.Draw(mask)
    if valign == "top":
        top = 0
    elif valign == "bottom":
        top = h - layout.height
    else:
        top = (h - layout.height) // 2
    for line in layout.lines:
        ox = _line_x(line, w, align, layout.direction)
        oy = top + line.baseline
        for run in line.runs:
            if not run.text.strip():
                continue
            pen.text(
                (ox + run.x, oy),
                run.text,
                fill=255,
                font=get_font(run.face, layout.size),
                anchor="ls",
                direction=run.direction,
                language=layout.lang,
            )
    ink = mask.getbbox()
    if ink is None:
        return (x, y, x, y)
    # Keep the ink on the image (a box may hang off its edges).
    x0, y0 = max(ink[0], -x), max(ink[1], -y)
    x1, y1 = min(ink[2], image.width - x), min(ink[3], image.height - y)
    if x1 <= x0 or y1 <= y0:
        return (x, y, x, y)
    alpha = mask.crop((x0, y0, x1, y1))
    dest = (x + x0, y + y0)
    _composite(image, alpha, dest, color)
    return (dest[0], dest[1], dest[0] + x1 - x0, dest[1] + y1 - y0)


def _composite(
    image: Image.Image, alpha: Image.Image, dest: tuple[int, int], color: tuple[int, int, int, int]
) -> None:
    """Lay `color` over `image` at `dest` through the `alpha` (coverage) mask ("over" compositing)."""
    r, g, b, a = color
    if a < 255:
        alpha = alpha.point([v * a // 255 for v in range(256)])
    if image.mode == "RGBA":
        layer = Image.new("RGBA", alpha.size, (r, g, b, 0))
        layer.putalpha(alpha)
        image.alpha_composite(layer, dest)
    else:
        image.paste((r, g, b), (*dest, dest[0] + alpha.width, dest[1] + alpha.height), alpha)


__all__ = [
    "ELLIPSIS",
    "Align",
    "Line",
    "Run",
    "TextLayout",
    "VAlign",
    "clear_shaping_cache",
    "cluster_faces",
    "draw_text",
    "layout_text",
]
