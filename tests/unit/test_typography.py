"""Typography for every script: CJK faces per locale and weight, phrase line breaks (BudouX), kinsoku,
Korean keep-all, and a line grid from the ink of adjacent lines (checked on rendered pixels)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from versa.decide.rules import decide
from versa.decide.variants import SyntheticContext
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.render.fonts import (
    CJK_FACES,
    FAMILIES,
    FontFace,
    cjk_region,
    font_stack,
    get_font,
    is_bold,
    resolve_family,
)
from versa.render.layer_text import text_layout
from versa.render.linebreak import NOT_AT_LINE_END, NOT_AT_LINE_START, phrase_boundaries, phrase_model
from versa.render.scene import FontBook, Scene
from versa.render.text import TextLayout, draw_text, layout_text

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = load_pack(ROOT / "tests" / "packs" / "scripts", checks=PACK_CHECKS)
BOOK = FontBook()

JAPANESE = "冬のセールを開催中です。今週だけ、全品三割引きでお届けします。ぜひお店にお越しください。"
CHINESE = "冬季大促销现在开始，本周全场商品一律七折优惠，欢迎大家前来选购。"
THAI = "ลดราคาฤดูหนาวสินค้าทุกชิ้นลดราคาพิเศษเฉพาะสัปดาห์นี้เท่านั้น"


def face_name(face: FontFace) -> str:
    """The full name (name ID 4) of a face, read from the font file."""
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    try:
        return str(font["name"].getDebugName(4))
    finally:
        font.close()


def scene_for(lang: str) -> Scene:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    ctx = SyntheticContext({"country": "US", "device": "desktop", "lang": lang}, now, "UTC", lang)
    decision = decide(SCRIPTS.model, "headline", ctx)
    texts = {slot: ref.default for slot, ref in decision.copy.items()}
    return Scene(SCRIPTS, decision, texts, {}, 1.0, BOOK)


def breaks_of(layout: TextLayout) -> list[int]:
    """Offsets into the (single-paragraph) text where each line after the first starts."""
    offsets, at = [], 0
    for line in layout.lines[:-1]:
        at += len(line.text)
        offsets.append(at)
    return offsets


# ---------------------------------------------------------------- faces


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_cjk_face_indices_are_the_regions_the_collection_names(weight: str) -> None:
    # GIVEN each regional family of a weight
    for region, index in CJK_FACES.items():
        family = f"cjk-{region}" + ("-bold" if weight == "Bold" else "")
        face = resolve_family(family)
        # THEN it is that index of Debian's collection, and the font there says it is that region
        assert Path(face.path).name == f"NotoSansCJK-{weight}.ttc"
        assert face.index == index
        expected = f"Noto Sans CJK {region.upper()}" + (" Bold" if weight == "Bold" else "")
        assert face_name(face) in (expected, f"{expected} Regular")


def test_locale_picks_the_cjk_region() -> None:
    cases = {
        "ja": "jp", "ja-JP": "jp", "ko": "kr", "ko-KR": "kr", "zh": "sc", "zh-CN": "sc", "zh-Hans": "sc",
        "zh-SG": "sc", "zh-Hant": "tc", "zh-TW": "tc", "zh-HK": "tc", "zh-Hant-HK": "tc", "zh-Hans-HK": "sc",
        "zh_TW": "tc", "en": None, "ar": None, "": None, None: None,
    }  # fmt: skip
    assert {tag: cjk_region(tag) for tag in cases} == cases


def test_japanese_headline_in_bold_is_drawn_with_the_bold_japanese_face() -> None:
    # GIVEN the scripts pack, whose headline font is sans-bold, decided for Japanese
    scene = scene_for("ja")
    headline = next(layer for layer in scene.decision.layers if getattr(layer, "id", None) == "headline")
    # WHEN its headline is laid out
    layout = text_layout(headline, scene)  # type: ignore[arg-type]
    assert layout is not None and layout.fits
    cjk_faces = {run.face for line in layout.lines for run in line.runs if "冬" in run.text or "届" in run.text}
    # THEN the kanji and kana come from the JP face (index 0) of the Bold collection
    assert cjk_faces == {FontFace(resolve_family("cjk-jp-bold").path, 0)}
    (face,) = cjk_faces
    assert face_name(face) == "Noto Sans CJK JP Bold"
    assert is_bold(face)


@pytest.mark.parametrize(("lang", "region"), [("zh", "SC"), ("zh-Hant", "TC"), ("ko", "KR"), ("en", "SC")])
def test_other_locales_pick_their_face(lang: str, region: str) -> None:
    stack = font_stack("sans-bold", lang=lang)
    assert face_name(stack.face_for("直") or FontFace("")) == f"Noto Sans CJK {region} Bold"
    regular = font_stack("sans", lang=lang)
    assert face_name(regular.face_for("直") or FontFace("")).startswith(f"Noto Sans CJK {region}")
    assert not is_bold(regular.face_for("直") or FontFace(""))


def test_the_japanese_face_draws_japanese_forms() -> None:
    # GIVEN a character whose Japanese and Chinese forms differ (直: the inner stroke)
    jp, sc = resolve_family("cjk-jp"), resolve_family("cjk-sc")
    images = []
    for face in (jp, sc):
        image = Image.new("L", (60, 60), 0)
        from PIL import ImageDraw

        ImageDraw.Draw(image).text((5, 5), "直", fill=255, font=get_font(face, 48))
        images.append(image.tobytes())
    # THEN the two faces draw it differently
    assert images[0] != images[1]


def test_a_bold_brand_font_falls_back_to_bold_faces() -> None:
    # GIVEN a font file (not a family name) that is bold, as a brand's own font would be
    brand = resolve_family("sans-bold")
    stack = font_stack(FontFace(brand.path), lang="ja")
    # THEN its CJK fallback is the bold JP face; a regular file gets the regular one
    assert stack.face_for("あ") == resolve_family("cjk-jp-bold")
    assert font_stack(FontFace(resolve_family("sans").path), lang="ja").face_for("あ") == resolve_family("cjk-jp")


def test_thai_has_a_face_of_its_own() -> None:
    stack = font_stack("sans-bold", lang="th")
    assert stack.face_for("ก") == resolve_family("thai-bold")
    assert FAMILIES["thai"].package == "fonts-noto-core"


# ---------------------------------------------------------------- line breaking


def test_budoux_models_ship_for_japanese_chinese_and_thai() -> None:
    assert phrase_model("ja", "") == "ja"
    assert phrase_model("zh", "") == "zh-hans"
    assert phrase_model("zh-TW", "") == "zh-hant"
    assert phrase_model("th", "") == "th"
    assert phrase_model("en", "Thai: ไทย") == "th"
    assert phrase_model("en", "かな") == "ja"
    assert phrase_model("en", "漢字") is None
    for model in ("ja", "zh-hans", "zh-hant", "th"):
        assert phrase_boundaries({"ja": JAPANESE, "th": THAI}.get(model, CHINESE), model)


@pytest.mark.parametrize(("text", "lang"), [(JAPANESE, "ja"), (CHINESE, "zh"), (THAI, "th")])
def test_lines_break_only_between_phrases_when_phrases_fit(text: str, lang: str) -> None:
    # GIVEN a sentence, its phrases and the widest phrase at 20 px
    stack = font_stack("sans-bold", lang=lang)
    bounds = phrase_boundaries(text, phrase_model(lang, text) or "")
    font = get_font(stack.face_for(text[0]) or stack.primary, 20)
    edges = [0, *sorted(bounds), len(text)]
    widest = max(font.getlength(text[a:b], language=lang) for a, b in itertools.pairwise(edges))
    checked = 0
    for width in range(int(widest) + 2, 400, 13):
        # WHEN it is laid out at that fixed size in a box wide enough for any phrase
        layout = layout_text(text, stack, size=(20, 20), box=(width, 2000), lang=lang)
        assert "".join(line.text for line in layout.lines) == text
        # THEN every line ends at a phrase boundary
        assert set(breaks_of(layout)) <= bounds, (width, [line.text for line in layout.lines])
        checked += len(layout.lines) > 1
    assert checked > 5
    # AND without the locale (no model for Han text alone) Chinese breaks between any characters
    if lang == "zh":
        anywhere = [
            set(breaks_of(layout_text(text, stack, size=(20, 20), box=(w, 2000)))) - bounds
            for w in range(int(widest) + 2, 400, 13)
        ]
        assert any(anywhere)


def test_a_phrase_wider_than_the_line_is_cut_between_characters() -> None:
    stack = font_stack("sans", lang="ja")
    layout = layout_text("お届けします", stack, size=(20, 20), box=(50, 400), lang="ja")
    assert "".join(line.text for line in layout.lines) == "お届けします"
    assert len(layout.lines) > 1 and all(line.right - line.left <= 50 for line in layout.lines)


KINSOKU_TEXTS = [
    "これは文。あれも文。それも文。どれも短い文。「引用」と（注記）、そして文。",
    "文。文。文。文。文。文。文。文。文。文。",
    "冬季大促销「全场八折」快来选购（限时）！好。",
]


@pytest.mark.parametrize("lang", ["ja", "zh", None])
@pytest.mark.parametrize("text", KINSOKU_TEXTS)
def test_kinsoku_no_line_starts_with_closing_or_ends_with_opening_marks(text: str, lang: str | None) -> None:
    stack = font_stack("sans", lang=lang)
    for width in range(18, 260, 5):
        layout = layout_text(text, stack, size=(16, 16), box=(width, 4000), lang=lang)
        lines = [line.text for line in layout.lines]
        assert "".join(lines) == text
        assert not any(line[0] in NOT_AT_LINE_START for line in lines[1:]), (width, lines)
        assert not any(line[-1] in NOT_AT_LINE_END for line in lines[:-1]), (width, lines)


def test_full_stop_stays_with_its_character_even_when_the_box_is_too_narrow() -> None:
    # GIVEN "文。" in a box about one character wide
    stack = font_stack("sans", lang="ja")
    layout = layout_text("文。文。", stack, size=(20, 20), box=(22, 400), lang="ja")
    # THEN no line starts with "。" (the line overflows instead, and the layout says it does not fit)
    assert all(not line.text.startswith("。") for line in layout.lines)
    assert [line.text for line in layout.lines][:1] == ["文。"] or not layout.fits


def test_korean_breaks_at_spaces_only() -> None:
    text = "겨울 세일 이번 주에만 전 품목 삼십 퍼센트 할인합니다"
    words = text.split(" ")
    stack = font_stack("sans", lang="ko")
    widest = max(get_font(stack.face_for("겨") or stack.primary, 18).getlength(w) for w in words)
    for width in range(int(widest) + 2, 300, 11):
        layout = layout_text(text, stack, size=(18, 18), box=(width, 2000), lang="ko")
        assert [w for line in layout.lines for w in line.text.split(" ")] == words
    # AND without the locale Hangul breaks between syllables, as before
    assert any(
        len(layout_text(text, stack, size=(18, 18), box=(w, 2000)).lines)
        > len(layout_text(text, stack, size=(18, 18), box=(w, 2000), lang="ko").lines)
        or [ln.text for ln in layout_text(text, stack, size=(18, 18), box=(w, 2000)).lines]
        != [ln.text for ln in layout_text(text, stack, size=(18, 18), box=(w, 2000), lang="ko").lines]
        for w in range(int(widest) + 2, 300, 11)
    )


# ---------------------------------------------------------------- line height


LINE_TEXTS = {
    # Arabic: kasra under, hamza above and below, shadda with fatha, tanwin, madda
    "arabic": ("إِنَّ أَكْبَرَ خَصْمٍ فِي آخِرِ الْأُسْبُوعِ لِلْجَمِيعِ ؤ ئ إِ شَدَّ", "arabic", "ar"),
    # Devanagari: the i and ii matras above, u and uu below, conjuncts with virama and reph
    "devanagari": ("सर्दियों की सेल: सभी सामान पर तीस प्रतिशत की छूट मिलेगी क्षत्रिय द्वार श्री", "devanagari", "hi"),
    # Thai: tone marks stacked over upper vowels, vowels below
    "thai": ("ปี่ที่นี่ ผู้ซื้อทุกคนจะได้รับส่วนลดพิเศษ กู้ปู่ น้ำ ฤดูหนาว", "thai", "th"),
    # Vietnamese: stacked diacritics on Latin capitals and dots below
    "vietnamese": ("ẤN TƯỢNG Ấ Ẫ Ỗ Ặ giảm giá mùa đông cho mọi người ở Việt Nam ỵ ự", "sans", "vi"),
    # One block mixing faces
    "mixed": ("Sale ग्रीष्म सेल إِنَّ خَصْمٍ 冬季大促销 ลดราคา Ångström Ấ", "sans", "en"),
}


def empty_rows(layout: TextLayout, width: int) -> list[bool]:
    """Draws `layout` 10 px inside a transparent canvas; True for each pixel row holding no ink."""
    canvas = Image.new("RGBA", (width + 20, layout.height + 20), (0, 0, 0, 0))
    draw_text(canvas, layout, box=(10, 10, width, layout.height), color=(0, 0, 0, 255))
    alpha = canvas.getchannel("A")
    return [alpha.crop((0, y, alpha.width, y + 1)).getbbox() is None for y in range(alpha.height)]


@pytest.mark.parametrize("case", sorted(LINE_TEXTS))
@pytest.mark.parametrize(("size", "line_height"), [(28, 0.9), (28, 1.2), (15, 1.0), (41, 1.2)])
def test_baselines_are_an_even_grid_and_lines_never_touch(case: str, size: int, line_height: float) -> None:
    # GIVEN text with marks above and below, laid out at a fixed size in a narrow box
    text, family, lang = LINE_TEXTS[case]
    stack = font_stack(family, lang=lang)
    width = 7 * size
    layout = layout_text(
        text, stack, size=(size, size), box=(width, 4000), line_height=line_height, lang=lang
    )
    assert len(layout.lines) >= 3
    # THEN the baselines are evenly spaced, never closer than line_height x size
    steps = {b.baseline - a.baseline for a, b in itertools.pairwise(layout.lines)}
    assert len(steps) == 1
    assert steps.pop() >= round(size * line_height)
    # AND on the rendered pixels, an empty row separates every line from the next
    empty = empty_rows(layout, width)
    for a, b in itertools.pairwise(layout.lines):
        gap = empty[10 + a.baseline : 10 + b.baseline]
        assert any(gap), f"lines {a.text!r} and {b.text!r} touch"


def step_of(text: str, family: str, lang: str, size: int = 40) -> float:
    """The baseline step, in em, of `text` in a box that makes it several lines, at line_height 1.2."""
    layout = layout_text(
        text, font_stack(family, lang=lang), size=(size, size), box=(7 * size, 4000), lang=lang
    )
    assert len(layout.lines) >= 3
    return (layout.lines[1].baseline - layout.lines[0].baseline) / size


def test_the_step_follows_the_ink_not_the_declared_line_gap() -> None:
    # GIVEN Noto Sans Arabic, which declares ascent + descent of 2.11 em
    ascent, descent = get_font(font_stack("arabic", lang="ar").primary, 1000).getmetrics()
    assert ascent + descent > 2000
    # THEN ordinary Arabic (no harakat) is set near line_height, far under the declared 2.11 em
    plain = "خصم كبير على كل المنتجات هذا الأسبوع فقط لجميع العملاء الكرام في كل المدن"
    assert step_of(plain, "arabic", "ar") < 1.4
    # AND fully vowelled Arabic moves apart only as far as its marks need
    assert 1.2 < step_of(LINE_TEXTS["arabic"][0], "arabic", "ar") < 1.9
    # AND Latin, whose ink sits well inside 1.2 em, stays at line_height
    assert step_of("Winter sale: thirty percent off everything this week only", "sans", "en") == 1.2


@pytest.mark.parametrize("max_lines", [None, 2])
def test_autofit_and_ellipsis_measure_the_block_with_the_step_it_is_drawn_with(max_lines: int | None) -> None:
    # GIVEN fully vowelled Arabic, whose marks widen the step, in boxes of many heights
    text, family, lang = LINE_TEXTS["arabic"]
    stack = font_stack(family, lang=lang)
    kinds = set()
    for height in range(40, 260, 17):
        # WHEN it is fitted between 14 and 40 px (cut with an ellipsis when even 14 px is too big)
        layout = layout_text(text, stack, size=(14, 40), box=(220, height), max_lines=max_lines, lang=lang)
        kinds.add((layout.fits, layout.truncated))
        # THEN the block it reports, and the ink drawn, stay inside the box
        assert layout.height <= height or len(layout.lines) == 1
        empty = empty_rows(layout, 220)
        inked = [y - 10 for y, blank in enumerate(empty) if not blank]
        assert inked and inked[0] >= 0 and inked[-1] < layout.height
        # AND no two lines touch
        for a, b in itertools.pairwise(layout.lines):
            assert any(empty[10 + a.baseline : 10 + b.baseline]), (height, a.text, b.text)
    assert {(True, False), (False, True)} <= kinds


def test_single_line_blocks_keep_their_height() -> None:
    # A single line has no line above to keep clear: its height comes from the pitch and its ink alone.
    stack = font_stack("arabic", lang="ar")
    layout = layout_text("خصم كبير", stack, size=(20, 20), box=(300, 100), line_height=1.2)
    assert len(layout.lines) == 1
    assert layout.height < sum(get_font(stack.primary, 20).getmetrics())


# ---------------------------------------------------------------- the fonts layer's CJK subset


def test_the_layer_subset_keeps_the_faces_versa_uses_and_the_standard_sets() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("subset_cjk", ROOT / "layers" / "fonts" / "subset_cjk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # THEN it keeps the faces the renderer picks, at the same indices
    assert {index: name.rsplit(" ", 1)[1].lower() for index, name in module.FACES.items()} == {
        index: region for region, index in CJK_FACES.items()
    }
    # AND the characters of every sample and test pack headline, but not a rare Extension A ideograph
    kept = module.charset()
    texts = [JAPANESE, CHINESE, "겨울 세일: 이번 주에만 전 품목 30% 할인", "直骨写寫「」（）。、ー々"]
    texts += [text for slot in SCRIPTS.model.creative("headline").copy_.values() for text in slot.default.values()]
    missing = {ch for text in texts for ch in text if ord(ch) >= 0x2E80 and ord(ch) not in kept}
    assert not missing
    assert 0x3400 not in kept  # 㐀, in none of JIS X 0213, GB 2312, Big5, KS X 1001
    assert "locl" in module.FEATURES and "vert" not in module.FEATURES
