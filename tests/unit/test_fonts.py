"""Fonts: raqm, default families from Debian packages, coverage, stacks, the font cache, lint helpers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageFont, features

import versa.render.fonts as fonts_module
from versa.errors import VersaError
from versa.render.fonts import (
    FAMILIES,
    LOCALE_SAMPLES,
    FontFace,
    FontNotFound,
    FontStack,
    coverage,
    default_fallbacks,
    font_stack,
    get_font,
    missing_glyphs,
    resolve_family,
    script_class,
)

RENDER_DIR = Path(fonts_module.__file__).parent


@pytest.fixture
def only_dejavu_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """System font dirs replaced by one that holds only DejaVuSans.ttf."""
    (tmp_path / "DejaVuSans.ttf").symlink_to(resolve_family("sans").path)
    monkeypatch.setattr(fonts_module, "SYSTEM_FONT_DIRS", (tmp_path,))
    fonts_module._resolve.cache_clear()
    yield tmp_path
    fonts_module._resolve.cache_clear()


def test_raqm_layout_engine_is_active() -> None:
    # GIVEN the Pillow in this environment / WHEN we ask for raqm / THEN it is there and used
    assert features.check("raqm"), "Pillow must be built with raqm (libraqm, fribidi, harfbuzz)"
    font = get_font(resolve_family("sans"), 20)
    assert font.layout_engine == ImageFont.Layout.RAQM


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_default_family_resolves_to_an_installed_file(family: str) -> None:
    face = resolve_family(family)
    assert Path(face.path).name == FAMILIES[family].file
    assert Path(face.path).is_file()
    assert len(coverage(face)) > 100


def test_caller_font_dirs_are_searched_before_system_dirs(tmp_path: Path) -> None:
    # GIVEN a Lambda-style font dir holding the sans file
    (tmp_path / "DejaVuSans.ttf").symlink_to(resolve_family("sans").path)
    # WHEN resolving with that dir / THEN the file there wins
    assert resolve_family("sans", [tmp_path]).path == str(tmp_path / "DejaVuSans.ttf")
    assert resolve_family("sans").path != str(tmp_path / "DejaVuSans.ttf")


def test_missing_family_error_names_family_file_and_package(only_dejavu_installed: Path) -> None:
    with pytest.raises(FontNotFound) as info:
        resolve_family("arabic")
    err = info.value
    assert isinstance(err, LookupError)
    assert isinstance(err, VersaError)
    assert err.family == "arabic"
    for needle in ("'arabic'", "NotoSansArabic-Regular.ttf", "fonts-noto-core", str(only_dejavu_installed)):
        assert needle in str(err)


def test_unknown_family_is_a_lookup_error_listing_the_known_ones() -> None:
    with pytest.raises(LookupError, match=r"unknown font family 'comic'.*noto-sans"):
        resolve_family("comic")


def test_font_stack_skips_fallbacks_that_are_not_installed(only_dejavu_installed: Path) -> None:
    stack = font_stack("sans")
    assert stack.faces == (FontFace(str(only_dejavu_installed / "DejaVuSans.ttf")),)
    with pytest.raises(FontNotFound):
        font_stack("noto-sans")


def test_coverage_reads_the_cmap_once_per_face() -> None:
    face = resolve_family("hebrew")
    first = coverage(face)
    assert ord("ש") in first
    assert ord("A") not in first
    assert coverage(FontFace(face.path, face.index)) is first


def test_get_font_is_cached_per_face_and_size() -> None:
    face = resolve_family("noto-sans")
    assert get_font(face, 31) is get_font(FontFace(face.path), 31)
    assert get_font(face, 32) is not get_font(face, 31)
    assert get_font(face, 32).size == 32


def test_cjk_collection_face_opens_with_its_index() -> None:
    face = resolve_family("cjk")
    assert face.path.endswith(".ttc")
    assert ord("李") in coverage(face)
    assert get_font(face, 24).getlength("李雷") > 0


def test_default_fallbacks_follow_weight_and_put_siblings_first() -> None:
    assert default_fallbacks("noto-sans", bold=False) == (
        "noto-sans-bold",
        "sans",
        "arabic",
        "hebrew",
        "devanagari",
        "thai",
        "cjk",
    )
    assert default_fallbacks("arabic-bold", bold=True) == (
        "arabic",
        "sans-bold",
        "hebrew-bold",
        "devanagari-bold",
        "thai-bold",
        "cjk-bold",
    )
    assert default_fallbacks(None, bold=False) == ("sans", "arabic", "hebrew", "devanagari", "thai", "cjk")


def test_stack_prefers_the_face_meant_for_a_script() -> None:
    # GIVEN DejaVu Sans as primary, which also has (basic) Arabic and Hebrew glyphs
    stack = font_stack("sans")
    faces = {name: resolve_family(name) for name in ("sans", "arabic", "hebrew", "devanagari", "cjk")}
    # WHEN / THEN each script goes to its own family, Latin stays with the primary
    assert stack.face_for("A") == faces["sans"]
    assert stack.face_for("م") == faces["arabic"]
    assert stack.face_for("ש") == faces["hebrew"]
    assert stack.face_for("क") == faces["devanagari"]
    assert stack.face_for("李") == faces["cjk"]
    assert stack.face_for("ひ") == faces["cjk"]
    assert stack.face_for("\U00010000") is None  # Linear B: nobody has it


def test_a_brand_face_wins_for_everything_it_covers() -> None:
    brand = resolve_family("sans")
    stack = font_stack(brand)
    assert stack.scripts[0] is None
    assert stack.face_for("م") == brand
    assert stack.face_for("क") == resolve_family("devanagari")


def test_font_stack_needs_a_face() -> None:
    with pytest.raises(ValueError):
        FontStack(())


def test_script_class() -> None:
    assert [script_class(c) for c in "aЖمשक李ア한，"] == [
        "latin",
        "latin",
        "arabic",
        "hebrew",
        "devanagari",
        "cjk",
        "cjk",
        "cjk",
        "cjk",
    ]


def test_missing_glyphs_reports_uncovered_characters_only() -> None:
    latin_only = font_stack("noto-sans", fallbacks=[])
    assert missing_glyphs(latin_only, "Hi مريم\n\u200d") == set("مريم")
    assert missing_glyphs(font_stack("noto-sans"), "Hi مريم 李雷 שלום क्ष") == set()


@pytest.mark.parametrize("locale", sorted(LOCALE_SAMPLES))
def test_default_stacks_cover_every_locale_sample(locale: str) -> None:
    for family in ("sans", "sans-bold", "noto-sans", "noto-sans-bold"):
        assert missing_glyphs(font_stack(family), LOCALE_SAMPLES[locale]) == set(), family


def test_locale_samples_cover_the_locales_versa_promises() -> None:
    assert {"en", "de", "fr", "es", "ar", "he", "hi", "ja", "zh", "ko"} <= set(LOCALE_SAMPLES)


@pytest.mark.parametrize("module", sorted(p.name for p in RENDER_DIR.glob("*.py")))
def test_render_modules_stay_pure(module: str) -> None:
    tree = ast.parse((RENDER_DIR / module).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert not imported & {"boto3", "botocore", "openai", "os"}
    assert "environ" not in {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
