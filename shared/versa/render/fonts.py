"""Font faces, the families Versa provides, glyph coverage and the process-wide font cache.

Versa commits no font binaries: its default families come from Debian font packages (or, on Lambda, from
a directory such as ``/opt/fonts`` that the caller passes in). A `FontStack` is a primary face plus a
fallback chain; layout asks it which face draws each character. Fonts are opened once per face and size
per process (`get_font`) and always use Pillow's raqm layout engine, which shapes complex scripts.
"""

from __future__ import annotations

import array
import bisect
import functools
import struct
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont, features

from versa.errors import RenderError, VersaError

SYSTEM_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto"),
)
"""Where Debian's font packages install the default families; searched after the caller's dirs."""

LATIN, ARABIC, HEBREW, DEVANAGARI, THAI, CJK = "latin", "arabic", "hebrew", "devanagari", "thai", "cjk"
"""Script classes a family can be meant for (`LATIN` stands for every script not listed separately)."""


class FontNotFound(VersaError, LookupError):
    """A font family is unknown, or its file is in none of the searched directories."""

    def __init__(self, family: str, message: str) -> None:
        self.family = family
        super().__init__(message)


class FontLoadError(VersaError, OSError):
    """A font file exists but cannot be read as a font."""


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """A default family: which file provides it, which Debian package installs that file."""

    name: str
    file: str
    package: str
    script: str
    bold: bool
    index: int = 0


def _family(name: str, file: str, package: str, script: str, index: int = 0) -> FamilySpec:
    return FamilySpec(name, file, package, script, name.endswith("-bold"), index)


CJK_FACES: Mapping[str, int] = MappingProxyType({"jp": 0, "kr": 1, "sc": 2, "tc": 3})
"""Region → index of its face in Noto Sans CJK's collections (NotoSansCJK-Regular.ttc and -Bold.ttc,
whose faces 0-3 are named "Noto Sans CJK JP", "KR", "SC", "TC"; a test reads the names). A region's face
draws the shared ideographs in that region's forms (直, 骨, 写 differ between Japan and China)."""

CJK_DEFAULT_REGION = "sc"
"""The face of the plain `cjk` family when the locale names no CJK region."""


def _cjk_families() -> list[FamilySpec]:
    specs = []
    for region in (None, *CJK_FACES):
        index = CJK_FACES[region or CJK_DEFAULT_REGION]
        name = "cjk" if region is None else f"cjk-{region}"
        specs.append(_family(name, "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", CJK, index))
        specs.append(_family(f"{name}-bold", "NotoSansCJK-Bold.ttc", "fonts-noto-cjk", CJK, index))
    return specs


_TRADITIONAL = frozenset({"hant", "tw", "hk", "mo"})


def cjk_region(lang: str | None) -> str | None:
    """The Noto Sans CJK region a BCP 47 tag writes in: `ja` → jp, `ko` → kr, `zh-Hant`, `zh-TW`,
    `zh-HK`, `zh-MO` → tc, any other `zh` → sc; None for other languages (and None)."""
    if not lang:
        return None
    subtags = lang.replace("_", "-").lower().split("-")
    if subtags[0] == "ja":
        return "jp"
    if subtags[0] == "ko":
        return "kr"
    if subtags[0] == "zh":
        rest = subtags[1:]
        return "tc" if "hans" not in rest and _TRADITIONAL.intersection(rest) else "sc"
    return None


