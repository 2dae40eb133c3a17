"""A small pack whose headline is generated per audience segment and daypart, in English and Arabic,
with a brand voice and guardrails: what the copy-writing tests write against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS


def copy_pack_data() -> dict[str, Any]:
    return {
        "brand": "shop",
        "locales": ["en", "ar"],
        "tokens": {"colors": {"ink": "#111111", "paper": "#ffffff"}, "fonts": {"body": "sans"}},
        "voice": {
            "description": "Warm and plain-spoken; never pushy.",
            "good": ["Gear up for the cold"],
            "bad": ["BUY NOW!!!"],
            "banned": ["cheap"],
            "required": [],
        },
        "creatives": {
            "promo": {
                "sizes": ["300x100", "200x100"],
                "fallback": "assets/fallback.png",
                "params": {
                    "seg": {"type": "enum", "values": ["outdoor", "lapsed", "vip"], "default": "outdoor"},
                    "note": {"type": "text", "max_len": 40},
                },
                "layers": [
                    {"id": "bg", "type": "background", "fill": "paper"},
                    {"id": "headline", "type": "text", "slot": "headline", "box": [10, 10, 180, 60],
                     "font": "body", "size": [14, 20], "max_lines": 2, "color": "ink"},
                    {"id": "tagline", "type": "text", "slot": "tagline", "box": [10, 75, 180, 20],
                     "font": "body", "size": 12, "color": "ink"},
                ],
                "copy": {
                    "headline": {
                        "default": {"en": "Winter gear, 20% off", "ar": "خصم ٢٠٪ على معدات الشتاء"},
                        "generate": {
                            "brief": "A headline for {{ seg }} shoppers in the {{ daypart }}, {{ tone }}. "
                                     "{{ voice.description }}",
                            "tone": "friendly",
                            "tone_by": {"seg": {"vip": "exclusive and calm"}},
                            "max_chars": 40,
                            "max_lines": 2,
                            "banned": ["free"],
                            "patterns": ["!{2,}"],
                            "required": ["20%"],
                            "candidates": 3,
                            "temperature": 0.7,
                            "vary_by": {"seg": "all", "daypart": "all"},
                        },
                    },
                    "tagline": {
                        "default": "Since 1990",
                        "generate": {"brief": "A tagline", "vary_by": {"note": "all"}},
                    },
                },
            }
        },
    }


def write_copy_pack(root: Path, data: dict[str, Any] | None = None) -> Pack:
    (root / "assets").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (300, 100), "#336699").save(root / "assets" / "fallback.png")
    (root / "pack.yaml").write_text(
        yaml.safe_dump(data or copy_pack_data(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return load_pack(root, checks=PACK_CHECKS)
