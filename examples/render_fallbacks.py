"""Draw each example creative's fallback file from its default context (`make fallbacks`).

A fallback is what Versa serves, with status 200, whenever anything goes wrong, and what
`versa publish` uploads for the CDN to fail over to. A creative without a `fallback` file gets one
drawn by `versa serve` and `versa publish` (`versa.render.fallback`); the example packs keep theirs
as files, to show the override. This redraws assets/fallback-CREATIVE.png for every creative of every
example pack that names one, at its first size, the way Versa draws a missing one.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from versa.composition import build_renderer
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.render.fallback import draw_fallback
from versa.settings import Settings

PACKS = Path(__file__).parent / "packs"
WHEN = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # an afternoon before any campaign ends


def main() -> int:
    renderer = build_renderer(Settings(memo_items=0))
    for pack_dir in sorted(p for p in PACKS.iterdir() if (p / "pack.yaml").is_file()):
        import yaml

        raw = yaml.safe_load((pack_dir / "pack.yaml").read_text(encoding="utf-8"))
        for creative in raw["creatives"].values():  # placeholders so the pack can load the first time
            target = pack_dir / creative["fallback"] if creative.get("fallback") else None
            if target is not None and not target.exists():
                size = creative.get("size") or [int(n) for n in str(creative["sizes"][0]).split("x")]
                Image.new("RGB", tuple(size), "#ffffff").save(target)
        pack = load_pack(pack_dir, checks=PACK_CHECKS)
        for cid, creative in pack.model.creatives.items():
            if creative.fallback is None:
                continue  # drawn by versa serve and versa publish
            body = draw_fallback(pack, cid, creative.size, renderer=renderer, now=WHEN)
            (pack_dir / creative.fallback).write_bytes(body)
            print(f"{pack_dir.name}/{creative.fallback}: {creative.size[0]}x{creative.size[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