FAMILIES: Mapping[str, FamilySpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _family("sans", "DejaVuSans.ttf", "fonts-dejavu-core", LATIN),
            _family("sans-bold", "DejaVuSans-Bold.ttf", "fonts-dejavu-core", LATIN),
            _family("noto-sans", "NotoSans-Regular.ttf", "fonts-noto-core", LATIN),
            _family("noto-sans-bold", "NotoSans-Bold.ttf", "fonts-noto-core", LATIN),
            _family("arabic", "NotoSansArabic-Regular.ttf", "fonts-noto-core", ARABIC),
            _family("arabic-bold", "NotoSansArabic-Bold.ttf", "fonts-noto-core", ARABIC),
            _family("hebrew", "NotoSansHebrew-Regular.ttf", "fonts-noto-core", HEBREW),
            _family("hebrew-bold", "NotoSansHebrew-Bold.ttf", "fonts-noto-core", HEBREW),
            _family("devanagari", "NotoSansDevanagari-Regular.ttf", "fonts-noto-core", DEVANAGARI),
            _family("devanagari-bold", "NotoSansDevanagari-Bold.ttf", "fonts-noto-core", DEVANAGARI),
            _family("thai", "NotoSansThai-Regular.ttf", "fonts-noto-core", THAI),
            _family("thai-bold", "NotoSansThai-Bold.ttf", "fonts-noto-core", THAI),
            *_cjk_families(),
        )
    }
)
"""Family name → where its font comes from. Families are resolved on first use, never at import."""

_FALLBACK_BASES = ("sans", "arabic", "hebrew", "devanagari", "thai", "cjk")

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0590, 0x05FF, HEBREW),
    (0x0600, 0x06FF, ARABIC),
    (0x0750, 0x077F, ARABIC),
    (0x0870, 0x08FF, ARABIC),
    (0x0900, 0x097F, DEVANAGARI),
    (0x0E00, 0x0E7F, THAI),
    (0x1100, 0x11FF, CJK),
    (0x2E80, 0x2FFF, CJK),
    (0x3000, 0x9FFF, CJK),
    (0xA8E0, 0xA8FF, DEVANAGARI),
    (0xA960, 0xA97F, CJK),
    (0xAC00, 0xD7FF, CJK),
    (0xF900, 0xFAFF, CJK),
    (0xFB1D, 0xFB4F, HEBREW),
    (0xFB50, 0xFDFF, ARABIC),
    (0xFE30, 0xFE4F, CJK),
    (0xFE70, 0xFEFF, ARABIC),
    (0xFF00, 0xFFEF, CJK),
    (0x20000, 0x3FFFF, CJK),
)


_SCRIPT_STARTS = tuple(lo for lo, _, _ in _SCRIPT_RANGES)


def script_class(char: str) -> str:
    """The script class of a character: `ARABIC`, `HEBREW`, `DEVANAGARI`, `THAI`, `CJK`, else `LATIN`."""
    cp = ord(char)
    i = bisect.bisect_right(_SCRIPT_STARTS, cp) - 1  # the last range starting at or below cp
    if i >= 0 and cp <= _SCRIPT_RANGES[i][1]:
        return _SCRIPT_RANGES[i][2]
    return LATIN


@dataclass(frozen=True, slots=True)
class FontFace:
    """One face of a font file; identity is the file path and the face index inside a collection."""

    path: str
    index: int = 0


def _candidate_dirs(font_dirs: Iterable[str | Path]) -> list[Path]:
    return [Path(d) for d in font_dirs] + list(SYSTEM_FONT_DIRS)


@functools.lru_cache(maxsize=128)
def _resolve(family: str, font_dirs: tuple[str, ...]) -> FontFace:
    spec = FAMILIES.get(family)
    if spec is None:
        raise FontNotFound(family, f"unknown font family {family!r} (known: {', '.join(FAMILIES)})")
    searched = _candidate_dirs(font_dirs)
    for directory in searched:
        candidate = directory / spec.file
        if candidate.is_file():
            return FontFace(str(candidate), spec.index)
    where = ", ".join(str(d) for d in searched)
    raise FontNotFound(
        family,
        f"font family {family!r} needs {spec.file}, which is in none of [{where}]; "
        f"install the Debian package {spec.package} or put the file in a font dir",
    )


def resolve_family(family: str, font_dirs: Sequence[str | Path] = ()) -> FontFace:
    """The face of a default family, searching `font_dirs` first, then `SYSTEM_FONT_DIRS`.

    Raises `FontNotFound` naming the family, the file and the package that provides it.
    Successful look-ups are cached for the life of the process.
    """
    return _resolve(family, tuple(str(d) for d in font_dirs))


