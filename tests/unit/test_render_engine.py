"""The renderer end to end: encoding, format negotiation, dpr, memo, caps, and the example creatives.

The example creatives are written to tests/output/examples/ for a person to look at.
"""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import babel
import PIL
import pytest
from PIL import Image, ImageChops, ImageStat

from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.errors import ParamError
from versa.pack.loader import load_pack
from versa.pack.model import ButtonLayer, Pack, RenderSettings, TextLayer
from versa.render import engine as engine_module
from versa.render.checks import PACK_CHECKS
from versa.render.encode import (
    OutputTooLarge,
    avif_supported,
    check_dimensions,
    encode,
    negotiate,
)
from versa.render.engine import RENDERER_VERSION, Renderer, engine_version, image_content_type
from versa.render.layers import FontBook, Scene, text_layout
from versa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKS = {name: load_pack(ROOT / "examples" / "packs" / name, checks=PACK_CHECKS) for name in ("acme", "northwind")}
OUTPUT = ROOT / "tests" / "output" / "examples"
RENDERER = build_renderer(Settings())
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
CONTEXTS: dict[str, tuple[dict[str, str], datetime]] = {
    "de-evening-mobile": (
        {"CloudFront-Viewer-Country": "DE", "CloudFront-Viewer-Time-Zone": "Europe/Berlin",
         "CloudFront-Is-Mobile-Viewer": "true", "User-Agent": IPHONE},
        datetime(2026, 12, 1, 18, 30, tzinfo=UTC),
    ),
    "us-morning-desktop": (
        {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Time-Zone": "America/New_York",
         "CloudFront-Is-Desktop-Viewer": "true", "User-Agent": CHROME},
        datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
    ),
    "ae-arabic": (
        {"CloudFront-Viewer-Country": "AE", "CloudFront-Viewer-Time-Zone": "Asia/Dubai", "User-Agent": CHROME},
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    ),
    "es": (
        {"CloudFront-Viewer-Country": "ES", "CloudFront-Viewer-Time-Zone": "Europe/Madrid", "User-Agent": CHROME},
        datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
    ),
    "gmail": (
        {"User-Agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"},
        datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
    ),
    "apple": ({"User-Agent": "Mozilla/5.0"}, datetime(2026, 12, 2, 15, 0, tzinfo=UTC)),
}  # fmt: skip
CREATIVES = [
    ("acme", "winter-sale"),
    ("acme", "leaderboard"),
    ("northwind", "cyber-week"),
    ("northwind", "welcome"),
]
MERGE = {"northwind": {"first_name": "Ana", "uid": "u7"}}


def decided(
    brand: str, creative: str, context: str, query: dict[str, str] | None = None
) -> tuple[Pack, Any, Any]:
    pack = PACKS[brand]
    headers, now = CONTEXTS[context]
    ctx = resolve(headers, query or MERGE.get(brand, {}), now, context_options(pack.model, creative))
    return pack, decide(pack.model, creative, ctx), ctx


def render(brand: str, creative: str, context: str = "us-morning-desktop", renderer: Renderer = RENDERER,
           query: dict[str, str] | None = None, **kw: Any) -> Any:  # fmt: skip
    pack, decision, ctx = decided(brand, creative, context, query)
    args = {"texts": {}, "params": ctx.params, "fmt": "png", "width": None, "dpr": 1.0, "now": ctx.now,
            "tz": ctx.tz, "robust": ctx.client == "apple_mpp", **kw}  # fmt: skip
    return renderer.render(pack, decision, **args)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -------------------------------------------------------------------------------------------- encode


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize(
    ("fmt", "pil_format"),
    [("png", "PNG"), ("jpg", "JPEG"), ("jpeg", "JPEG"), ("webp", "WEBP"), ("gif", "GIF"), ("avif", "AVIF")],
)
def test_each_format_decodes_to_the_right_size(fmt: str, pil_format: str, fast: bool) -> None:
    if fmt == "avif" and not avif_supported():
        pytest.skip("Pillow without AVIF")
    # GIVEN an opaque canvas with some detail
    image = Image.new("RGBA", (120, 60), (20, 33, 61, 255))
    image.paste((252, 163, 17, 255), (10, 10, 70, 40))
    # WHEN encoded
    out = decode(encode(image, fmt, RenderSettings(), fast=fast))
    # THEN it decodes as that format at the same size, without an alpha channel
    assert out.format == pil_format and out.size == (120, 60)
    assert out.mode in {"PNG": ("RGB", "P"), "GIF": ("P",)}.get(pil_format, ("RGB",))
    assert out.convert("RGB").getpixel((40, 25)) == pytest.approx((252, 163, 17), abs=12)


