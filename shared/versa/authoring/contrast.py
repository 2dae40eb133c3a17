"""WCAG 2 contrast: relative luminance of sRGB colours, the ratio of two colours, and the AA
thresholds lint applies (4.5:1, or 3:1 for large text). Pure arithmetic on hex colours."""

from __future__ import annotations

from collections.abc import Sequence

AA_NORMAL, AA_LARGE = 4.5, 3.0
"""WCAG 2 level AA minimum contrast for body text and for large text."""


def _rgb(color: str) -> tuple[int, int, int, int]:
    h = color.lstrip("#")
    if len(h) in (3, 4):
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return r, g, b, int(h[6:8], 16) if len(h) == 8 else 255


def _linear(c: int) -> float:
    v = c / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


_LINEAR = tuple(_linear(c) for c in range(256))


def rgb_luminance(r: int, g: int, b: int) -> float:
    """WCAG relative luminance of an sRGB colour (0..255 channels), 0 (black) to 1 (white)."""
    return 0.2126 * _LINEAR[r] + 0.7152 * _LINEAR[g] + 0.0722 * _LINEAR[b]


def luminance(color: str) -> float:
    """WCAG relative luminance of #RGB / #RRGGBB[AA] (alpha ignored), 0 (black) to 1 (white)."""
    r, g, b, _ = _rgb(color)
    return rgb_luminance(r, g, b)


def luminance_ratio(a: float, b: float) -> float:
    """WCAG 2 contrast ratio of two relative luminances, from 1 to 21."""
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB[AA] colours (alpha ignored), from 1 to 21."""
    return luminance_ratio(luminance(fg), luminance(bg))


def hex_of(rgb: Sequence[int]) -> str:
    """(r, g, b[, a]) as #rrggbb."""
    return "#" + "".join(f"{c:02x}" for c in rgb[:3])


def blend(fg: Sequence[int], bg: Sequence[int]) -> tuple[int, int, int]:
    """(r, g, b, a) `fg` as it shows over the opaque (r, g, b) `bg`."""
    k = fg[3] / 255
    return (
        round(fg[0] * k + bg[0] * (1 - k)),
        round(fg[1] * k + bg[1] * (1 - k)),
        round(fg[2] * k + bg[2] * (1 - k)),
    )


def over(fg: str, bg: str) -> str:
    """`fg` as it shows over the opaque colour `bg`: its alpha blended in (#rrggbb)."""
    return hex_of(blend(_rgb(fg), _rgb(bg)))


def rgba_of(color: str) -> tuple[int, int, int, int]:
    """#RGB / #RRGGBB / #RRGGBBAA as (r, g, b, a)."""
    return _rgb(color)


def aa_minimum(size_px: float, bold: bool) -> float:
    """The AA minimum for text of `size_px` CSS pixels: large text is 24 px and more (18 pt), or bold
    of 18.66 px and more (14 pt)."""
    return AA_LARGE if size_px >= 24 or (bold and size_px >= 18.66) else AA_NORMAL


__all__ = [
    "AA_LARGE",
    "AA_NORMAL",
    "aa_minimum",
    "blend",
    "contrast_ratio",
    "hex_of",
    "luminance",
    "luminance_ratio",
    "over",
    "rgb_luminance",
    "rgba_of",
]
