"""Write a pack with 3,000 distinct designs: what `versa export` is for, and what its benchmark exports.

    python examples/generate_big_pack.py OUT_DIR [--countries N] [--products N] [--sizes 300x250,...]

One creative, `catalog`, crosses three things a campaign varies on: the shopper's country (a rule
per country names its delivery promise, plus the default), a product line passed as an `enum`
parameter (a rule per product sets its name and accent colour) and the language (four locales,
each with its own button label). With the defaults, 4 locales × 25 products × 30 countries (29
named, and the rest) = 3,000 designs at one size, 300x250: `versa variants OUT_DIR/big --json`
counts 3000. More sizes multiply the variants (designs × sizes). The pack needs no asset: the
mark is drawn with shapes, so the folder holds only `pack.yaml`.
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path
from typing import Any

import yaml

LOCALES = {
    "en": ("Shop now", "Delivery to {country}"),
    "de": ("Jetzt kaufen", "Lieferung nach {country}"),
    "fr": ("Acheter", "Livraison : {country}"),
    "es": ("Comprar", "Envío a {country}"),
}
COUNTRIES = [
    "AT", "AU", "BE", "BR", "CA", "CH", "CL", "CO", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT",
    "MX", "NL", "NO", "NZ", "PE", "PL", "PT", "SE", "SK", "US", "UY", "ZA", "AR", "HU", "RO", "GR", "SI",
]
PRODUCTS = [
    "boots", "jackets", "tents", "stoves", "packs", "gloves", "beanies", "socks", "poles", "lamps",
    "bottles", "maps", "ropes", "helmets", "skis", "boards", "goggles", "mats", "bags", "chairs",
    "tables", "knives", "compasses", "scarves", "vests", "shells", "fleeces", "gaiters", "tarps", "cups",
]


def accent(i: int, n: int) -> str:
    """The i-th of n accent colours spread round the colour wheel (dark enough for white text)."""
    r, g, b = colorsys.hls_to_rgb(i / n, 0.28, 0.7)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def big_pack(countries: int = 29, products: int = 25, sizes: tuple[str, ...] = ("300x250",)) -> dict[str, Any]:
    """The pack as data: (countries + 1) × products × 4 locales designs at each of `sizes`."""
    if not 1 <= countries <= len(COUNTRIES) or not 1 <= products <= len(PRODUCTS):
        raise ValueError(f"countries: 1 to {len(COUNTRIES)}, products: 1 to {len(PRODUCTS)}")
    names = PRODUCTS[:products]
    rules: list[dict[str, Any]] = []
    for code in COUNTRIES[:countries]:
        promise = {loc: line.format(country=code) for loc, (_, line) in LOCALES.items()}
        rules.append({"id": f"ship-{code.lower()}", "when": {"country": code}, "set": {"copy.promise": promise}})
    for i, name in enumerate(names):
        rules.append({
            "id": f"product-{name}",
            "when": {"product": name},
            "set": {"tokens.colors.accent": accent(i, products), "copy.product": {loc: name.title() for loc in LOCALES}},
        })
    return {
        "brand": "big",
        "name": "A generated catalogue campaign (examples/generate_big_pack.py)",
        "locales": list(LOCALES),
        "tokens": {
            "colors": {"ink": "#0f172a", "paper": "#f8fafc", "accent": "#0f766e", "white": "#ffffff"},
            "fonts": {"display": "sans-bold", "body": "sans"},
        },
        "creatives": {
            "catalog": {
                "description": "One display unit per country, product line and language.",
                "sizes": list(sizes),
                "params": {"product": {"type": "enum", "values": names, "default": names[0]}},
                "link": "https://big.example/shop",
                "layers": [
                    {"id": "bg", "type": "background", "fill": "paper"},
                    {"id": "band", "type": "shape", "shape": "rect", "box": [0, 0, 300, 92], "fill": "accent"},
                    {"id": "product", "type": "text", "slot": "product", "box": [20, 18, 260, 56], "font": "display",
                     "size": [20, 34], "max_lines": 1, "color": "white"},
                    {"id": "promise", "type": "text", "slot": "promise", "box": [20, 108, 260, 60], "font": "body",
                     "size": [14, 20], "max_lines": 2, "color": "ink"},
                    {"id": "cta", "type": "button", "slot": "cta", "box": [20, 186, 160, 44], "font": "display",
                     "size": [13, 16], "fill": "accent", "color": "white", "radius": 8},
                ],
                "copy": {
                    "product": {"default": {loc: "Outdoor gear" for loc in LOCALES}},
                    "promise": {"default": {loc: line.format(country="you") for loc, (_, line) in LOCALES.items()}},
                    "cta": {"default": {loc: label for loc, (label, _) in LOCALES.items()}},
                },
                "rules": rules,
            }
        },
    }


def write_big_pack(out_dir: Path, **kwargs: Any) -> Path:
    """Write the pack to `out_dir`/big (created) and return that folder."""
    root = out_dir / "big"
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(
        "# Generated by examples/generate_big_pack.py: do not edit by hand.\n"
        + yaml.safe_dump(big_pack(**kwargs), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="the pack is written to OUT_DIR/big")
    parser.add_argument("--countries", type=int, default=29, help="countries with a rule of their own (default 29)")
    parser.add_argument("--products", type=int, default=25, help="product lines (default 25)")
    parser.add_argument("--sizes", default="300x250", help="comma-separated sizes (default 300x250)")
    args = parser.parse_args()
    root = write_big_pack(args.out_dir, countries=args.countries, products=args.products,
                          sizes=tuple(s.strip() for s in args.sizes.split(",")))
    designs = (args.countries + 1) * args.products * len(LOCALES)
    print(f"{root}: {designs} designs per size; try: versa variants {root} --json | head")


if __name__ == "__main__":
    main()