@functools.lru_cache(maxsize=64)
def coverage(face: FontFace) -> frozenset[int]:
    """The code points the face maps to glyphs (its best cmap); read once per face per process."""
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
    except (OSError, TTLibError) as exc:
        raise FontLoadError(f"cannot read font {face.path} (face {face.index}): {exc}") from exc
    try:
        fast = _format12_coverage(font.reader["cmap"]) if "cmap" in font.reader else None
        if fast is not None:
            return fast
        cmap = font.getBestCmap() or {}
        return frozenset(cmap)
    finally:
        font.close()


_CMAP_PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))
"""The subtable `TTFont.getBestCmap` takes: the first of these (platform, encoding) pairs the font has."""


def _format12_coverage(data: bytes) -> frozenset[int] | None:
    """The code points of a raw cmap table's best subtable when it is format 12, read from its groups
    directly; None for any other format or an inconsistent header (fontTools then reads the table).

    The same set `getBestCmap` gives (its group rules: clamp to U+10FFFF, skip a group that is inverted or
    starts before the previous one ends, glyph 0 maps nothing at a group's first code point), without
    fontTools naming 65,535 glyphs, which for a CJK collection parses its whole CFF charset: the first
    render in a CJK locale spent ~50 ms per face there."""
    if len(data) < 4:
        return None
    count = struct.unpack_from(">H", data, 2)[0]
    if len(data) < 4 + 8 * count:
        return None
    records = [struct.unpack_from(">HHL", data, 4 + 8 * i) for i in range(count)]
    for pair in _CMAP_PREFERENCES:
        offset = next((off for platform, encoding, off in records if (platform, encoding) == pair), None)
        if offset is None:
            continue
        if offset + 16 > len(data) or struct.unpack_from(">H", data, offset)[0] != 12:
            return None
        _, _, length, _, groups = struct.unpack_from(">HHLLL", data, offset)
        if length != 16 + 12 * groups or offset + length > len(data):
            return None
        table = array.array("I", data[offset + 16 : offset + length])
        if sys.byteorder != "big":
            table.byteswap()
        codes: set[int] = set()
        last = 0
        for start, end, glyph in zip(*[iter(table)] * 3, strict=True):
            end = min(end, 0x10FFFF)
            if start > end or start < last:
                continue
            last = end
            codes.update(range(start + (glyph == 0), end + 1))
        return frozenset(codes)
    return None


def require_raqm() -> None:
    """Raise `RenderError` unless Pillow was built with raqm (needed for shaping and bidi)."""
    if not features.check("raqm"):
        raise RenderError("Pillow's raqm layout engine is not available; complex scripts cannot be shaped")


@functools.lru_cache(maxsize=512)
def get_font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    """The Pillow font for a face at a pixel size, opened once per (path, index, size) per process."""
    require_raqm()
    try:
        return ImageFont.truetype(face.path, size, index=face.index, layout_engine=ImageFont.Layout.RAQM)
    except OSError as exc:
        raise FontLoadError(f"cannot open font {face.path} (face {face.index}) at {size}px: {exc}") from exc


