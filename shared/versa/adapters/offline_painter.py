"""The offline visual writer: a deterministic placeholder scene painted with Pillow, so generated visuals
work end to end (`make run`, the tests, `versa warm`) without an image model or a key.

The scene is drawn from the brand's palette and the request's key alone: a sky gradient, a sun or moon,
two rolling hills and a ground band, each placed by bytes of the key's hash; a prompt that says "night"
darkens it. The same request always
gives the same bytes; another key (another aesthetic, daypart or aspect) gives another scene. In edit
mode the product photo is laid over the scene at its centre, as a stand-in for a redraw.
"""

from __future__ import annotations

import hashlib
import io
import re

from PIL import Image, ImageDraw, ImageFilter

from versa.ports import Painting, PaintRequest, VisualWriter

DEFAULT_PALETTE = ("#9cc3e6", "#f4e3c1", "#6f8f5b", "#3d5a40", "#f2b35b")
"""Sky, horizon, near ground, far ground, sun: used where the brand's style gives fewer colours."""


def _rgb(value: str) -> tuple[int, int, int]:
    h = value.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


NIGHT = (11, 22, 40)
"""What a scene whose prompt says night is darkened towards."""


def placeholder_scene(key: str, size: tuple[int, int], palette: tuple[str, ...], *, night: bool = False) -> Image.Image:
    """The placeholder scene for `key` at `size` (RGB), painted in `palette` (filled up from
    `DEFAULT_PALETTE`), darkened when `night`. Deterministic."""
    seed = hashlib.sha256(key.encode()).digest()
    colours = [_rgb(c) for c in (*palette, *DEFAULT_PALETTE[len(palette):])][:5]
    sky, horizon, near, far, sun = colours
    # The palette order is the brand's; the key picks which colour plays which part, so aesthetics differ.
    shift = seed[0] % 5
    sky, horizon, near, far, sun = (colours[(i + shift) % 5] for i in range(5))
    if night:
        sky, horizon, near, far = (_mix(c, NIGHT, t) for c, t in ((sky, 0.75), (horizon, 0.45), (near, 0.45), (far, 0.55)))
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    horizon_y = round(h * (0.5 + seed[1] / 255 * 0.15))
    for y in range(horizon_y):
        draw.line([(0, y), (w, y)], fill=_mix(sky, horizon, (y / max(1, horizon_y)) ** 1.4))
    sun_r = round(min(w, h) * (0.07 + seed[2] / 255 * 0.08))
    sx, sy = round(w * (0.15 + seed[3] / 255 * 0.7)), round(horizon_y * (0.25 + seed[4] / 255 * 0.45))
    draw.ellipse([sx - sun_r, sy - sun_r, sx + sun_r, sy + sun_r], fill=_mix(sun, (255, 255, 255), 0.25))
    for i, (colour, lift) in enumerate(((far, 0.18), (near, 0.08))):
        crest = horizon_y - round(h * lift * (0.5 + seed[5 + i] / 255))
        cx = round(w * (0.2 + seed[7 + i] / 255 * 0.6))
        spread = round(w * (0.6 + seed[9 + i] / 255 * 0.6))
        draw.ellipse([cx - spread, crest, cx + spread, crest + 2 * (horizon_y - crest) + h], fill=colour)
    draw.rectangle([0, horizon_y, w, h], fill=_mix(near, far, 0.35))
    for i in range(6):  # a few soft stones or shrubs on the ground
        r = round(min(w, h) * (0.015 + seed[11 + i] / 255 * 0.03))
        x = round(w * seed[17 + i] / 255)
        y = round(horizon_y + (h - horizon_y) * (0.2 + seed[23 + i] / 255 * 0.7))
        draw.ellipse([x - r, y - r // 2, x + r, y + r // 2], fill=_mix(far, (0, 0, 0), 0.2))
    return image.filter(ImageFilter.GaussianBlur(radius=max(1, min(w, h) // 300)))


class OfflinePainter(VisualWriter):
    """Paints `placeholder_scene` for each request (edit mode: with the product over it), marked not
    generated. No model: the key a scene is stored under is the visual key itself."""

    model = None

    def paint(self, request: PaintRequest) -> Painting:
        night = re.search(r"\bnight\b", request.prompt, re.IGNORECASE) is not None
        scene = placeholder_scene(request.key, request.size, request.palette, night=night)
        notes = ["offline painter: a placeholder scene"]
        if request.mode == "edit" and request.source is not None:
            product = Image.open(io.BytesIO(request.source)).convert("RGBA")
            scale = request.size[1] * 0.5 / product.height
            product = product.resize((max(1, round(product.width * scale)), max(1, round(product.height * scale))))
            at = ((request.size[0] - product.width) // 2, round(request.size[1] * 0.62 - product.height / 2))
            scene.paste(product, at, product)
            notes.append("edit mode: the product laid over the scene")
        out = io.BytesIO()
        scene.save(out, format="PNG", optimize=False)
        return Painting(out.getvalue(), generated=False, model=None, size=request.size,
                        quality=request.quality, notes=tuple(notes))


__all__ = ["DEFAULT_PALETTE", "OfflinePainter", "placeholder_scene"]
