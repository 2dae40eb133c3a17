"""Visual slots: the schema's errors, visual keys and aspect classes, crops around the focal point, the
guardrails on painted images, the offline painter, and the worker storing a scene for review."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from packissues import unlocated
from versa.adapters.local_assets import LocalAssetStore
from versa.adapters.offline_painter import OfflinePainter
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.consumer.generator import PoisonMessage, decode
from versa.context.resolve import resolve
from versa.decide.keys import generation_key
from versa.decide.rules import context_options, decide
from versa.decide.visuals import aspect_class, slot_focus, visual_key
from versa.errors import PackError
from versa.generate.visual import PAINT_SIZES, composite_product, image_problems, prepare_visual
from versa.generate.worker import Attempt, GenerationWorker
from versa.pack.loader import load_pack
from versa.pack.model import Pack, VisualSpec, VisualStyle
from versa.ports import CopyStatus, GenerationRequest, PackStore, Painting, PaintRequest, VisualWriter
from versa.render.checks import PACK_CHECKS
from versa.render.layers import fitted
from versa.render.scene import FontBook
from versa.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def lumen(tmp_path: Path, change: Any = None) -> Path:
    """A copy of the example lumen pack, its pack.yaml data passed through `change` first."""
    root = tmp_path / "lumen"
    shutil.copytree(EXAMPLES / "lumen", root)
    if change is not None:
        data = yaml.safe_load((root / "pack.yaml").read_text())
        change(data)
        (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def hero(data: dict[str, Any]) -> dict[str, Any]:
    return data["creatives"]["bottle-hero"]["visuals"]["hero"]


# ------------------------------------------------------------------------------------------- schema


def test_the_example_loads_with_its_visual_slot() -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    spec = pack.model.creatives["bottle-hero"].visuals["hero"].generate
    assert spec is not None and spec.review and spec.mode == "composite" and spec.quality == "medium"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: hero(d)["generate"].update(quality="ultra"), "quality: Input should be 'low', 'medium' or 'high'"),
        (lambda d: hero(d)["generate"].update(mode="edit", review=False), "review: false is not allowed with mode edit"),
        (lambda d: hero(d)["generate"].pop("product") and hero(d)["generate"].update(mode="edit"),
         "mode edit: give product"),
        (lambda d: hero(d)["generate"].update(brief="A scene for {{ first_name }}"),
         "reads 'first_name'; a visual brief may read only its vary_by attributes (aesthetic, daypart) and style"),
        (lambda d: hero(d)["generate"].update(brief="A street full of people at dusk"),
         "names 'people', a subject the brand's style.banned forbids"),
        (lambda d: hero(d)["generate"]["vary_by"].update(moon="all"), "unknown attribute 'moon'"),
        (lambda d: hero(d).update(default="assets/missing.png"), "assets/missing.png"),
        (lambda d: d["style"]["palette"].append("teal"), "palette[5]: 'teal' is not #RGB or #RRGGBB"),
        (lambda d: d["creatives"]["bottle-hero"]["layers"][1].update(slot="heroo"), "unknown visual slot 'heroo'"),
        (lambda d: d["creatives"]["bottle-hero"]["layers"][1].update(asset="assets/bottle.png"),
         "an image needs exactly one of asset, slot (got ['asset', 'slot'])"),
        (lambda d: hero(d)["generate"].update(product="assets/hero-default.png"), "has no alpha channel"),
        (lambda d: hero(d)["generate"].update(focus=[1.5, 0.5]), "focus [1.5, 0.5]: x and y must be fractions"),
    ],
)
def test_a_bad_visual_field_is_reported_with_its_place_and_what_is_allowed(
    tmp_path: Path, change: Any, expected: str
) -> None:
    # GIVEN the example pack with one field broken WHEN it loads THEN the error names it
    found = problems(lumen(tmp_path, change))
    assert any(expected in line for line in found), found
    assert any("creatives.bottle-hero" in line or "style" in line for line in found), found


# --------------------------------------------------------------------------------------------- keys


def test_the_decision_and_the_ports_name_the_same_aspect_classes() -> None:
    from versa.decide.visuals import ASPECTS as DECIDED
    from versa.ports import ASPECTS

    assert DECIDED == ASPECTS and set(PAINT_SIZES) == set(ASPECTS)


def test_aspect_classes_of_common_sizes() -> None:
    # the nearest by the ratio's logarithm: 4:5 (0.8) lies past the geometric middle of 1 and 2/3 (0.816)
    sizes = [(1200, 628), (728, 90), (1080, 1080), (1000, 900), (1080, 1350), (800, 1200), (1080, 1920)]
    assert [aspect_class(s) for s in sizes] == [
        "landscape", "landscape", "square", "square", "portrait", "portrait", "portrait"]


def test_the_visual_key_follows_what_changes_the_scene_and_nothing_else() -> None:
    spec = VisualSpec(brief="a beach", vary_by={"daypart": "all"})
    style = VisualStyle(palette=["#112233"])
    base = visual_key("lumen", "hero", spec, style, {"daypart": "day"}, "square")
    assert base == visual_key("lumen", "hero", spec.model_copy(update={"review": False, "ttl": 7200}), style,
                              {"daypart": "day"}, "square")
    others = {
        visual_key("lumen", "hero", spec, style, {"daypart": "night"}, "square"),
        visual_key("lumen", "hero", spec, style, {"daypart": "day"}, "landscape"),
        visual_key("lumen", "hero", spec.model_copy(update={"quality": "high"}), style, {"daypart": "day"}, "square"),
        visual_key("lumen", "hero", spec, VisualStyle(palette=["#112234"]), {"daypart": "day"}, "square"),
        visual_key("lumen", "other", spec, style, {"daypart": "day"}, "square"),
        generation_key(base, "some-image-model"),
    }
    assert base not in others and len(others) == 6


def test_each_size_asks_for_its_aspect_class_and_audience() -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    refs = {}
    for size in [(1200, 628), (1080, 1080), (800, 1200)]:
        query = {"aesthetic": "coastal", "at": "2026-06-01T21:00:00Z", "tz": "Europe/London"}
        ctx = resolve({}, query, NOW, context_options(pack.model, "bottle-hero", signed_names=frozenset(query)))
        ref = decide(pack.model, "bottle-hero", ctx, size=size).visuals["hero"]
        refs[size] = ref
    assert [r.vary["aspect"] for r in refs.values()] == ["landscape", "square", "portrait"]
    assert all(r.vary["aesthetic"] == "coastal" and r.vary["daypart"] == "night" for r in refs.values())
    assert len({r.key for r in refs.values()}) == 3
    assert all(r.default == "assets/hero-default.png" for r in refs.values())


# ------------------------------------------------------------------------------------ crop and focus


def _scene_with_product_at(focus: tuple[float, float], tmp_path: Path) -> tuple[Pack, str, LocalAssetStore]:
    scene = Image.new("RGB", (1536, 1024), (200, 200, 200))
    out = io.BytesIO()
    scene.save(out, format="PNG")
    product = Image.new("RGBA", (60, 120), (220, 0, 0, 255))
    pout = io.BytesIO()
    product.save(pout, format="PNG")
    data = composite_product(out.getvalue(), pout.getvalue(), focus, 0.2)
    store = LocalAssetStore(tmp_path / "state")
    key = store.put("lumen", data, "png")
    return load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS), key, store


def _red_columns(image: Image.Image) -> list[int]:
    rgb = image.convert("RGB")
    return [x for x in range(rgb.width) if any(rgb.getpixel((x, y)) == (220, 0, 0) for y in range(0, rgb.height, 4))]


def test_a_square_crop_of_a_landscape_scene_keeps_the_product_at_the_focal_point(tmp_path: Path) -> None:
    # GIVEN a landscape scene with the product composited near its right edge
    pack, key, store = _scene_with_product_at((0.9, 0.62), tmp_path)
    # WHEN a square box is filled from it, around the focal point and around the centre
    around, _, _ = fitted(pack, key, (400, 400), "cover", (0.9, 0.62), store)
    centred, _, _ = fitted(pack, key, (400, 400), "cover", (0.5, 0.5), store)
    # THEN only the crop around the focal point shows the product, whole
    assert _red_columns(around) and not _red_columns(centred)
    columns = _red_columns(around)
    assert min(columns) > 0 and max(columns) < 399


def test_the_derived_focal_point_avoids_the_text_panel() -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    x, y = slot_focus(pack.model.creatives["bottle-hero"], "hero")
    assert x >= 0.5 and y == pytest.approx(0.62)  # the panel and its text sit at the left


# -------------------------------------------------------------------------------------- guardrails


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_blank_image_is_refused() -> None:
    assert [c for c, _ in image_problems(_png(Image.new("RGB", (1024, 1024), (250, 250, 250))), (1024, 1024))] == [
        "blank"]


def test_an_image_of_the_wrong_size_is_refused() -> None:
    painted = OfflinePainter().paint(PaintRequest("k", "a beach", (1024, 1024)))
    found = image_problems(painted.image, (1536, 1024))
    assert found == [("dimensions", "1024x1024, expected 1536x1024")]


def test_what_does_not_decode_is_refused() -> None:
    assert [c for c, _ in image_problems(b"<html>not an image</html>", (1024, 1024))] == ["decode"]


def test_a_banned_subject_reaching_the_brief_is_refused_before_painting(tmp_path: Path) -> None:
    # GIVEN a pack whose brief names a subject only through a vary value
    def change(data: dict[str, Any]) -> None:
        hero(data)["generate"]["brief"] = "A scene in the {{ aesthetic }} style, {{ daypart }}"
        data["style"]["banned"].append("urban")
    pack = load_pack(lumen(tmp_path, change), checks=PACK_CHECKS)
    request = _request(pack, aesthetic="urban", aspect="square")
    # WHEN the request is prepared THEN it is refused, naming the subject
    from versa.generate.brief import BriefError
    with pytest.raises(BriefError, match="banned subject"):
        prepare_visual(pack, request, model=None)


# ---------------------------------------------------------------------------------- offline painter


def test_the_offline_painter_is_deterministic_and_each_key_differs() -> None:
    painter = OfflinePainter()
    a = painter.paint(PaintRequest("key-a", "a beach", (1536, 1024), palette=("#1f3b4d", "#f3efe6")))
    again = painter.paint(PaintRequest("key-a", "a beach", (1536, 1024), palette=("#1f3b4d", "#f3efe6")))
    other = painter.paint(PaintRequest("key-b", "a beach", (1536, 1024), palette=("#1f3b4d", "#f3efe6")))
    assert a.image == again.image and a.image != other.image
    assert not a.generated and a.model is None
    assert image_problems(a.image, (1536, 1024)) == []


# ------------------------------------------------------------------------------------------- worker


def _request(pack: Pack, *, aesthetic: str = "minimal", daypart: str = "day", aspect: str = "landscape",
             model: str | None = None) -> GenerationRequest:
    creative = pack.model.creatives["bottle-hero"]
    spec = creative.visuals["hero"].generate
    assert spec is not None
    vary = {"aesthetic": aesthetic, "daypart": daypart}
    key = generation_key(visual_key("lumen", "hero", spec, pack.model.style, vary, aspect), model)
    return GenerationRequest(key, "lumen", "bottle-hero", "hero", "en", spec.brief, {}, vary,
                             "assets/hero-default.png", kind="visual", aspect=aspect)


class _Packs(PackStore):
    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def current(self, brand: str) -> Pack:
        return self.pack

    def brands(self) -> list[str]:
        return [self.pack.brand]


class _Blank(VisualWriter):
    model = "m"

    def paint(self, request: PaintRequest) -> Painting:
        return Painting(_png(Image.new("RGB", request.size, "white")), generated=True, model="m")


def _worker(tmp_path: Path, painter: VisualWriter, pack: Pack, contrast: Any = None) -> GenerationWorker:
    from versa.adapters.local_queue import OfflineWriter
    return GenerationWorker(_Packs(pack), SQLiteCopyStore(tmp_path / "copy.sqlite3"), OfflineWriter(), FontBook(),
                            painter=painter, assets=LocalAssetStore(tmp_path / "state"), contrast=contrast,
                            now=lambda: NOW)


def test_the_worker_stores_the_scene_and_offers_it_for_review(tmp_path: Path) -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    worker = _worker(tmp_path, OfflinePainter(), pack)
    request = _request(pack, aspect="portrait")
    assert worker.store.lease(request.key, now=NOW, ttl=timedelta(minutes=10))
    assert worker.attempt(request) is Attempt.written
    item = worker.store.get(request.key)
    assert item is not None and item.status is CopyStatus.review and item.text is not None
    assert item.meta["kind"] == "visual" and item.meta["vary"]["aspect"] == "portrait"
    stored = Image.open(io.BytesIO(LocalAssetStore(tmp_path / "state").get(item.text)))
    assert stored.size == PAINT_SIZES["portrait"]
    # the product was composited: the bottle's label red is in the stored scene
    assert (200, 85, 61) in {px for _, px in stored.convert("RGB").getcolors(1 << 20) or []}


def test_a_blank_painting_is_stored_rejected_with_its_reason(tmp_path: Path) -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    worker = _worker(tmp_path, _Blank(), pack)
    request = _request(pack, model="m")
    assert worker.store.lease(request.key, now=NOW, ttl=timedelta(minutes=10))
    assert worker.attempt(request) is Attempt.written
    item = worker.store.get(request.key)
    assert item is not None and item.status is CopyStatus.rejected and item.reason is not None
    assert "blank" in item.reason and item.meta["rejections"][0]["check"] == "blank"


def test_a_scene_failing_text_contrast_is_rejected_and_its_asset_marked(tmp_path: Path) -> None:
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    worker = _worker(tmp_path, OfflinePainter(), pack, contrast=lambda *a: ["layers[3]: too faint"])
    request = _request(pack)
    assert worker.store.lease(request.key, now=NOW, ttl=timedelta(minutes=10))
    worker.attempt(request)
    item = worker.store.get(request.key)
    assert item is not None and item.status is CopyStatus.rejected and "WCAG" in (item.reason or "")
    assert LocalAssetStore(tmp_path / "state").rejected("lumen") == [item.meta["asset"]]


def test_text_straight_over_a_pale_scene_fails_the_contrast_check(tmp_path: Path) -> None:
    # GIVEN the example without its panel (text drawn straight on the scene) and a pale scene stored
    from versa.authoring.scenes import contrast_problems

    def without_panel(ink: str) -> Any:
        def change(data: dict[str, Any]) -> None:
            data["creatives"]["bottle-hero"]["layers"].pop(2)
            data["creatives"]["bottle-hero"]["by_size"] = []
            data["tokens"]["colors"]["ink"] = ink
        return change

    store = LocalAssetStore(tmp_path / "state")
    pale = Image.effect_noise((1536, 1024), 4).convert("RGB").point(lambda v: 215 + v // 16)
    key = store.put("lumen", _png(pale), "png")
    grey = load_pack(lumen(tmp_path / "grey", without_panel("#c0c0c0")), checks=PACK_CHECKS)
    found = contrast_problems(grey, "bottle-hero", "hero", key, "landscape", assets=store, fonts=FontBook())
    # THEN grey text over it fails, named with its size; dark text over the same scene passes
    assert found and "WCAG AA" in found[0] and "1200x628" in found[0]
    dark = load_pack(lumen(tmp_path / "dark", without_panel("#1f2a33")), checks=PACK_CHECKS)
    assert contrast_problems(dark, "bottle-hero", "hero", key, "landscape", assets=store, fonts=FontBook()) == []


# -------------------------------------------------------------------------------------- messages


def test_a_message_written_before_visuals_still_decodes_as_copy() -> None:
    body = ('{"key": "k", "brand": "acme", "creative": "c", "slot": "s", "locale": "en", "brief": "b",'
            ' "constraints": {}, "vary": {}, "default": "d"}')
    request = decode(body)
    assert request.kind == "copy" and request.aspect == ""


def test_a_visual_message_decodes_and_a_bad_kind_or_aspect_is_poison() -> None:
    base = ('{"key": "k", "brand": "lumen", "creative": "c", "slot": "hero", "locale": "en", "brief": "b",'
            ' "constraints": {}, "vary": {}, "default": "d", "kind": "%s", "aspect": "%s"}')
    assert decode(base % ("visual", "portrait")).aspect == "portrait"
    with pytest.raises(PoisonMessage, match="kind 'video'"):
        decode(base % ("video", "square"))
    with pytest.raises(PoisonMessage, match="aspect one of square, landscape, portrait"):
        decode(base % ("visual", "wide"))


# --------------------------------------------------------------------------------------- warm, TTL


def test_warm_counts_one_scene_per_audience_and_aspect_and_prices_them() -> None:
    from versa.generate.warm import price_key, visual_cost, visual_requests

    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    requests = visual_requests(pack, model="img")
    # 3 aesthetics x 2 dayparts x 3 aspect classes (one per size)
    assert len(requests) == 18 and len({r.key for r in requests}) == 18
    assert {r.aspect for r in requests} == {"square", "landscape", "portrait"}
    assert all(r.kind == "visual" and "aspect" not in r.vary for r in requests)
    table = {"img": {"1024x1024": {"medium": 0.04}, "1536x1024": {"medium": 0.06}}}
    settings = Settings(visual_prices=table)
    cost, missing = visual_cost(requests, settings.visual_price, "img")
    assert cost is None and missing == [price_key("img", "portrait", "medium")] == ["img/1024x1536/medium"]
    table["img"]["1024x1536"] = {"medium": 0.06}
    cost, missing = visual_cost(requests, Settings(visual_prices=table).visual_price, "img")
    assert cost == pytest.approx(6 * 0.04 + 12 * 0.06) and missing == []
    assert visual_cost(requests, settings.visual_price, None) == (0.0, [])


def test_a_scene_varying_by_daypart_expires_at_the_next_daypart() -> None:
    # GIVEN the example, whose scene varies by daypart (day from 06:00, night from 19:00, London)
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    query = {"aesthetic": "urban", "at": "2026-06-01T10:00:00Z", "tz": "Europe/London"}
    ctx = resolve({}, query, NOW, context_options(pack.model, "bottle-hero", signed_names=frozenset(query)))
    # WHEN it is decided at 11:00 London time THEN it is valid until 19:00 London (18:00 UTC)
    decision = decide(pack.model, "bottle-hero", ctx)
    assert decision.valid_until == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------- the render path


def test_a_generated_asset_is_read_through_the_pack_image_caps(tmp_path: Path) -> None:
    from versa.errors import RenderError
    from versa.render.layers import decoded

    # GIVEN an asset store holding bytes that are not an image, and an image over the pixel cap
    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    store = LocalAssetStore(tmp_path / "state")
    garbage = store.put("lumen", b"\x89PNG\r\n\x1a\n not really", "png")
    out = io.BytesIO()
    Image.new("1", (5000, 4000)).save(out, format="PNG")
    huge = store.put("lumen", out.getvalue(), "png")
    # WHEN the renderer decodes them THEN each is a RenderError naming why (the service serves the fallback)
    with pytest.raises(RenderError, match="not a readable"):
        decoded(pack, garbage, store)
    with pytest.raises(RenderError, match="decompression bomb"):
        decoded(pack, huge, store)
    # AND a key the store does not hold is a RenderError too
    with pytest.raises(RenderError, match="no generated asset"):
        decoded(pack, "generated/lumen/" + "0" * 64 + ".png", store)


def test_an_approved_scene_changes_the_render_key_and_is_drawn(tmp_path: Path) -> None:
    from versa.composition import build_renderer
    from versa.decide.visuals import VISUAL_PREFIX
    from versa.settings import Settings

    pack = load_pack(EXAMPLES / "lumen", checks=PACK_CHECKS)
    store = LocalAssetStore(tmp_path / "state")
    painted = OfflinePainter().paint(PaintRequest("k", "a beach", (1536, 1024)))
    key = store.put("lumen", painted.image, "png")
    renderer = build_renderer(Settings(state_dir=tmp_path / "state", memo_items=0), assets=store)
    query = {"aesthetic": "coastal"}
    ctx = resolve({}, query, NOW, context_options(pack.model, "bottle-hero", signed_names=frozenset(query)))
    decision = decide(pack.model, "bottle-hero", ctx)
    args: dict[str, Any] = {"params": ctx.params, "fmt": "png", "width": None, "dpr": 1.0, "now": NOW, "tz": "UTC"}
    default = renderer.render(pack, decision, texts={}, **args)
    scene = renderer.render(pack, decision, texts={VISUAL_PREFIX + "hero": key}, **args)
    assert scene.render_key != default.render_key and scene.body != default.body
    # a value that is not a generated key draws the default image, never a pack path named by it
    other = renderer.render(pack, decision, texts={VISUAL_PREFIX + "hero": "assets/bottle.png"}, **args)
    assert other.body == default.body
