"""What drawing one creative needs besides its layers (`Scene`), and the font stacks it draws with
(`FontBook`, built once per process). Shared by the layer, text and countdown painters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from versa.context.locale import DigitsMode, DigitsSetting, resolve_digits
from versa.decide.rules import Decision
from versa.errors import RenderError
from versa.pack.assets import FONT_SUFFIXES
from versa.pack.model import Align, Pack
from versa.ports import AssetStore
from versa.render.fonts import FontFace, FontStack, cjk_region, font_stack
from versa.render.paint import LRU

RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})
"""Primary language subtags of scripts written right to left."""


class FontBook:
    """Font stacks by font reference (a default family or a pack font file) and CJK region (the
    locale's: it picks the Noto Sans CJK face), built once per process."""

    def __init__(self, font_dirs: Sequence[str | Path] = ()) -> None:
        self.font_dirs = tuple(str(d) for d in font_dirs)
        self._stacks: LRU[tuple[str, ...], FontStack] = LRU(256)

    def stack(self, pack: Pack, ref: str, lang: str | None = None) -> FontStack:
        is_file = ref.lower().endswith(FONT_SUFFIXES)
        region = cjk_region(lang) or ""
        key = (str(pack.root), pack.version, ref, region) if is_file else (ref, region)
        stack = self._stacks.get(key)
        if stack is None:
            primary: str | FontFace = FontFace(str(pack.asset_path(ref))) if is_file else ref
            stack = self._stacks.put(key, font_stack(primary, font_dirs=self.font_dirs, lang=lang))
        return stack


@dataclass(frozen=True)
class Scene:
    """What drawing one creative needs besides its layers: the pack (assets), the decision (locale,
    fonts, tokens), the copy texts actually used, the declared parameter values and the scale."""

    pack: Pack
    decision: Decision
    texts: Mapping[str, str]
    params: Mapping[str, Any]
    scale: float
    fonts: FontBook
    assets: AssetStore | None = None
    """Where generated scenes are read (None: a visual slot draws its default image)."""

    @property
    def lang(self) -> str:
        return self.decision.locale

    @property
    def rtl(self) -> bool:
        """True when the locale is written right to left (start/end alignment mirrors)."""
        return self.decision.locale.split("-")[0].lower() in RTL_LANGUAGES

    def digits(self, setting: DigitsSetting | None = None) -> DigitsMode:
        """The digits a layer writes numbers, dates and times in: its own `setting`, else its
        creative's, else the pack's `render.digits`, for the scene's locale."""
        creative = self.pack.model.creatives.get(self.decision.creative)
        return resolve_digits(
            setting, creative.digits if creative else None, self.pack.model.render.digits, locale=self.lang
        )

    def stack(self, token: str) -> FontStack:
        try:
            ref = self.decision.fonts[token]
        except KeyError:
            raise RenderError(f"font token {token!r} is not declared") from None
        return self.fonts.stack(self.pack, ref, self.lang)

    def side(self, align: Align) -> Align:
        """`start`/`end` as a physical side for an RTL locale; otherwise unchanged (the text engine
        then follows the text's own direction)."""
        if self.rtl and align in ("start", "end"):
            return "right" if align == "start" else "left"
        return align


__all__ = ["RTL_LANGUAGES", "FontBook", "Scene"]
