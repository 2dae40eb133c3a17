"""The plain-Pillow benchmark baseline must keep drawing the real card, never a blank image."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageChops, ImageStat

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO / "bench"
CARD_JSON = REPO.parent / "shared" / "bench" / "card.json"
"""The card's shared description, beside the repository (../shared), when a checkout has it."""
HEADLINE_BOX = (32, 88, 568, 172)  # x, y, x + max_width, y + 2 * line_height


def _load_baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_baseline", BENCH_DIR / "baseline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


@pytest.fixture(scope="module")
def card():
    return baseline.BaselineCard()


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_renders_each_format(card, fmt, pil_format):
    # WHEN
    data = card.render(baseline.values_for(0), fmt)

    # THEN it decodes to a 600x300 image of that format with the headline drawn
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == pil_format
        assert img.size == (600, 300)
        headline = img.convert("L").crop(HEADLINE_BOX)
    assert ImageStat.Stat(headline).stddev[0] > 30


def test_headline_is_white_text_over_gradient(card):
    # WHEN
    img = card.draw(baseline.values_for(0))

    # THEN the background is the gradient, and the headline region holds many white text pixels
    assert img.getpixel((599, 0)) == (0x1E, 0x3A, 0x8A)
    assert img.getpixel((599, 299)) == (0x7C, 0x3A, 0xED)
    white = sum(img.crop(HEADLINE_BOX).convert("L").histogram()[241:])
    assert white > 2000


def test_logo_and_cta_are_drawn(card):
    img = card.draw(baseline.values_for(0))

    assert img.getpixel((36, 48)) == (0xF5, 0x9E, 0x0B)  # logo's amber edge at (32,24)+
    assert img.getpixel((40, 250)) == (0xF5, 0x9E, 0x0B)  # CTA fill, left of the label
    label = img.convert("L").crop((60, 236, 172, 264))
    assert ImageStat.Stat(label).extrema[0][0] < 60  # dark label text inside the button


def test_names_rotate_and_change_the_headline(card):
    # GIVEN two requests with different names
    first, second = baseline.values_for(0), baseline.values_for(1)
    assert first["name"] != second["name"]
    assert baseline.values_for(len(baseline.NAMES))["name"] == first["name"]

    # WHEN
    a, b = card.draw(first), card.draw(second)

    # THEN only the headline differs
    bbox = ImageChops.difference(a, b).getbbox()
    assert bbox is not None
    assert HEADLINE_BOX[1] <= bbox[1] and bbox[3] <= HEADLINE_BOX[3]


def test_every_name_wraps_to_two_lines(card):
    font = card._font(baseline.HEADLINE)
    for i in range(len(baseline.NAMES)):
        text = f"{baseline.values_for(i)['name']}, your new spring favorites are now 25% off"
        assert len(baseline.wrap(text, font, baseline.HEADLINE["max_width"])) == 2


def test_rejects_unknown_format(card):
    with pytest.raises(ValueError, match="unsupported format"):
        card.render(baseline.values_for(0), "gif")


@pytest.mark.skipif(
    not CARD_JSON.exists(), reason="../shared/bench/card.json is not beside this checkout (only ../shared is read)"
)
def test_constants_match_card_json():
    spec = json.loads(CARD_JSON.read_text(encoding="utf-8"))
    assert (spec["width"], spec["height"]) == (baseline.WIDTH, baseline.HEIGHT)
    assert (spec["background"]["top"], spec["background"]["bottom"]) == (baseline.TOP, baseline.BOTTOM)
    assert (spec["logo"]["x"], spec["logo"]["y"]) == baseline.LOGO_XY
    assert spec["personalization"] == baseline.PERSONALIZATION
    for key, const in (("headline", baseline.HEADLINE), ("subline", baseline.SUBLINE), ("cta", baseline.CTA)):
        assert spec[key] == const
