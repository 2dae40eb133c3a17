"""`versa lint`'s checks of what a variant draws: images enlarged beyond their pixels at the largest
output a request may ask for, layers off the canvas, and contrast sampled over images and gradients.
Each test builds its own small pack (the example packs change under other work)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from versa.authoring.contrast import contrast_ratio, over
from versa.authoring.lint import lint
from versa.authoring.pixels import largest_output
from versa.errors import Issue
from versa.pack.loader import load_pack
from versa.pack.model import Creative, Pack
from versa.render.checks import PACK_CHECKS
from versa.render.encode import MAX_PIXELS, MAX_SIDE, check_dimensions

BuildPack = Callable[..., Pack]


@pytest.fixture
def build(make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]) -> BuildPack:
    """`build(layers, images={name: PIL image}, **creative_fields)`: a one-creative pack (300x100,
    locales en and de) with those layers and those images under assets/."""
    counter = iter(range(1000))

    def make(layers: list[dict[str, Any]], images: dict[str, Image.Image] | None = None, **fields: Any) -> Pack:
        data = small_pack(layers=layers)
        data["creatives"]["promo"].update(fields)
        root = make_pack(data, name=f"pack{next(counter)}")
        for name, image in (images or {}).items():
            image.save(root / "assets" / name)
        return load_pack(root, checks=PACK_CHECKS)

    return make


def found(pack: Pack, kind: str) -> list[Issue]:
    issues = [i for i in lint(pack) if i.message.startswith(kind + ":")]
    assert all(i.severity == "warning" for i in issues)
    return issues


BG = {"id": "bg", "type": "background", "fill": "paper"}
TITLE = {"id": "title", "type": "text", "slot": "title", "box": [120, 10, 170, 40], "font": "body", "size": 20,
         "color": "ink"}  # fmt: skip


def square(side: int, colour: str = "#336699") -> Image.Image:
    return Image.new("RGB", (side, side), colour)


# ------------------------------------------------------------------------------------ image-upscaled


def test_an_image_with_too_few_pixels_for_dpr_3_is_named_with_the_pixels_it_needs(build: BuildPack) -> None:
    # GIVEN a 40x40 logo box holding a 60x60 image (enough at dpr 1, not at dpr 3: 120x120 px)
    logo = {"id": "logo", "type": "image", "asset": "assets/logo.png", "box": [10, 10, 40, 40]}
    pack = build([BG, logo, TITLE], {"logo.png": square(60)})

    # WHEN linted
    issues = found(pack, "image-upscaled")

    # THEN one warning at the layer names the size, the asset and its pixels, the output and the need
    assert [i.path for i in issues] == ["creatives.promo.layers['logo']"]
    message = issues[0].message
    assert "at 300x100 layer 'logo' (assets/logo.png, 60x60 px)" in message
    assert "at w=300 dpr 3 that is 120x120 output px" in message
    assert "enlarging the image 2.00x: it needs at least 120x120 px" in message


def test_an_image_with_enough_pixels_is_not_reported(build: BuildPack) -> None:
    # GIVEN the same box with a 120x120 image, and a cover image cropped from a large picture
    logo = {"id": "logo", "type": "image", "asset": "assets/logo.png", "box": [10, 10, 40, 40]}
    band = {"id": "band", "type": "image", "asset": "assets/band.png", "box": [0, 60, 300, 40], "fit": "cover"}
    pack = build([BG, logo, band, TITLE], {"logo.png": square(120), "band.png": Image.new("RGB", (900, 900))})

    # WHEN linted / THEN nothing is upscaled
    assert found(pack, "image-upscaled") == []


def test_allowed_widths_and_every_size_are_checked(build: BuildPack) -> None:
    # GIVEN a 120x120 logo that is enough at w=300 dpr 3, a creative allowing w=600 too, and a
    # second size where a size override makes the box 80x80
    logo = {"id": "logo", "type": "image", "asset": "assets/logo.png", "box": [10, 10, 40, 40]}
    pack = build(
        [BG, logo, TITLE],
        {"logo.png": square(120)},
        widths=[300, 600],
        sizes=["300x100", "600x200"],
        by_size=[{"when": {"size": "600x200"}, "set": {"layers.logo.box": [20, 20, 80, 80]}}],
    )

    # WHEN linted
    issues = found(pack, "image-upscaled")

    # THEN w=600 at the first size needs 240 px, and the second size (its own width only) 240 px too
    messages = sorted(i.message for i in issues)
    assert len(messages) == 2, messages
    assert "at 300x100 layer 'logo'" in messages[0] and "w=600 dpr 3 that is 240x240 output px" in messages[0]
    assert "at 600x200 layer 'logo'" in messages[1] and "w=600 dpr 3 that is 240x240 output px" in messages[1]
    assert all("it needs at least 240x240 px" in m for m in messages)


def test_a_background_image_is_checked_against_the_whole_canvas(build: BuildPack) -> None:
    # GIVEN a cover background image of 450x150 px under a 300x100 creative (900x300 at dpr 3)
    bg = {"id": "bg", "type": "background", "image": {"asset": "assets/sky.png"}}
    pack = build([bg, TITLE], {"sky.png": Image.new("RGB", (450, 150), "#ffffff")})

    # WHEN linted
    issues = found(pack, "image-upscaled")

    # THEN the background is named with the canvas and the pixels it needs
    assert [i.path for i in issues] == ["creatives.promo.layers['bg']"]
    assert "the background image (assets/sky.png, 450x150 px) fills the canvas (cover)" in issues[0].message
    assert "it needs at least 900x300 px" in issues[0].message


def test_the_largest_output_respects_the_renderers_caps() -> None:
    # GIVEN a wide creative whose dpr 3 output would pass the side cap
    creative = Creative.model_validate(
        {"size": [2000, 100], "widths": [1000], "layers": [BG], "fallback": "assets/fallback.png"}
    )

    # WHEN its largest output is computed
    width, dpr, out_w, out_h = largest_output(creative, (2000, 100))

    # THEN it is the one the renderer still accepts: w=2000 at dpr 2 (4000 px wide), not dpr 3
    assert (width, dpr, out_w, out_h) == (2000, 2.0, 4000, 200)
    check_dimensions(out_w, out_h, width=width, dpr=dpr)  # accepted
    assert out_w <= MAX_SIDE and out_w * out_h <= MAX_PIXELS
    assert largest_output(creative, (2000, 100))[2] > 1000 * 3  # w=1000 at dpr 3 is smaller


# ---------------------------------------------------------------------------------------- off-canvas


def test_a_box_a_rule_sets_past_an_edge_is_named_with_the_edge(build: BuildPack) -> None:
    # GIVEN a rule that moves the title 50 px past the right edge of the 300x100 canvas for German
    # viewers (the loader refuses such a box only where the creative writes it, at its first size)
    rules = [{"id": "de-title", "when": {"lang": "de"}, "set": {"layers.title.box": [250, 10, 100, 40]}}]
    pack = build([BG, TITLE], rules=rules)

    # WHEN linted
    issues = found(pack, "off-canvas")

    # THEN the title is named, in German only, with its box and the edge
    assert [i.path for i in issues] == ["creatives.promo.layers['title']"]
    assert "at 300x100 de layer 'title' (box [250, 10, 100, 40]) runs 50 px past the right edge of the 300x100 canvas" in (
        issues[0].message
    )


def test_a_layer_wholly_outside_and_a_bleeding_shape_are_both_named(build: BuildPack) -> None:
    # GIVEN rules moving a shape wholly beyond the right edge, and a circle off the top-left corner
    blob = {"id": "blob", "type": "shape", "shape": "ellipse", "box": [0, 0, 60, 60], "fill": "accent"}
    lost = {"id": "lost", "type": "shape", "box": [10, 10, 20, 20], "fill": "accent"}
    rules = [{"id": "move", "set": {"layers.lost.box": [310, 10, 20, 20], "layers.blob.box": [-20, -10, 60, 60]}}]
    pack = build([BG, blob, lost, TITLE], rules=rules)

    # WHEN linted
    issues = {i.path: i.message for i in found(pack, "off-canvas")}

    # THEN the lost shape lies outside; the circle runs past two edges (only the background bleeds)
    assert "layer 'lost' (box [310, 10, 20, 20]) lies wholly outside the 300x100 canvas" in issues[
        "creatives.promo.layers['lost']"
    ]
    assert "runs 20 px past the left edge and 10 px past the top edge of" in issues["creatives.promo.layers['blob']"]
    assert len(issues) == 2


def test_a_container_child_pushed_off_the_canvas_is_named(build: BuildPack) -> None:
    # GIVEN a row at the right edge whose two fixed-width children overflow it past the canvas
    row = {
        "id": "row", "type": "container", "box": [150, 10, 150, 40],
        "children": [
            {"id": "a", "type": "shape", "fill": "accent", "flex": {"width": 100, "shrink": 0}},
            {"id": "b", "type": "shape", "fill": "ink", "flex": {"width": 100, "shrink": 0}},
        ],
    }  # fmt: skip
    pack = build([BG, row])

    # WHEN linted
    issues = found(pack, "off-canvas")

    # THEN the second child is named by its path inside the container, at 50 px past the right edge
    assert [i.path for i in issues] == ["creatives.promo.layers['row'].children['b']"]
    assert "layer 'b' (box [250, 10, 100, 40]) runs 50 px past the right edge" in issues[0].message


def test_no_off_canvas_warning_for_a_pack_on_its_canvas_at_every_size(build: BuildPack) -> None:
    # GIVEN the small pack in three sizes (boxes scale with each)
    pack = build([BG, TITLE], sizes=["300x100", "160x600", "728x90"])

    # WHEN linted / THEN nothing runs off
    assert found(pack, "off-canvas") == []


# ----------------------------------------------------------------------------------- sampled contrast


def halves(left: str, right: str, size: tuple[int, int] = (300, 100)) -> Image.Image:
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def test_text_over_an_image_is_sampled_and_the_worst_region_named(build: BuildPack) -> None:
    # GIVEN a photo, light on the left and near-black on the right, under dark grey text spanning both
    photo = {"id": "photo", "type": "image", "asset": "assets/photo.png", "box": [0, 0, 300, 100], "fit": "cover"}
    text = {**TITLE, "box": [20, 30, 260, 40], "color": "#333333"}
    pack = build([BG, photo, text], {"photo.png": halves("#f0f0f0", "#202020", (900, 300))},
                 copy={"title": {"default": "A long enough title line"}, "cta": {"default": "go"}})  # fmt: skip

    # WHEN linted
    issues = found(pack, "low-contrast")

    # THEN the text is named over the image, with the dark region it fails on and the ratio
    assert {i.path for i in issues} == {"creatives.promo.layers['title']"}
    message = issues[0].message
    assert "is #333333 over image 'photo' (sampled: worst region" in message
    assert "averages #202020" in message
    assert f"contrast {contrast_ratio('#333333', '#202020'):.2f}:1, below WCAG AA 4.5:1" in message


def test_text_over_the_right_part_of_an_image_passes(build: BuildPack) -> None:
    # GIVEN the same photo with white text over its dark half only
    photo = {"id": "photo", "type": "image", "asset": "assets/photo.png", "box": [0, 0, 300, 100], "fit": "cover"}
    text = {**TITLE, "box": [160, 30, 130, 40], "color": "#ffffff"}
    pack = build([BG, photo, text], {"photo.png": halves("#f0f0f0", "#202020", (900, 300))})

    # WHEN linted / THEN nothing fails
    assert found(pack, "low-contrast") == []


@pytest.mark.parametrize(("angle", "fails"), [(90, True), (270, True), (180, False)])
def test_text_over_a_gradient_is_sampled_where_it_darkens(build: BuildPack, angle: int, fails: bool) -> None:
    # GIVEN black text across the width of a white-to-black gradient (left to right at 90 deg,
    # right to left at 270), and a pale top-to-bottom gradient (180) that stays light behind it
    stops = ["#ffffff", "#000000"] if angle != 180 else ["#ffffff", "#dddddd"]
    bg = {"id": "bg", "type": "background", "gradient": {"angle": angle, "stops": stops}}
    text = {**TITLE, "box": [10, 30, 280, 40], "color": "#000000"}
    pack = build([bg, text], copy={"title": {"default": "Black text all the way across"}, "cta": {"default": "go"}})

    # WHEN linted
    issues = found(pack, "low-contrast")

    # THEN it fails over the dark end only, naming the gradient
    assert bool(issues) == fails, issues
    if fails:
        assert "over the background gradient (sampled: worst region" in issues[0].message


def test_a_translucent_panel_is_sampled_over_what_it_covers(build: BuildPack) -> None:
    # GIVEN white text on a half-transparent black panel over a white background: the panel shows
    # mid grey, too light for white text; an opaque black panel would be fine
    panel = {"id": "panel", "type": "shape", "box": [0, 20, 300, 60], "fill": "#00000060"}
    text = {**TITLE, "box": [10, 30, 280, 40], "color": "#ffffff"}
    translucent = build([BG, panel, text])
    opaque = build([BG, {**panel, "fill": "#000000"}, text])

    # WHEN linted
    # THEN the translucent panel fails (sampled), the opaque one is read off the pack and passes
    issues = found(translucent, "low-contrast")
    assert {i.path for i in issues} == {"creatives.promo.layers['title']"}
    assert "over shape 'panel' over the background (sampled" in issues[0].message
    assert "averages #9f9f9f" in issues[0].message  # 0x60 of black over white: 255 x (1 - 96/255)
    assert found(opaque, "low-contrast") == []


def test_text_where_the_creative_is_transparent_is_not_judged(build: BuildPack) -> None:
    # GIVEN white text on a creative with no background (the page behind shows), and the same text
    # over a small image in one corner only
    text = {**TITLE, "box": [10, 30, 280, 40], "color": "#ffffff"}
    bare = build([text])
    spot = {"id": "spot", "type": "image", "asset": "assets/spot.png", "box": [0, 0, 60, 100], "fit": "cover"}
    partly = build([spot, text], {"spot.png": Image.new("RGB", (180, 300), "#ffffff")})

    # WHEN linted
    # THEN nothing is judged where nothing is drawn, and the white image under its start fails
    assert found(bare, "low-contrast") == []
    issues = found(partly, "low-contrast")
    assert issues and all("over image 'spot' (sampled" in i.message for i in issues), issues


def test_a_translucent_text_colour_is_blended_first() -> None:
    # GIVEN black at 25% alpha over white: it shows light grey
    # WHEN blended / THEN the ratio is that of the grey, far below 4.5
    assert over("#00000040", "#ffffff") == "#bfbfbf"
    assert contrast_ratio(over("#00000040", "#ffffff"), "#ffffff") < 2
