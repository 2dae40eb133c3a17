"""Draw the example packs' small image assets (logos, product art). Run once; outputs are committed.

Fallback images (assets/fallback-CREATIVE.png) are rendered from each creative's default context by
`make fallbacks`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent / "packs"


def acme_logo(path: Path) -> None:
    scale = 4
    img = Image.new("RGBA", (44 * scale, 40 * scale), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    # a mountain mark, cropped to its own bounds so it can sit flush left or right
    d.polygon([(0, 40 * scale), (18 * scale, 2 * scale), (36 * scale, 40 * scale)], fill="#fca311")
    d.polygon([(14 * scale, 40 * scale), (27 * scale, 16 * scale), (44 * scale, 40 * scale)], fill="#ffffff")
    img = img.resize((44, 40), Image.Resampling.LANCZOS)
    img.save(path, optimize=True)


def acme_hero(path: Path, scale: int = 4) -> None:
    """Peaks and a sun on a 240x300 design grid, drawn `scale` times as large: layouts crop it
    (`fit: cover` around a `focus`) to a strip at 728x90 and show it 1080 px wide in a story, so it
    carries enough pixels not to be upscaled at the social sizes."""
    w, h = 240 * scale, 300 * scale
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for i, color in enumerate(["#e5e5e5", "#cfd8dc", "#b0bec5"]):
        off = i * 40
        peak = [(0, 300), (60 + off, 120 + off // 2), (140 + off, 300)]
        d.polygon([(x * scale, y * scale) for x, y in peak], fill=color)
    d.ellipse((150 * scale, 30 * scale, 210 * scale, 90 * scale), fill="#fca311")
    img.save(path, optimize=True)


def northwind_logo(path: Path) -> None:
    scale = 4
    img = Image.new("RGBA", (48 * scale, 48 * scale), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, 48 * scale - 1, 48 * scale - 1), radius=12 * scale, fill="#0f766e")
    d.polygon([(12 * scale, 36 * scale), (24 * scale, 10 * scale), (36 * scale, 36 * scale)], fill="#f0fdfa")
    img = img.resize((48, 48), Image.Resampling.LANCZOS)
    img.save(path, optimize=True)


def lumen_bottle(path: Path, scale: int = 4) -> None:
    """Lumen's product: a ceramic water bottle on a transparent ground (PNG with alpha), drawn on a
    100x240 grid `scale` times as large. Composite-mode visual slots lay it over generated scenes."""
    w, h = 100 * scale, 240 * scale
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = scale
    d.rounded_rectangle([36 * s, 0, 64 * s, 22 * s], radius=4 * s, fill="#2b2d42")  # cap
    d.rectangle([40 * s, 20 * s, 60 * s, 40 * s], fill="#d9d4c7")  # neck
    d.polygon([(40 * s, 40 * s), (60 * s, 40 * s), (92 * s, 78 * s), (8 * s, 78 * s)], fill="#e9e4d8")  # shoulder
    d.rounded_rectangle([8 * s, 70 * s, 92 * s, 238 * s], radius=14 * s, fill="#efe9dc")  # body
    d.rectangle([8 * s, 120 * s, 92 * s, 176 * s], fill="#c8553d")  # label band
    d.ellipse([38 * s, 134 * s, 62 * s, 158 * s], fill="#efe9dc")  # a sun mark on the label
    d.rounded_rectangle([18 * s, 80 * s, 26 * s, 226 * s], radius=4 * s, fill="#fbf8f1")  # highlight
    d.rounded_rectangle([78 * s, 80 * s, 88 * s, 230 * s], radius=4 * s, fill="#d8d1c1")  # shade
    img.save(path, optimize=True)


def lumen_default(path: Path, bottle: Path) -> None:
    """Lumen's default hero (served until a generated scene is approved): the bottle in a plain studio,
    1536x1024, the bottle where the visual slot's focal point puts generated scenes' product."""
    w, h = 1536, 1024
    img = Image.new("RGB", (w, h), "#efe7da")
    d = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        d.line([(0, y), (w, y)], fill=(round(0xf4 - 24 * t), round(0xee - 28 * t), round(0xe4 - 30 * t)))
    d.rectangle([0, round(h * 0.78), w, h], fill="#d9cdb8")
    item = Image.open(bottle)
    item = item.resize((round(item.width * h * 0.5 / item.height), round(h * 0.5)), Image.Resampling.LANCZOS)
    img.paste(item, (round(w * 0.7 - item.width / 2), round(h * 0.62 - item.height / 2)), item)
    img.save(path, optimize=True)


if __name__ == "__main__":
    acme_logo(HERE / "acme/assets/logo.png")
    acme_hero(HERE / "acme/assets/peaks.png")
    northwind_logo(HERE / "northwind/assets/logo.png")
    lumen_bottle(HERE / "lumen/assets/bottle.png")
    lumen_default(HERE / "lumen/assets/hero-default.png", HERE / "lumen/assets/bottle.png")
