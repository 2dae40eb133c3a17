"""The image renderer: a decision and its texts in, encoded bytes out, memoized by render key.

A `Renderer` is built once per process (font directories, memo bounds, output cap, encoder profile).
`render` validates the size request (an allowed width, dpr 1–3, the output caps), computes the render
key (design key + texts + parameters + format/size/dpr + countdown state + pack version + engine
version), answers from the in-memory memo when it can, and otherwise draws every layer in order on an
RGBA canvas and encodes it. Countdowns rendered as GIF become an animation; in any other format they
are drawn as they stand at `now`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import PIL
from PIL import Image

from versa.budget import check_deadline
from versa.context.model import DPR_MAX, DPR_MIN
from versa.decide.keys import render_key
from versa.decide.rules import Decision, short_hash
from versa.decide.visuals import VISUAL_PREFIX
from versa.errors import ParamError, RenderError, VersaError
from versa.pack.assets import read_pack_file
from versa.pack.model import CountdownLayer, Pack, countdown_layers
from versa.ports import AssetStore, ImageRenderer, Rendered
from versa.render.countdown import CountdownPainter, animate, countdown_state, draw_countdown
from versa.render.encode import (
    CONTENT_TYPES,
    FAST_PNG,
    check_dimensions,
    check_output,
    check_work,
    encode,
    fallback_at,
    negotiate,
    normalize_format,
)
from versa.render.fonts import FAMILIES, FontNotFound, resolve_family
from versa.render.layer_text import params_read
from versa.render.layers import draw_layer, drawn, opaque_background
from versa.render.paint import LRU
from versa.render.scene import FontBook, Scene

RENDERER_VERSION = "2"
"""Bump whenever a renderer change alters output bytes: it is part of every render key (and ETag)."""


@functools.cache
def _font_fingerprint(font_dirs: tuple[str, ...]) -> str:
    files: list[tuple[str, str, int]] = []
    for family in sorted(FAMILIES):
        try:
            path = Path(resolve_family(family, font_dirs).path)
            files.append((family, path.name, path.stat().st_size))
        except (FontNotFound, OSError):
            files.append((family, "", 0))
    return short_hash(files)[:8]


def engine_version(font_dirs: Sequence[str | Path] = (), *, fast: bool = True) -> str:
    """The engine part of every render key: renderer version, Pillow version, Babel's version (its
    CLDR data decides plural forms, digits and date formats), a hash of the default font files found
    (names and sizes) and the encoder profile."""
    import babel

    fonts = _font_fingerprint(tuple(str(d) for d in font_dirs))
    return (
        f"versa/{RENDERER_VERSION} pillow/{PIL.__version__} cldr/babel-{babel.__version__} fonts/{fonts} "
        f"enc/{'fast ' + FAST_PNG if fast else 'std'}"
    )


STATIC_TIMER_SECONDS = 60
"""A static frame of a running countdown is stale after a minute at the latest."""


def _loop_seconds(frames: int, state: Mapping[str, Any]) -> int | None:
    """How long a render stays true because of a countdown (see `Rendered.loop_seconds`): from the
    countdown state in its render key, so a memo hit answers the same."""
    if frames > 1:
        return frames
    running = any(
        isinstance(value, dict) and isinstance(value.get("left"), int)
        for name, value in state.items()
        if name.startswith("countdown")
    )
    return STATIC_TIMER_SECONDS if running else None


def image_content_type(data: bytes) -> str:
    """The media type of encoded image bytes, by their signature (octet-stream when unknown)."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    return "application/octet-stream"


