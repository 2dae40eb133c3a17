"""Where a line may break in scripts written without spaces: phrases and the kinsoku rules.

Japanese, Chinese and Thai put no space between words, so breaking "anywhere between two characters"
cuts words in half. Versa asks BudouX (a small pure-Python model per language, shipped in its wheel)
for the phrase boundaries of a paragraph and lets a line end only there, between characters of those
scripts; a phrase wider than the whole line is the only one cut inside, and then at a character boundary
the kinsoku rules allow. Korean separates words with spaces, so its lines break at spaces only
("keep-all"), as Korean headlines are set.

Kinsoku (禁則) rules, for every language: no line starts with a character of `NOT_AT_LINE_START`
(closing brackets and quotes, commas and full stops, small kana, iteration and prolonged-sound marks,
and the Western closing marks), and no line ends with one of `NOT_AT_LINE_END` (opening brackets and
quotes). Unicode's closing (Pe, Pf) and opening (Ps, Pi) punctuation categories count too.
"""

from __future__ import annotations

import functools

import budoux

from versa.render.fonts import cjk_region

NOT_AT_LINE_START = frozenset(
    # Western closing marks and terminal punctuation
    ")]}>,.:;!?%\u2030\u2103\u2026\u2025\u00bb\u203a"
    # CJK closing brackets and quotes, commas, full stops, middle dot, prolonged sound and iteration marks
    "、。，．：；？！」』）】〕〉》〗〙〛｝］〞〟”’・ー～ゝゞヽヾ々〻"
    # small kana
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    # half-width forms
    "｡､｣･ｰ"
)
"""No line may start with one of these (nor with any closing punctuation, categories Pe and Pf)."""

NOT_AT_LINE_END = frozenset("([{<\u00ab\u2039「『（【〔〈《〖〘〚｛［〝“‘｢")
"""No line may end with one of these (nor with any opening punctuation, categories Ps and Pi)."""

JAPANESE, SIMPLIFIED_CHINESE, TRADITIONAL_CHINESE, THAI = "ja", "zh-hans", "zh-hant", "th"
"""The BudouX models Versa uses."""

_LOADERS = {
    JAPANESE: budoux.load_default_japanese_parser,
    SIMPLIFIED_CHINESE: budoux.load_default_simplified_chinese_parser,
    TRADITIONAL_CHINESE: budoux.load_default_traditional_chinese_parser,
    THAI: budoux.load_default_thai_parser,
}


def _has(text: str, lo: int, hi: int) -> bool:
    return any(lo <= ord(c) <= hi for c in text)


def phrase_model(lang: str | None, text: str) -> str | None:
    """The BudouX model for a paragraph: by the locale (`ja`; `zh` by its CJK region; `th`), else by
    the letters of the text (kana → Japanese, Thai letters → Thai); None when neither applies (text
    in other scripts, or Han characters alone in a locale that is not Chinese or Japanese)."""
    primary = (lang or "").replace("_", "-").split("-")[0].lower()
    if primary == "ja":
        return JAPANESE
    if primary == "zh":
        return TRADITIONAL_CHINESE if cjk_region(lang) == "tc" else SIMPLIFIED_CHINESE
    if primary == "th":
        return THAI
    if _has(text, 0x0E00, 0x0E7F):
        return THAI
    if _has(text, 0x3040, 0x30FF):
        return JAPANESE
    return None


def keeps_words(lang: str | None) -> bool:
    """True for Korean: its lines break at spaces, never between two Hangul or Han characters."""
    return (lang or "").replace("_", "-").split("-")[0].lower() == "ko"


@functools.lru_cache(maxsize=4)
def _parser(model: str) -> budoux.Parser:
    return _LOADERS[model]()


@functools.lru_cache(maxsize=4096)
def phrase_boundaries(text: str, model: str) -> frozenset[int]:
    """Offsets into `text` (strictly inside it) where BudouX's `model` ends a phrase. Remembered per
    process: headlines and labels recur across requests."""
    offsets: set[int] = set()
    end = 0
    for phrase in _parser(model).parse(text):
        end += len(phrase)
        offsets.add(end)
    offsets.discard(len(text))
    return frozenset(offsets)


__all__ = [
    "JAPANESE",
    "NOT_AT_LINE_END",
    "NOT_AT_LINE_START",
    "SIMPLIFIED_CHINESE",
    "THAI",
    "TRADITIONAL_CHINESE",
    "keeps_words",
    "phrase_boundaries",
    "phrase_model",
]
