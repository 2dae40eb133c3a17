"""fonts.coverage: the direct format-12 read gives the code points fontTools' `getBestCmap` gives."""

from __future__ import annotations

import struct

import pytest
from fontTools.ttLib import TTFont, newTable

from versa.render import fonts
from versa.render.fonts import FAMILIES, FontFace, FontNotFound, coverage, resolve_family


def best_cmap_keys(face: FontFace) -> frozenset[int]:
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_coverage_matches_fonttools_for_every_default_family(family: str) -> None:
    try:
        face = resolve_family(family)
    except FontNotFound:
        pytest.skip(f"{family} is not installed")
    fonts.coverage.cache_clear()
    assert coverage(face) == best_cmap_keys(face)


def test_the_cjk_faces_take_the_direct_read() -> None:
    face = resolve_family("cjk-jp-bold")
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    try:
        got = fonts._format12_coverage(font.reader["cmap"])
    finally:
        font.close()
    assert got is not None and ord("新") in got and ord("か") in got


def cmap_table(subtables: list[tuple[int, int, bytes]]) -> bytes:
    """A raw cmap table with (platform, encoding, subtable bytes) records."""
    header = struct.pack(">HH", 0, len(subtables))
    offset = 4 + 8 * len(subtables)
    records, body = b"", b""
    for platform, encoding, data in subtables:
        records += struct.pack(">HHL", platform, encoding, offset + len(body))
        body += data
    return header + records + body


def format12(groups: list[tuple[int, int, int]]) -> bytes:
    head = struct.pack(">HHLLL", 12, 0, 16 + 12 * len(groups), 0, len(groups))
    return head + b"".join(struct.pack(">LLL", *g) for g in groups)


def format4_single(code: int) -> bytes:
    """A format 4 subtable mapping one code point to glyph 1 (plus the closing 0xFFFF segment)."""
    segments = [(code, code, 1 - code), (0xFFFF, 0xFFFF, 1)]
    n = len(segments)
    head = struct.pack(">HHHHHHH", 4, 16 + 8 * n, 0, 2 * n, 2, 0, 0)
    ends = b"".join(struct.pack(">H", e) for _, e, _ in segments)
    starts = b"".join(struct.pack(">H", s) for s, _, _ in segments)
    deltas = b"".join(struct.pack(">h", ((d + 0x8000) & 0xFFFF) - 0x8000) for _, _, d in segments)
    return head + ends + b"\0\0" + starts + deltas + b"\0\0" * n


def fonttools_keys(data: bytes) -> frozenset[int]:
    font = TTFont()
    font.setGlyphOrder([f"g{i}" for i in range(300)])
    table = newTable("cmap")
    table.decompile(data, font)
    return frozenset(table.getBestCmap() or {})


EDGE_GROUPS = [
    (0x20, 0x22, 0),  # glyph 0 maps nothing at the group's first code point
    (0x41, 0x43, 5),
    (0x43, 0x45, 9),  # starts on the previous group's last code point: kept
    (0x30, 0x39, 20),  # starts before the previous group ends: skipped
    (0x60, 0x5F, 40),  # inverted: skipped
    (0x4E00, 0x4E02, 50),
    (0x10FFFE, 0x110005, 60),  # clamped to U+10FFFF
]


@pytest.mark.parametrize(
    "subtables",
    [
        [(3, 10, format12(EDGE_GROUPS))],
        [(3, 1, format4_single(0x61)), (3, 10, format12(EDGE_GROUPS))],  # (3, 10) preferred wherever it is
        [
            (0, 4, format12([(0x100, 0x101, 3)])),
            (3, 10, format12([(0x41, 0x41, 1)])),
        ],  # (3, 10) before (0, 4)
    ],
)
def test_direct_read_follows_fonttools_on_edge_cases(subtables: list[tuple[int, int, bytes]]) -> None:
    data = cmap_table(subtables)
    got = fonts._format12_coverage(data)
    assert got is not None
    assert got == fonttools_keys(data)


def test_other_formats_and_bad_headers_are_left_to_fonttools() -> None:
    assert fonts._format12_coverage(cmap_table([(3, 1, format4_single(0x61))])) is None
    short = format12([(0x41, 0x42, 1)])[:-4]
    assert fonts._format12_coverage(cmap_table([(3, 10, short)])) is None
    assert fonts._format12_coverage(b"\0") is None