@dataclass(frozen=True, slots=True)
class FontStack:
    """A primary face and its fallbacks, in order; `scripts[i]` says which scripts face i is meant for.

    A face meant for a script (say the Arabic family) is preferred for that script's characters over an
    earlier face that merely happens to cover them (DejaVu Sans has basic Arabic and Hebrew, drawn much
    less well than Noto's). `None` means "meant for everything it covers", which is what a brand's own
    font file gets, so a brand face always wins for the characters it has.
    """

    faces: tuple[FontFace, ...]
    scripts: tuple[frozenset[str] | None, ...] = ()
    _memo: dict[str, FontFace | None] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _primary_chars: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)
    faces_key: str = field(init=False, compare=False, hash=False, repr=False)
    """The faces as one string (paths and indexes): a cache key that is cheap to hash."""

    def __post_init__(self) -> None:
        if not self.faces:
            raise ValueError("a font stack needs at least one face")
        if self.scripts and len(self.scripts) != len(self.faces):
            raise ValueError("scripts must be empty or name the scripts of every face")
        key = "\0".join(f"{face.path}\0{face.index}" for face in self.faces)
        object.__setattr__(self, "faces_key", key)

    @property
    def primary(self) -> FontFace:
        return self.faces[0]

    def _meant_for(self, i: int, script: str) -> bool:
        if not self.scripts or self.scripts[i] is None:
            return True
        meant = self.scripts[i]
        return meant is not None and script in meant

    def face_for(self, char: str) -> FontFace | None:
        """The face that draws `char`: the first face that covers it and is meant for its script,
        else the first face that covers it at all, else None."""
        if char in self._memo:
            return self._memo[char]
        cp = ord(char)
        script = script_class(char)
        chosen: FontFace | None = None
        first_covering: FontFace | None = None
        # In order, stopping at the first face that covers the character and is meant for its script,
        # so a fallback face's cmap is read only when an earlier face could not take the character.
        for i, face in enumerate(self.faces):
            if cp not in coverage(face):
                continue
            if self._meant_for(i, script):
                chosen = face
                break
            if first_covering is None:
                first_covering = face
        chosen = chosen or first_covering
        self._memo[char] = chosen
        return chosen

    def covers(self, char: str) -> bool:
        return self.face_for(char) is not None

    def primary_draws_all(self, text: str) -> bool:
        """True when `face_for` gives the primary face (that very object) for every character of `text`.

        Remembered per character, so the common all-one-face text is settled by a set comparison."""
        known = self._primary_chars
        chars = set(text)
        if chars <= known:
            return True
        primary = self.faces[0]
        for char in chars - known:
            if self.face_for(char) is not primary:
                return False
            known.add(char)
        return True


def default_fallbacks(family: str | None, *, bold: bool) -> tuple[str, ...]:
    """Fallback family names for a primary: its other weight, then sans, arabic, hebrew, devanagari,
    thai, cjk (bold variants when the primary is bold and the family has one)."""
    names: list[str] = []
    if family is not None:
        base = family.removesuffix("-bold")
        sibling = base if family.endswith("-bold") else f"{base}-bold"
        if sibling in FAMILIES:
            names.append(sibling)
    for base in _FALLBACK_BASES:
        bold_name = f"{base}-bold"
        names.append(bold_name if bold and bold_name in FAMILIES else base)
    unique: list[str] = []
    for name in names:
        if name != family and name not in unique:
            unique.append(name)
    return tuple(unique)


def regional(family: str, lang: str | None) -> str:
    """The family to use for `family` in locale `lang`: the plain `cjk` and `cjk-bold` families become
    the locale's regional face (`cjk-jp-bold` for `ja`); every other name is returned unchanged."""
    region = cjk_region(lang)
    if region is None or family not in ("cjk", "cjk-bold"):
        return family
    return f"cjk-{region}" + family.removeprefix("cjk")


@functools.lru_cache(maxsize=64)
def is_bold(face: FontFace) -> bool:
    """True when a font file says it is bold: an OS/2 weight class of 600 or more, or the bold bit of
    its style (OS/2 fsSelection, else head macStyle). Read once per face per process."""
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
    except (OSError, TTLibError) as exc:
        raise FontLoadError(f"cannot read font {face.path} (face {face.index}): {exc}") from exc
    try:
        if "OS/2" in font:
            os2 = font["OS/2"]
            return bool(os2.usWeightClass >= 600 or os2.fsSelection & 0x20)
        return bool(font["head"].macStyle & 1)
    finally:
        font.close()


