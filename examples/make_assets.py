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


if __name__ == "__main__":
    acme_logo(HERE / "acme/assets/logo.png")
    acme_hero(HERE / "acme/assets/peaks.png")
    northwind_logo(HERE / "northwind/assets/logo.png")
