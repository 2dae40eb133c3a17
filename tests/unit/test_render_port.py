"""The renderer port (`versa.ports.ImageRenderer`): the service works with any renderer through it, and
the renderer's typed result says how long a countdown keeps the bytes true (`Rendered.loop_seconds`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from versa.adapters.directory import DirectoryPackStore
from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import Decision, context_options, decide
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.ports import ImageRenderer, NullQueue, Rendered
from versa.render.checks import PACK_CHECKS
from versa.render.engine import Renderer
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "examples" / "packs"
NORTHWIND = load_pack(PACKS / "northwind", checks=PACK_CHECKS)
ACME = load_pack(PACKS / "acme", checks=PACK_CHECKS)
NOW = datetime(2026, 12, 2, 15, 0, 7, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 5, 5, 59, tzinfo=UTC)  # cyber-week's: 23:59 in Chicago
OUTLOOK = {"User-Agent": "Microsoft Outlook 16.0.17126; Microsoft Outlook 16.0"}
APPLE_MPP = {"User-Agent": "Mozilla/5.0"}


def render(
    renderer: Renderer, pack: Pack, creative: str, fmt: str, now: datetime, headers: Mapping[str, str] = OUTLOOK
) -> Rendered:
    ctx = resolve(dict(headers), {"first_name": "Ana"}, now, context_options(pack.model, creative))
    decision = decide(pack.model, creative, ctx)
    return renderer.render(
        pack, decision, texts={}, params=ctx.params, fmt=fmt, width=None, dpr=1, now=now, tz=ctx.tz,
        robust=ctx.client == "apple_mpp",
    )  # fmt: skip


def test_a_countdown_says_how_long_its_bytes_stay_true() -> None:
    renderer = build_renderer(Settings(memo_items=0))
    # GIVEN a running countdown: an animated GIF loops for its frames, a static frame lasts a minute
    gif = render(renderer, NORTHWIND, "cyber-week", "gif", NOW)
    assert gif.frames > 1 and gif.loop_seconds == gif.frames
    assert render(renderer, NORTHWIND, "cyber-week", "png", NOW).loop_seconds == 60
    # THEN nothing ticks once it ended, for the time-robust text, or without a countdown
    assert render(renderer, NORTHWIND, "cyber-week", "png", DEADLINE + timedelta(minutes=1)).loop_seconds is None
    assert render(renderer, NORTHWIND, "cyber-week", "gif", NOW, APPLE_MPP).loop_seconds is None
    assert render(renderer, ACME, "winter-sale", "png", NOW).loop_seconds is None


def test_a_memo_hit_answers_the_same_loop() -> None:
    # GIVEN a renderer with a memo / WHEN the same running countdown is rendered twice
    renderer = build_renderer(Settings())
    first = render(renderer, NORTHWIND, "cyber-week", "png", NOW)
    again = render(renderer, NORTHWIND, "cyber-week", "png", NOW)
    # THEN the second is a memo hit with the same loop
    assert again.memo_hit and again.loop_seconds == first.loop_seconds == 60


def test_the_renderer_answers_content_types_and_negotiation() -> None:
    renderer: ImageRenderer = build_renderer(Settings(memo_items=0))
    png = render(build_renderer(Settings(memo_items=0)), ACME, "winter-sale", "png", NOW).body
    assert renderer.content_type(png) == "image/png"
    assert renderer.content_type(b"not an image") == "application/octet-stream"
    assert renderer.negotiate("image/webp,image/png", "browser", ["png", "webp"]) == "webp"
    assert renderer.negotiate("image/webp,image/png", "gmail", ["png", "webp", "gif"], animated=True) == "gif"


class StubRenderer(ImageRenderer):
    """A renderer that draws nothing: fixed bytes, a fixed loop, and a format it always picks."""

    def __init__(self) -> None:
        self.negotiated: list[tuple[str | None, str]] = []

    def render(self, pack: Pack, decision: Decision, **kwargs: Any) -> Rendered:  # type: ignore[override]
        return Rendered(b"STUB", "image/x-stub", 1, 1, "stub-key", False, 1, loop_seconds=7)

    def render_fallback(self, pack: Pack, creative_id: str, size: tuple[int, int] | None = None) -> bytes:
        return b"FALLBACK"

    def content_type(self, body: bytes) -> str:
        return "image/x-stub"

    def negotiate(self, accept: str | None, client: str, allowed: Iterable[str], *, animated: bool = False) -> str:
        self.negotiated.append((accept, client))
        return "png"


def test_the_service_serves_whatever_the_port_renders(tmp_path: Path) -> None:
    # GIVEN the service wired to a stub renderer instead of versa's own
    from versa.adapters.sqlite_copy import SQLiteCopyStore

    stub = StubRenderer()
    service = RenderService(
        DirectoryPackStore(PACKS, checks=PACK_CHECKS), SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(), stub,
        Keyring({"k1": b"k" * 32}, "k1"), config=ServiceConfig.from_settings(Settings(require_signature=False)),
    )  # fmt: skip
    req = CreativeRequest(
        "acme", "winter-sale", "auto", {"accept": "image/webp"}, {}, NOW, path="/v1/acme/winter-sale.auto"
    )
    # WHEN an `auto` image is requested
    resp = service.image(req)
    # THEN the port chose the format, drew the bytes, and its loop capped the cache lifetime
    assert stub.negotiated == [("image/webp", "unknown")]  # no User-Agent: an unknown client
    assert resp.status == 200 and resp.body == b"STUB" and resp.content_type == "image/x-stub"
    assert resp.headers["ETag"] and "max-age=7," in resp.headers["Cache-Control"]