def test_transparent_png_keeps_alpha_and_jpeg_flattens_on_white() -> None:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    assert decode(encode(image, "png", RenderSettings())).mode == "RGBA"
    assert decode(encode(image, "jpg", RenderSettings())).getpixel((5, 5)) == pytest.approx(
        (255, 255, 255), abs=2
    )


def test_fast_png_uses_a_palette_for_few_colours() -> None:
    image = Image.new("RGBA", (200, 100), (20, 33, 61, 255))
    image.paste((252, 163, 17, 255), (10, 10, 70, 40))
    out = decode(encode(image, "png", RenderSettings(), fast=True))
    assert out.mode == "P"
    assert out.convert("RGB").getpixel((20, 20)) == (252, 163, 17)  # exact colours


# ---------------------------------------------------------------------------------------- negotiate

ALL = ["png", "jpg", "webp", "gif", "avif", "html"]
BROWSER_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "client", "animated", "expected"),
    [
        (BROWSER_ACCEPT, "browser", False, "avif" if avif_supported() else "webp"),
        ("image/webp,image/*,*/*;q=0.8", "browser", False, "webp"),
        ("image/avif;q=0.5,image/webp;q=0.9", "unknown", False, "webp"),
        ("image/png,image/webp;q=0.5", "browser", False, "png"),
        ("image/webp;q=0", "browser", False, "png"),
        (None, "browser", False, "png"),
        ("*/*", "browser", False, "png"),
        ("", "unknown", False, "png"),
        (BROWSER_ACCEPT, "gmail", False, "png"),
        (BROWSER_ACCEPT, "apple_mpp", False, "png"),
        (BROWSER_ACCEPT, "outlook", True, "gif"),
        (BROWSER_ACCEPT, "yahoo", True, "gif"),
        (BROWSER_ACCEPT, "browser", True, "avif" if avif_supported() else "webp"),
    ],
)
def test_negotiate(accept: str | None, client: str, animated: bool, expected: str) -> None:
    assert negotiate(accept, client, ALL, animated=animated) == expected


@pytest.mark.parametrize("client", ["gmail", "gmail_prefetch", "yahoo", "apple_mpp", "outlook"])
def test_email_clients_never_get_webp_or_avif(client: str) -> None:
    for accept in (BROWSER_ACCEPT, "image/webp", "image/avif", "image/webp,image/avif", None):
        for allowed in (ALL, ["webp", "avif", "png"], ["webp", "jpg"]):
            assert negotiate(accept, client, allowed) not in ("webp", "avif")


def test_negotiate_respects_what_the_pack_allows() -> None:
    assert negotiate(BROWSER_ACCEPT, "browser", ["png", "jpg"]) == "png"
    assert negotiate(BROWSER_ACCEPT, "outlook", ["png", "jpg"], animated=True) == "png"


# ----------------------------------------------------------------------------------- dpr, memo, caps


def test_dpr_2_doubles_the_size_and_redraws_text_sharp() -> None:
    one = decode(render("acme", "winter-sale", fmt="png").body).convert("RGB")
    two = render("acme", "winter-sale", fmt="png", dpr=2.0)
    assert (two.width, two.height) == (1200, 600)
    sharp = decode(two.body).convert("RGB")
    assert sharp.size == (1200, 600)
    # Not an upscale: the headline region differs from a 2x nearest-neighbour enlargement of dpr 1.
    upscaled = one.resize((1200, 600), Image.Resampling.NEAREST)
    headline = (64, 156, 744, 380)
    diff = ImageChops.difference(sharp.crop(headline), upscaled.crop(headline))
    assert sum(ImageStat.Stat(diff).mean) / 3 > 2.0


def test_memo_returns_identical_bytes() -> None:
    renderer = build_renderer(Settings())
    first = render("northwind", "welcome", renderer=renderer)
    again = render("northwind", "welcome", renderer=renderer)
    assert not first.memo_hit and again.memo_hit
    assert again.body == first.body and again.render_key == first.render_key
    other = render("northwind", "welcome", renderer=renderer, query={"first_name": "Oluwaseun"})
    assert not other.memo_hit and other.render_key != first.render_key
    assert renderer.memo_entries == 2


def test_memo_is_bounded_by_entries_and_bytes() -> None:
    by_count = build_renderer(Settings(memo_items=1))
    for name in ("Ana", "Bo"):
        render("northwind", "welcome", renderer=by_count, query={"first_name": name})
    assert by_count.memo_entries == 1
    by_bytes = build_renderer(Settings(memo_bytes=10))
    render("northwind", "welcome", renderer=by_bytes)
    assert by_bytes.memo_entries == 0


