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


def luminance(color: str) -> float:
    """WCAG relative luminance of #RGB / #RRGGBB[AA] (alpha ignored), 0 (black) to 1 (white)."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b, _ = _rgb(color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two #RRGGBB[AA] colours (alpha ignored), from 1 to 21."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hex_of(rgb: Sequence[int]) -> str:
    """(r, g, b[, a]) as #rrggbb."""
    return "#" + "".join(f"{c:02x}" for c in rgb[:3])


def over(fg: str, bg: str) -> str:
    """`fg` as it shows over the opaque colour `bg`: its alpha blended in (#rrggbb)."""
    r, g, b, a = _rgb(fg)
    k = a / 255
    return hex_of([round(c * k + d * (1 - k)) for c, d in zip((r, g, b), _rgb(bg)[:3], strict=True)])


def aa_minimum(size_px: float, bold: bool) -> float:
    """The AA minimum for text of `size_px` CSS pixels: large text is 24 px and more (18 pt), or bold
    of 18.66 px and more (14 pt)."""
    return AA_LARGE if size_px >= 24 or (bold and size_px >= 18.66) else AA_NORMAL


__all__ = ["AA_LARGE", "AA_NORMAL", "aa_minimum", "contrast_ratio", "hex_of", "luminance", "over"]
