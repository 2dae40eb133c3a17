"""Cut a Noto Sans CJK collection down to what Versa draws, for the Lambda fonts layer.

    python subset_cjk.py SOURCE.ttc DEST.ttc

Debian's NotoSansCJK-{Regular,Bold}.ttc hold ten faces each (JP KR SC TC HK, proportional and Mono)
over one shared CFF of 65,535 glyphs, about 20 MB a weight. Versa uses four faces, chosen by locale at
their collection indices (versa.render.fonts.CJK_FACES): 0 JP, 1 KR, 2 SC, 3 TC. This keeps those four,
at the same indices, and in each only:

- the characters of `charset()`: Latin-1 and general punctuation, CJK symbols and punctuation, kana,
  bopomofo, Hangul jamo and every precomposed Hangul syllable, the half- and full-width forms, and the
  ideographs of the four national standard sets (JIS X 0213, GB 2312, Big5, KS X 1001). Rarer
  ideographs (about 8,600 of CJK Extension A and the unified block) are dropped; text that uses them is
  reported by `versa lint` where the layer's fonts are the font dirs;
- the glyphs those characters reach through the horizontal OpenType features a shaper applies by
  default (`FEATURES`). Vertical forms and optional features (`jp78`, `trad`, `pwid`, ...) go.

Every face keeps the same glyph set in the same order, so their CFF tables are byte-identical and the
collection stores one: 49,009 glyphs of 65,535, 13.3 MB (Regular) and 13.7 MB (Bold) instead of 19.5
and 20.1. Glyph outlines, hints and metrics are copied unchanged: a character that is kept
renders exactly as with the full font. The script checks the face names before cutting anything.
"""

from __future__ import annotations

import sys
import time

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.tables.DefaultTable import DefaultTable

FACES = {0: "Noto Sans CJK JP", 1: "Noto Sans CJK KR", 2: "Noto Sans CJK SC", 3: "Noto Sans CJK TC"}
"""Collection index → family name (name ID 1) that must be there; kept at the same index."""

FEATURES = ["ccmp", "locl", "rlig", "calt", "liga", "clig", "kern", "mark", "mkmk", "rclt", "rvrn"]
"""The horizontal features HarfBuzz applies by default: all a render asks for. `locl` stays: a face
drawn with its own language still substitutes a few forms through it (Korean hanja in the KR face)."""

_RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x1100, 0x11FF),  # Hangul jamo
    (0x2000, 0x206F),  # general punctuation
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x318F),  # bopomofo, Hangul compatibility jamo
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3200, 0x32FF),  # enclosed CJK letters and months
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms
)
_STANDARDS = ("euc_jis_2004", "gb2312", "big5", "cp949")
"""Codecs whose repertoire is JIS X 0213, GB 2312, Big5 and KS X 1001 (Unified Hangul Code)."""


def _encodable(codec: str, code_points: range) -> set[int]:
    found = set()
    for cp in code_points:
        try:
            chr(cp).encode(codec)
        except UnicodeEncodeError:
            continue
        found.add(cp)
    return found


def charset() -> set[int]:
    """The code points kept (before intersecting with each face's cmap)."""
    kept = {cp for lo, hi in _RANGES for cp in range(lo, hi + 1)}
    for codec in _STANDARDS:
        kept |= _encodable(codec, range(0x3400, 0xA000))  # Extension A and the unified block
        kept |= _encodable(codec, range(0xF900, 0xFB00))  # compatibility ideographs
    return kept


def _options() -> subset.Options:
    return subset.Options(
        layout_features=FEATURES,
        name_IDs=["*"],
        name_languages=["*"],
        notdef_outline=True,
        hinting=True,
        desubroutinize=False,
        glyph_names=False,
    )


def _open(source: str, index: int) -> TTFont:
    font = TTFont(source, fontNumber=index, lazy=False)
    name = font["name"].getDebugName(1)
    if name != FACES[index]:
        raise SystemExit(f"{source}: face {index} is {name!r}, expected {FACES[index]!r}")
    return font


def _closure(source: str, index: int, unicodes: set[int], glyphs: set[str]) -> frozenset[str]:
    font = _open(source, index)
    cmap = font.getBestCmap()
    s = subset.Subsetter(_options())
    s.populate(glyphs=sorted(glyphs), unicodes=sorted(u for u in unicodes if u in cmap))
    # The closure is what subset() computes first (private, but stable across fontTools 4.x).
    s._prune_pre_subset(font)
    s._closure_glyphs(font)
    return frozenset(s.glyphs_retained)


def _faces() -> list[tuple[int, bool]]:
    """(collection index, whether an earlier face already carries the shared CFF)."""
    return [(index, n > 0) for n, index in enumerate(FACES)]


def _cut(source: str, index: int, unicodes: set[int], glyphs: set[str], *, keep_cff: bool) -> TTFont:
    """Face `index` cut to `glyphs` and the characters. The faces share one CFF, so only the first
    face's is cut (most of the work); the others drop theirs before cutting (their glyph order is read
    first, so it still names the CFF's glyphs) and take the first face's compiled bytes afterwards."""
    font = _open(source, index)
    cmap = font.getBestCmap()
    if not keep_cff:
        font.getGlyphOrder()
        del font["CFF "]
    s = subset.Subsetter(_options())
    s.populate(glyphs=sorted(glyphs), unicodes=sorted(u for u in unicodes if u in cmap))
    s.subset(font)
    return font


def subset_collection(source: str, dest: str) -> None:
    unicodes = charset()
    # Every face's closure of the characters (each face reaches a few glyphs of its own through
    # `locl`); the union is then kept in every face, and each face's subset closes it again: if that
    # adds a glyph, the union grows and the faces are cut again.
    glyphs: set[str] = set()
    for index in FACES:
        glyphs |= _closure(source, index, unicodes, set())
    while True:
        fonts = [_cut(source, index, unicodes, glyphs, keep_cff=not fonts_done) for index, fonts_done in _faces()]
        orders = [font.getGlyphOrder() for font in fonts]
        grown = glyphs | {g for order in orders for g in order}
        if grown == glyphs and all(order == orders[0] for order in orders):
            break
        glyphs = grown
    # Compile the shared CFF once and hand every face those bytes (identical glyph sets, so identical
    # tables); the bounding boxes it gives the head and hhea tables are copied as they are.
    first = fonts[0]
    cff = first.getTableData("CFF ")
    for table in ("head", "hhea"):
        first[table].compile(first)
    for font in fonts:
        raw = DefaultTable("CFF ")
        raw.data = cff
        if font is not first:
            for attr in ("xMin", "yMin", "xMax", "yMax"):
                setattr(font["head"], attr, getattr(first["head"], attr))
            for attr in ("advanceWidthMax", "minLeftSideBearing", "minRightSideBearing", "xMaxExtent"):
                setattr(font["hhea"], attr, getattr(first["hhea"], attr))
        font["CFF "] = raw
        font.recalcBBoxes = False
        font.recalcTimestamp = False  # the source's dates: the same input cuts to the same bytes
    collection = TTCollection()
    collection.fonts = fonts
    collection.save(dest, shareTables=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    started = time.monotonic()
    subset_collection(argv[1], argv[2])
    print(f"subset_cjk: {argv[1]} -> {argv[2]} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