def test_width_dpr_and_format_are_checked() -> None:
    with pytest.raises(ParamError) as err:
        render("acme", "winter-sale", width=500)
    assert err.value.name == "w" and "300, 600, 1200" in str(err.value)
    assert render("acme", "winter-sale", width=300).width == 300
    for dpr in (0.5, 3.5):
        with pytest.raises(ParamError) as err:
            render("acme", "winter-sale", dpr=dpr)
        assert err.value.name == "dpr"
    with pytest.raises(ParamError) as err:
        render("acme", "winter-sale", fmt="bmp")
    assert err.value.name == "format"


def test_output_caps() -> None:
    check_dimensions(4000, 2000, width=2000, dpr=2)
    with pytest.raises(ParamError) as err:
        check_dimensions(3600, 3600, width=1200, dpr=3)  # 12.96 MP
    assert err.value.name == "dpr" and "dpr <= 2.35" in str(err.value)
    with pytest.raises(ParamError) as err:
        check_dimensions(4400, 400, width=4400, dpr=1)
    assert err.value.name == "w"
    with pytest.raises(OutputTooLarge):
        render("acme", "winter-sale", renderer=build_renderer(Settings(max_output_bytes=2_000)))


def test_engine_version_names_renderer_and_pillow() -> None:
    version = engine_version()
    assert f"versa/{RENDERER_VERSION}" in version and f"pillow/{PIL.__version__}" in version
    assert f"cldr/babel-{babel.__version__}" in version  # CLDR data decides plurals, digits and dates
    assert RENDERER.engine == version


BASE_RENDER: dict[str, Any] = {"fmt": "png", "width": 600, "dpr": 1.0, "texts": {}}


def _key(pack: Pack, renderer: Renderer | None = None, **change: Any) -> tuple[str, str]:
    """(design key, render key) of acme/winter-sale for one fixed context, with `change` applied."""
    headers, now = CONTEXTS["us-morning-desktop"]
    ctx = resolve(headers, {}, now, context_options(pack.model, "winter-sale"))
    decision = decide(pack.model, "winter-sale", ctx)
    args = {**BASE_RENDER, **change}
    rendered = (renderer or build_renderer(Settings(memo_bytes=0))).render(
        pack, decision, params=ctx.params, now=ctx.now, tz=ctx.tz, **args
    )
    return decision.design_key, rendered.render_key