class Renderer(ImageRenderer):
    """Renders decisions to image bytes; one per process (it owns the memo and the font stacks).

    `memo_size` bounds the memo's entry count and `memo_bytes` its total size (0 disables it);
    `max_output_bytes` is the largest response allowed (else `OutputTooLarge`): the settings
    `memo_items`, `memo_bytes` and `max_output_bytes`, whose defaults `versa.settings` declares
    (`versa.composition.build_renderer` passes them); `max_work` is the most pixels x frames one
    render may draw (else ParamError, before drawing), the setting `max_render_work`. `fast` selects the faster encoder settings
    described in `versa.render.encode`.
    """

    def __init__(
        self,
        font_dirs: Sequence[str | Path] = (),
        *,
        memo_size: int,
        memo_bytes: int,
        max_output_bytes: int,
        fast: bool = True,
        max_work: int,
        assets: AssetStore | None = None,
    ) -> None:
        self.fonts = FontBook(font_dirs)
        self.assets = assets
        """Where generated scenes are read (`versa.ports.AssetStore`; None: visual slots draw defaults)."""
        self.max_work = max_work
        self.fast = fast
        self.max_output_bytes = max_output_bytes
        self.engine = engine_version(font_dirs, fast=fast)
        self._memo: LRU[str, Rendered] = LRU(memo_size, max_weight=memo_bytes, weigh=lambda r: len(r.body))
        self._fallbacks: LRU[tuple[str, str, str], bytes] = LRU(64, max_weight=32 * 2**20, weigh=len)

    def render(
        self,
        pack: Pack,
        decision: Decision,
        *,
        texts: Mapping[str, str],
        params: Mapping[str, Any],
        fmt: str,
        width: int | None,
        dpr: float,
        now: datetime,
        tz: str,
        robust: bool = False,
    ) -> Rendered:
        """Render `decision` as `fmt` at `width` (an allowed width; None = the creative's) and `dpr`.

        `texts` maps copy slots to the text to show (slots missing fall back to their default);
        `params` are the declared parameter values; `now`/`tz` drive countdowns; `robust` asks for
        time-robust countdown text (Apple Mail privacy prefetch). Raises ParamError for a width,
        dpr or format the creative does not allow, RenderError (OutputTooLarge included) otherwise.
        """
        creative = pack.model.creative(decision.creative)
        fmt = normalize_format(fmt)
        allowed = [{"jpeg": "jpg"}.get(f, f) for f in pack.model.render.formats]
        if fmt not in allowed:
            raise ParamError(
                "format", fmt, "this pack allows " + ", ".join(f for f in allowed if f in CONTENT_TYPES)
            )
        base_w, base_h = decision.size
        widths = creative.widths_at(decision.size)
        width = base_w if width is None else width
        if width not in widths:
            raise ParamError("w", width, "one of " + ", ".join(map(str, widths)))
        if not DPR_MIN <= dpr <= DPR_MAX:
            raise ParamError("dpr", dpr, f"a number from {DPR_MIN:g} to {DPR_MAX:g}")
        out_w = round(width * dpr)
        out_h = max(1, round(base_h * width / base_w * dpr))
        check_dimensions(out_w, out_h, width=width, dpr=dpr)

        used = {slot: texts.get(slot, ref.default) for slot, ref in decision.copy.items()}
        # A visual slot's value: an approved generated asset key, else its default image (a pack asset).
        used.update({VISUAL_PREFIX + slot: texts.get(VISUAL_PREFIX + slot, ref.default)
                     for slot, ref in decision.visuals.items()})
        countdowns = countdown_layers(decision.layers)
        frames = max((layer.frames for layer in countdowns), default=1) if fmt == "gif" else 1
        check_work(out_w, out_h, frames, width=width, dpr=dpr, limit=self.max_work)
        state: dict[str, Any] = {"pack": pack.version}
        for i, layer in enumerate(countdowns):
            state[f"countdown{i}"] = countdown_state(layer, now, params, robust=robust, tz=tz)
        read = params_read(decision.layers)
        key = render_key(
            decision.design_key,
            texts=used,
            params={name: value for name, value in params.items() if name in read},
            fmt=fmt,
            size=decision.size,
            width=width,
            dpr=dpr,
            engine=self.engine,
            state=state,
        )
        hit = self._memo.get(key)
        if hit is not None:
            return Rendered(
                hit.body, hit.content_type, hit.width, hit.height, key, True, hit.frames, hit.loop_seconds
            )

        scene = Scene(pack, decision, used, params, out_w / base_w, self.fonts, self.assets)
        try:
            body, frames = self._draw(scene, (out_w, out_h), fmt, now=now, tz=tz, robust=robust)
        except VersaError:
            raise
        except (OSError, ValueError) as exc:  # Pillow and FreeType failures
            raise RenderError(f"rendering {decision.brand}/{decision.creative} failed: {exc}") from exc
        check_output(body, fmt, self.max_output_bytes)
        rendered = Rendered(
            body, CONTENT_TYPES[fmt], out_w, out_h, key, False, frames, _loop_seconds(frames, state)
        )
        self._memo.put(key, rendered)
        return rendered

    def _draw(
        self, scene: Scene, size: tuple[int, int], fmt: str, *, now: datetime, tz: str, robust: bool
    ) -> tuple[bytes, int]:
        layers = scene.decision.layers
        mode = "RGB" if layers and opaque_background(layers[0]) else "RGBA"
        canvas = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else (0, 0, 0))
        painters: list[CountdownPainter] = []
        for top in scene.decision.layers:
            for layer in drawn(top, scene):  # a container's layers at their laid-out boxes
                check_deadline()
                if not isinstance(layer, CountdownLayer):
                    draw_layer(canvas, layer, scene)
                    continue
                painter = CountdownPainter(layer, scene, now=now, tz=tz, robust=robust)
                painters.append(painter)
                if fmt == "gif" and painter.animated:
                    painter.draw_static(canvas)  # digits are drawn per frame
                else:
                    draw_countdown(canvas, painter)
        if fmt == "gif" and any(p.animated for p in painters):
            return animate(canvas, painters, scene.decision.colors.values(), now)
        check_deadline()
        return encode(canvas, fmt, scene.pack.model.render, fast=self.fast), 1

    def render_fallback(self, pack: Pack, creative_id: str, size: tuple[int, int] | None = None) -> bytes:
        """The creative's fallback image bytes, read once per pack version (see `image_content_type`);
        at a size other than the first, the fallback asset cropped around its centre to fill it (PNG).
        A creative without a `fallback` file answers the one drawn for that size when the pack was
        loaded (`Pack.drawn_fallbacks`, see `versa.render.fallback`); none drawn is a RenderError."""
        creative = pack.model.creative(creative_id)
        if creative.fallback is None:
            at = size or creative.size
            drawn = pack.drawn_fallbacks.get(f"{creative_id}@{at[0]}x{at[1]}")
            if drawn is None:
                raise RenderError(f"{pack.brand}/{creative_id} has no fallback image (none declared, none drawn)")
            return drawn
        sized = size is not None and size != creative.size
        key = (str(pack.root), pack.version, creative_id + (f"@{size[0]}x{size[1]}" if size and sized else ""))
        data = self._fallbacks.get(key)
        if data is None:
            try:
                data = read_pack_file(pack.root, creative.fallback)  # no link followed
                if size is not None and sized:
                    data = fallback_at(data, size)
            except (OSError, ValueError) as exc:
                raise RenderError(f"fallback of {pack.brand}/{creative_id} is unreadable: {exc}") from exc
            self._fallbacks.put(key, data)
        return data

    def content_type(self, body: bytes) -> str:
        return image_content_type(body)

    def negotiate(self, accept: str | None, client: str, allowed: Iterable[str], *, animated: bool = False) -> str:
        return negotiate(accept, client, allowed, animated=animated)

    @property
    def memo_entries(self) -> int:
        return len(self._memo)


__all__ = [
    "DPR_MAX",
    "DPR_MIN",
    "RENDERER_VERSION",
    "Renderer",
    "engine_version",
    "image_content_type",
]
