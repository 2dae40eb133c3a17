"""Render each example creative's fallback image from its default context (`make fallbacks`).

A fallback is what Versa serves, with status 200, whenever anything goes wrong, and what
`versa publish` uploads for the CDN to fail over to; it should look like the creative, not like an
error. This writes assets/fallback-CREATIVE.png for every creative of every example pack.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from versa.composition import build_renderer
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings

PACKS = Path(__file__).parent / "packs"
WHEN = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # an afternoon before any campaign ends


def main() -> int:
    renderer = build_renderer(Settings(memo_items=0))
    for pack_dir in sorted(p for p in PACKS.iterdir() if (p / "pack.yaml").is_file()):
        import yaml

        raw = yaml.safe_load((pack_dir / "pack.yaml").read_text(encoding="utf-8"))
        for creative in raw["creatives"].values():  # placeholders so the pack can load the first time
            target = pack_dir / creative["fallback"]
            if not target.exists():
                size = creative.get("size") or [int(n) for n in str(creative["sizes"][0]).split("x")]
                Image.new("RGB", tuple(size), "#ffffff").save(target)
        pack = load_pack(pack_dir, checks=PACK_CHECKS)
        for cid, creative in pack.model.creatives.items():
            ctx = resolve({}, {}, WHEN, context_options(pack.model, cid))
            decision = decide(pack.model, cid, ctx)
            texts = {name: ref.default for name, ref in decision.copy.items()}
            rendered = renderer.render(pack, decision, texts=texts, params=ctx.params, fmt="png",
                                       width=None, dpr=1.0, now=WHEN, tz=ctx.tz)
            (pack_dir / creative.fallback).write_bytes(rendered.body)
            print(f"{pack_dir.name}/{creative.fallback}: {rendered.width}x{rendered.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
