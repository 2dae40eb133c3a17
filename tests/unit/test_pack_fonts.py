"""A pack may ship its own font file; it draws what it covers and the defaults stand in for the rest."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from versa.authoring.lint import lint
from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings

SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")  # Debian fonts-dejavu-core
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def render(root: Path, locale: str) -> Image.Image:
    pack = load_pack(root, checks=PACK_CHECKS)
    ctx = resolve({}, {"lang": locale}, NOW, context_options(pack.model, "promo", signed_names=frozenset({"lang"})))
    decision = decide(pack.model, "promo", ctx)
    texts = {name: ref.default for name, ref in decision.copy.items()}
    out = build_renderer(Settings(memo_items=0)).render(
        pack, decision, texts=texts, params={}, fmt="png", width=None, dpr=1.0, now=NOW, tz="UTC"
    )
    return Image.open(io.BytesIO(out.body)).convert("RGB")


def test_a_pack_font_file_draws_the_text_and_lint_notes_its_missing_scripts(
    small_pack: Callable[..., dict[str, Any]], make_pack: Callable[..., Path]
) -> None:
    # GIVEN the same pack twice: once with the default sans family, once shipping a serif TTF
    copy = {"title": {"default": {"en": "Winter sale", "ar": "تخفيضات الشتاء"}},
            "cta": {"default": {"en": "Go", "ar": "تسوّق"}}}
    default = make_pack(small_pack(locales=("en", "ar"), copy=copy), name="default")
    own_data = small_pack(locales=("en", "ar"), copy=copy)
    own_data["tokens"]["fonts"]["body"] = "assets/fonts/Serif.ttf"
    own = make_pack(own_data, name="own")
    (own / "assets" / "fonts").mkdir()
    shutil.copy(SERIF, own / "assets" / "fonts" / "Serif.ttf")

    # WHEN both render in English and Arabic
    # THEN the brand font changes the Latin drawing, and Arabic (which the serif lacks) still renders
    assert ImageChops.difference(render(default, "en"), render(own, "en")).getbbox() is not None
    arabic = render(own, "ar")
    assert ImageChops.difference(arabic, render(own, "en")).getbbox() is not None
    # AND lint warns that a default family stands in for the Arabic glyphs (no error: nothing is missing)
    issues = lint(load_pack(own, checks=PACK_CHECKS))
    assert not [i for i in issues if i.severity == "error"]
    assert any(i.severity == "warning" and "'ar'" in i.message and "stands in" in i.message for i in issues), issues
