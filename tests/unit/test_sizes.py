"""Sizes: what a creative declares, how its layers map to a size, the keys, the count and the fallbacks."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from versa.composition import build_renderer
from versa.context.resolve import RequestContext
from versa.decide.rules import decide
from versa.decide.variants import enumerate_variants
from versa.errors import PackError, ParamError, UnknownSize
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.pack.sizes import scale_box
from versa.render.checks import PACK_CHECKS
from versa.render.encode import fallback_at
from versa.settings import Settings

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SIZES = ["300x100", "728x90", "160x600"]


@pytest.fixture
def sized(make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]) -> Callable[..., Path]:
    """A `promo` pack directory whose creative gets the given fields (sizes, by_size, ...)."""

    def build(rules: list[dict[str, Any]] | None = None, *, name: str = "pack", **fields: Any) -> Path:
        data = small_pack(rules)
        data["creatives"]["promo"].update(fields)
        if "sizes" in fields and "size" not in fields:
            del data["creatives"]["promo"]["size"]
        return make_pack(data, name)

    return build


def problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return [str(issue) for issue in caught.value.issues]


def load(root: Path) -> Pack:
    return load_pack(root, checks=PACK_CHECKS)


def layer(decision: Any, layer_id: str) -> Any:
    return next(x for x in decision.layers if x.id == layer_id)


# ------------------------------------------------------------------------------------ the loader


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        (["300x100", "72x"], "creatives.promo.sizes[1]: '72x' is not a size: write WIDTHxHEIGHT in px, e.g. '728x90'"),
        (["300x100", [728, 90]], "creatives.promo.sizes[1]: [728, 90] is not a size: write WIDTHxHEIGHT"),
        (["300x100", "5000x90"], "creatives.promo.sizes[1]: size 5000x90: width and height must be 16..4000 px"),
        (["300x100", "0x90"], "creatives.promo.sizes[1]: '0x90' is not a size"),
        (["300x100", "728x90", "728x90"], "creatives.promo: sizes: 728x90 repeats"),
        (["728x90", "300x100"], "creatives.promo: sizes: the first size 728x90 must be size 300x100"),
    ],
)
def test_a_bad_size_is_reported_with_its_field_value_and_what_is_allowed(
    sized: Callable[..., Path], sizes: list[Any], expected: str
) -> None:
    found = problems(sized(sizes=sizes, size=[300, 100]))
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    ("by_size", "expected"),
    [
        ([{"when": {"size": "320x50"}, "set": {"layers.cta.visible": False}}],
         "creatives.promo.by_size[0].when.size: 320x50 is not a declared size (sizes: 300x100, 728x90, 160x600)"),
        ([{"when": {"aspect": [1, 2]}, "set": {"layers.cta.visible": False}}],
         "creatives.promo.by_size[0].when.aspect: [1.0, 2.0] matches no declared size"),
        ([{"when": {"size": "728x90", "aspect": [1, 2]}, "set": {"layers.cta.visible": False}}],
         "give exactly one of size, aspect"),
        ([{"when": {"aspect": [3, 1]}, "set": {"layers.cta.visible": False}}], "aspect [3.0, 1.0]: need 0 < min <= max"),
        ([{"when": {"size": "728x90"}, "set": {"lang": "de"}}],
         "creatives.promo.by_size[0].set.lang: a size cannot change the language"),
        ([{"when": {"size": "728x90"}, "set": {"link": "https://example.com/lb"}}],
         "creatives.promo.by_size[0].set.link: a size cannot change the link"),
        ([{"when": {"size": "728x90"}, "set": {"layers.nope.visible": False}}],
         "creatives.promo.by_size[0].set.layers.nope.visible: no layer with id 'nope'"),
        ([{"when": {"size": "728x90"}, "set": {"layers.title.box": [600, 10, 200, 40]}}],
         "creatives.promo.by_size[0].set.layers.title.box: [600, 10, 200, 40] extends outside the 728x90 size"),
    ],
)
def test_a_bad_size_override_is_reported_where_it_is(
    sized: Callable[..., Path], by_size: list[dict[str, Any]], expected: str
) -> None:
    found = problems(sized(sizes=SIZES, by_size=by_size))
    assert any(expected in line for line in found), found


def test_sizes_may_stand_without_size_and_size_alone_still_works(sized: Callable[..., Path]) -> None:
    # GIVEN one creative with sizes only, one with size only
    with_sizes = load(sized(sizes=SIZES)).model.creative("promo")
    plain = load(sized(name="plain")).model.creative("promo")
    # THEN the first of sizes is the size; a creative without sizes comes in its size alone
    assert with_sizes.size == (300, 100)
    assert with_sizes.all_sizes == ((300, 100), (728, 90), (160, 600))
    assert plain.all_sizes == ((300, 100),)


# ------------------------------------------------------------------------------- deciding a size


def test_boxes_scale_per_axis_and_edges_stay_adjacent() -> None:
    assert scale_box((60, 10, 230, 40), (300, 100), (600, 50)) == (120, 5, 460, 20)
    # two boxes that touch at x=100 still touch after scaling by an awkward ratio
    a, b = scale_box((0, 0, 100, 10), (300, 100), (160, 600)), scale_box((100, 0, 200, 10), (300, 100), (160, 600))
    assert a[0] + a[2] == b[0]
    assert scale_box((0, 0, 1, 1), (300, 100), (16, 16))[2:] == (1, 1)  # never vanishes


def test_a_size_scales_boxes_then_applies_its_overrides(
    sized: Callable[..., Path], simulate: Callable[..., RequestContext]
) -> None:
    # GIVEN overrides for the leaderboard (by size) and for every wide size (by aspect)
    pack = load(sized(sizes=SIZES, by_size=[
        {"when": {"size": "728x90"}, "set": {"layers.title.box": [80, 20, 400, 50]}},
        {"when": {"aspect": [5, 10]}, "set": {"layers.cta.visible": False}},
    ]))
    ctx = simulate(pack.model, "promo", AT)

    # WHEN decided at each size
    first = decide(pack.model, "promo", ctx)
    board = decide(pack.model, "promo", ctx, size=(728, 90))
    sky = decide(pack.model, "promo", ctx, size=(160, 600))

    # THEN the first size is as written; the leaderboard has its box and lost the button (aspect 8.1);
    # the skyscraper's boxes are the first size's scaled per axis, its button kept (aspect 0.27)
    assert first.size == (300, 100) and layer(first, "title").box == (60, 10, 230, 40)
    assert board.size == (728, 90) and layer(board, "title").box == (80, 20, 400, 50)
    assert [x.id for x in board.layers] == ["bg", "badge", "title"]
    assert layer(board, "badge").box == scale_box((10, 10, 40, 40), (300, 100), (728, 90))
    assert layer(sky, "title").box == scale_box((60, 10, 230, 40), (300, 100), (160, 600))
    assert [x.id for x in sky.layers] == ["bg", "badge", "title", "cta"]
    # AND a size override changes only what it names: everything else equals the scaled layers
    assert layer(board, "title").model_copy(update={"box": (0, 0, 1, 1)}) == layer(sky, "title").model_copy(
        update={"box": (0, 0, 1, 1)})


def test_overrides_apply_after_the_rules(sized: Callable[..., Path], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a rule that moves the title, and a size that places it
    pack = load(sized(
        [{"id": "move", "set": {"layers.title.box": [60, 50, 230, 40]}}],
        sizes=SIZES, by_size=[{"when": {"size": "728x90"}, "set": {"layers.title.box": [80, 20, 400, 50]}}],
    ))
    ctx = simulate(pack.model, "promo", AT)
    # THEN the rule's box holds at the first size and scaled elsewhere; the size's own box wins
    assert layer(decide(pack.model, "promo", ctx), "title").box == (60, 50, 230, 40)
    assert layer(decide(pack.model, "promo", ctx, size=(160, 600)), "title").box == scale_box(
        (60, 50, 230, 40), (300, 100), (160, 600))
    assert layer(decide(pack.model, "promo", ctx, size=(728, 90)), "title").box == (80, 20, 400, 50)


def test_design_keys_differ_per_size_and_an_undeclared_size_is_refused(
    sized: Callable[..., Path], simulate: Callable[..., RequestContext]
) -> None:
    pack = load(sized(sizes=SIZES))
    ctx = simulate(pack.model, "promo", AT)
    keys = {decide(pack.model, "promo", ctx, size=s).design_key for s in ((300, 100), (728, 90), (160, 600))}
    assert len(keys) == 3
    assert decide(pack.model, "promo", ctx).design_key == decide(pack.model, "promo", ctx, size=(300, 100)).design_key
    with pytest.raises(UnknownSize, match=r"does not come in 320x50 \(sizes: 300x100, 728x90, 160x600\)"):
        decide(pack.model, "promo", ctx, size=(320, 50))


def test_render_keys_and_images_differ_per_size(
    sized: Callable[..., Path], simulate: Callable[..., RequestContext]
) -> None:
    pack = load(sized(sizes=SIZES))
    ctx = simulate(pack.model, "promo", AT)
    renderer = build_renderer(Settings(memo_bytes=0))
    out = {}
    for size in ((300, 100), (728, 90), (160, 600)):
        decision = decide(pack.model, "promo", ctx, size=size)
        out[size] = renderer.render(pack, decision, texts={}, params={}, fmt="png", width=None, dpr=2,
                                    now=AT, tz="UTC")
        assert (out[size].width, out[size].height) == (size[0] * 2, size[1] * 2)
    assert len({r.render_key for r in out.values()}) == 3
    # AND `w=` keeps its meaning at the first size only: another size renders at its own width
    decision = decide(pack.model, "promo", ctx, size=(728, 90))
    with pytest.raises(ParamError, match=r"'w': 300 is not allowed \(one of 728\)"):
        renderer.render(pack, decision, texts={}, params={}, fmt="png", width=300, dpr=1, now=AT, tz="UTC")


# ------------------------------------------------------------------------------- count and fallbacks


def test_variants_count_designs_times_sizes(
    sized: Callable[..., Path],
) -> None:
    # GIVEN a creative with two designs (a weekend rule) in three sizes
    pack = load(sized([{"id": "weekend", "when": {"weekend": True}, "set": {"tokens.colors.accent": "#ff0000"}}],
                      sizes=SIZES))
    report = enumerate_variants(pack.model, "promo")
    # THEN 2 designs x 2 locales x 3 sizes, and the JSON and the summary say so
    assert report.to_json()["count"] == len(report.variants) == 12
    assert report.to_json()["sizes"] == {"300x100": 4, "728x90": 4, "160x600": 4}
    assert report.summary() == "12 variant(s): 4 design(s) × 3 size(s) (300x100, 728x90, 160x600)"


def test_the_cli_prints_the_count_first(sized: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    from versa.cli.main import main

    root = sized(sizes=SIZES)
    assert main(["variants", str(root), "promo"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("promo: 6 variant(s): 2 design(s) × 3 size(s) (300x100, 728x90, 160x600)")


def test_a_size_fallback_covers_the_size_around_the_centre() -> None:
    # GIVEN a 300x100 fallback: left third red, middle green, right third blue
    image = Image.new("RGB", (300, 100), "#ff0000")
    image.paste((0, 255, 0), (100, 0, 200, 100))
    image.paste((0, 0, 255), (200, 0, 300, 100))
    data = io.BytesIO()
    image.save(data, format="PNG")
    # WHEN made for a tall size
    out = Image.open(io.BytesIO(fallback_at(data.getvalue(), (50, 100))))
    # THEN it is that size, cut from the middle
    assert out.size == (50, 100)
    assert out.convert("RGB").getpixel((25, 50)) == (0, 255, 0)


@pytest.mark.parametrize(("focus", "colour"), [([1.0, 0.5], (0, 0, 255)), ([0.0, 0.5], (255, 0, 0))])
def test_a_cover_image_is_cropped_around_its_focus_at_each_size(
    sized: Callable[..., Path], simulate: Callable[..., RequestContext], focus: list[float], colour: tuple[int, ...]
) -> None:
    # GIVEN a background image, red left half and blue right half, covering the creative with a focus
    root = sized(sizes=SIZES, layers=[
        {"id": "bg", "type": "background", "image": {"asset": "assets/halves.png", "fit": "cover", "focus": focus}},
    ])
    halves = Image.new("RGB", (300, 100), (255, 0, 0))
    halves.paste((0, 0, 255), (150, 0, 300, 100))
    halves.save(root / "assets" / "halves.png")
    pack = load(root)
    ctx = simulate(pack.model, "promo", AT)
    renderer = build_renderer(Settings(memo_bytes=0))

    def pixel(size: tuple[int, int], x: int) -> tuple[int, ...]:
        decision = decide(pack.model, "promo", ctx, size=size)
        rendered = renderer.render(pack, decision, texts={}, params={}, fmt="png", width=None, dpr=1, now=AT, tz="UTC")
        with Image.open(io.BytesIO(rendered.body)) as image:
            return tuple(image.convert("RGB").getpixel((x, size[1] // 2)))

    # THEN the tall size (which sees a sliver of the image) shows the focus's half from edge to edge;
    # the first size sees the whole image, both halves
    assert pixel((160, 600), 2) == pixel((160, 600), 157) == colour
    assert (pixel((300, 100), 10), pixel((300, 100), 290)) == ((255, 0, 0), (0, 0, 255))


def test_keys_set_together_give_what_they_give_one_by_one() -> None:
    from versa.pack.overrides import Resolved, apply_set

    # GIVEN acme's banner, whose size overrides set a dozen fields of layers nested in containers, and
    # whose rules set some of the same fields
    pack = load_pack(Path(__file__).resolve().parents[2] / "examples" / "packs" / "acme", checks=PACK_CHECKS)
    creative = pack.model.creative("winter-sale")
    keys = [k for entry in creative.by_size for k in entry.set_keys] + [k for r in creative.rules for k in r.set_keys]

    def state() -> Resolved:
        return Resolved({}, {}, {}, list(creative.layers), {}, None, None)

    # WHEN they are applied in one call (grouped per layer) and one key per call
    together, one_by_one = state(), state()
    apply_set(together, creative, keys)
    for key in keys:
        apply_set(one_by_one, creative, [key])

    # THEN the layers are the same (later keys win either way), and they did change
    assert together.layers == one_by_one.layers
    assert together.layers != list(creative.layers)
