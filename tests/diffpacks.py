"""A crafted pair of pack versions for `versa diff` and the publish summary: from the old version to the
new one, one rule is added (hero: `dach`), one token is changed (`accent`, drawn only by banner) and
one creative is removed (promo)."""

from __future__ import annotations

from pathlib import Path

OLD = """\
brand: shop
name: Shop
locales: [en, de]
tokens:
  fonts: {display: sans-bold, body: sans}
  colors: {ink: "#111111", paper: "#ffffff", accent: "#cc0000"}
creatives:
  hero:
    size: [300, 100]
    link: https://shop.example/
    layers:
      - {type: background, fill: paper}
      - {type: text, slot: headline, box: [10, 10, 280, 80], font: display, size: [14, 28], color: ink}
    copy:
      headline: {default: {en: "Hello there", de: "Hallo zusammen"}}
  banner:
    size: [300, 60]
    layers:
      - {type: background, fill: accent}
      - {type: text, slot: line, box: [10, 10, 280, 40], font: body, size: [12, 20], color: paper}
    copy:
      line: {default: {en: "Winter sale", de: "Winterschlussverkauf"}}
  promo:
    size: [120, 120]
    layers:
      - {type: background, fill: ink}
      - {type: text, slot: tag, box: [10, 40, 100, 40], font: display, size: [12, 20], color: paper}
    copy:
      tag: {default: {en: "New", de: "Neu"}}
"""

NEW = (
    OLD.replace('accent: "#cc0000"', 'accent: "#1f6feb"')
    .replace(
        '      headline: {default: {en: "Hello there", de: "Hallo zusammen"}}\n',
        '      headline: {default: {en: "Hello there", de: "Hallo zusammen"}}\n'
        "    rules:\n"
        '      - {id: dach, when: {country: [DE, AT, CH]}, set: {lang: de, tokens.colors.paper: "#fff4d6"}}\n',
    )
    .split("  promo:")[0]
)


def write_pair(root: Path) -> tuple[Path, Path]:
    """`root/old/shop` and `root/new/shop`, the two versions."""
    out = []
    for name, text in (("old", OLD), ("new", NEW)):
        folder = root / name / "shop"
        folder.mkdir(parents=True)
        (folder / "pack.yaml").write_text(text, encoding="utf-8")
        out.append(folder)
    return out[0], out[1]
