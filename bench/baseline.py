"""Plain-Pillow baseline for the benchmark card (../shared/bench/card.json).

What a competent Pillow user would write by hand: fonts, the logo mark and the Jinja2
templates are prepared once in ``BaselineCard.__init__``; each ``render`` draws the whole
600x300 card and encodes it with Pillow's default encoder settings. Versa is timed against
this file, so it is frozen: do not change it once committed.
"""

from __future__ import annotations

import io

from jinja2 import Template
from PIL import Image, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 600, 300
TOP, BOTTOM = "#1E3A8A", "#7C3AED"
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
LOGO_XY, LOGO_SIZE = (32, 24), 48
HEADLINE = {
    "template": "{{ name }}, your new spring favorites are now {{ pct }}% off",
    "font": "bold",
    "size": 36,
    "line_height": 42,
    "color": "#FFFFFF",
    "x": 32,
    "y": 88,
    "max_width": 536,
}
SUBLINE = {
    "template": "Free shipping on orders over ${{ threshold }} - ends {{ day }}",
    "font": "regular",
    "size": 20,
    "line_height": 24,
    "color": "#E0E7FF",
    "x": 32,
    "y": 180,
    "max_width": 536,
}
CTA = {
    "label": "Shop now",
    "font": "bold",
    "size": 20,
    "color": "#111827",
    "fill": "#F59E0B",
    "x": 32,
    "y": 228,
    "w": 168,
    "h": 44,
    "radius": 12,
}
PERSONALIZATION = {"name": "Alex", "pct": 25, "threshold": 50, "day": "Sunday"}
NAMES = ("Alex", "Sam", "Priya", "José", "Mei", "Noah", "Zoë", "Kenji")
SAVE_ARGS = {
    "png": {"format": "PNG"},
    "jpeg": {"format": "JPEG", "quality": 85},
    "webp": {"format": "WEBP", "quality": 80, "method": 4},
}


def values_for(i: int) -> dict:
    """Personalization values for request ``i``: the card's values with a rotating name."""
    return {**PERSONALIZATION, "name": NAMES[i % len(NAMES)]}


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap by measured width; a word wider than ``max_width`` gets its own line."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and font.getlength(candidate) > max_width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def draw_logo(size: int = LOGO_SIZE) -> Image.Image:
    """A 48x48 RGBA mark: an amber rounded square with a white ring, transparent around it."""
    logo = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((2, 2, size - 3, size - 3), radius=10, fill="#F59E0B")
    draw.ellipse((12, 12, size - 13, size - 13), fill="#FFFFFF")
    draw.ellipse((18, 18, size - 19, size - 19), fill="#F59E0B")
    return logo


class BaselineCard:
    """Renders the benchmark card with plain Pillow + Jinja2."""

    values_for = staticmethod(values_for)

    def __init__(self, font_dir: str = FONT_DIR) -> None:
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        for spec in (HEADLINE, SUBLINE, CTA):
            key = (spec["font"], spec["size"])
            if key not in self._fonts:
                self._fonts[key] = ImageFont.truetype(f"{font_dir}/{FONT_FILES[key[0]]}", key[1])
        self._templates = [(Template(spec["template"]), spec) for spec in (HEADLINE, SUBLINE)]
        self._logo = draw_logo()

    def _font(self, spec: dict) -> ImageFont.FreeTypeFont:
        return self._fonts[(spec["font"], spec["size"])]

    def draw(self, values: dict) -> Image.Image:
        """Draw the card for ``values`` and return it as an RGB image."""
        ramp = Image.linear_gradient("L").resize((1, HEIGHT), Image.Resampling.BILINEAR)  # 1xH, 0..255
        img = ImageOps.colorize(ramp, black=TOP, white=BOTTOM).resize(
            (WIDTH, HEIGHT), Image.Resampling.NEAREST
        )
        img.paste(self._logo, LOGO_XY, self._logo)
        draw = ImageDraw.Draw(img)
        for template, spec in self._templates:
            font = self._font(spec)
            lines = wrap(template.render(values), font, spec["max_width"])
            for n, line in enumerate(lines):
                draw.text(
                    (spec["x"], spec["y"] + n * spec["line_height"]), line, font=font, fill=spec["color"]
                )
        x, y, w, h = CTA["x"], CTA["y"], CTA["w"], CTA["h"]
        draw.rounded_rectangle((x, y, x + w - 1, y + h - 1), radius=CTA["radius"], fill=CTA["fill"])
        draw.text((x + w / 2, y + h / 2), CTA["label"], font=self._font(CTA), fill=CTA["color"], anchor="mm")
        return img

    def render(self, values: dict, fmt: str) -> bytes:
        """Draw the card and encode it as ``fmt`` (png, jpeg or webp) with Pillow's default settings."""
        if fmt not in SAVE_ARGS:
            raise ValueError(f"unsupported format {fmt!r}; expected one of {sorted(SAVE_ARGS)}")
        buf = io.BytesIO()
        self.draw(values).save(buf, **SAVE_ARGS[fmt])
        return buf.getvalue()