def font_stack(
    primary: str | FontFace,
    *,
    bold: bool | None = None,
    fallbacks: Sequence[str] | None = None,
    font_dirs: Sequence[str | Path] = (),
    lang: str | None = None,
) -> FontStack:
    """Build a stack from a default family name or a brand's own face, for text in locale `lang`.

    The primary must resolve (else `FontNotFound`); fallback families that are not installed are
    skipped, so a lint pass with `missing_glyphs` is what reports a script no face covers.
    `bold` defaults to the family's weight, or for a brand face to what its file says (`is_bold`), so
    a bold brand font falls back to bold faces. `fallbacks` defaults to `default_fallbacks`. The plain
    `cjk` families, as primary or fallback, take the face of `lang`'s region (`regional`).
    """
    if isinstance(primary, FontFace):
        family_name: str | None = None
        faces = [primary]
        scripts: list[frozenset[str] | None] = [None]
        is_bold_primary = is_bold(primary) if bold is None else bold
    else:
        family_name = regional(primary, lang)
        faces = [resolve_family(family_name, font_dirs)]
        scripts = [frozenset({FAMILIES[family_name].script})]
        is_bold_primary = FAMILIES[family_name].bold if bold is None else bold
    names = default_fallbacks(family_name, bold=is_bold_primary) if fallbacks is None else tuple(fallbacks)
    for name in (regional(n, lang) for n in names):
        try:
            face = resolve_family(name, font_dirs)
        except FontNotFound:
            if name not in FAMILIES:
                raise
            continue
        if face not in faces:
            faces.append(face)
            scripts.append(frozenset({FAMILIES[name].script}))
    return FontStack(tuple(faces), tuple(scripts))


_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def missing_glyphs(stack: FontStack, text: str) -> set[str]:
    """The characters of `text` that no face of the stack covers (controls and format chars ignored)."""
    return {
        ch
        for ch in set(text)
        if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and stack.face_for(ch) is None
    }


LOCALE_SAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "en": "The quick brown fox jumps over the lazy dog. 0123456789 $%&@!?",
        "de": "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. ÄÖÜäöüß €",
        "fr": "Portez ce vieux whisky au juge blond qui fume : àâæçéèêëîïôœùûüÿ ÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ « »",
        "es": "El veloz murciélago hindú comía feliz cardillo y kiwi. ¡¿ÁÉÍÓÚÜÑáéíóúüñ?!",
        "it": "Quel vituperabile xenofobo zelante assaggia il whisky ed esclama: alleluja! àèéìíîòóùú",
        "pt": "Luís argüia à Júlia que «brações, fé, chá, óxido, pôr, zângão» eram palavras do português.",
        "nl": "Pa's wijze lynx bezag vroom het fikse aquaduct. ĳ éëï",
        "pl": "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig. ĄĆĘŁŃÓŚŹŻ",
        "tr": "Pijamalı hasta yağız şoföre çabucak güvendi. İıĞğŞşÇçÖöÜü",
        "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю. АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        "uk": "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів! ҐЄІЇ",
        "el": "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ άέήίόύώϊϋΐΰς",
        "ar": "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. ابتثجحخدذرزسشصضطظعغفقكلمنهوي ءآأؤإئةى ٠١٢٣٤٥٦٧٨٩ ،؛؟",
        "fa": "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی ۰۱۲۳۴۵۶۷۸۹",
        "he": "דג סקרן שט בים מאוכזב ולפתע מצא חברה. אבגדהוזחטיכךלמםנןסעפףצץקרשת ₪",
        "hi": "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम। अआइईउऊएऐओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह ०१२३४५६७८९",
        "ja": "いろはにほへと ちりぬるを わかよたれそ つねならむ。アイウエオ カキクケコ ー「日本語」、漢字",
        "zh": "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。欢迎光临！「简体」繁體",
        "ko": "다람쥐 헌 쳇바퀴에 타고파. 키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.",
        "th": "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน ๐๑๒๓๔๕๖๗๘๙",
    }
)
"""Short sample strings covering each locale's alphabet, for linting that a stack covers a locale."""


__all__ = [
    "ARABIC",
    "CJK",
    "CJK_DEFAULT_REGION",
    "CJK_FACES",
    "DEVANAGARI",
    "FAMILIES",
    "HEBREW",
    "LATIN",
    "LOCALE_SAMPLES",
    "SYSTEM_FONT_DIRS",
    "THAI",
    "FamilySpec",
    "FontFace",
    "FontLoadError",
    "FontNotFound",
    "FontStack",
    "cjk_region",
    "coverage",
    "default_fallbacks",
    "font_stack",
    "get_font",
    "is_bold",
    "missing_glyphs",
    "regional",
    "require_raqm",
    "resolve_family",
    "script_class",
]
