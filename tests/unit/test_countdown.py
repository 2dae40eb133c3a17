"""Countdowns: the time left per unit, the render-key state, the animated GIF, ended and robust text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import Decision, context_options, decide
from versa.errors import RenderError
from versa.pack.loader import load_pack
from versa.pack.model import CountdownLayer, countdown_layers
from versa.ports import Rendered
from versa.render.checks import PACK_CHECKS
from versa.render.countdown import CountdownPainter, countdown_state, robust_text, split_units
from versa.render.layers import FontBook, Scene, drawn
from versa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NORTHWIND = load_pack(ROOT / "examples" / "packs" / "northwind", checks=PACK_CHECKS)
DEADLINE = datetime(2026, 12, 4, 23, 59, tzinfo=UTC) + timedelta(hours=6)  # 23:59 Chicago (UTC-6)
NOW = datetime(2026, 12, 2, 15, 0, 7, tzinfo=UTC)
OUTLOOK = {"User-Agent": "Microsoft Outlook 16.0.17126; Microsoft Outlook 16.0"}
APPLE_MPP = {"User-Agent": "Mozilla/5.0"}
RENDERER = build_renderer(Settings(memo_items=0))


def cyber_week(now: datetime, headers: dict[str, str] = OUTLOOK) -> tuple[Decision, Any]:
    ctx = resolve(headers, {"first_name": "Ana"}, now, context_options(NORTHWIND.model, "cyber-week"))
    return decide(NORTHWIND.model, "cyber-week", ctx), ctx


def render(fmt: str, now: datetime, headers: dict[str, str] = OUTLOOK) -> Rendered:
    decision, ctx = cyber_week(now, headers)
    return RENDERER.render(
        NORTHWIND, decision, texts={}, params=ctx.params, fmt=fmt, width=None, dpr=1, now=now, tz=ctx.tz,
        robust=ctx.client == "apple_mpp",
    )  # fmt: skip


def placed_timer(decision: Decision, scene: Scene) -> CountdownLayer:
    """The decision's countdown as the renderer draws it: colours resolved, at its laid-out box."""
    return next(x for top in decision.layers for x in drawn(top, scene) if isinstance(x, CountdownLayer))


def timer_layer(**changes: Any) -> CountdownLayer:
    """cyber-week's countdown (inside a container) at the box its layout gives it in English."""
    decision, ctx = cyber_week(NOW)
    box = placed_timer(decision, Scene(NORTHWIND, decision, {}, ctx.params, 1.0, FontBook())).box
    layer = countdown_layers(NORTHWIND.model.creative("cyber-week").layers)[0]
    return layer.model_copy(update={"box": box, **changes})


def local_palettes(gif: bytes) -> int:
    """How many frames of a GIF carry their own colour table (walks the GIF block structure)."""
    flags, i, count = gif[10], 13, 0
    if flags & 0x80:
        i += 3 * 2 ** ((flags & 7) + 1)
    while i < len(gif) and gif[i] != 0x3B:
        if gif[i] == 0x21:  # extension: label, then sub-blocks
            i += 2
        else:  # 0x2C image descriptor
            packed = gif[i + 9]
            i += 10
            if packed & 0x80:
                count += 1
                i += 3 * 2 ** ((packed & 7) + 1)
            i += 1  # LZW minimum code size
        while gif[i]:
            i += gif[i] + 1
        i += 1
    return count


def test_units_split_with_the_largest_absorbing_the_rest() -> None:
    assert split_units(90061, ["days", "hours", "minutes", "seconds"]) == [1, 1, 1, 1]
    assert split_units(90061, ["hours", "minutes"]) == [25, 1]
    assert split_units(59, ["minutes", "seconds"]) == [0, 59]