@pytest.fixture(scope="module")
def republished_acme(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    """acme with one byte more in pack.yaml (a comment): the same design, a new pack version."""
    root = tmp_path_factory.mktemp("acme") / "acme"
    shutil.copytree(ROOT / "examples" / "packs" / "acme", root)
    with (root / "pack.yaml").open("a", encoding="utf-8") as out:
        out.write("\n# republished\n")
    return load_pack(root, checks=PACK_CHECKS)


def _engine_changed(monkeypatch: pytest.MonkeyPatch, what: str) -> Renderer:
    if what == "renderer version":
        monkeypatch.setattr(engine_module, "RENDERER_VERSION", RENDERER_VERSION + "-next")
    elif what == "pillow version":
        monkeypatch.setattr(PIL, "__version__", PIL.__version__ + ".post1")
    else:  # the encoder profile: standard instead of the production settings
        return build_renderer(Settings(memo_bytes=0), fast=False)
    return build_renderer(Settings(memo_bytes=0))


@pytest.mark.parametrize(
    "change",
    [
        {"width": 1200},
        {"width": 300},
        {"fmt": "webp"},
        {"fmt": "jpg"},
        {"dpr": 2.0},
        {"dpr": 1.5},
        {"texts": {"headline": "Winter gear, 80% off — this week only"}},
        {"texts": {"cta": "Shop the salE"}},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items())[:40],
)
def test_render_key_changes_with_each_render_input_alone(change: dict[str, Any]) -> None:
    # GIVEN one decision rendered with the base inputs
    design, base = _key(PACKS["acme"])
    # WHEN exactly one render input changes
    same_design, changed = _key(PACKS["acme"], **change)
    # THEN the design is the same but the render key (the ETag and memo key) is not
    assert same_design == design
    assert changed != base


def test_render_key_changes_with_the_pack_version_alone(republished_acme: Pack) -> None:
    # GIVEN the same pack before and after a republish that changed no design (only a comment)
    before = PACKS["acme"]
    assert republished_acme.version != before.version
    assert republished_acme.model == before.model
    # WHEN the same decision renders from each
    design, base = _key(before)
    same_design, changed = _key(republished_acme)
    # THEN the render key follows the pack version (a new asset must change the ETag)
    assert same_design == design
    assert changed != base


@pytest.mark.parametrize("what", ["renderer version", "pillow version", "encoder profile"])
def test_render_key_changes_with_the_engine_alone(monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    # GIVEN the base render key from a renderer of this engine
    design, base = _key(PACKS["acme"])
    # WHEN a renderer whose engine differs in one part renders the same inputs
    renderer = _engine_changed(monkeypatch, what)
    assert renderer.engine != RENDERER.engine
    same_design, changed = _key(PACKS["acme"], renderer)
    # THEN only the render key differs
    assert same_design == design
    assert changed != base


def test_render_key_is_stable_for_the_same_inputs(republished_acme: Pack) -> None:
    # GIVEN two fresh renderers (no memo shared) and two loads of the same pack directory
    again = load_pack(ROOT / "examples" / "packs" / "acme", checks=PACK_CHECKS)
    for change in ({}, {"width": 1200, "fmt": "webp", "dpr": 2.0, "texts": {"headline": "Hi"}}):
        # WHEN the same inputs render on each
        first = _key(PACKS["acme"], build_renderer(Settings(memo_bytes=0)), **change)
        second = _key(again, build_renderer(Settings(memo_bytes=0)), **change)
        # THEN the keys are equal (and a memo hit answers with that key too)
        assert first == second
    memo = build_renderer(Settings())
    assert _key(again, memo) == _key(again, memo) == _key(PACKS["acme"])
    assert _key(republished_acme) == _key(republished_acme)


def test_fallback_bytes_are_read_once() -> None:
    pack = PACKS["acme"]
    data = RENDERER.render_fallback(pack, "winter-sale")
    assert data == (pack.root / "assets" / "fallback-winter-sale.png").read_bytes()
    assert RENDERER.render_fallback(pack, "winter-sale") is data
    assert image_content_type(data) == "image/png"


# ---------------------------------------------------------------------------------------- examples


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize(("brand", "creative"), CREATIVES)
def test_example_creatives_render(brand: str, creative: str, context: str) -> None:
    # WHEN an example creative renders for a context
    rendered = render(brand, creative, context)
    # THEN it is a full-size, non-blank image, saved for a person to look at
    image = decode(rendered.body).convert("RGB")
    size = PACKS[brand].model.creative(creative).size
    assert image.size == tuple(size)
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 20
    OUTPUT.mkdir(parents=True, exist_ok=True)
    image.save(OUTPUT / f"{brand}-{creative}-{context}.png")


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize(("brand", "creative"), CREATIVES)
def test_example_copy_fits_its_boxes(brand: str, creative: str, context: str) -> None:
    # Copy that needs an ellipsis means the pack's box or size range is too small for it.
    pack, decision, ctx = decided(brand, creative, context)
    texts = {slot: ref.default for slot, ref in decision.copy.items()}
    scene = Scene(pack, decision, texts, ctx.params, 1.0, FontBook())
    cut = [
        layer.id
        for layer in decision.layers
        if isinstance(layer, TextLayer | ButtonLayer)
        and (lay := text_layout(layer, scene)) is not None
        and not lay.fits
    ]
    assert cut == [], f"text cut with an ellipsis in layers {cut}"


def test_parameters_no_layer_draws_stay_out_of_the_render_key() -> None:
    # GIVEN subscribers who differ only by `uid`, which picks the CTA test bucket but is never drawn
    rendered = {}
    for uid in ("u1", "u2", "u3", "u7"):
        pack, decision, ctx = decided("northwind", "cyber-week", "gmail", {"first_name": "Ana", "uid": uid})
        key = RENDERER.render(
            pack, decision, texts={}, params=ctx.params, fmt="png", width=None, dpr=1, now=ctx.now, tz=ctx.tz
        ).render_key
        rendered.setdefault(decision.design_key, set()).add(key)
    # THEN subscribers who see the same variant share one render key (one memo entry, one ETag)
    assert len(rendered) == 2  # u2 is in the test bucket, u1/u3/u7 are not
    assert all(len(keys) == 1 for keys in rendered.values())


def test_production_jpeg_is_progressive_and_default_profile_matches_pillow() -> None:
    # GIVEN a canvas and the pack's render settings
    from PIL import Image

    from versa.pack.model import RenderSettings
    from versa.render.encode import encode

    canvas = Image.new("RGB", (64, 32), "#336699")
    # WHEN it is encoded with the production and the default profiles
    fast = Image.open(io.BytesIO(encode(canvas, "jpg", RenderSettings(), fast=True)))
    plain = Image.open(io.BytesIO(encode(canvas, "jpg", RenderSettings(), fast=False)))
    # THEN production JPEG is progressive and the default profile is Pillow's baseline JPEG
    assert fast.info.get("progressive") or fast.info.get("progression")
    assert not (plain.info.get("progressive") or plain.info.get("progression"))
