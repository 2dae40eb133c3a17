"""Fallbacks drawn from the default context (`versa.render.fallback`): per size, bounded in time, a
failure a load-time error naming the creative; drawn by `versa serve`'s pack store, never by the
Lambda's composition; a `fallback` file still wins."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from versa.adapters.directory import DirectoryPackStore
from versa.cli.init import pack_text
from versa.composition import build_renderer, build_service, fallback_drawer
from versa.errors import PackError, RenderError
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS
from versa.render.engine import Renderer
from versa.render.fallback import with_drawn_fallbacks
from versa.settings import Settings

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
SIZES = ["300x250", "728x90", "160x600", "300x600", "970x250", "320x50"]


class FailingRenderer(Renderer):
    """A renderer whose every render fails, as a broken creative's would."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        raise RenderError("font file is damaged")


def _banner(root: Path, brand: str = "fresh") -> Path:
    (root / brand).mkdir(parents=True)
    (root / brand / "pack.yaml").write_text(pack_text("banner", brand, now=NOW), encoding="utf-8")
    return root / brand


def _renderer(cls: type[Renderer] = Renderer) -> Renderer:
    return cls(memo_size=0, memo_bytes=0, max_output_bytes=10_000_000, max_work=48_000_000)


def test_a_creative_without_a_fallback_file_gets_one_drawn_per_size(tmp_path: Path) -> None:
    # GIVEN a pack whose creative names no fallback
    pack = load_pack(_banner(tmp_path), checks=PACK_CHECKS)
    assert pack.model.creative("launch").fallback is None
    # WHEN its fallbacks are drawn
    drawn = with_drawn_fallbacks(pack, renderer=_renderer(), now=NOW)
    # THEN there is one PNG per size, of that size, and the renderer's fallback answers it
    assert sorted(drawn.drawn_fallbacks) == sorted(f"launch@{s}" for s in SIZES)
    for size in pack.model.creative("launch").all_sizes:
        body = drawn.drawn_fallbacks[f"launch@{size[0]}x{size[1]}"]
        assert body.startswith(b"\x89PNG") and Image.open(io.BytesIO(body)).size == size
        assert _renderer().render_fallback(drawn, "launch", size) == body
    assert _renderer().render_fallback(drawn, "launch") == drawn.drawn_fallbacks["launch@300x250"]


def test_a_pack_whose_creatives_give_fallback_files_is_left_as_it_is() -> None:
    pack = load_pack(EXAMPLES / "northwind", checks=PACK_CHECKS)
    assert with_drawn_fallbacks(pack, renderer=_renderer(FailingRenderer), now=NOW) is pack


def test_a_fallback_that_cannot_be_drawn_is_a_load_error_naming_the_creative(tmp_path: Path) -> None:
    pack = load_pack(_banner(tmp_path), checks=PACK_CHECKS)
    with pytest.raises(PackError) as caught:
        with_drawn_fallbacks(pack, renderer=_renderer(FailingRenderer), now=NOW)
    assert str(caught.value) == (
        "pack 'fresh' is invalid (1 error(s)):\n"
        "  pack.yaml: creatives.launch.fallback: drawing the fallback at 300x250 from the default context "
        "failed (font file is damaged); fix the creative or give it a fallback image (fallback: assets/NAME.png)"
    )


def test_drawing_fallbacks_is_bounded_in_time(tmp_path: Path) -> None:
    pack = load_pack(_banner(tmp_path), checks=PACK_CHECKS)
    with pytest.raises(PackError) as caught:
        with_drawn_fallbacks(pack, renderer=_renderer(), now=NOW, budget=0.0)
    assert "creatives.launch.fallback: drawing the fallback at 300x250" in str(caught.value)
    assert "time budget" in str(caught.value)


def test_the_serve_store_reports_a_drawing_failure_when_it_loads_the_pack(tmp_path: Path) -> None:
    # GIVEN `versa serve`'s store, drawing fallbacks with a renderer that fails
    _banner(tmp_path)
    store = DirectoryPackStore(tmp_path, checks=PACK_CHECKS, prepare=fallback_drawer(_renderer(FailingRenderer)))
    # WHEN the pack is loaded THEN the load fails with the creative named (no crash), and is remembered
    with pytest.raises(PackError, match=r"creatives\.launch\.fallback: drawing the fallback at 300x250"):
        store.current("fresh")
    error = store.last_error("fresh")
    assert error is not None and "font file is damaged" in str(error)


def _service_pack(tmp_path: Path, *, draw: bool) -> tuple[Any, Pack]:
    settings = Settings(packs_dir=tmp_path / "packs", state_dir=tmp_path / "state")
    service = build_service(settings, draw_fallbacks=draw)
    return service, service.current_pack("fresh")


def test_serve_draws_fallbacks_on_load_and_the_lambda_composition_does_not(tmp_path: Path) -> None:
    from versa.web.service import BLANK_PNG, CreativeRequest

    _banner(tmp_path / "packs")
    gmail = {"user-agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"}
    request = CreativeRequest("fresh", "launch", "png", gmail, {}, NOW, path="/v1/fresh/launch@728x90.png",
                              size=(728, 90))
    # WHEN built for `versa serve`: the pack carries its drawn fallbacks, and a broken request gets one
    served, pack = _service_pack(tmp_path, draw=True)
    assert len(pack.drawn_fallbacks) == len(SIZES)
    response = served.image(request)  # unsigned: a bad request, answered with the fallback
    assert response.status == 200 and response.headers["X-Versa-Fallback"] == "bad-request"
    assert response.body == pack.drawn_fallbacks["launch@728x90"]
    # WHEN built as the Lambda builds it: nothing is drawn; the CDN's fallbacks come from `versa publish`
    lambda_service, pack = _service_pack(tmp_path, draw=False)
    assert pack.drawn_fallbacks == {}
    response = lambda_service.image(request)
    assert response.status == 200 and response.body == BLANK_PNG


def test_a_fallback_file_still_wins_over_drawing(tmp_path: Path) -> None:
    # GIVEN a pack from init given a hand-made fallback
    root = _banner(tmp_path)
    (root / "assets").mkdir()
    Image.new("RGB", (300, 250), "#123456").save(root / "assets" / "mine.png")
    text = (root / "pack.yaml").read_text(encoding="utf-8")
    (root / "pack.yaml").write_text(
        text.replace("    link: https://example.com/launch", "    fallback: assets/mine.png\n    link: https://example.com/launch", 1),
        encoding="utf-8",
    )
    pack = load_pack(root, checks=PACK_CHECKS)
    # THEN nothing is drawn and the file is served (scaled to each size)
    assert with_drawn_fallbacks(pack, renderer=_renderer(FailingRenderer), now=NOW) is pack
    renderer = build_renderer(Settings(memo_items=0))
    assert renderer.render_fallback(pack, "launch") == (root / "assets" / "mine.png").read_bytes()
    small = Image.open(io.BytesIO(renderer.render_fallback(pack, "launch", (320, 50)))).convert("RGB")
    assert small.size == (320, 50) and small.getpixel((5, 5)) == (0x12, 0x34, 0x56)