def test_state_for_the_render_key() -> None:
    layer = timer_layer()
    left = int((DEADLINE - NOW).total_seconds())
    assert countdown_state(layer, NOW, {}) == {"left": left}
    # Without a seconds cell the state only changes once a minute (so the memo can hit).
    coarse = timer_layer(units=["days", "hours", "minutes"])
    assert countdown_state(coarse, NOW, {}) == {"left": left // 60 * 60}
    assert countdown_state(layer, DEADLINE, {}) == {"left": "ended"}
    robust = [countdown_state(layer, NOW, {}, robust=True, tz=tz) for tz in ("UTC", "Asia/Tokyo")]
    assert robust[0] != robust[1] and all("robust" in r for r in robust)
    by_param = timer_layer(deadline=None, deadline_param="ends")
    assert countdown_state(by_param, NOW, {"ends": DEADLINE}) == {"left": left}
    assert countdown_state(by_param, NOW, {}) == {"left": "unknown"}


def test_gif_has_one_second_frames_on_one_palette() -> None:
    # WHEN the countdown creative renders as GIF
    rendered = render("gif", NOW)
    # THEN it loops forever through `frames` one-second frames sharing the global palette
    assert rendered.frames == 30 and rendered.content_type == "image/gif"
    with Image.open(io.BytesIO(rendered.body)) as gif:
        assert gif.n_frames == 30
        assert gif.info["loop"] == 0
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
    assert durations == [1000] * 30
    assert local_palettes(rendered.body) == 0
    assert len(rendered.body) < 80_000


def test_first_frame_is_the_static_render_at_now() -> None:
    # GIVEN the static PNG and the GIF at the same instant
    png = Image.open(io.BytesIO(render("png", NOW).body)).convert("RGB")
    with Image.open(io.BytesIO(render("gif", NOW).body)) as gif:
        first = gif.convert("RGB")
        gif.seek(1)
        second = gif.convert("RGB")
    # THEN the first frame shows the same time (only palette rounding differs)
    diff = ImageChops.difference(png, first)
    assert sum(ImageStat.Stat(diff).mean) / 3 < 1.0
    assert max(band[1] for band in diff.getextrema()) < 64
    # AND the next frame differs only in the countdown's digits (inside the box its container gives it)
    changed = ImageChops.difference(first, second).getbbox()
    assert changed is not None
    x0, y0, x1, y1 = changed
    x, y, w, h = timer_layer().box
    assert x0 >= x and y0 >= y and x1 <= x + w and y1 <= y + h


def test_gif_palette_holds_the_token_colours_exactly() -> None:
    decision, _ = cyber_week(NOW)
    with Image.open(io.BytesIO(render("gif", NOW).body)) as gif:
        palette = gif.getpalette() or []
    entries = {tuple(palette[i : i + 3]) for i in range(0, len(palette), 3)}
    for value in decision.colors.values():
        rgb = tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in entries, value


def test_after_the_deadline_the_ended_text_shows() -> None:
    after = DEADLINE + timedelta(seconds=30)
    decision, ctx = cyber_week(after)
    scene = Scene(NORTHWIND, decision, {}, ctx.params, 1.0, FontBook())
    painter = CountdownPainter(timer_layer(), scene, now=after, tz=ctx.tz)
    assert painter.message == "Cyber Week has ended" and not painter.animated
    # The GIF of an ended countdown is a single frame, and differs from a ticking one.
    ended = render("gif", after)
    assert ended.frames == 1
    x, y, w, h = timer_layer().box
    ticking = Image.open(io.BytesIO(render("png", NOW).body)).convert("RGB").crop((x, y, x + w, y + h))
    done = Image.open(io.BytesIO(render("png", after).body)).convert("RGB").crop((x, y, x + w, y + h))
    assert ImageChops.difference(ticking, done).getbbox() is not None


def test_apple_privacy_prefetch_gets_time_robust_text() -> None:
    # GIVEN Apple Mail's privacy proxy (no reader zone: the pack's default zone applies)
    decision, ctx = cyber_week(NOW, APPLE_MPP)
    assert ctx.client == "apple_mpp"
    scene = Scene(NORTHWIND, decision, {}, ctx.params, 1.0, FontBook())
    painter = CountdownPainter(timer_layer(), scene, now=NOW, tz=ctx.tz, robust=True)
    # THEN the countdown reads as the deadline in that zone, not a ticking timer
    assert painter.message == "Ends Fri, Dec 4, 11:59 PM CST" and not painter.animated
    assert render("gif", NOW, APPLE_MPP).frames == 1
    assert (
        robust_text("Termina el {deadline:%d/%m, %H:%M}", DEADLINE, "Europe/Madrid")
        == "Termina el 05/12, 06:59"
    )
    assert robust_text("Termina el {deadline}", DEADLINE, "Europe/Madrid", "es") == "Termina el sáb, 5 dic, 6:59 CET"


@pytest.mark.parametrize("template", ["{deadline.__class__}", "{0}", "{deadline[0]}", "{other}"])
def test_robust_text_allows_only_the_deadline_field(template: str) -> None:
    with pytest.raises(RenderError):
        robust_text(template, DEADLINE, "UTC")


def _label_pixels(layer: CountdownLayer, now: datetime) -> Image.Image:
    decision, ctx = cyber_week(now)
    scene = Scene(NORTHWIND, decision, {}, ctx.params, 1.0, FontBook())
    layer = placed_timer(decision, scene).model_copy(update={"labels": layer.labels})  # colours as hex
    painter = CountdownPainter(layer, scene, now=now, tz=ctx.tz)
    canvas = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    painter.draw_static(canvas)
    return canvas.convert("RGB")  # compare colours, not just alpha (RGBA getbbox looks at alpha only)


def test_the_day_label_is_singular_when_one_day_is_left() -> None:
    # GIVEN the timer with and without a singular day label (English labels: days / day)
    with_singular = timer_layer()
    plural_only = timer_layer(labels={k: v.model_copy(update={"day": None}) for k, v in with_singular.labels.items()})
    one_day = DEADLINE - timedelta(days=1, hours=3)
    two_days = DEADLINE - timedelta(days=2, hours=3)
    # WHEN the static part is drawn with one and with two days left
    # THEN only the one-day drawing differs (its label reads "day")
    assert ImageChops.difference(_label_pixels(with_singular, one_day), _label_pixels(plural_only, one_day)).getbbox()
    assert ImageChops.difference(_label_pixels(with_singular, two_days), _label_pixels(plural_only, two_days)).getbbox() is None
